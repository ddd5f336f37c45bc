/* finish.c — a job of a batch ends: retried if its runner was lost (and it
 * has tries left), else counted, logged (--joblog), its output shown (now,
 * or in input order with --keep-order) and the halt policy asked. */
#include "internal.h"
#include "util.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* Stands in the order window for a job --resume skips. */
static char skipped_mark;
#define SKIPPED ((void *)&skipped_mark)

static void halt_running(struct map_batch *b, int sig)
{
	for (long i = 0; i < b->nslots; i++)
		map_slot_signal(&b->slots[i], sig);
}

/* Output that cannot be written: a reader that went away (`| head`) ends
 * the batch as SIGPIPE ends a pipeline's writer, quietly, exit 141; any
 * other failure is said once and the jobs go on. */
void map_output_failed(struct map_batch *b)
{
	if (errno == EPIPE) {
		if (!b->first_signal) {
			b->first_signal = SIGPIPE;
			b->stop_launching = 1;
			halt_running(b, SIGTERM);
		}
		return;
	}
	if (b->output_failed++)
		return;
	msg("map: cannot write a job's output: %s", strerror(errno));
}

/* --line-buffer: the rest of what the job wrote. */
static void close_lines(struct map_batch *b, struct map_job *j)
{
	for (int i = 0; i < 2; i++)
		if (j->lines[i].fd >= 0 && map_lines_close(&j->lines[i], i + 1, j->tag, j->taglen) < 0)
			map_output_failed(b);
}

static void requeue(struct map_batch *b, struct map_job *j)
{
	/* only the last try's output is shown, as GNU parallel does (what
	 * --line-buffer has passed on is out already) */
	uint64_t ignored;
	int devnull = b->null_out_fd;
	if (j->cap.out >= 0)
		(void)map_capture_show(&j->cap, devnull, devnull, NULL, 0, &ignored);
	close_lines(b, j);
	j->next = NULL;
	if (b->retry_tail)
		b->retry_tail->next = j;
	else
		b->retry_head = j;
	b->retry_tail = j;
}

static void write_joblog(struct map_batch *b, const struct map_job *j)
{
	struct joblog_entry e = { .seq = j->seq,
		                  .host = j->runner,
		                  .start_ms = j->start_wall_ms,
		                  .runtime_ms = j->start_ms ? now_ms() - j->start_ms : 0,
		                  .send = j->sent,
		                  .receive = j->received,
		                  .exitval = j->exitval,
		                  .signal = j->signal,
		                  .command = j->display ? j->display : "",
		                  .pool = b->o->pool,
		                  .slot_wait_ms = j->waited_ms,
		                  .boot_wait_ms = j->boot_wait_ms };
	if (b->joblog_fd < 0)
		return;
	if (joblog_write(b->joblog_fd, &e, b->joblog_extra) < 0 && !b->joblog_failed) {
		msg("map: cannot write the joblog %s: %s; jobs go on", b->o->joblog, strerror(errno));
		b->joblog_failed = 1;
	}
}

static void show(struct map_batch *b, struct map_job *j)
{
	uint64_t out_bytes;

	map_bar_clear(b);
	if (j->cap.out >= 0 && map_capture_show(&j->cap, 1, 2, j->tag, j->taglen, &out_bytes) < 0)
		map_output_failed(b);
	if (j->cap.out >= 0) { /* emptied: the next job's */
		if (b->nspare == b->spare_cap) {
			b->spare_cap = b->spare_cap ? 2 * b->spare_cap : 16;
			b->spare = xrealloc(b->spare, b->spare_cap * sizeof *b->spare);
		}
		b->spare[b->nspare++] = j->cap;
		j->cap.out = j->cap.err = -1;
	}
	map_job_free(j);
}

void map_show_ready(struct map_batch *b)
{
	void *item;
	while ((item = map_order_take(&b->order)))
		if (item != SKIPPED)
			show(b, item);
}

void map_skip_seq(struct map_batch *b, unsigned long seq)
{
	b->skipped++;
	if (!b->o->keep_order)
		return;
	map_order_put(&b->order, seq, SKIPPED);
	map_show_ready(b);
}

/* The job is over for good: counted, logged, shown, the policy asked. */
static void finalize(struct map_batch *b, struct map_job *j)
{
	struct stat st;
	enum halt_action act;
	unsigned long total = b->o->args      ? b->o->nargs - b->skipped
	                      : b->input_done ? b->next_seq - 1 - b->skipped
	                                      : HALT_TOTAL_UNKNOWN;

	b->done++;
	b->failed += j->failed != 0;
	if (j->cap.out >= 0 && fstat(j->cap.out, &st) == 0)
		j->received = (uint64_t)st.st_size;
	close_lines(b, j);
	if (b->o->line_buffer)
		j->received = j->lines[0].total;
	write_joblog(b, j);
	act = halt_job_ended(&b->halt, j->exitval, j->signal, j->flame_failed, total);
	/* shown last: showing frees it */
	if (b->o->keep_order) {
		map_order_put(&b->order, j->seq, j);
		map_show_ready(b);
	} else {
		show(b, j);
	}
	if (act != HALT_CONTINUE && !b->halted) {
		b->halted = act;
		b->stop_launching = 1;
		if (act == HALT_KILL_RUNNING)
			halt_running(b, SIGTERM);
	}
	map_bar(b, 0);
}

/* Frees the slot of s; the job is j. */
static struct map_job *release(struct map_batch *b, struct map_slot *s)
{
	struct map_job *j = s->job;
	s->job = NULL;
	j->slot = NULL;
	b->running--;
	return j;
}

static int may_retry(const struct map_batch *b, const struct map_job *j)
{
	return j->tries < b->o->retries && !b->stop_launching;
}

void map_job_ended(struct map_batch *b, struct map_slot *s, int64_t status, int64_t flags)
{
	struct map_job *j = release(b, s);
	int st = (int)status;
	int runner_failed = (flags & (JOB_RUNNER_LOST | JOB_SETUP_FAILED)) != 0;

	s->handoffs = 0;
	j->exitval = 0;
	j->signal = 0;
	if (flags & JOB_TIMED_OUT) {
		j->exitval = -1; /* as GNU parallel logs a job its --timeout killed */
		j->signal = SIGTERM;
		msg("map: job %lu timed out; it was killed: %s", j->seq, j->display);
	} else if (runner_failed) {
		j->exitval = EXIT_FAILURE_FLAME;
	} else if (WIFSIGNALED(st)) {
		j->signal = WTERMSIG(st);
	} else if (WIFEXITED(st)) {
		j->exitval = WEXITSTATUS(st);
	} else {
		j->exitval = EXIT_FAILURE_FLAME;
	}
	if (!j->exitval && !j->signal && (flags & JOB_GET_FAILED)) {
		j->exitval = EXIT_FAILURE_FLAME;
		runner_failed = 1;
	}
	j->failed = j->exitval != 0 || j->signal != 0;
	if (j->failed && may_retry(b, j) && (runner_failed || b->o->retry_failed_commands)) {
		if (b->o->verbose)
			msg("map: job %lu failed on runner %s; trying again (%d of %ld)", j->seq, j->runner,
			    j->tries + 1, b->o->retries);
		requeue(b, j);
		return;
	}
	j->flame_failed = runner_failed;
	finalize(b, j);
}

void map_job_flame_error(struct map_batch *b, struct map_slot *s, int code, const char *text)
{
	struct map_job *j = release(b, s);
	int lost = s->accepted && code == EXIT_FAILURE_FLAME;

	if (lost && may_retry(b, j)) {
		if (b->o->verbose)
			msg("map: job %lu: %s; trying again (%d of %ld)", j->seq, text, j->tries + 1,
			    b->o->retries);
		requeue(b, j);
		return;
	}
	if (text[0])
		msg("map: job %lu: %s", j->seq, text);
	j->exitval = code;
	j->signal = 0;
	j->failed = 1;
	j->flame_failed = code == EXIT_FAILURE_FLAME;
	finalize(b, j);
}

void map_job_not_run(struct map_batch *b, struct map_job *j, int code)
{
	j->exitval = code;
	j->failed = 1;
	j->flame_failed = code == EXIT_FAILURE_FLAME;
	finalize(b, j);
}
