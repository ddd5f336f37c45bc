/* loop.c — the batch's event loop: start jobs on free slots while there is
 * input, read what the warmer answers, pass signals on, and work out the
 * exit status when the last job has ended. */
#include "internal.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* After --halt now or a second Ctrl-C has TERMed the jobs, how long they
 * have before they are KILLed. */
#define KILL_GRACE_MS 2000

static int sig_pipe[2] = { -1, -1 };
static const int passed_on[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };

static void on_signal(int sig)
{
	unsigned char c = (unsigned char)sig;
	int e = errno;
	(void)!write(sig_pipe[1], &c, 1);
	errno = e;
}

static int install_signals(struct map_batch *b)
{
	struct sigaction sa = { .sa_handler = on_signal };
	if (pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
		return -1;
	sigemptyset(&sa.sa_mask);
	signal(SIGPIPE, SIG_IGN);
	for (size_t i = 0; i < sizeof passed_on / sizeof passed_on[0]; i++)
		sigaction(passed_on[i], &sa, NULL);
	b->sig_fd = sig_pipe[0];
	return 0;
}

static void signal_all(struct map_batch *b, int sig)
{
	for (long i = 0; i < b->nslots; i++)
		map_slot_signal(&b->slots[i], sig);
}

/* The first signal stops launching and goes to every running job; the
 * second kills them (as GNU parallel: Ctrl-C twice). */
static void on_signals(struct map_batch *b)
{
	unsigned char sig;
	while (read(b->sig_fd, &sig, 1) == 1) {
		b->stop_launching = 1;
		if (b->interrupts++ == 0) {
			b->first_signal = sig;
			signal_all(b, sig);
		} else {
			signal_all(b, SIGKILL);
		}
	}
}

static int wants_input(const struct map_batch *b)
{
	return !b->stop_launching && !b->input_done && !b->retry_head && !map_input_ready(b->in);
}

/* Fills every free slot it can without blocking on a slow input. */
static void launch(struct map_batch *b)
{
	for (long i = 0; i < b->nslots && !b->stop_launching; i++) {
		struct map_slot *s = &b->slots[i];
		while (!s->job && !b->stop_launching) {
			if (b->order.held >= b->hold_max)
				return; /* --keep-order: an early job holds the rest back */
			if (!b->retry_head && !map_input_ready(b->in))
				return;
			if (map_launch_next(b, s) == 0)
				return;
		}
	}
}

static int finished(const struct map_batch *b)
{
	if (b->running > 0)
		return 0;
	return b->stop_launching || (b->input_done && !b->retry_head);
}

/* What a descriptor polled is: a slot's connection (stream -1) or its
 * job's stdout (0) or stderr (1) under --line-buffer. */
struct polled {
	struct map_slot *slot;
	int stream;
};

static int add_slot(struct map_batch *b, struct map_slot *s, struct pollfd *pfd, struct polled *who)
{
	int n = 0;
	if (s->fd >= 0) {
		who[n] = (struct polled){ s, -1 };
		pfd[n++] = (struct pollfd){ .fd = s->fd, .events = POLLIN };
	}
	for (int k = 0; s->job && b->o->line_buffer && k < 2; k++)
		if (s->job->lines[k].fd >= 0) {
			who[n] = (struct polled){ s, k };
			pfd[n++] = (struct pollfd){ .fd = s->job->lines[k].fd, .events = POLLIN };
		}
	return n;
}

static void on_readable(struct map_batch *b, struct polled *p)
{
	struct map_job *j = p->slot->job;
	struct map_lines *l;
	int rc;

	if (p->stream < 0) {
		map_slot_readable(b, p->slot);
		return;
	}
	if (!j || j->lines[p->stream].fd < 0)
		return; /* the job ended meanwhile: its pipes were read to the end */
	l = &j->lines[p->stream];
	map_bar_clear(b);
	rc = map_lines_read(l, p->stream + 1, j->tag, j->taglen);
	if (rc == 1)
		rc = map_lines_close(l, p->stream + 1, j->tag, j->taglen);
	if (rc < 0)
		map_output_failed(b);
}

static void poll_once(struct map_batch *b)
{
	struct pollfd *pfd = xcalloc((size_t)b->nslots * 3 + 2, sizeof *pfd);
	struct polled *who = xcalloc((size_t)b->nslots * 3, sizeof *who);
	int n = 0, nslot, timeout = -1;

	for (long i = 0; i < b->nslots; i++)
		n += add_slot(b, &b->slots[i], pfd + n, who + n);
	nslot = n;
	pfd[n++] = (struct pollfd){ .fd = b->sig_fd, .events = POLLIN };
	if (wants_input(b))
		pfd[n++] = (struct pollfd){ .fd = map_input_fd_of(b->in), .events = POLLIN };
	if (b->o->bar)
		timeout = 250;
	if (b->kill_at)
		timeout = (int)(b->kill_at > now_ms() ? b->kill_at - now_ms() : 0);
	if (poll(pfd, (nfds_t)n, timeout) < 0 && errno != EINTR)
		b->stop_launching = 1;
	if (pfd[nslot].revents & POLLIN)
		on_signals(b);
	if (n > nslot + 1 && (pfd[nslot + 1].revents & (POLLIN | POLLHUP | POLLERR)) &&
	    map_input_fill(b->in) < 0) {
		msg("map: reading the inputs failed: %s; no more jobs are started", strerror(errno));
		b->exit_override = EXIT_FAILURE_FLAME;
		b->input_done = 1;
	}
	/* pipes first: a job's last lines before its end */
	for (int pass = 0; pass < 2; pass++)
		for (int i = 0; i < nslot; i++)
			if (pfd[i].revents && (who[i].stream < 0) == pass)
				on_readable(b, &who[i]);
	free(pfd);
	free(who);
}

static void kill_stragglers(struct map_batch *b)
{
	if (b->halted == HALT_KILL_RUNNING && !b->kill_at)
		b->kill_at = now_ms() + KILL_GRACE_MS;
	if (b->kill_at && now_ms() >= b->kill_at) {
		signal_all(b, SIGKILL);
		b->kill_at = 0;
		b->halted = -1; /* killed once: not again */
	}
}

static int exit_status(const struct map_batch *b)
{
	if (b->exit_override)
		return b->exit_override;
	if (b->first_signal)
		return 128 + b->first_signal;
	return halt_exit_status(&b->halt);
}

int map_batch_run(const struct map_opts *o, const struct pool_settings *ps)
{
	struct map_batch b = { .o = o, .ps = ps, .sig_fd = -1 };
	int rc = map_setup(&b);

	if (!rc && install_signals(&b) < 0)
		rc = EXIT_FAILURE_FLAME;
	if (rc) {
		map_teardown(&b);
		return rc;
	}
	map_bar(&b, 0);
	for (;;) {
		launch(&b);
		if (finished(&b))
			break;
		poll_once(&b);
		kill_stragglers(&b);
		map_bar(&b, 0);
	}
	map_bar(&b, 1);
	rc = exit_status(&b);
	map_teardown(&b);
	return rc;
}
