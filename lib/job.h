/* job.h — the job wrapper: runs one command the way flame promises.
 *
 * job_run() is called in a process of its own (a fork of the runner agent).
 * It makes a private scratch directory, copies the --put files in, starts the
 * command in its own process group with exactly the given argv and
 * environment, enforces the timeout (TERM, then KILL a second later), kills
 * whatever the command left in its group, fetches the --get files, removes
 * the scratch directory and reports.  Reports go to report_fd as wire frames:
 * W_JOB_PGID {pgid} as soon as the command runs, then W_JOB_DONE {wait
 * status, flags}. */
#ifndef FLAME_JOB_H
#define FLAME_JOB_H

#include <stdint.h>

struct job_spec {
	uint32_t id;
	char **argv;           /* NULL-terminated, argv[0] non-empty */
	char **env;            /* NULL-terminated NAME=VALUE list: the whole environment */
	char **put_names;      /* basenames, parallel to put_fds */
	int *put_fds;
	int nput;
	char **get_patterns;
	int getdir_fd;         /* -1 when nothing is fetched */
	int stdio[3];
	int64_t timeout_ms;    /* 0: none */
	const char *scratch;   /* directory to create for this job */
};

/* Never returns: exits the wrapper process when the job is over. */
void job_run(const struct job_spec *spec, int report_fd) __attribute__((noreturn));

/* The job's whole environment: PATH, HOME, LANG, LC_ALL, TZ, USER, LOGNAME
 * and SHELL from this (the runner's) environment, FLAME_POOL, FLAME_RUNNER
 * and FLAME_JOB, then the caller's --env assignments, which win. */
char **job_environment(char *const *assigned, const char *pool, const char *runner, uint32_t id);

/* Resets every signal disposition to its default: runners call it once at
 * start, so jobs never inherit a signal that whoever started the warmer
 * happened to ignore. */
void job_reset_signals(void);

/* The exit status `flame run` reports for a finished job. */
int job_exit_code(int wait_status, uint32_t flags);

#define JOB_KILL_GRACE_MS 1000

#endif
