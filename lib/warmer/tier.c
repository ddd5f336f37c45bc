/* tier.c — a pool's stopped tier: the machines of idle runners kept
 * stopped, so that a cold call starts one (a fraction of a create) instead
 * of creating a new one.  Kept machines bill storage only.  At most the
 * pool's stopped_max are kept, each for stopped_ttl; one booted with other
 * settings than the pool's now is destroyed, never started.  The journal
 * holds them (a restarted warmer takes them back, the stray sweep knows
 * them), and a stopping warmer destroys them: nothing outlives the warmer
 * that could not be accounted for. */
#include "internal.h"
#include "backend_api.h"
#include "state.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint32_t tier_hash(const struct pool_settings *ps)
{
	/* what a kept machine carries in its files: the backend settings, and
	 * the agent's slots and idle time */
	char *text = xasprintf("%s|%ld|%lld", ps->backend_conf, ps->max_concurrency, (long long)ps->idle_ms);
	uint32_t h = warmer_conf_hash(text);
	free(text);
	return h;
}

long tier_max(const struct pool *p)
{
	const struct backend *be = W.find_backend(p->live.backend);
	if (!be || !be->park || !be->unpark)
		return 0;
	return p->live.stopped_max < 0 ? p->live.max : p->live.stopped_max;
}

int tier_count(const struct pool *p)
{
	int n = 0;
	for (const struct stopped_machine *m = p->stopped; m; m = m->next)
		n++;
	return n;
}

static int parking(const struct pool *p)
{
	int n = 0;
	for (const struct runner *r = p->runners; r; r = r->next)
		n += r->parking;
	return n;
}

int tier_wants(const struct pool *p, const struct runner *r)
{
	return !W.stopping && r->keepable && r->tier_hash == tier_hash(&p->live) &&
	       tier_count(p) + parking(p) < tier_max(p);
}

static void discard(struct pool *p, struct stopped_machine *m, const char *why)
{
	const struct backend *be = W.find_backend(p->live.backend);
	warmer_log("pool '%s': destroying stopped runner %s (%s)", p->live.name, m->id, why);
	if (be && be->discard)
		be->discard(&p->live, m->id, m->info);
	free(m);
}

void tier_keep(struct pool *p, const struct runner *r)
{
	struct stopped_machine *m = xcalloc(1, sizeof *m);

	snprintf(m->id, sizeof m->id, "%s", r->id);
	snprintf(m->info, sizeof m->info, "%s", r->info);
	m->tier_hash = r->tier_hash;
	m->stopped_wall = wall_ms();
	m->next = p->stopped;
	p->stopped = m;
	warmer_log("pool '%s': runner %s stopped and kept (%d of %ld)", p->live.name, r->id, tier_count(p),
	           tier_max(p));
	journal_now(); /* a restarted warmer must know it */
}

int tier_boot(struct pool *p)
{
	uint32_t now = tier_hash(&p->live);
	char err[512];

	while (p->stopped) {
		struct stopped_machine *m = p->stopped;
		struct runner *r;
		p->stopped = m->next;
		if (m->tier_hash != now) {
			discard(p, m, "its settings are outdated");
			continue;
		}
		r = warmer_add_runner(p, m->id);
		r->adopted = 1;
		r->tier_hash = m->tier_hash;
		warmer_on_info(r, m->info);
		free(m);
		if (r->be->unpark(r, err, sizeof err) < 0) {
			warmer_on_lost(r, err);
			continue;
		}
		warmer_log("pool '%s': starting stopped runner %s", p->live.name, r->id);
		journal_now();
		return 1;
	}
	journal_soon();
	return 0;
}

void tier_expire(struct pool *p, int64_t wall)
{
	struct stopped_machine **pp = &p->stopped;
	long keep = tier_max(p), n = 0;
	int changed = 0;

	while (*pp) {
		struct stopped_machine *m = *pp;
		const char *why = NULL;
		if (wall - m->stopped_wall >= p->live.stopped_ttl_ms)
			why = "stopped_ttl passed";
		else if (n >= keep)
			why = "more than stopped_max";
		if (!why) {
			n++;
			pp = &m->next;
			continue;
		}
		*pp = m->next;
		discard(p, m, why);
		changed = 1;
	}
	if (changed)
		journal_now();
}

int tier_drain(struct pool *p, const char *why)
{
	int n = 0;
	/* one being stopped now is not kept once stopped: its link's report
	 * finds it no longer parking, and the machine is destroyed */
	for (struct runner *r = p->runners; r; r = r->next)
		if (r->parking) {
			r->parking = r->parked = 0;
			warmer_log("pool '%s': runner %s is stopping; destroying its machine (%s)",
			           p->live.name, r->id, why);
			n++;
		}
	while (p->stopped) {
		struct stopped_machine *m = p->stopped;
		p->stopped = m->next;
		discard(p, m, why);
		n++;
	}
	if (n)
		journal_now();
	return n;
}

void tier_free(struct pool *p)
{
	while (p->stopped) {
		struct stopped_machine *m = p->stopped;
		p->stopped = m->next;
		free(m);
	}
}

cJSON *tier_json(const struct pool *p)
{
	cJSON *a = cJSON_CreateArray();
	int64_t wall = wall_ms();

	for (const struct stopped_machine *m = p->stopped; m; m = m->next) {
		cJSON *o = cJSON_CreateObject(), *info = cJSON_Parse(m->info);
		cJSON_AddStringToObject(o, "id", m->id);
		cJSON_AddItemToObject(o, "info", info ? info : cJSON_CreateObject());
		cJSON_AddNumberToObject(o, "tier_hash", m->tier_hash);
		cJSON_AddNumberToObject(o, "stopped_ms", (double)m->stopped_wall);
		cJSON_AddNumberToObject(o, "stopped_seconds", (wall - m->stopped_wall) / 1000.0);
		cJSON_AddItemToArray(a, o);
	}
	return a;
}

void tier_recover(struct pool *p, const cJSON *arr)
{
	struct stopped_machine **tail = &p->stopped;
	const cJSON *o;
	int n = 0;

	while (*tail)
		tail = &(*tail)->next;
	cJSON_ArrayForEach(o, arr) {
		struct stopped_machine *m = xcalloc(1, sizeof *m);
		if (state_stopped_parse(o, m) < 0) {
			free(m);
			warmer_log(
				"warning: pool '%s': an unreadable stopped machine in the journal; skipped it "
				"(the stray sweep destroys its machine)",
				p->live.name);
			continue;
		}
		*tail = m;
		tail = &m->next;
		n++;
	}
	if (n)
		warmer_log("pool '%s': %d stopped runner(s) taken back", p->live.name, n);
	tier_expire(p, wall_ms()); /* past stopped_ttl while no warmer ran */
}
