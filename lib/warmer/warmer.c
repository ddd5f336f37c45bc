/* warmer.c — the warmer's event loop: callers, pools, runners, journal.
 *
 * One thread, one poll loop.  Callbacks from backends only mark things
 * (lost runners, pools to schedule); the loop acts on the marks after each
 * round, so nothing is freed while a backend still holds it. */
#include "warmer.h"
#include "backend_api.h"
#include "duration.h"
#include "flame_limits.h"
#include "fly_token.h"
#include "paths.h"
#include "schedule.h"
#include "state.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <dirent.h>
#include <time.h>
#include <unistd.h>

#define STOP_GRACE_MS 10000
#define BOOT_RETRY_MS 1000
/* A booting runner gives up at its own boot_timeout with the reason; the
 * warmer's backstop comes this much later, so that the reason arrives. */
#define BOOT_REPORT_MS 1000
#define SWEEP_MS 60000
/* Load limits.  Callers beyond them are not refused: they wait in the listen
 * backlog (connect and the request's send just block) until one ends. */
#ifndef FLAME_VERSION
#define FLAME_VERSION "0.0.0"
#endif

#define MAX_CALLERS 4096           /* connections held at once */
#define FD_HEADROOM 160            /* descriptors kept free: one request's 64, boots */
#define LISTEN_BACKLOG 4096        /* the kernel caps it at net.core.somaxconn */
#define REQUEST_BUDGET (16u << 20) /* bytes of half-received requests, all callers */
#define ACCEPT_PAUSE_MS 100        /* after accept4 ran out of descriptors */
#define SILENT_MS 5000             /* at the cap: how long a new connection may say nothing */

struct warmer {
	int listen_fd, lock_fd;
	char *sock_path, *state_path;
	struct pool *pools;
	struct caller *callers;
	int64_t grace_ms, quiet_since, started;
	int stopping, runners_stopped, dirty;
	int64_t journal_due;
	int64_t sweep_due;
	long fd_limit;              /* the soft RLIMIT_NOFILE, raised at start */
	int ncallers, at_cap;       /* connections held; whether new ones wait */
	size_t buffered;            /* bytes the callers' buffers hold */
	int64_t accept_pause_until; /* no accept4 before this */
	backend_lookup find_backend;
};

static struct warmer W;
static volatile sig_atomic_t got_stop;

/* Per-runner and per-pool marks set by callbacks, acted on by the loop. */
struct lost_mark {
	struct runner *r;
	char why[600];
};
static struct lost_mark lost[256];
static int nlost;

static void on_stop_signal(int sig)
{
	(void)sig;
	got_stop = 1;
}

void warmer_log(const char *fmt, ...)
{
	char buf[1200], ts[32];
	time_t t = time(NULL);
	struct tm tm;
	va_list ap;
	int n;

	strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", localtime_r(&t, &tm));
	n = snprintf(buf, sizeof buf, "%s warmer[%d]: ", ts, (int)getpid());
	va_start(ap, fmt);
	n += vsnprintf(buf + n, sizeof buf - n - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof buf - 2)
		n = sizeof buf - 2;
	buf[n++] = '\n';
	(void)!write(2, buf, (size_t)n);
}

/* ---- journal ---- */

/* -1 with the reason in err (and the log) when the journal could not be
 * written: a change the caller asked for is then not kept. */
static int journal_write(char *err, size_t errlen)
{
	cJSON *doc = state_json(W.pools, 1, (long)getpid());
	int rc = state_write(W.state_path, doc, err, errlen);
	if (rc < 0)
		warmer_log("warning: %s", err);
	cJSON_Delete(doc);
	W.dirty = 0;
	return rc;
}

static void journal_now(void)
{
	char err[512];
	journal_write(err, sizeof err);
}

static void journal_soon(void)
{
	if (!W.dirty)
		W.journal_due = now_ms() + 500;
	W.dirty = 1;
}

/* ---- replies to callers ---- */

static void reply_text(struct caller *c, enum wire_type t, int code, const char *text)
{
	struct wbuf w;
	if (c->fd < 0)
		return;
	wbuf_init(&w, t);
	wbuf_u32(&w, (uint32_t)code);
	wbuf_str(&w, text);
	(void)wire_send(c->fd, &w);
	wbuf_free(&w);
}

static void reply_error(struct caller *c, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void reply_error(struct caller *c, int code, const char *fmt, ...)
{
	char text[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	reply_text(c, W_ERROR, code, text);
}

/* ---- callers ---- */

static void job_request_free(struct job_request *j)
{
	strv_free(j->argv);
	strv_free(j->env);
	strv_free(j->put_names);
	strv_free(j->get_patterns);
	close_fds(j->fds, j->nfds);
	memset(j, 0, sizeof *j);
}

static void unqueue(struct caller *c)
{
	struct pool *p = c->pool;
	struct caller **pp;
	for (pp = &p->qhead; *pp; pp = &(*pp)->qnext) {
		if (*pp == c) {
			*pp = c->qnext;
			break;
		}
	}
	p->qtail = NULL;
	for (struct caller *q = p->qhead; q; q = q->qnext)
		p->qtail = q;
	c->qnext = NULL;
	p->waiting--;
}

static void enqueue(struct caller *c, int at_head)
{
	struct pool *p = c->pool;
	c->state = C_QUEUED;
	if (at_head || !p->qhead) {
		c->qnext = p->qhead;
		p->qhead = c;
		if (!p->qtail)
			p->qtail = c;
	} else {
		p->qtail->qnext = c;
		p->qtail = c;
	}
	p->waiting++;
}

static void caller_close(struct caller *c)
{
	if (c->fd >= 0) {
		W.buffered -= c->conn.cap;
		wire_conn_free(&c->conn);
		close(c->fd);
		c->fd = -1;
	}
}

/* Marks c finished; the loop frees it. */
static void caller_finish(struct caller *c)
{
	if (c->state == C_QUEUED)
		unqueue(c);
	caller_close(c);
	job_request_free(&c->job);
	c->state = C_CONNECTED;
	c->pool = NULL;
	c->runner = NULL;
}

static void sweep_callers(void)
{
	struct caller **pp = &W.callers;
	while (*pp) {
		struct caller *c = *pp;
		if (c->fd < 0 && c->state != C_ORPHANED && c->state != C_RUNNING) {
			*pp = c->next;
			job_request_free(&c->job);
			free(c);
			W.ncallers--;
		} else {
			pp = &c->next;
		}
	}
}

/* ---- pools and runners ---- */

static struct pool *pool_find(const char *name)
{
	for (struct pool *p = W.pools; p; p = p->next)
		if (!strcmp(p->live.name, name))
			return p;
	return NULL;
}

static void retire_outdated(struct pool *p);

static struct pool *pool_declare(const struct pool_settings *declared)
{
	struct pool *p = pool_find(declared->name);
	if (!p) {
		p = xcalloc(1, sizeof *p);
		p->declared = p->live = *declared;
		p->next = W.pools;
		W.pools = p;
		journal_now();
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

static int count_runners(const struct pool *p, struct sched_view *v)
{
	int n = 0;
	memset(v, 0, sizeof *v);
	for (const struct runner *r = p->runners; r; r = r->next, n++) {
		if (r->state == R_READY)
			v->ready++;
		else if (r->state == R_BOOTING)
			v->booting++;
		else
			v->retiring++;
	}
	v->waiting = p->waiting;
	v->min = p->live.min;
	v->max = p->live.max;
	v->max_concurrency = p->live.max_concurrency;
	return n;
}

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

const char *warmer_state_path(void)
{
	return W.state_path;
}

struct runner *warmer_add_runner(struct pool *p, const char *id)
{
	struct runner *r = xcalloc(1, sizeof *r);

	r->pool = p;
	r->be = W.find_backend(p->live.backend);
	r->fd = -1;
	r->state = R_BOOTING;
	r->created_wall = wall_ms();
	r->boot_deadline = now_ms() + p->live.boot_ms + BOOT_REPORT_MS;
	r->conf_hash = warmer_conf_hash(p->live.backend_conf);
	snprintf(r->id, sizeof r->id, "%s", id);
	r->next = p->runners;
	p->runners = r;
	journal_now(); /* journaled before the backend is asked for it */
	return r;
}

static void boot_runner(struct pool *p)
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

static void stop_runner(struct runner *r)
{
	r->state = R_STOPPING;
	r->stop_deadline = now_ms() + STOP_GRACE_MS;
	r->be->stop(r);
	journal_soon();
}

static void remove_runner(struct runner *r)
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
	free(r);
	journal_now();
}

void warmer_on_lost(struct runner *r, const char *why)
{
	for (int i = 0; i < nlost; i++)
		if (lost[i].r == r)
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
	else
		warmer_log("pool '%s': runner %s stopped", p->live.name, r->id);
	/* an adopted runner that is gone is no boot failure: a new one boots */
	if (r->state == R_BOOTING && !r->adopted)
		fail_waiters(p, r, why);
	remove_runner(r);
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
	r->idle_since = now_ms();
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
	caller_finish(c);
	if (r->state == R_DRAINING && r->busy == 0)
		stop_runner(r);
	/* Busy counts are not journaled: they mean nothing once we are gone. */
}

static void send_started(struct caller *c, struct runner *r)
{
	struct wbuf w;
	wbuf_init(&w, W_STARTED);
	wbuf_str(&w, r->id);
	wbuf_u32(&w, c->job_id);
	wbuf_i64(&w, now_ms() - c->queued_at);
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

static struct runner *pick_runner(struct pool *p)
{
	int busy[LIMIT_RUNNERS], ready[LIMIT_RUNNERS], n = 0;
	struct runner *rs[LIMIT_RUNNERS];
	int i;
	for (struct runner *r = p->runners; r && n < LIMIT_RUNNERS; r = r->next, n++) {
		rs[n] = r;
		busy[n] = r->busy;
		ready[n] = r->state == R_READY && (r->capacity == 0 || r->busy < r->capacity);
		for (int k = 0; k < nlost; k++)
			if (lost[k].r == r)
				ready[n] = 0;
	}
	i = sched_pick(busy, ready, n, p->live.max_concurrency);
	/* i < n (schedule.h), so rs[i] is set: cppcheck cannot see that far */
	/* cppcheck-suppress uninitvar */
	return i < 0 ? NULL : rs[i];
}

/* Retires runners beyond max: idle ones stop now, busy ones drain. */
static void trim_to_max(struct pool *p)
{
	struct sched_view v;
	int excess;
	count_runners(p, &v);
	excess = sched_excess(&v);
	for (struct runner *r = p->runners; r && excess > 0; r = r->next) {
		if ((r->state == R_READY && r->busy == 0) || r->state == R_BOOTING) {
			stop_runner(r);
			excess--;
		}
	}
	for (struct runner *r = p->runners; r && excess > 0; r = r->next) {
		if (r->state == R_READY) {
			r->state = R_DRAINING;
			excess--;
			journal_soon();
		}
	}
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
		if (r->busy == 0)
			stop_runner(r);
		else
			r->state = R_DRAINING;
	}
	journal_soon();
}

static void schedule(struct pool *p)
{
	struct sched_view v;
	int boots;

	while (p->qhead) {
		struct runner *r = pick_runner(p);
		struct caller *c = p->qhead;
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
	while (boots-- > 0)
		boot_runner(p);
}

/* ---- timers ---- */

static void expire_callers(struct pool *p, int64_t now)
{
	struct caller *c = p->qhead;
	while (c) {
		struct caller *next = c->qnext;
		if (now >= c->deadline) {
			struct sched_view v;
			char wait[32];
			count_runners(p, &v);
			duration_format(c->deadline - c->queued_at, wait, sizeof wait);
			reply_error(
				c, EXIT_TEMPFAIL,
				"pool '%s': no free slot within %s (%d of max %ld runners, %ld jobs each, "
				"all busy); raise the limit with 'flame pool scale %s --max N' or wait "
				"longer with --slot-timeout",
				p->live.name, wait, v.ready + v.booting + v.retiring, p->live.max,
				p->live.max_concurrency, p->live.name);
			caller_finish(c);
		}
		c = next;
	}
}

static void check_runners(struct pool *p, int64_t now)
{
	struct sched_view v;
	count_runners(p, &v);
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
		} else if (r->state == R_READY && r->busy == 0 && !p->qhead &&
		           now - r->idle_since >= p->live.idle_ms && v.ready + v.booting > p->live.min) {
			warmer_log("pool '%s': runner %s idle; stopping it", p->live.name, r->id);
			stop_runner(r);
			v.ready--;
		}
	}
}

static int64_t next_deadline(int64_t now)
{
	int64_t t = now + 1000;
	for (struct pool *p = W.pools; p; p = p->next) {
		for (struct caller *c = p->qhead; c; c = c->qnext)
			if (c->deadline < t)
				t = c->deadline;
		for (struct runner *r = p->runners; r; r = r->next) {
			int64_t d = r->state == R_BOOTING                 ? r->boot_deadline
			            : r->state == R_STOPPING              ? r->stop_deadline
			            : r->state == R_READY && r->busy == 0 ? r->idle_since + p->live.idle_ms
			                                                  : t;
			if (d < t)
				t = d;
		}
		if (p->boot_blocked_until > now && p->boot_blocked_until < t)
			t = p->boot_blocked_until;
	}
	if (W.dirty && W.journal_due < t)
		t = W.journal_due;
	return t < now ? now : t;
}

/* ---- requests ---- */

static int read_settings(struct rbuf *r, struct pool_settings *ps)
{
	char *name = rbuf_str(r), *backend = rbuf_str(r);
	int ok;
	pool_settings_default(ps, pool_name_valid(name) ? name : "invalid");
	snprintf(ps->backend, sizeof ps->backend, "%s", backend);
	ps->min = (long)rbuf_i64(r);
	ps->max = (long)rbuf_i64(r);
	ps->max_concurrency = (long)rbuf_i64(r);
	ps->idle_ms = rbuf_i64(r);
	ps->boot_ms = rbuf_i64(r);
	ps->slot_ms = rbuf_i64(r);
	{
		char *conf = rbuf_str(r);
		if (strlen(conf) >= sizeof ps->backend_conf)
			r->bad = 1;
		else
			snprintf(ps->backend_conf, sizeof ps->backend_conf, "%s", conf);
		free(conf);
	}
	ok = !r->bad && pool_name_valid(name) && W.find_backend(backend) && ps->min >= 0 && ps->max >= 1 &&
	     ps->max <= LIMIT_RUNNERS && ps->max_concurrency >= 1 &&
	     ps->max_concurrency <= LIMIT_CONCURRENCY && ps->min <= ps->max && ps->idle_ms > 0 &&
	     ps->boot_ms > 0 && ps->slot_ms > 0;
	free(name);
	free(backend);
	return ok ? 0 : -1;
}

static void on_run(struct caller *c, struct rbuf *r, int *fds, int nfds)
{
	struct pool_settings ps;
	struct job_request *j = &c->job;
	int64_t slot_override;
	int need;

	if (c->state != C_CONNECTED || read_settings(r, &ps) < 0) {
		close_fds(fds, nfds);
		reply_error(c, EXIT_FAILURE_FLAME, "the warmer could not read the request");
		caller_finish(c);
		return;
	}
	slot_override = rbuf_i64(r);
	j->timeout_ms = rbuf_i64(r);
	j->argv = rbuf_strv(r, 1 << 20);
	j->env = rbuf_strv(r, 1 << 16);
	j->put_names = rbuf_strv(r, WIRE_MAX_FDS);
	j->get_patterns = rbuf_strv(r, 4096);
	j->has_getdir = (int)rbuf_u32(r); /* with the caller's umask (files.h): passed on as it is */
	j->want_started = rbuf_u32(r) ? 1 : 0;
	memcpy(j->fds, fds, sizeof(int) * nfds);
	j->nfds = nfds;
	need = 3 + (j->has_getdir != 0) + (int)strv_len(j->put_names);
	if (r->bad || !j->argv[0] || nfds != need) {
		reply_error(c, EXIT_FAILURE_FLAME, "the warmer could not read the request");
		caller_finish(c);
		return;
	}
	if (W.stopping) { /* not handed on: the caller sends it to the next warmer */
		caller_finish(c);
		return;
	}
	reply_text(c, W_ACCEPTED, 0, ""); /* before it can run anywhere (wire.h) */
	c->pool = pool_declare(&ps);
	c->queued_at = now_ms();
	c->deadline = c->queued_at + (slot_override > 0 ? slot_override : c->pool->live.slot_ms);
	enqueue(c, 0);
	schedule(c->pool);
}

static void on_scale(struct caller *c, struct rbuf *r)
{
	struct pool_settings ps, next;
	int64_t min, max, mc;
	struct pool *p;

	if (read_settings(r, &ps) < 0) {
		reply_error(c, EXIT_FAILURE_FLAME, "the warmer could not read the request");
		return;
	}
	min = rbuf_i64(r);
	max = rbuf_i64(r);
	mc = rbuf_i64(r);
	p = pool_declare(&ps);
	next = p->live;
	if (min >= 0)
		next.min = (long)min;
	if (max >= 0)
		next.max = (long)max;
	if (mc >= 0)
		next.max_concurrency = (long)mc;
	if (r->bad || next.max < 1 || next.max_concurrency < 1 || next.max > LIMIT_RUNNERS ||
	    next.max_concurrency > LIMIT_CONCURRENCY) {
		reply_error(c, EXIT_USAGE, "pool '%s': max is at most %d and max_concurrency at most %d",
		            p->live.name, LIMIT_RUNNERS, LIMIT_CONCURRENCY);
		return;
	}
	if (next.min > next.max) {
		reply_error(c, EXIT_USAGE,
		            "pool '%s': min %ld would be above max %ld; give both, e.g. --min %ld --max %ld",
		            p->live.name, next.min, next.max, next.min, next.min);
		return;
	}
	{
		struct pool_settings was = p->live;
		char err[512];
		p->live = next;
		if (journal_write(err, sizeof err) < 0) {
			p->live = was; /* not journaled: a restart would lose it */
			reply_error(c, EXIT_FAILURE_FLAME, "pool '%s' not scaled: %s", p->live.name, err);
			return;
		}
	}
	warmer_log("pool '%s': scaled to min %ld, max %ld, max_concurrency %ld", p->live.name, p->live.min,
	           p->live.max, p->live.max_concurrency);
	schedule(p);
	{
		char text[256];
		snprintf(text, sizeof text, "pool '%s': min %ld, max %ld, max_concurrency %ld", p->live.name,
		         p->live.min, p->live.max, p->live.max_concurrency);
		reply_text(c, W_REPLY, 0, text);
	}
}

static void on_status(struct caller *c)
{
	int np = 0, nr = 0, running = 0, waiting = 0;
	char text[1024];
	for (struct pool *p = W.pools; p; p = p->next, np++) {
		waiting += p->waiting;
		for (struct runner *r = p->runners; r; r = r->next, nr++)
			running += r->busy;
	}
	snprintf(
		text, sizeof text,
		"warmer: running, pid %d, up %llds%s\npools: %d, runners: %d, jobs running: %d, callers waiting: %d\nsocket: %s\nstate: %s",
		(int)getpid(), (long long)((now_ms() - W.started) / 1000), W.stopping ? " (stopping)" : "",
		np, nr, running, waiting, W.sock_path, W.state_path);
	reply_text(c, W_REPLY, 0, text);
}

/* No new caller may reach a warmer that is going away, so the socket goes
 * first; connections still in its backlog are reset, and those callers were
 * never sent W_ACCEPTED: they take their job to the next warmer. */
static void close_listener(void)
{
	if (W.listen_fd < 0)
		return;
	unlink(W.sock_path);
	close(W.listen_fd);
	W.listen_fd = -1;
}

static void begin_stop(const char *why)
{
	if (W.stopping)
		return;
	W.stopping = 1;
	close_listener();
	warmer_log("stopping (%s)", why);
	for (struct pool *p = W.pools; p; p = p->next)
		while (p->qhead) {
			struct caller *c = p->qhead;
			reply_error(c, EXIT_FAILURE_FLAME,
			            "the warmer was stopped before a slot in pool '%s' was free",
			            p->live.name);
			caller_finish(c);
		}
}

static void on_caller_frame(struct caller *c, uint8_t type, struct rbuf *r, int *fds, int nfds)
{
	if (type == W_RUN) {
		on_run(c, r, fds, nfds);
		return;
	}
	close_fds(fds, nfds);
	if (type == W_SIGNAL) {
		uint32_t sig = rbuf_u32(r);
		if (sig == 0 || sig > 64)
			return;
		if (c->state == C_RUNNING) {
			c->runner->be->signal_job(c->runner, c->job_id, (int)sig);
		} else if (c->state == C_QUEUED) {
			/* Nothing runs yet: the caller ends as the command would. */
			reply_text(c, W_ERROR, 128 + (int)sig, "");
			caller_finish(c);
		}
	} else if (type == W_LS) {
		cJSON *doc = state_json(W.pools, 1, (long)getpid());
		char *text = cJSON_PrintUnformatted(doc);
		reply_text(c, W_REPLY, 0, text ? text : "{}");
		free(text);
		cJSON_Delete(doc);
	} else if (type == W_SCALE) {
		on_scale(c, r);
	} else if (type == W_STATUS) {
		on_status(c);
	} else if (type == W_STOP) {
		begin_stop("asked by flame warmer stop");
		reply_text(c, W_REPLY, 0, "warmer: stopping; running jobs finish first");
	}
}

static void caller_gone(struct caller *c)
{
	caller_close(c);
	if (c->state == C_QUEUED) {
		caller_finish(c);
	} else if (c->state == C_RUNNING) {
		/* Its slot frees when the runner confirms the job is dead. */
		c->state = C_ORPHANED;
		c->runner->be->cancel_job(c->runner, c->job_id);
	}
}

/* At most one line a second: a flood of refusals must not flood the log. */
static void log_refusal(const char *what)
{
	static int64_t last;
	static int more;
	int64_t now = now_ms();
	if (last && now - last < 1000) {
		more++;
		return;
	}
	if (more)
		warmer_log("refused a caller: %s (and %d more since the last such line)", what, more);
	else
		warmer_log("refused a caller: %s", what);
	last = now;
	more = 0;
}

/* A flame of another protocol: told in one line, in a frame every version
 * reads (W_ERROR {code, text}) and from its side, with nothing run. */
static void refuse_other_protocol(struct caller *c)
{
	char why[512], proto[64];

	if (c->conn.peer.protocol)
		snprintf(proto, sizeof proto, "protocol %u", (unsigned)c->conn.peer.protocol);
	else
		snprintf(proto, sizeof proto, "no flame protocol");
	snprintf(
		why, sizeof why,
		"the warmer (pid %ld) runs flame %s (protocol %d) and this flame speaks %s: use flame %s, or "
		"stop the warmer (kill -TERM %ld; its running jobs finish first)",
		(long)getpid(), FLAME_VERSION, WIRE_PROTOCOL, proto, FLAME_VERSION, (long)getpid());
	log_refusal(why);
	reply_text(c, W_ERROR, EXIT_FAILURE_FLAME, why);
}

static void on_caller_readable(struct caller *c)
{
	uint8_t type;
	struct rbuf r = { 0 };
	size_t before = c->conn.cap;
	int fds[WIRE_MAX_FDS], nfds, rc = wire_conn_fill(&c->conn);

	W.buffered = W.buffered - before + c->conn.cap;
	if (rc < 0 && errno == EMSGSIZE)
		log_refusal("its request is longer than a request may be (1 MiB)");
	else if (rc < 0 && errno == EMFILE)
		log_refusal("the warmer was out of descriptors for its request; it retries");
	if (rc == 0 || (rc < 0 && errno != EAGAIN)) {
		caller_gone(c);
		return;
	}
	while (c->fd >= 0 && (rc = wire_conn_next(&c->conn, &type, &r, fds, &nfds)) == 1) {
		/* Our hello answers the caller's, before anything else: a flame
		 * from before the hello, which sends none, is answered with a
		 * plain W_ERROR it can read (refuse_other_protocol). */
		if (!c->spoke && wire_send_hello(c->fd, "warmer") < 0) {
			close_fds(fds, nfds);
			caller_gone(c);
			return;
		}
		c->spoke = 1;
		on_caller_frame(c, type, &r, fds, nfds);
	}
	if (c->fd >= 0 && rc < 0 && errno == EPROTO) {
		refuse_other_protocol(c);
		caller_gone(c);
	} else if (c->fd >= 0 && rc < 0) {
		log_refusal("it sent something that is not a request, or one over 1 MiB");
		caller_gone(c);
	}
	if (c->fd < 0)
		return;
	before = c->conn.cap;
	W.buffered -= before - wire_conn_trim(&c->conn);
	if (W.buffered > REQUEST_BUDGET && c->conn.len > 0) {
		log_refusal("half-sent requests hold over 16 MiB; it sent the newest bytes");
		caller_gone(c);
	}
}

static void accept_caller(void)
{
	struct timeval tv = { .tv_sec = 2 };
	struct caller *c;
	int fd = accept4(W.listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0) {
		if (errno == EMFILE || errno == ENFILE) {
			/* the caller stays in the backlog; polling again now would spin */
			W.accept_pause_until = now_ms() + ACCEPT_PAUSE_MS;
			log_refusal("out of descriptors to accept it; it waits");
		}
		return;
	}
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	c = xcalloc(1, sizeof *c);
	c->fd = fd;
	wire_conn_init(&c->conn, fd);
	wire_conn_want_hello(&c->conn);
	c->conn.max_frame = WIRE_MAX_REQUEST;
	c->accepted_at = now_ms();
	c->state = C_CONNECTED;
	c->next = W.callers;
	W.callers = c;
	W.ncallers++;
}

/* Descriptors open now: /proc/self/fd, less the one reading it. */
static long fds_in_use(void)
{
	DIR *d = opendir("/proc/self/fd");
	long n = -1;
	if (!d)
		return 0;
	while (readdir(d))
		n++;
	closedir(d);
	return n - 2; /* "." and ".." */
}

/* Whether to take new callers this round.  At the cap the listening socket
 * is not polled: callers wait in its backlog, and their connect() blocks
 * once the backlog is full, so none is lost. */
static int taking_callers(int64_t now)
{
	static int64_t said;
	long used;

	if (W.listen_fd < 0 || now < W.accept_pause_until)
		return 0;
	used = W.ncallers >= MAX_CALLERS ? W.fd_limit : fds_in_use();
	if (used + FD_HEADROOM <= W.fd_limit) {
		W.at_cap = 0;
		return 1;
	}
	if (!W.at_cap && now - said >= 10000) {
		warmer_log("at the limit of %d callers or %ld descriptors (%d callers now); new callers "
		           "wait until one ends",
		           MAX_CALLERS, W.fd_limit, W.ncallers);
		said = now;
	}
	W.at_cap = 1;
	return 0;
}

/* Every caller costs a few descriptors: use all the system allows us (the
 * runners it starts get the usual limit back: runner_proc.c). */
static void raise_fd_limit(void)
{
	W.fd_limit = fd_limit_raise();
}

/* ---- start-up ---- */

static void keep_only_runner_env(void)
{
	static const char *keep[] = { "PATH", "HOME", "LANG", "LC_ALL", "TZ", "USER", "LOGNAME", "SHELL",
		                      "TMPDIR", "XDG_RUNTIME_DIR", "XDG_STATE_HOME", "XDG_CONFIG_HOME",
		                      "FLAME_WARMER_GRACE",
		                      /* the fly backend's: who the parent is (the API token
		                       * is taken out first: lib/fly_token.h) */
		                      "FLY_MACHINE_ID", "FLAME_FLY_PARENT", NULL };
	char *saved[20] = { 0 };
	for (int i = 0; keep[i]; i++) {
		const char *v = getenv(keep[i]);
		saved[i] = v ? xstrdup(v) : NULL;
	}
	clearenv();
	for (int i = 0; keep[i]; i++) {
		if (saved[i])
			setenv(keep[i], saved[i], 1);
		free(saved[i]);
	}
}

/* Backends with something to sweep (orphaned machines) do it now and then. */
static void sweep_pools(int64_t now)
{
	if (now < W.sweep_due)
		return;
	W.sweep_due = now + SWEEP_MS;
	for (struct pool *p = W.pools; p; p = p->next) {
		const struct backend *be = W.find_backend(p->live.backend);
		if (be && be->sweep)
			be->sweep(p);
	}
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
}

static void recover(void)
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
		pools++;
		cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(p, "runners")) {
			const cJSON *id = cJSON_GetObjectItemCaseSensitive(r, "id");
			const cJSON *pid = cJSON_GetObjectItemCaseSensitive(r, "pid");
			const struct backend *be = W.find_backend(live.backend);
			if (be->adopt && be->adopt(pool, r) == 0) {
				adopted++;
				continue;
			}
			if (cJSON_IsString(id) && cJSON_IsNumber(pid)) {
				W.find_backend(live.backend)
					->reap_stray(id->valuestring, state_runner_pid(r));
				strays++;
			}
		}
	}
	cJSON_Delete(doc);
	config_free(&cfg);
	warmer_log(
		"read the journal back: %d pools, %d runners of the previous warmer adopted, %d cleaned up",
		pools, adopted, strays);
}

static int listen_on(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;
	if (strlen(path) >= sizeof sa.sun_path) {
		warmer_log("socket path %s is too long; set XDG_RUNTIME_DIR to a shorter directory", path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || chmod(path, 0600) < 0 ||
	    listen(fd, LISTEN_BACKLOG) < 0) {
		warmer_log("cannot listen on %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static int setup(void)
{
	char err[512];
	char *run = paths_runtime_dir(err, sizeof err), *state, *lock;
	const char *grace = getenv("FLAME_WARMER_GRACE");

	if (!run || !(state = paths_state_dir(err, sizeof err))) {
		free(run);
		warmer_log("%s", err);
		return -1;
	}
	lock = xasprintf("%s/warmer.lock", run);
	W.lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	free(lock);
	if (W.lock_fd < 0 || flock(W.lock_fd, LOCK_EX | LOCK_NB) < 0) {
		free(run);
		free(state);
		return 1; /* another warmer runs: nothing to do */
	}
	W.sock_path = xasprintf("%s/warmer.sock", run);
	W.state_path = xasprintf("%s/state.json", state);
	free(run);
	free(state);
	W.grace_ms = 60000;
	if (grace && duration_parse(grace, &W.grace_ms) < 0)
		W.grace_ms = 60000;
	W.started = now_ms();
	raise_fd_limit();
	recover();
	journal_now();
	sweep_pools(now_ms()); /* after the journal holds every adopted runner */
	W.listen_fd = listen_on(W.sock_path);
	return W.listen_fd < 0 ? -1 : 0;
}

/* ---- the loop ---- */

/* Every flame command sends its request as it connects: a connection that
 * has said nothing for SILENT_MS only holds a place others wait for. */
static void drop_silent(int64_t now)
{
	if (!W.at_cap)
		return;
	for (struct caller *c = W.callers; c; c = c->next)
		if (c->fd >= 0 && !c->spoke && now - c->accepted_at >= SILENT_MS) {
			log_refusal("it sent no request within 5s while others waited");
			caller_gone(c);
		}
}

static void after_round(void)
{
	int64_t now = now_ms();
	drop_silent(now);
	while (nlost > 0) {
		struct lost_mark m = lost[--nlost];
		handle_lost(m.r, m.why);
	}
	sweep_callers();
	for (struct pool *p = W.pools; p; p = p->next) {
		expire_callers(p, now);
		check_runners(p, now);
		while (nlost > 0) {
			struct lost_mark m = lost[--nlost];
			handle_lost(m.r, m.why);
		}
		schedule(p);
	}
	sweep_callers();
	sweep_pools(now);
	if (W.dirty && now >= W.journal_due)
		journal_now();
}

static int anything_alive(int *running)
{
	int alive = 0;
	*running = 0;
	for (struct caller *c = W.callers; c; c = c->next) {
		/* a connection that only asked for status does not keep us up */
		if (c->state != C_CONNECTED)
			alive = 1;
		if (c->state == C_RUNNING || c->state == C_ORPHANED)
			(*running)++;
	}
	for (struct pool *p = W.pools; p; p = p->next)
		if (p->runners)
			alive = 1;
	return alive;
}

static int should_exit(int64_t now)
{
	int running, alive = anything_alive(&running);
	if (got_stop)
		begin_stop("signal");
	if (W.stopping && !running && !W.runners_stopped) {
		W.runners_stopped = 1;
		for (struct pool *p = W.pools; p; p = p->next)
			for (struct runner *r = p->runners; r; r = r->next)
				if (r->state != R_STOPPING)
					stop_runner(r);
	}
	if (alive) {
		W.quiet_since = now;
		return 0;
	}
	if (W.stopping)
		return 1;
	return now - W.quiet_since >= W.grace_ms;
}

static void loop(void)
{
	struct pollfd *pfd = NULL;
	void **who = NULL;
	size_t cap = 0;

	W.quiet_since = now_ms();
	while (!should_exit(now_ms())) {
		size_t n = 1;
		int64_t now = now_ms(), wait;
		for (struct caller *c = W.callers; c; c = c->next)
			n++;
		for (struct pool *p = W.pools; p; p = p->next)
			for (struct runner *r = p->runners; r; r = r->next)
				n++;
		if (n > cap) {
			cap = n * 2;
			pfd = xrealloc(pfd, cap * sizeof *pfd);
			who = xrealloc(who, cap * sizeof *who);
		}
		n = 0;
		pfd[n].fd = taking_callers(now) ? W.listen_fd : -1;
		pfd[n].events = POLLIN;
		who[n++] = NULL;
		for (struct caller *c = W.callers; c; c = c->next) {
			pfd[n].fd = c->fd;
			pfd[n].events = POLLIN;
			who[n++] = c;
		}
		{
			size_t first_runner = n;
			for (struct pool *p = W.pools; p; p = p->next)
				for (struct runner *r = p->runners; r; r = r->next) {
					pfd[n].fd = r->fd;
					pfd[n].events = POLLIN;
					who[n++] = r;
				}
			wait = next_deadline(now) - now;
			if (W.accept_pause_until > now && W.accept_pause_until - now < wait)
				wait = W.accept_pause_until - now;
			if (poll(pfd, n, (int)(wait > 1000 ? 1000 : wait)) < 0 && errno != EINTR)
				break;
			if (pfd[0].fd >= 0 && (pfd[0].revents & POLLIN))
				accept_caller();
			for (size_t i = 1; i < first_runner; i++)
				if (pfd[i].revents && ((struct caller *)who[i])->fd == pfd[i].fd)
					on_caller_readable(who[i]);
			for (size_t i = first_runner; i < n; i++)
				if (pfd[i].revents && pfd[i].fd >= 0) {
					struct runner *r = who[i];
					int gone = 0;
					for (int k = 0; k < nlost; k++)
						gone |= lost[k].r == r;
					if (!gone)
						r->be->readable(r);
				}
		}
		after_round();
	}
	free(pfd);
	free(who);
}

static void teardown(void)
{
	close_listener(); /* before any caller hears of the end (begin_stop) */
	for (struct caller *c = W.callers; c; c = c->next) {
		caller_close(c);
		job_request_free(&c->job);
	}
	while (W.callers) {
		struct caller *c = W.callers;
		W.callers = c->next;
		free(c);
	}
	for (struct pool *p = W.pools; p; p = p->next)
		while (p->runners) {
			struct runner *r = p->runners;
			p->runners = r->next; /* remove_runner then finds nothing to unlink */
			remove_runner(r);
		}
	journal_now(); /* pools and their live settings outlive this warmer */
	while (W.pools) {
		struct pool *p = W.pools;
		W.pools = p->next;
		free(p);
	}
	close_listener();
	close(W.lock_fd);
	free(W.sock_path);
	free(W.state_path);
}

/* The Fly API token, in memory only (lib/fly_token.h). */
static char *fly_token;

const char *warmer_fly_token(void)
{
	return fly_token;
}

int warmer_main(backend_lookup find_backend)
{
	struct sigaction sa = { .sa_handler = on_stop_signal };
	int rc;

	fly_token = fly_token_take();
	keep_only_runner_env();
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	memset(&W, 0, sizeof W);
	W.find_backend = find_backend;
	W.listen_fd = W.lock_fd = -1;
	rc = setup();
	if (rc != 0) {
		if (W.lock_fd >= 0)
			close(W.lock_fd);
		free(W.sock_path);
		free(W.state_path);
		if (rc > 0)
			msg("warmer: a warmer is already running for this user; nothing to do "
			    "('flame warmer status' shows it, 'flame warmer stop' stops it)");
		return rc < 0 ? EXIT_FAILURE_FLAME : 0;
	}
	warmer_log("started; listening on %s", W.sock_path);
	loop();
	warmer_log("exiting");
	teardown();
	return 0;
}
