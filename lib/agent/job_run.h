/* job_run.h — what both agents (the local agent, cmd/agent_local.c, and the
 * ssh job slot, slot.h) do around one job's life (job_life.h): the I/O its
 * events ask for.  The job's group is its leader's pid. */
#ifndef FLAME_AGENT_JOB_RUN_H
#define FLAME_AGENT_JOB_RUN_H

#include "job.h"
#include "job_life.h"

#include <stdint.h>
#include <sys/types.h>

/* Gives the job its full environment (job_environment) in place of the
 * caller's --env assignments. */
void job_run_environment(struct job_spec *spec, const char *pool, const char *runner);

/* A pidfd that polls readable when process pid exits; -1 if there is none. */
int job_run_pidfd(pid_t pid);

/* Makes sure the started leader has its own group and returns a pidfd that
 * polls readable when it exits; -1 if there is none (the caller then kills
 * the group and reports a setup failure). */
int job_run_watch(pid_t pid);

/* The leader has exited: kills the rest of its group (its id cannot be
 * reused before the leader is reaped), reaps the leader and moves the life
 * on to COLLECTING. */
void job_run_end_group(struct job_life *l, pid_t pid);

/* Sends the group what the life's timeout asks, if anything. */
void job_run_timeout(struct job_life *l, pid_t pid, int64_t now);

/* Sends W_JOB_DONE for job id on fd if the life has done to report (once);
 * 0 if sent or nothing was due, -1 if the link is gone. */
int job_run_report(int fd, uint32_t id, struct job_life *l);

/* A job refused before it started (malformed, or no room): done with
 * JOB_SETUP_FAILED. */
int job_run_refuse(int fd, uint32_t id);

#endif
