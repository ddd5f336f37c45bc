/* launch.c — the next job of a batch onto a free slot: a job to retry
 * first, else the next input; its command and files built from the
 * templates, its output captured, its request sent. */
#include "internal.h"
#include "client_job.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void map_job_free(struct map_job *j)
{
	if (!j)
		return;
	map_capture_close(&j->cap);
	for (int i = 0; i < 2; i++)
		if (j->lines[i].fd >= 0)
			(void)map_lines_close(&j->lines[i], -1, NULL, 0);
	free(j->tag);
	free(j->input);
	free(j->display);
	free(j);
}

struct map_capture map_capture_take(struct map_batch *b)
{
	struct map_capture c = { -1, -1 };
	char err[512];
	if (b->nspare > 0)
		return b->spare[--b->nspare];
	if (map_capture_open(&c, b->scratch, err, sizeof err) < 0)
		msg("map: %s", err);
	return c;
}

/* The next input as a new job, or NULL (the input ended, or failed: said). */
static struct map_job *next_input(struct map_batch *b)
{
	const char *rec;
	size_t len;
	struct map_job *j;

	while (!b->input_done) {
		int rc = map_input_next(b->in, &rec, &len);
		if (rc <= 0) {
			if (rc < 0) {
				msg("map: reading the inputs failed: %s; no more jobs are started",
				    strerror(errno));
				b->exit_override = EXIT_FAILURE_FLAME;
			}
			b->input_done = 1;
			return NULL;
		}
		if (b->skip && joblog_done_has(b->skip, b->next_seq)) {
			map_skip_seq(b, b->next_seq++); /* --resume: it ran before */
			continue;
		}
		j = xcalloc(1, sizeof *j);
		j->seq = b->next_seq++;
		j->input = xmalloc(len + 1);
		memcpy(j->input, rec, len + 1);
		j->len = len;
		j->cap.out = j->cap.err = -1;
		j->lines[0].fd = j->lines[1].fd = -1;
		if (b->o->tag) {
			j->tag = xmalloc(len + 1);
			memcpy(j->tag, rec, len);
			j->tag[len] = '\t';
			j->taglen = len + 1;
		}
		return j;
	}
	return NULL;
}

static struct map_job *next_job(struct map_batch *b)
{
	struct map_job *j = b->retry_head;
	if (!j)
		return next_input(b);
	b->retry_head = j->next;
	if (!b->retry_head)
		b->retry_tail = NULL;
	j->next = NULL;
	return j;
}

/* Each template of a file option, built for this job. */
static char **build_words(struct map_template **t, size_t n, const struct map_job *j, unsigned slot)
{
	char **v = xcalloc(n + 1, sizeof *v);
	for (size_t i = 0; i < n; i++)
		v[i] = map_template_build_word(t[i], j->input, j->len, j->seq, slot);
	return v;
}

static uint64_t put_bytes(const struct wbuf *w, int nput)
{
	uint64_t sum = 0;
	for (int i = w->nfds - nput; i < w->nfds; i++) {
		struct stat st;
		if (fstat(w->fds[i], &st) == 0)
			sum += (uint64_t)st.st_size;
	}
	return sum;
}

/* Where the job's stdout and stderr go (job_out): pipes read as they come
 * with --line-buffer, else the job's capture.  0, or -1 after one line. */
static int open_output(struct map_batch *b, struct map_job *j, int job_out[2])
{
	if (!b->o->line_buffer) {
		if (j->cap.out < 0)
			j->cap = map_capture_take(b);
		job_out[0] = j->cap.out;
		job_out[1] = j->cap.err;
		return j->cap.out < 0 ? -1 : 0;
	}
	for (int i = 0; i < 2; i++)
		if (map_lines_open(&j->lines[i], &job_out[i]) < 0) {
			msg("map: cannot make a pipe for a job's output: %s", strerror(errno));
			if (i == 1) {
				close(job_out[0]);
				(void)map_lines_close(&j->lines[0], -1, NULL, 0);
			}
			return -1;
		}
	return 0;
}

static int send_job(struct map_batch *b, struct map_slot *s, struct map_job *j, char **argv,
                    const int job_out[2])
{
	const struct map_opts *o = b->o;
	char who[64];
	char **puts = build_words(b->puts, (size_t)o->nput, j, s->index);
	char **gets = build_words(b->gets, o->nget, j, s->index);
	struct client_job cj = { .argv = argv,
		                 .env = b->env,
		                 .puts = puts,
		                 .nput = o->nput,
		                 .gets = gets,
		                 .nget = o->nget,
		                 .get_dir = o->get_dir,
		                 .timeout_ms = o->timeout_ms,
		                 .slot_ms = o->slot_ms,
		                 .flags = RUN_WANT_STARTED | RUN_KEEP_OPEN,
		                 .stdio = { b->null_fd, job_out[0], job_out[1] } };
	struct wbuf w;
	int rc;

	snprintf(who, sizeof who, "map: job %lu", j->seq);
	rc = client_job_request(&cj, b->ps, who, &w);
	if (rc == 0) {
		j->sent = put_bytes(&w, o->nput);
		rc = map_slot_send(b, s, &w) < 0 ? EXIT_FAILURE_FLAME : 0;
		client_job_close(&w);
		wbuf_free(&w);
	}
	strv_free(puts);
	strv_free(gets);
	return rc;
}

int map_launch_next(struct map_batch *b, struct map_slot *s)
{
	struct map_job *j = next_job(b);
	int job_out[2];
	char **argv;
	int rc;

	if (!j)
		return 0;
	argv = map_template_build(b->cmd, j->input, j->len, j->seq, s->index);
	if (!argv || !argv[0][0]) {
		int code = argv ? EXIT_NOTFOUND : EXIT_USAGE;
		if (!argv)
			msg("map: input %lu holds a NUL byte, which no argument can carry; not run", j->seq);
		else
			msg("map: job %lu: its command is empty (from an empty input); not run", j->seq);
		strv_free(argv);
		map_job_not_run(b, j, code);
		return 1;
	}
	if (open_output(b, j, job_out) < 0) {
		strv_free(argv);
		map_job_not_run(b, j, EXIT_FAILURE_FLAME);
		return 1;
	}
	if (!j->display)
		j->display = map_template_display(b->cmd, argv);
	if (b->o->verbose && j->tries == 0)
		msg("map: job %lu: %s", j->seq, j->display);
	j->tries++;
	j->start_wall_ms = wall_ms();
	j->start_ms = now_ms();
	j->slot = s;
	s->job = j;
	b->running++;
	rc = send_job(b, s, j, argv, job_out);
	strv_free(argv);
	if (b->o->line_buffer) /* the job's ends went with the request */
		for (int i = 0; i < 2; i++)
			close(job_out[i]);
	if (rc) {
		s->job = NULL;
		j->slot = NULL;
		b->running--;
		if (rc == EXIT_FAILURE_FLAME) {
			b->exit_override = EXIT_FAILURE_FLAME; /* no warmer: said why */
			b->stop_launching = 1;
		}
		map_job_not_run(b, j, rc);
	}
	return 1;
}
