/* slot.c — one job slot of `flame map`: a connection to the warmer that
 * carries its slot's jobs one after another (RUN_KEEP_OPEN), and what the
 * warmer answers on it. */
#include "internal.h"
#include "client.h"
#include "util.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* How often a job may go to a warmer that closes before taking it (one
 * that is stopping: the next connect starts the next warmer), as run.c. */
#define HANDOFF_TRIES 20

static void on_closed(struct map_batch *b, struct map_slot *s, int rc);

void map_slot_close(struct map_slot *s)
{
	if (s->fd < 0)
		return;
	wire_conn_free(&s->conn);
	close(s->fd);
	s->fd = -1;
}

int map_slot_send(struct map_batch *b, struct map_slot *s, struct wbuf *w)
{
	char err[1024];
	if (s->fd < 0) {
		s->fd = client_connect(1, err, sizeof err);
		if (s->fd < 0) {
			msg("map: %s", err);
			return -1;
		}
		client_conn_init(&s->conn, s->fd);
	}
	s->accepted = 0;
	s->signalled = 0;
	if (wire_send(s->fd, w) < 0)
		on_closed(b, s, 0); /* a warmer that did not take it */
	return 0;
}

void map_slot_signal(struct map_slot *s, int sig)
{
	struct wbuf w;
	if (s->fd < 0 || !s->job)
		return;
	wbuf_init(&w, W_SIGNAL);
	wbuf_u32(&w, (uint32_t)sig);
	(void)wire_send(s->fd, &w);
	wbuf_free(&w);
	s->signalled = sig;
}

struct slot_read {
	struct map_batch *b;
	struct map_slot *s;
};

static void on_started(struct map_slot *s, struct rbuf *r)
{
	char *runner = rbuf_str(r);
	(void)rbuf_u32(r);
	s->job->waited_ms = rbuf_i64(r);
	s->job->boot_wait_ms = rbuf_i64(r);
	snprintf(s->job->runner, sizeof s->job->runner, "%s", runner);
	free(runner);
}

static int take_frame(void *ctx, uint8_t type, struct rbuf *r, int *fds, int nfds)
{
	struct slot_read *sr = ctx;
	struct map_slot *s = sr->s;

	close_fds(fds, nfds);
	if (!s->job)
		return 1; /* nothing is asked of this connection: drop what came */
	if (type == W_ACCEPTED) {
		s->accepted = 1;
		s->handoffs = 0;
	} else if (type == W_STARTED) {
		on_started(s, r);
	} else if (type == W_DONE) {
		int64_t status = rbuf_i64(r), flags = rbuf_i64(r);
		map_job_ended(sr->b, s, status, flags);
		return 1;
	} else if (type == W_ERROR) {
		uint32_t code = rbuf_u32(r);
		char *text = rbuf_str(r);
		map_job_flame_error(sr->b, s, code ? (int)code : EXIT_FAILURE_FLAME, text);
		free(text);
		map_slot_close(s); /* the warmer closes it after an error */
		return 1;
	}
	return 0;
}

/* The connection ended (or failed) with a job on it. */
static void on_closed(struct map_batch *b, struct map_slot *s, int rc)
{
	struct map_job *j = s->job;
	char errtext[512];

	if (rc < 0 && errno == EPROTO) {
		client_refusal(&s->conn, errtext, sizeof errtext);
		map_slot_close(s);
		msg("%s", errtext);
		b->exit_override = EXIT_FAILURE_FLAME;
		b->stop_launching = 1;
		map_job_not_run(b, j, EXIT_FAILURE_FLAME);
		return;
	}
	map_slot_close(s);
	if (!s->accepted && ++s->handoffs < HANDOFF_TRIES) {
		/* not taken: it goes to the next warmer, as run.c's hand_on */
		nanosleep(&(struct timespec){ .tv_nsec = 10000000L * s->handoffs }, NULL);
		s->job = NULL;
		j->slot = NULL;
		j->tries--; /* it did not run: this was no try */
		j->next = b->retry_head;
		b->retry_head = j;
		if (!b->retry_tail)
			b->retry_tail = j;
		b->running--;
		return;
	}
	{
		char *log = client_log_path();
		snprintf(errtext, sizeof errtext, "%s; see %s",
		         s->accepted ? "lost the warmer before the job finished"
		                     : "the warmer closed the connection before taking the job",
		         log);
		free(log);
	}
	map_job_flame_error(b, s, EXIT_FAILURE_FLAME, errtext);
}

void map_slot_readable(struct map_batch *b, struct map_slot *s)
{
	struct slot_read sr = { .b = b, .s = s };
	int rc;

	if (s->fd < 0)
		return;
	rc = wire_conn_pump(&s->conn, take_frame, &sr);
	if (s->fd < 0 || rc > 0)
		return;
	if (rc < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (!s->job) {
		map_slot_close(s); /* an idle slot's warmer went away: the next job reconnects */
		return;
	}
	on_closed(b, s, rc);
}
