/* job_exec.h — how one job runs on a runner (the agents' side of job.h).
 *
 * job_exec_child() is the child side: in a fresh process it takes its own
 * process group, makes the private scratch directory, copies the --put files
 * in and execs exactly the given argv with exactly the given environment.
 * The runner (its parent) watches it, passes signals on to its group, kills
 * the group when the command exits or the timeout fires (job_life.h), then
 * calls job_collect() (in a child of its own when that may take long) to
 * fetch the --get files and remove the scratch directory. */
#ifndef FLAME_AGENT_JOB_EXEC_H
#define FLAME_AGENT_JOB_EXEC_H

#include "job.h"

#include <stdint.h>
#include <sys/types.h>

/* Never returns.  Setup problems are reported on the job's stderr as
 * "flame: ..." and end the process with status 255; a command that cannot be
 * run ends it with 126 or 127, like env(1). */
void job_exec_child(const struct job_spec *spec) __attribute__((noreturn));

/* Starts the command without copying the runner's memory (posix_spawn):
 * for jobs with no --put files, whose setup needs nothing but a directory.
 * Returns the pid, or -1 after reporting on the job's stderr; *status is then
 * the wait status the job ends with (126/127 like env(1), 255 for setup). */
pid_t job_spawn(const struct job_spec *spec, int *status);

/* Where execvp would find CMD with the job's PATH, relative paths taken
 * from DIR (the job's directory, where it will run); NULL with errno
 * (ENOENT: not found, EACCES: found but not executable). */
char *job_find_command(const char *cmd, char *const *env, const char *dir);

/* Fetches the --get files (problems reported on err_fd; modes masked by
 * the caller's umask) and removes the scratch directory.  Returns
 * JOB_GET_FAILED when a --get failed, else 0.  files_get_stop() (from a
 * signal handler) stops the fetching; the directory is removed all the
 * same.  job_collect() is job_collect_masked() with umask 022. */
unsigned job_collect(const char *scratch, char *const *get_patterns, int getdir_fd, int err_fd);
unsigned job_collect_masked(const char *scratch, char *const *get_patterns, int getdir_fd, int err_fd,
                            unsigned umask);

/* The job's whole environment: PATH, HOME, LANG, LC_ALL, TZ, USER, LOGNAME
 * and SHELL from this (the runner's) environment, FLAME_POOL, FLAME_RUNNER
 * and FLAME_JOB, then the caller's --env assignments, which win. */
char **job_environment(char *const *assigned, const char *pool, const char *runner, uint32_t id);

/* Resets every signal disposition to its default: runners call it once at
 * start, so jobs never inherit a signal that whoever started the warmer
 * happened to ignore. */
void job_reset_signals(void);

#endif
