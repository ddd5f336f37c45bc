/* callers.c — the flame commands connected to the warmer: accepting them,
 * reading their requests, and answering each kind (run, scale, status...). */
#include "internal.h"
#include "job_frame.h"
#include "backend_api.h"
#include "flame_limits.h"
#include "queue.h"
#include "state.h"
#include "util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#ifndef FLAME_VERSION
#define FLAME_VERSION "0.0.0"
#endif

void reply_text(struct caller *c, enum wire_type t, int code, const char *text)
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

void reply_error(struct caller *c, int code, const char *fmt, ...)
{
	char text[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	reply_text(c, W_ERROR, code, text);
}

void job_request_free(struct job_request *j)
{
	free(j->frame);
	close_fds(j->fds, j->nfds);
	memset(j, 0, sizeof *j);
}

void caller_close(struct caller *c)
{
	if (c->fd >= 0) {
		W.buffered -= c->conn.cap;
		wire_conn_free(&c->conn);
		close(c->fd);
		c->fd = -1;
	}
}

/* Marks c finished; the loop frees it. */
void caller_finish(struct caller *c)
{
	if (c->state == C_QUEUED)
		unqueue(c);
	caller_close(c);
	job_request_free(&c->job);
	c->state = C_CONNECTED;
	c->pool = NULL;
	c->runner = NULL;
}

/* The job is over and the connection stays: the caller's next W_RUN is read
 * as its first was. */
void caller_next_job(struct caller *c)
{
	job_request_free(&c->job);
	c->state = C_CONNECTED;
	c->pool = NULL;
	c->runner = NULL;
}

void sweep_callers(void)
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
	ps->stopped_max = (long)rbuf_i64(r);
	ps->stopped_ttl_ms = rbuf_i64(r);
	ps->budget_s_per_hour = (long)rbuf_i64(r);
	{
		int64_t bits = rbuf_i64(r);
		memcpy(&ps->price_per_hour, &bits, sizeof bits);
	}
	ok = !r->bad && ps->stopped_max >= -1 && ps->stopped_max <= LIMIT_RUNNERS && ps->stopped_ttl_ms > 0 &&
	     ps->budget_s_per_hour >= 0 && ps->budget_s_per_hour <= LIMIT_RUNNERS * 3600L &&
	     ps->price_per_hour <= 1000 /* (< 0: the table; NaN fails) */ && pool_name_valid(name) &&
	     W.find_backend(backend) && ps->min >= 0 && ps->max >= 1 && ps->max <= LIMIT_RUNNERS &&
	     ps->max_concurrency >= 1 && ps->max_concurrency <= LIMIT_CONCURRENCY && ps->min <= ps->max &&
	     ps->idle_ms > 0 && ps->boot_ms > 0 && ps->slot_ms > 0;
	free(name);
	free(backend);
	return ok ? 0 : -1;
}

static void on_run(struct caller *c, struct rbuf *r, int *fds, int nfds)
{
	struct pool_settings ps;
	struct job_request *j = &c->job;
	struct job_layout lay;
	int64_t slot_override;

	if (c->state != C_CONNECTED || read_settings(r, &ps) < 0) {
		close_fds(fds, nfds);
		reply_error(c, EXIT_FAILURE_FLAME, "the warmer could not read the request");
		caller_finish(c);
		return;
	}
	slot_override = rbuf_i64(r);
	{
		uint32_t flags = rbuf_u32(r);
		j->want_started = (flags & RUN_WANT_STARTED) != 0;
		j->keep_open = (flags & RUN_KEEP_OPEN) != 0;
	}
	memcpy(j->fds, fds, sizeof(int) * nfds);
	j->nfds = nfds;
	/* the job itself is checked, not parsed: it goes on as it came */
	if (r->bad || job_frame_check(r, &lay, &j->frame_len) < 0 || nfds != lay.nfds ||
	    r->off + j->frame_len != r->len) {
		reply_error(c, EXIT_FAILURE_FLAME, "the warmer could not read the request");
		caller_finish(c);
		return;
	}
	j->frame = xmalloc(j->frame_len);
	memcpy(j->frame, r->p + r->off, j->frame_len);
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
	int64_t min, max, mc, sm;
	struct pool *p;

	if (read_settings(r, &ps) < 0) {
		reply_error(c, EXIT_FAILURE_FLAME, "the warmer could not read the request");
		return;
	}
	min = rbuf_i64(r);
	max = rbuf_i64(r);
	mc = rbuf_i64(r);
	sm = rbuf_i64(r);
	p = pool_declare(&ps);
	next = p->live;
	if (min >= 0)
		next.min = (long)min;
	if (max >= 0)
		next.max = (long)max;
	if (mc >= 0)
		next.max_concurrency = (long)mc;
	if (sm >= 0 && sm <= LIMIT_RUNNERS)
		next.stopped_max = (long)sm;
	if (r->bad || next.max < 1 || next.max_concurrency < 1 || next.max > LIMIT_RUNNERS ||
	    next.max_concurrency > LIMIT_CONCURRENCY) {
		reply_error(c, EXIT_USAGE, "pool '%s': max is at most %d and max_concurrency at most %d",
		            p->live.name, LIMIT_RUNNERS, LIMIT_CONCURRENCY);
		return;
	}
	if (sm >= 0 && !W.find_backend(p->live.backend)->park) {
		reply_error(c, EXIT_USAGE,
		            "pool '%s': --stopped-max is for fly pools, and this pool's backend is %s",
		            p->live.name, p->live.backend);
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
	warmer_log("pool '%s': scaled to min %ld, max %ld, max_concurrency %ld, stopped_max %ld",
	           p->live.name, p->live.min, p->live.max, p->live.max_concurrency, tier_max(p));
	tier_expire(p, wall_ms()); /* a lower stopped_max lets the oldest go */
	schedule(p);
	{
		char text[256];
		snprintf(text, sizeof text, "pool '%s': min %ld, max %ld, max_concurrency %ld", p->live.name,
		         p->live.min, p->live.max, p->live.max_concurrency);
		if (W.find_backend(p->live.backend) && W.find_backend(p->live.backend)->park)
			snprintf(text + strlen(text), sizeof text - strlen(text), ", stopped_max %ld",
			         tier_max(p));
		reply_text(c, W_REPLY, 0, text);
	}
}

static void on_drain(struct caller *c, struct rbuf *r)
{
	struct pool_settings ps;
	struct pool *p;
	char text[256];
	int n;

	if (read_settings(r, &ps) < 0) {
		reply_error(c, EXIT_FAILURE_FLAME, "the warmer could not read the request");
		return;
	}
	p = pool_declare(&ps);
	n = tier_drain(p, "drained by flame pool drain");
	snprintf(text, sizeof text, "pool '%s': %d stopped machine%s destroyed", p->live.name, n,
	         n == 1 ? "" : "s");
	reply_text(c, W_REPLY, 0, text);
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
	} else if (type == W_DRAIN) {
		on_drain(c, r);
	} else if (type == W_STATUS) {
		on_status(c);
	} else if (type == W_STOP) {
		begin_stop("asked by flame warmer stop");
		reply_text(c, W_REPLY, 0, "warmer: stopping; running jobs finish first");
	}
}

void caller_gone(struct caller *c)
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

/* A caller being read, and its buffer's size as W.buffered counts it. */
struct caller_read {
	struct caller *c;
	size_t counted;
};

/* W.buffered follows the caller's buffer, which a read may have grown:
 * before a frame can end the caller (caller_close takes what is counted). */
static void count_buffer(struct caller_read *cr)
{
	W.buffered = W.buffered - cr->counted + cr->c->conn.cap;
	cr->counted = cr->c->conn.cap;
}

static int take_caller_frame(void *ctx, uint8_t type, struct rbuf *r, int *fds, int nfds)
{
	struct caller_read *cr = ctx;
	struct caller *c = cr->c;

	count_buffer(cr);
	/* Our hello answers the caller's, before anything else: a flame from
	 * before the hello, which sends none, is answered with a plain W_ERROR
	 * it can read (refuse_other_protocol). */
	if (!c->spoke && wire_send_hello(c->fd, "warmer") < 0) {
		close_fds(fds, nfds);
		caller_gone(c);
		return 1;
	}
	c->spoke = 1;
	on_caller_frame(c, type, r, fds, nfds);
	return c->fd < 0;
}

void on_caller_readable(struct caller *c)
{
	struct caller_read cr = { .c = c, .counted = c->conn.cap };
	int rc = wire_conn_pump(&c->conn, take_caller_frame, &cr);
	size_t before;

	if (c->fd < 0)
		return;
	count_buffer(&cr);
	if (rc < 0 && errno == EMSGSIZE)
		log_refusal("its request is longer than a request may be (1 MiB)");
	else if (rc < 0 && errno == EMFILE)
		log_refusal("the warmer was out of descriptors for its request; it retries");
	else if (rc < 0 && errno == EPROTO)
		refuse_other_protocol(c);
	else if (rc < 0 && errno == EBADMSG)
		log_refusal("it sent something that is not a request, or one over 1 MiB");
	if (rc <= 0) {
		caller_gone(c);
		return;
	}
	before = c->conn.cap;
	W.buffered -= before - wire_conn_trim(&c->conn);
	if (W.buffered > REQUEST_BUDGET && c->conn.len > 0) {
		log_refusal("half-sent requests hold over 16 MiB; it sent the newest bytes");
		caller_gone(c);
	}
}

void accept_caller(void)
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
