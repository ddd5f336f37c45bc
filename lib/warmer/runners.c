/* runners.c — a runner's life: booting, stopping, removing it, and the
 * callbacks through which its backend reports (warmer_on_*).  Callbacks only
 * mark a lost runner; the loop removes it after the round. */
#include "internal.h"
#include "backend_api.h"
#include "flame_limits.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

/* Runners marked lost by a callback, acted on by the loop. */
struct lost_mark {
	struct runner *r;
	char why[600];
};
static struct lost_mark lost[256];
static int nlost;

static void runner_id(struct pool *p, char *buf, size_t len)
{
	unsigned char rnd[3] = { 0 };
	if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
		rnd[0] = (unsigned char)getpid();
	snprintf(buf, len, "%s-%02x%02x%02x-%u", p->live.name, rnd[0], rnd[1], rnd[2], ++p->seq);
}

uint32_t warmer_conf_hash(const char *text)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	for (; *text; text++)
		h = (h ^ (unsigned char)*text) * 16777619u;
	return h;
}

struct runner *warmer_add_runner(struct pool *p, const char *id)
{
	struct runner *r = xcalloc(1, sizeof *r);

	r->pool = p;
	r->be = W.find_backend(p->live.backend);
	r->fd = -1;
	r->state = R_BOOTING;
	r->created_wall = wall_ms();
	r->boot_started = now_ms();
	r->boot_deadline = r->boot_started + p->live.boot_ms + BOOT_REPORT_MS;
	r->conf_hash = warmer_conf_hash(p->live.backend_conf);
	r->tier_hash = tier_hash(&p->live);
	snprintf(r->id, sizeof r->id, "%s", id);
	r->next = p->runners;
	p->runners = r;
	journal_now(); /* journaled before the backend is asked for it */
	return r;
}

void boot_runner(struct pool *p)
{
	char err[512], id[96];
	struct runner *r;

	runner_id(p, id, sizeof id);
	r = warmer_add_runner(p, id);
	if (!r->be || r->be->boot(r, err, sizeof err) < 0) {
		warmer_log("pool '%s': cannot boot runner %s: %s", p->live.name, r->id,
		           r->be ? err : "unknown backend");
		warmer_on_lost(r, r->be ? err : "its backend is unknown");
		p->boot_blocked_until = now_ms() + BOOT_RETRY_MS;
		return;
	}
	warmer_log("pool '%s': booting runner %s", p->live.name, r->id);
	journal_now();
}

void stop_runner(struct runner *r)
{
	r->state = R_STOPPING;
	r->stop_deadline = now_ms() + STOP_GRACE_MS;
	r->be->stop(r);
	journal_soon();
}

/* An idle runner whose machine the stopped tier keeps: the backend stops
 * it and reports "parked"; handle_lost then moves it to the tier. */
void park_runner(struct runner *r)
{
	r->parking = 1;
	r->state = R_STOPPING;
	r->stop_deadline = now_ms() + STOP_GRACE_MS + PARK_MS;
	r->be->park(r);
	journal_soon();
}

void remove_runner(struct runner *r)
{
	struct runner **pp;
	for (pp = &r->pool->runners; *pp; pp = &(*pp)->next) {
		if (*pp == r) {
			*pp = r->next;
			break;
		}
	}
	if (r->be)
		r->be->destroy(r);
	spend_runner_ended(r->pool, r->created_wall);
	free(r);
	journal_now();
}

int runner_lost(const struct runner *r)
{
	for (int i = 0; i < nlost; i++)
		if (lost[i].r == r)
			return 1;
	return 0;
}

void warmer_on_lost(struct runner *r, const char *why)
{
	if (runner_lost(r))
		return;
	if (nlost == (int)(sizeof lost / sizeof lost[0]))
		return; /* picked up again on the next round */
	lost[nlost].r = r;
	snprintf(lost[nlost].why, sizeof lost[nlost].why, "%s", why);
	nlost++;
}

/* A boot failed and nothing else can serve the queue: waiting out the slot
 * timeout would only hide the reason, so the waiters get it now. */
static void fail_waiters(struct pool *p, struct runner *failed, const char *why)
{
	for (struct runner *o = p->runners; o; o = o->next)
		if (o != failed && (o->state == R_READY || o->state == R_BOOTING))
			return;
	while (p->qhead) {
		struct caller *c = p->qhead;
		reply_error(c, EXIT_FAILURE_FLAME, "pool '%s': runner %s%s%s could not start: %s",
		            p->live.name, failed->id, failed->where[0] ? " on " : "", failed->where, why);
		caller_finish(c);
	}
}

static void handle_lost(struct runner *r, const char *why)
{
	struct pool *p = r->pool;
	for (struct caller *c = W.callers; c; c = c->next) {
		if (c->runner != r)
			continue;
		reply_error(
			c, EXIT_FAILURE_FLAME,
			"runner %s%s%s of pool '%s' was lost while the job ran (%s); the job did not finish",
			r->id, r->where[0] ? " on " : "", r->where, p->live.name, why);
		caller_finish(c);
	}
	if (r->state != R_STOPPING)
		warmer_log("pool '%s': runner %s lost: %s", p->live.name, r->id, why);
	else if (!r->parked)
		warmer_log("pool '%s': runner %s stopped", p->live.name, r->id);
	if (r->parked)
		tier_keep(p, r);
	/* an adopted runner that is gone is no boot failure: a new one boots */
	if (r->state == R_BOOTING && !r->adopted)
		fail_waiters(p, r, why);
	remove_runner(r);
}

void handle_lost_runners(void)
{
	while (nlost > 0) {
		struct lost_mark m = lost[--nlost];
		handle_lost(m.r, m.why);
	}
}

void warmer_on_info(struct runner *r, const char *json)
{
	if (strlen(json) >= sizeof r->info)
		return;
	snprintf(r->info, sizeof r->info, "%s", json);
	{
		/* where the runner is, for messages and pool ls */
		cJSON *o = cJSON_Parse(json);
		const char *where = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "where"));
		if (where)
			snprintf(r->where, sizeof r->where, "%s", where);
		/* backend_api.h: a machine that may be kept, and one that is */
		r->keepable = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "keep"));
		r->parked = r->parking && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "parked"));
		cJSON_Delete(o);
	}
	journal_now(); /* e.g. a machine id: a restarted warmer must find it */
}

void warmer_on_capacity(struct runner *r, int slots)
{
	r->capacity = slots >= r->pool->live.max_concurrency ? 0 : slots;
	/* callers waiting for this runner's next slot are picked on the next round */
}

void warmer_on_ready(struct runner *r)
{
	if (r->state != R_BOOTING)
		return;
	r->state = R_READY;
	r->idle_since = r->ready_at = now_ms();
	warmer_log("pool '%s': runner %s ready", r->pool->live.name, r->id);
	journal_now();
}

static struct caller *caller_of_job(const struct runner *r, uint32_t job)
{
	for (struct caller *c = W.callers; c; c = c->next)
		if (c->runner == r && c->job_id == job && (c->state == C_RUNNING || c->state == C_ORPHANED))
			return c;
	return NULL;
}

void warmer_on_job_done(struct runner *r, uint32_t job, int64_t status, int64_t flags)
{
	struct caller *c = caller_of_job(r, job);
	struct wbuf w;

	if (!c)
		return;
	if (r->busy > 0 && --r->busy == 0)
		r->idle_since = now_ms();
	if (c->fd >= 0) {
		wbuf_init(&w, W_DONE);
		wbuf_i64(&w, status);
		wbuf_i64(&w, flags);
		(void)wire_send(c->fd, &w);
		wbuf_free(&w);
	}
	c->state = C_CONNECTED;
	if (c->job.keep_open && c->fd >= 0)
		caller_next_job(c);
	else
		caller_finish(c);
	if (r->state == R_DRAINING && r->busy == 0)
		stop_runner(r);
	/* Busy counts are not journaled: they mean nothing once we are gone. */
}
