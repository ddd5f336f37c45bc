/* loop.c — the warmer's event loop: setup, the poll loop, stopping,
 * teardown.
 *
 * One thread, one poll loop.  Callbacks from backends only mark things
 * (lost runners, pools to schedule); the loop acts on the marks after each
 * round, so nothing is freed while a backend still holds it. */
#include "internal.h"
#include "backend_api.h"
#include "duration.h"
#include "paths.h"
#include "queue.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

struct warmer W;
static volatile sig_atomic_t got_stop;

static void on_stop_signal(int sig)
{
	(void)sig;
	got_stop = 1;
}

static int64_t next_deadline(int64_t now)
{
	int64_t t = now + 1000;
	for (struct pool *p = W.pools; p; p = p->next)
		t = pool_next_deadline(p, now, t);
	if (W.dirty && W.journal_due < t)
		t = W.journal_due;
	return t < now ? now : t;
}

void begin_stop(const char *why)
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

void sweep_pool(struct pool *p)
{
	const struct backend *be = W.find_backend(p->live.backend);
	if (be && be->sweep)
		be->sweep(p);
}

/* Backends with something to sweep (orphaned machines) do it now and then. */
static void sweep_pools(int64_t now)
{
	if (now < W.sweep_due)
		return;
	W.sweep_due = now + SWEEP_MS;
	for (struct pool *p = W.pools; p; p = p->next)
		sweep_pool(p);
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
	W.serving = 1;
	W.listen_fd = listen_on(W.sock_path);
	return W.listen_fd < 0 ? -1 : 0;
}

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
	handle_lost_runners();
	sweep_callers();
	for (struct pool *p = W.pools; p; p = p->next) {
		expire_callers(p, now);
		check_runners(p, now);
		handle_lost_runners();
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
		if (p->runners || p->stopped) /* the warmer destroys them at stopped_ttl */
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
			tier_drain(p, "the warmer is stopping");
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
					if (!runner_lost(r))
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
		tier_free(p);
		free(p);
	}
	close_listener();
	close(W.lock_fd);
	free(W.sock_path);
	free(W.state_path);
}

int warmer_main(backend_lookup find_backend)
{
	struct sigaction sa = { .sa_handler = on_stop_signal };
	int rc;

	scrub_environment();
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
