/* journal.c — the warmer's journal: written as pools and runners change,
 * and read back at start-up after a crash (recover). */
#include "internal.h"
#include "backend_api.h"
#include "state.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* -1 with the reason in err (and the log) when the journal could not be
 * written: a change the caller asked for is then not kept. */
int journal_write(char *err, size_t errlen)
{
	cJSON *doc = state_json(W.pools, 1, (long)getpid());
	int rc = state_write(W.state_path, doc, err, errlen);
	if (rc < 0)
		warmer_log("warning: %s", err);
	cJSON_Delete(doc);
	W.dirty = 0;
	return rc;
}

void journal_now(void)
{
	char err[512];
	journal_write(err, sizeof err);
}

void journal_soon(void)
{
	if (!W.dirty)
		W.journal_due = now_ms() + 500;
	W.dirty = 1;
}

const char *warmer_state_path(void)
{
	return W.state_path;
}

/* A journaled pool comes back only as the configuration (read with its
 * trust checks, from where this warmer was started) still declares it: a
 * planted or since-removed declaration must not boot runners on its own. */
static int still_declared(const struct config *cfg, const struct pool_settings *declared)
{
	const struct pool_settings *ps = config_find(cfg, declared->name);
	struct pool_settings def;

	if (!ps && !strcmp(declared->name, DEFAULT_POOL)) {
		pool_settings_default(&def, DEFAULT_POOL);
		ps = &def;
	}
	return ps && !memcmp(ps, declared, sizeof *ps);
}

/* The machines of a pool that is dropped, its runners' and its kept
 * stopped ones, are destroyed (LIST: "runners" or "stopped"). */
static void discard_journaled(const cJSON *p, const struct pool_settings *live, const char *list)
{
	const struct backend *be = W.find_backend(live->backend);
	const cJSON *m;
	cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(p, list)) {
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(m, "id");
		char *info = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(m, "info"));
		if (cJSON_IsString(id) && info && be->discard)
			be->discard(live, id->valuestring, info);
		free(info);
	}
}

static void drop_undeclared(const cJSON *p, const struct pool_settings *live)
{
	const cJSON *r;
	warmer_log("pool '%s': the configuration no longer declares it as journaled; dropped, its "
	           "runners stopped",
	           live->name);
	cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(p, "runners")) {
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(r, "id");
		if (cJSON_IsString(id))
			W.find_backend(live->backend)->reap_stray(id->valuestring, state_runner_pid(r));
	}
	discard_journaled(p, live, "runners");
	discard_journaled(p, live, "stopped");
}

/* When a journaled runner started (wall ms): now if unknown, so an
 * unreadable stamp costs nothing rather than the whole hour. */
static int64_t journaled_start(const cJSON *r)
{
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(r, "created_ms");
	int64_t now = wall_ms();
	if (!cJSON_IsNumber(t) || !(t->valuedouble > 0 && t->valuedouble < (double)now))
		return now;
	return (int64_t)t->valuedouble;
}

/* An adopted runner's machine has run since it was first booted: the
 * budget counts it from then (the adopt made it a new runner of now). */
static void keep_start(struct pool *p, const cJSON *journaled)
{
	const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(journaled, "id"));
	for (struct runner *r = p->runners; r && id; r = r->next)
		if (!strcmp(r->id, id))
			r->created_wall = journaled_start(journaled);
}

void recover(void)
{
	char err[512];
	cJSON *doc = state_read(W.state_path, err, sizeof err), *p;
	int pools = 0, strays = 0, adopted = 0;
	struct config cfg;

	if (!doc) {
		if (err[0])
			warmer_log("warning: %s; rebuilding it from what the backends report", err);
		return;
	}
	if (config_load(&cfg, err, sizeof err) < 0)
		warmer_log("warning: %s; only the built-in default pool is kept from the journal", err);
	cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(doc, "pools")) {
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(p, "name"), *r;
		struct pool_settings live, declared;
		struct pool *pool;
		if (!cJSON_IsString(name) || state_settings_parse(p, name->valuestring, &live) < 0 ||
		    state_settings_parse(cJSON_GetObjectItemCaseSensitive(p, "declared"), name->valuestring,
		                         &declared) < 0 ||
		    !W.find_backend(live.backend) || pool_find(live.name)) {
			warmer_log("warning: state file %s has an unreadable pool entry; skipped it",
			           W.state_path);
			continue;
		}
		if (!still_declared(&cfg, &declared)) {
			drop_undeclared(p, &live);
			continue;
		}
		pool = pool_declare(&declared);
		pool->live = live;
		if (usage_parse(cJSON_GetObjectItemCaseSensitive(p, "usage"), &pool->usage) < 0 &&
		    cJSON_GetObjectItemCaseSensitive(p, "usage"))
			warmer_log(
				"warning: pool '%s': unreadable usage in the journal; the budget starts afresh",
				live.name);
		pools++;
		cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(p, "runners")) {
			const cJSON *id = cJSON_GetObjectItemCaseSensitive(r, "id");
			const cJSON *pid = cJSON_GetObjectItemCaseSensitive(r, "pid");
			const struct backend *be = W.find_backend(live.backend);
			if (be->adopt && be->adopt(pool, r) == 0) {
				keep_start(pool, r);
				adopted++;
				continue;
			}
			spend_runner_ended(pool, journaled_start(r)); /* it ran until now */
			if (cJSON_IsString(id) && cJSON_IsNumber(pid)) {
				W.find_backend(live.backend)
					->reap_stray(id->valuestring, state_runner_pid(r));
				strays++;
			}
		}
		tier_recover(pool, cJSON_GetObjectItemCaseSensitive(p, "stopped"));
	}
	cJSON_Delete(doc);
	config_free(&cfg);
	warmer_log(
		"read the journal back: %d pools, %d runners of the previous warmer adopted, %d cleaned up",
		pools, adopted, strays);
}
