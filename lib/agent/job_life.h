/* job_life.h — the life of one job on a runner, as a pure state machine.
 *
 * Both agents (`flame agent local`, cmd/agent_local.c, and the ssh job slot,
 * lib/agent/slot.c) run each job through the same life:
 *
 *   READ --started--> RUNNING --leader exited--> EXITED --group gone-->
 *   COLLECTING --files collected--> FINISHED --reported--> REPORTED
 *
 * READ may also end in FINISHED (it failed to start: 126/127 like env(1),
 * 255 for setup) or CANCELLED (cancelled before it started).  While RUNNING
 * the caller's signals go to the job's group, and the timeout TERMs the group
 * at the deadline and KILLs it JOB_KILL_GRACE_MS later.  Once the command
 * exited, a signal that would have ended it (or a cancel) stops the fetching
 * of --get files instead, and the job then ends as if killed by it.  Done is
 * reported exactly once, with a wait status and JOB_* flags (wire.h).
 *
 * No I/O, no clock: every event says what happened and when, and the answer
 * says what the caller must do (which signal to send where).  Events that do
 * not fit the current state change nothing. */
#ifndef FLAME_AGENT_JOB_LIFE_H
#define FLAME_AGENT_JOB_LIFE_H

#include "job.h" /* JOB_KILL_GRACE_MS */

#include <stdint.h>

enum job_phase {
	JOB_READ,       /* spec read; not started (--put files may be coming) */
	JOB_RUNNING,    /* the command runs in its own process group */
	JOB_EXITED,     /* its leader exited: the rest of its group is to go */
	JOB_COLLECTING, /* group gone: --get files fetched, directory removed */
	JOB_FINISHED,   /* over: done is due */
	JOB_CANCELLED,  /* cancelled before it started: done is due */
	JOB_REPORTED,   /* done was reported */
};

/* What an event asks of the caller, besides a signal for the group. */
#define JOB_STOP_GET (-1) /* stop fetching --get files */

struct job_life {
	enum job_phase phase;
	int64_t timeout_ms; /* 0: none */
	int64_t deadline;   /* when the timeout acts next; 0: nothing due */
	int status;         /* the command's wait status */
	uint32_t flags;     /* JOB_* (wire.h) */
	int stop_sig;       /* the signal that stopped the fetching, or 0 */
};

void job_life_init(struct job_life *l, int64_t timeout_ms);

/* READ -> RUNNING at now: the timeout starts. */
void job_life_started(struct job_life *l, int64_t now);
/* READ -> FINISHED: it never ran; status is the wait status it ends with. */
void job_life_start_failed(struct job_life *l, int status, uint32_t flags);

/* The caller's signal: while RUNNING, returns sig for the group (0 if it is
 * no signal); after the command exited, JOB_STOP_GET the first time a signal
 * that ends a command (INT, TERM, HUP, QUIT, KILL) comes; else 0. */
int job_life_signal(struct job_life *l, int sig);
/* The caller cancels: READ -> CANCELLED (0); RUNNING: SIGKILL for the
 * group; after the command exited, as job_life_signal(SIGKILL); else 0. */
int job_life_cancel(struct job_life *l);
/* While RUNNING: SIGTERM for the group at the deadline (the job has timed
 * out), SIGKILL JOB_KILL_GRACE_MS later; else 0. */
int job_life_timeout(struct job_life *l, int64_t now);

/* RUNNING -> EXITED: the leader ended with wait_status; the caller kills the
 * rest of its group. */
void job_life_exited(struct job_life *l, int wait_status);
/* EXITED -> COLLECTING: the group is gone. */
void job_life_group_gone(struct job_life *l);
/* COLLECTING -> FINISHED; flags: JOB_GET_FAILED if a --get failed. */
void job_life_collected(struct job_life *l, uint32_t flags);

/* Once FINISHED or CANCELLED: 1 and the wait status and flags to report,
 * the job is REPORTED; else (and ever after) 0. */
int job_life_report(struct job_life *l, int *status, uint32_t *flags);
/* The exit status `flame run` shows for what was (or is to be) reported. */
int job_life_exit_code(const struct job_life *l);

#endif
