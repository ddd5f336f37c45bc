/* state.c — see state.h. */
#include "state.h"
#include "internal.h"
#include "flame_limits.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

const char *runner_state_name(enum runner_state s)
{
	static const char *names[] = { "booting", "ready", "draining", "stopping" };
	return names[s];
}

void state_add_settings(cJSON *o, const struct pool_settings *ps)
{
	cJSON_AddStringToObject(o, "backend", ps->backend);
	cJSON_AddNumberToObject(o, "min", (double)ps->min);
	cJSON_AddNumberToObject(o, "max", (double)ps->max);
	cJSON_AddNumberToObject(o, "max_concurrency", (double)ps->max_concurrency);
	cJSON_AddNumberToObject(o, "idle_shutdown_after", ps->idle_ms / 1000.0);
	cJSON_AddNumberToObject(o, "boot_timeout", ps->boot_ms / 1000.0);
	cJSON_AddNumberToObject(o, "slot_timeout", ps->slot_ms / 1000.0);
	cJSON_AddNumberToObject(o, "stopped_max", (double)ps->stopped_max);
	cJSON_AddNumberToObject(o, "stopped_ttl", ps->stopped_ttl_ms / 1000.0);
	cJSON_AddNumberToObject(o, "budget_machine_seconds_per_hour", (double)ps->budget_s_per_hour);
	cJSON_AddNumberToObject(o, "price_per_hour", ps->price_per_hour);
	if (ps->backend_conf[0]) {
		cJSON *conf = cJSON_Parse(ps->backend_conf);
		if (conf)
			cJSON_AddItemToObject(o, "backend_settings", conf);
	}
}

cJSON *state_settings_json(const struct pool_settings *ps)
{
	cJSON *o = cJSON_CreateObject();
	state_add_settings(o, ps);
	return o;
}

static int num(const cJSON *o, const char *k, double min, double *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	if (!cJSON_IsNumber(v) || v->valuedouble < min || v->valuedouble > 1e9)
		return -1;
	*out = v->valuedouble;
	return 0;
}

/* The stopped tier's, budget and price settings are optional: a journal
 * written before they existed lacks them, and gets the defaults.  When
 * there, they must be within what config accepts.  Is K there and not a
 * number from min to max (a whole one if whole)? */
static int bad_opt(const cJSON *o, const char *k, double min, double max, int whole)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	if (!v)
		return 0;
	/* the range first: converting a double beyond a long's is undefined */
	return !cJSON_IsNumber(v) || !(v->valuedouble >= min && v->valuedouble <= max) ||
	       (whole && v->valuedouble != (double)(long)v->valuedouble);
}

static double opt(const cJSON *o, const char *k, double otherwise)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return v ? v->valuedouble : otherwise;
}

int state_settings_parse(const cJSON *o, const char *name, struct pool_settings *ps)
{
	const cJSON *b = cJSON_GetObjectItemCaseSensitive(o, "backend");
	double min, max, mc, idle, boot, slot;

	if (!cJSON_IsObject(o) || !pool_name_valid(name) || !cJSON_IsString(b) ||
	    strlen(b->valuestring) >= sizeof ps->backend || num(o, "min", 0, &min) ||
	    num(o, "max", 1, &max) || num(o, "max_concurrency", 1, &mc) ||
	    num(o, "idle_shutdown_after", 0.001, &idle) || num(o, "boot_timeout", 0.001, &boot) ||
	    num(o, "slot_timeout", 0.001, &slot) || min > max ||
	    bad_opt(o, "stopped_max", -1, LIMIT_RUNNERS, 1) || bad_opt(o, "stopped_ttl", 0.001, 1e9, 0) ||
	    bad_opt(o, "budget_machine_seconds_per_hour", 0, LIMIT_RUNNERS * 3600.0, 1) ||
	    bad_opt(o, "price_per_hour", -1, 1000, 0))
		return -1;
	pool_settings_default(ps, name);
	snprintf(ps->backend, sizeof ps->backend, "%s", b->valuestring);
	ps->min = (long)min;
	ps->max = (long)max;
	ps->max_concurrency = (long)mc;
	ps->idle_ms = (int64_t)(idle * 1000 + 0.5);
	ps->boot_ms = (int64_t)(boot * 1000 + 0.5);
	ps->slot_ms = (int64_t)(slot * 1000 + 0.5);
	ps->stopped_max = (long)opt(o, "stopped_max", (double)ps->stopped_max);
	ps->stopped_ttl_ms = (int64_t)(opt(o, "stopped_ttl", ps->stopped_ttl_ms / 1000.0) * 1000 + 0.5);
	ps->budget_s_per_hour =
		(long)opt(o, "budget_machine_seconds_per_hour", (double)ps->budget_s_per_hour);
	ps->price_per_hour = opt(o, "price_per_hour", ps->price_per_hour);
	{
		const cJSON *conf = cJSON_GetObjectItemCaseSensitive(o, "backend_settings");
		char *text = conf ? cJSON_PrintUnformatted(conf) : NULL;
		if (text && strlen(text) < sizeof ps->backend_conf)
			snprintf(ps->backend_conf, sizeof ps->backend_conf, "%s", text);
		free(text);
	}
	return 0;
}

static cJSON *runner_json(const struct runner *r, int64_t wall, int64_t mono)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "id", r->id);
	cJSON_AddStringToObject(o, "state", runner_state_name(r->state));
	if (r->where[0])
		cJSON_AddStringToObject(o, "host", r->where);
	cJSON_AddNumberToObject(o, "busy", r->busy);
	cJSON_AddNumberToObject(o, "pid", r->pid);
	if (r->info[0]) {
		cJSON *info = cJSON_Parse(r->info);
		if (info)
			cJSON_AddItemToObject(o, "info", info);
	}
	cJSON_AddNumberToObject(o, "created_ms", (double)r->created_wall);
	cJSON_AddNumberToObject(o, "age_seconds", (wall - r->created_wall) / 1000.0);
	if (r->busy == 0 && r->state != R_BOOTING) {
		cJSON_AddNumberToObject(o, "idle_since_ms", (double)(wall - (mono - r->idle_since)));
		cJSON_AddNumberToObject(o, "idle_seconds", (mono - r->idle_since) / 1000.0);
	} else {
		cJSON_AddNumberToObject(o, "idle_seconds", 0);
	}
	return o;
}

static cJSON *pool_json(const struct pool *p, int64_t wall, int64_t mono)
{
	cJSON *o = cJSON_CreateObject(), *runners = cJSON_CreateArray();
	int busy = 0;

	cJSON_AddStringToObject(o, "name", p->live.name);
	state_add_settings(o, &p->live);
	cJSON_AddItemToObject(o, "declared", state_settings_json(&p->declared));
	cJSON_AddNumberToObject(o, "waiting", p->waiting);
	for (const struct runner *r = p->runners; r; r = r->next) {
		busy += r->busy;
		cJSON_AddItemToArray(runners, runner_json(r, wall, mono));
	}
	cJSON_AddNumberToObject(o, "busy", busy);
	cJSON_AddItemToObject(o, "runners", runners);
	cJSON_AddItemToObject(o, "stopped", tier_json(p));
	spend_add_json(o, p);
	return o;
}

cJSON *state_json(const struct pool *pools, int running, long warmer_pid)
{
	int64_t wall = wall_ms(), mono = now_ms();
	cJSON *doc = cJSON_CreateObject(), *w = cJSON_CreateObject(), *arr = cJSON_CreateArray();

	cJSON_AddNumberToObject(doc, "version", STATE_VERSION);
	cJSON_AddBoolToObject(w, "running", running);
	cJSON_AddNumberToObject(w, "pid", (double)warmer_pid);
	cJSON_AddNumberToObject(w, "updated_ms", (double)wall);
	cJSON_AddItemToObject(doc, "warmer", w);
	for (const struct pool *p = pools; p; p = p->next)
		cJSON_AddItemToArray(arr, pool_json(p, wall, mono));
	cJSON_AddItemToObject(doc, "pools", arr);
	return doc;
}

static int lock_for(const char *path, int how)
{
	char *lp = xasprintf("%s.lock", path);
	/* O_NONBLOCK: a FIFO planted as the lock must not hang us */
	int fd = open(lp, O_RDWR | O_CREAT | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW, 0600);
	free(lp);
	if (fd < 0)
		return -1;
	while (flock(fd, how) < 0) {
		if (errno != EINTR) {
			close(fd);
			return -1;
		}
	}
	return fd;
}

int state_write(const char *path, const cJSON *doc, char *err, size_t errlen)
{
	char *text = cJSON_PrintUnformatted(doc), *tmp = xasprintf("%s.tmp.%d", path, (int)getpid());
	int lock = lock_for(path, LOCK_EX), fd = -1, rc = -1;

	if (!text || lock < 0) {
		snprintf(err, errlen, "cannot lock %s: %s", path, strerror(errno));
		goto out;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 || write_all(fd, text, strlen(text)) < 0 || write_all(fd, "\n", 1) < 0 || fsync(fd) < 0) {
		snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
		goto out;
	}
	close(fd);
	fd = -1;
	if (rename(tmp, path) < 0) {
		snprintf(err, errlen, "cannot rename %s: %s", tmp, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	if (rc < 0)
		unlink(tmp);
	if (lock >= 0)
		close(lock);
	free(tmp);
	free(text);
	return rc;
}

cJSON *state_parse(const char *text, size_t len)
{
	cJSON *doc = NULL;

	/* The length includes the terminator: cJSON wants to see it when asked
	 * to refuse trailing garbage; a NUL inside the text is garbage too. */
	if (!memchr(text, 0, len))
		doc = cJSON_ParseWithLengthOpts(text, len + 1, NULL, 1);
	if (!cJSON_IsObject(doc) || !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(doc, "pools"))) {
		cJSON_Delete(doc);
		return NULL;
	}
	return doc;
}

int state_stopped_parse(const cJSON *o, struct stopped_machine *m)
{
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(o, "id");
	const cJSON *info = cJSON_GetObjectItemCaseSensitive(o, "info");
	const cJSON *hash = cJSON_GetObjectItemCaseSensitive(o, "tier_hash");
	const cJSON *at = cJSON_GetObjectItemCaseSensitive(o, "stopped_ms");
	char *text;

	if (!cJSON_IsString(id) || strlen(id->valuestring) >= sizeof m->id || !cJSON_IsObject(info) ||
	    !cJSON_IsNumber(hash) || !(hash->valuedouble >= 0 && hash->valuedouble <= 4294967295.0) ||
	    !cJSON_IsNumber(at) || !(at->valuedouble >= 0 && at->valuedouble < 9e15))
		return -1;
	text = cJSON_PrintUnformatted(info);
	if (!text || strlen(text) >= sizeof m->info) {
		free(text);
		return -1;
	}
	memset(m, 0, sizeof *m);
	snprintf(m->id, sizeof m->id, "%s", id->valuestring);
	snprintf(m->info, sizeof m->info, "%s", text);
	m->tier_hash = (uint32_t)hash->valuedouble;
	m->stopped_wall = (int64_t)at->valuedouble;
	free(text);
	return 0;
}

long state_runner_pid(const cJSON *runner)
{
	const cJSON *pid = cJSON_GetObjectItemCaseSensitive(runner, "pid");
	double d = cJSON_IsNumber(pid) ? pid->valuedouble : 0;

	/* checked as a double: converting one out of range is undefined */
	if (!(d >= 1 && d <= INT_MAX) || d != (double)(long)d)
		return 0;
	return (long)d;
}

cJSON *state_read(const char *path, char *err, size_t errlen)
{
	int lock, fd;
	struct stat st;
	char *text;
	cJSON *doc = NULL;

	err[0] = 0;
	/* O_NONBLOCK: a FIFO in its place is refused below, not waited on */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		if (errno != ENOENT)
			snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s is not a regular file; remove it", path);
		close(fd);
		return NULL;
	}
	lock = lock_for(path, LOCK_SH);
	if (st.st_size > 64 * 1024 * 1024) {
		snprintf(err, errlen, "%s is not a readable state file", path);
		goto out;
	}
	text = xmalloc((size_t)st.st_size + 1);
	if (read_all(fd, text, (size_t)st.st_size) < 0) {
		snprintf(err, errlen, "cannot read %s", path);
		free(text);
		goto out;
	}
	text[st.st_size] = 0;
	doc = state_parse(text, (size_t)st.st_size);
	free(text);
	if (!doc)
		snprintf(err, errlen, "state file %s is truncated or corrupt", path);
out:
	if (lock >= 0)
		close(lock);
	close(fd);
	return doc;
}
