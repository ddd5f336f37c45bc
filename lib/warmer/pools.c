/* pools.c — the pools: declaring them, handing queued callers to runners,
 * growing and shrinking to the pool's settings, and its timers (slot waits,
 * boots, stops, idle runners).  The rules themselves are queue.h's and
 * schedule.h's. */
#include "internal.h"
#include "backend_api.h"
#include "duration.h"
#include "flame_limits.h"
#include "queue.h"
#include "schedule.h"
#include "util.h"

#include <string.h>

struct pool *pool_find(const char *name)
{
	for (struct pool *p = W.pools; p; p = p->next)
		if (!strcmp(p->live.name, name))
			return p;
	return NULL;
}

static void retire_outdated(struct pool *p);

struct pool *pool_declare(const struct pool_settings *declared)
{
	struct pool *p = pool_find(declared->name);
	if (!p) {
		p = xcalloc(1, sizeof *p);
		p->declared = p->live = *declared;
		usage_init(&p->usage);
		p->next = W.pools;
		W.pools = p;
		journal_now();
		if (W.serving)         /* (during recovery the journal is not whole yet) */
			sweep_pool(p); /* machines a previous warmer left in its app */
		return p;
	}
	if (memcmp(&p->declared, declared, sizeof *declared) != 0) {
		/* The config file changed: it wins over earlier `pool scale`s. */
		warmer_log("pool '%s': configuration changed; applying it", declared->name);
		p->declared = p->live = *declared;
		retire_outdated(p);
		journal_now();
	}
	return p;
}

/* How much of a caller's wait was r booting: from the later of its queueing
 * and the boot's start to the boot's end (0 for a runner that was up). */
static int64_t boot_wait(const struct caller *c, const struct runner *r)
{
	int64_t from = c->queued_at > r->boot_started ? c->queued_at : r->boot_started;
	return r->ready_at > from ? r->ready_at - from : 0;
}

static void send_started(struct caller *c, struct runner *r)
{
	struct wbuf w;
	wbuf_init(&w, W_STARTED);
	wbuf_str(&w, r->id);
	wbuf_u32(&w, c->job_id);
	wbuf_i64(&w, now_ms() - c->queued_at);
	wbuf_i64(&w, boot_wait(c, r));
	(void)wire_send(c->fd, &w);
	wbuf_free(&w);
}

static int dispatch(struct caller *c, struct runner *r)
{
	c->job_id = ++r->next_job;
	if (r->be->start_job(r, c->job_id, &c->job) < 0) {
		warmer_on_lost(r, "it did not take a job");
		return -1;
	}
	close_fds(c->job.fds, c->job.nfds);
	c->job.nfds = 0;
	c->state = C_RUNNING;
	c->runner = r;
	r->busy++;
	if (c->job.want_started)
		send_started(c, r);
	return 0;
}

/* An idle (or booting) runner stops now; a busy one takes no new jobs and
 * stops when its last one ends (warmer_on_job_done). */
static void retire_runner(struct runner *r)
{
	if (r->busy == 0) {
		stop_runner(r);
		return;
	}
	r->state = R_DRAINING;
	journal_soon();
}

/* Retires runners beyond max: idle ones stop now, busy ones drain. */
static void trim_to_max(struct pool *p)
{
	struct sched_view v;
	struct runner *r;
	int excess;
	count_runners(p, &v);
	for (excess = sched_excess(&v); excess > 0 && (r = next_retiree(p)); excess--)
		retire_runner(r);
}

/* Runners booted with other backend settings (a fresh deploy's image, a
 * changed host list) take no new jobs: idle ones stop now, busy ones finish
 * what they run first.  New callers get new runners. */
static void retire_outdated(struct pool *p)
{
	uint32_t now = warmer_conf_hash(p->live.backend_conf);
	for (struct runner *r = p->runners; r; r = r->next) {
		if (r->conf_hash == now || r->state == R_STOPPING || r->state == R_DRAINING)
			continue;
		warmer_log("pool '%s': runner %s has outdated settings; replacing it", p->live.name, r->id);
		retire_runner(r);
	}
	journal_soon();
}

/* No runner may boot: callers wait for the runners there are, and when
 * there is none that could take them they are told now (75). */
static void over_budget(struct pool *p, const struct sched_view *v)
{
	char why[512];
	int serve = v->ready + v->booting > 0;

	if (p->budget_said && serve)
		return; /* said once; schedule() comes here every round */
	spend_why(p, why, sizeof why);
	if (!p->budget_said)
		warmer_log("%s", why);
	p->budget_said = 1;
	if (serve)
		return;
	while (p->qhead) {
		struct caller *c = p->qhead;
		reply_error(c, EXIT_TEMPFAIL, "%s", why);
		caller_finish(c);
	}
}

void schedule(struct pool *p)
{
	struct sched_view v;
	struct caller *c;
	int boots;

	while ((c = queue_next(p))) {
		struct runner *r = pick_runner(p, runner_lost);
		if (!r)
			break;
		unqueue(c);
		if (dispatch(c, r) < 0) {
			enqueue(c, 1);
			break;
		}
	}
	trim_to_max(p);
	if (W.stopping || now_ms() < p->boot_blocked_until)
		return;
	count_runners(p, &v);
	boots = sched_boots_needed(&v);
	if (boots > 0 && spend_blocks_boot(p)) {
		over_budget(p, &v);
		return;
	}
	p->budget_said = 0;
	while (boots-- > 0)
		if (!tier_boot(p))
			boot_runner(p);
}

/* ---- timers ---- */

void expire_callers(struct pool *p, int64_t now)
{
	struct caller *c;
	while ((c = queue_next_expired(p, now))) {
		struct sched_view v;
		char wait[32];
		count_runners(p, &v);
		duration_format(c->deadline - c->queued_at, wait, sizeof wait);
		if (p->budget_said) {
			char why[512];
			spend_why(p, why, sizeof why);
			reply_error(c, EXIT_TEMPFAIL, "no free slot within %s: %s", wait, why);
		} else {
			reply_error(
				c, EXIT_TEMPFAIL,
				"pool '%s': no free slot within %s (%d of max %ld runners, %ld jobs each, "
				"all busy); raise the limit with 'flame pool scale %s --max N' or wait "
				"longer with --slot-timeout",
				p->live.name, wait, v.ready + v.booting + v.retiring, p->live.max,
				p->live.max_concurrency, p->live.name);
		}
		caller_finish(c); /* out of the queue */
	}
}

void check_runners(struct pool *p, int64_t now)
{
	struct sched_view v;
	int spare;
	count_runners(p, &v);
	spare = sched_idle_spare(&v);
	for (struct runner *r = p->runners; r; r = r->next) {
		if (r->state == R_BOOTING && now >= r->boot_deadline) {
			char d[32];
			duration_format(p->live.boot_ms, d, sizeof d);
			warmer_log("pool '%s': runner %s did not boot within %s; destroying it", p->live.name,
			           r->id, d);
			warmer_on_lost(r, "it did not boot in time");
			p->boot_blocked_until = now + BOOT_RETRY_MS;
		} else if (r->state == R_STOPPING && now >= r->stop_deadline) {
			warmer_on_lost(r, "it did not stop in time");
		} else if (spare > 0 && runner_idle_expired(p, r, now)) {
			int keep = tier_wants(p, r);
			warmer_log("pool '%s': runner %s idle; stopping it%s", p->live.name, r->id,
			           keep ? " and keeping its machine" : "");
			if (keep)
				park_runner(r);
			else
				stop_runner(r);
			spare--;
		}
	}
	tier_expire(p, wall_ms());
}
