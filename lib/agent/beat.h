/* agent_beat.h — what a runner's agent learns from its job slots.
 *
 * On a runner whose main process is `flame agent`, sshd starts the job
 * slots (`flame agent slot in|out`) as its own children, so the agent cannot
 * watch them directly.  They tell it through files in the agent's state
 * directory, named to them by $FLAME_AGENT_STATE (sshd's SetEnv):
 *
 *   heartbeat      touched when a frame arrives from the warmer's side
 *   jobs/PID       exists while slot PID runs a job; holds the job's pgid
 *   last_job       touched when a job ends
 *
 * Files, not a socket: a slot that dies leaves nothing to clean up but a
 * jobs/PID entry the agent can recognise as stale (PID gone), and the
 * agent's clocks survive its own restart.  Without $FLAME_AGENT_STATE (a
 * host's own sshd, the ssh backend) every call here does nothing. */
#ifndef FLAME_AGENT_BEAT_H
#define FLAME_AGENT_BEAT_H

#include <stdint.h>
#include <sys/types.h>

/* Slot side. */
void agent_beat_heard(void);     /* at most one touch per second */
void agent_beat_job(pid_t pgid); /* pgid > 0: a job started; 0: it ended */

/* Agent side: the directory's files, read at one moment. */
struct agent_beat {
	int busy;            /* slots running a job now */
	int64_t heard_ms;    /* wall clock of the last heartbeat (0: never) */
	int64_t last_job_ms; /* wall clock of the last job's end (0: never) */
};

/* Creates the state directory's entries (the directory must exist). */
int agent_beat_init(const char *state);
/* Reads the state; stale jobs/ entries (their slot is gone) are removed. */
void agent_beat_scan(const char *state, struct agent_beat *b);
/* Sends sig to every running job's process group; returns how many. */
int agent_beat_signal_jobs(const char *state, int sig);

#endif
