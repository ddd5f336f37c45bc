/* internal.h — the parts of `flame map` (batch.h) and what they share: a
 * job, a slot (one connection to the warmer), the batch.  loop.c drives
 * them; slot.c speaks to the warmer; launch.c starts jobs; finish.c ends
 * them (output, joblog, retries, halt). */
#ifndef FLAME_MAP_INTERNAL_H
#define FLAME_MAP_INTERNAL_H

#include "batch.h"
#include "capture.h"
#include "halt.h"
#include "input.h"
#include "joblog.h"
#include "lines.h"
#include "order.h"
#include "template.h"
#include "wire.h"

#include <stdint.h>
#include <stdio.h>

struct map_slot;

struct map_job {
	unsigned long seq; /* {#}, and the joblog's Seq */
	char *input;
	size_t len;
	char *display;             /* the command, for the joblog and messages */
	int tries;                 /* how many times it was sent to a runner */
	struct map_capture cap;    /* the output, kept whole */
	struct map_lines lines[2]; /* --line-buffer: stdout and stderr as they come */
	char *tag;                 /* --tag: the input and a tab */
	size_t taglen;
	struct map_slot *slot;
	int64_t start_wall_ms, start_ms;
	char runner[128];
	int64_t waited_ms, boot_wait_ms;
	uint64_t sent, received;
	int exitval, signal;  /* as the joblog says them */
	int failed;           /* counted as failed */
	int flame_failed;     /* flame's own failure ended it (its runner lost, ...) */
	struct map_job *next; /* in the retry queue */
};

struct map_slot {
	unsigned index; /* {%}: 1..jobs */
	int fd;         /* -1: not connected */
	struct wire_conn conn;
	struct map_job *job; /* NULL: free */
	int accepted;        /* the warmer took the job */
	int handoffs;        /* connections that ended before the warmer took it */
	int signalled;       /* a signal was passed to its job */
};

struct map_batch {
	const struct map_opts *o;
	const struct pool_settings *ps;
	struct map_template *cmd, **puts, **gets;
	char **env;
	char *scratch; /* where captures live */
	struct map_input *in;
	int in_fd; /* the :::: file, or -1 */
	int input_done;
	struct map_slot *slots;
	long nslots;
	unsigned long next_seq; /* of the next input */
	struct map_job *retry_head, *retry_tail;
	struct map_order order;
	struct map_capture *spare; /* captures to reuse */
	size_t nspare, spare_cap;
	int joblog_fd;
	int joblog_extra;         /* its lines have flame's columns (a resumed log: as it had) */
	struct joblog_done *skip; /* --resume: done before */
	struct halt halt;
	unsigned long done, failed, running;
	int stop_launching;       /* --halt soon, a signal, an input error */
	int exit_override;        /* nonzero: the exit status, whatever the counts */
	int interrupts;           /* SIGINT/TERM seen */
	int sig_fd;               /* the signal pipe's read end */
	int first_signal;         /* the first of them: the exit status is 128 + it */
	int64_t kill_at;          /* --halt now or a second signal: SIGKILL what still runs then */
	int null_fd, null_out_fd; /* /dev/null: the jobs' stdin; where a retried try's output goes */
	int joblog_failed, output_failed;
	int halted;            /* the halt_action that stopped the batch, or 0 */
	unsigned long skipped; /* --resume: inputs not run again */
	size_t hold_max;       /* --keep-order: finished jobs that may wait for an earlier one */
	int bar_on_tty;        /* --bar and stderr is a terminal */
	int bar_drawn;
	int64_t first_ms, last_bar_ms;
};

/* setup.c: 0, or the exit status after one line (nothing started) */
int map_setup(struct map_batch *b);
void map_teardown(struct map_batch *b);

/* slot.c */
int map_slot_send(struct map_batch *b, struct map_slot *s, struct wbuf *w);
void map_slot_readable(struct map_batch *b, struct map_slot *s);
void map_slot_signal(struct map_slot *s, int sig);
void map_slot_close(struct map_slot *s);

/* launch.c */
int map_launch_next(struct map_batch *b, struct map_slot *s);
void map_job_free(struct map_job *j);
struct map_capture map_capture_take(struct map_batch *b);

/* finish.c */
void map_job_ended(struct map_batch *b, struct map_slot *s, int64_t status, int64_t flags);
void map_job_flame_error(struct map_batch *b, struct map_slot *s, int code, const char *text);
void map_job_not_run(struct map_batch *b, struct map_job *j, int code);
void map_show_ready(struct map_batch *b);
void map_skip_seq(struct map_batch *b, unsigned long seq);
void map_output_failed(struct map_batch *b); /* errno says why */

/* bar.c */
void map_bar(struct map_batch *b, int final);
void map_bar_clear(struct map_batch *b); /* before output: drawn again later */

#endif
