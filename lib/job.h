/* job.h — how one job runs on a runner.
 *
 * job_exec_child() is the child side: in a fresh process it takes its own
 * process group, makes the private scratch directory, copies the --put files
 * in and execs exactly the given argv with exactly the given environment.
 * The runner (its parent) watches it, passes signals on to its group, kills
 * the group when the command exits or the timeout fires, then calls
 * job_collect() (in a child of its own when that may take long) to fetch the
 * --get files and remove the scratch directory. */
#ifndef FLAME_JOB_H
#define FLAME_JOB_H

#include <stdint.h>
#include <sys/types.h>

struct job_spec {
	uint32_t id;
	char **argv;      /* NULL-terminated, argv[0] non-empty */
	char **env;       /* NULL-terminated NAME=VALUE list: the whole environment */
	char **put_names; /* basenames, parallel to put_fds */
	int *put_fds;
	int nput;
	char **get_patterns;
	int getdir_fd; /* -1 when nothing is fetched */
	int stdio[3];
	int64_t timeout_ms;  /* 0: none */
	const char *scratch; /* directory to create for this job */
	int scratch_made;    /* job_spawn: it exists already (files were put in) */
};

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

/* Reads a W_JOB payload's common part (id, timeout, argv, env, put names,
 * get patterns); -1 if it is malformed or has no command.  Descriptors are
 * the caller's business.  job_spec_free() frees what it allocated. */
struct rbuf;
int job_spec_read(struct rbuf *r, struct job_spec *s);
void job_spec_free(struct job_spec *s);

/* One step of the timeout: TERM the group at the deadline, KILL it
 * JOB_KILL_GRACE_MS later.  Updates *flags and *deadline (0: nothing due). */
void job_timeout_step(pid_t pgid, uint32_t *flags, int64_t *deadline, int64_t now);

/* The exit status `flame run` reports for a finished job. */
int job_exit_code(int wait_status, uint32_t flags);

#define JOB_KILL_GRACE_MS 1000

#endif
