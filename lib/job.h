/* job.h — one job as every process sees it: the W_JOB payload's common
 * part (struct job_spec, job_spec_read), and the exit status `flame run`
 * reports for a finished job.  How a runner starts and collects a job is
 * the agents' business: agent/job_exec.h, agent/job_life.h. */
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
	uint32_t get_word;   /* 0: no --get, else files_get_word(the caller's umask) */
	int nfds;            /* the descriptors the job frame declares (job_frame.h) */
	const char *scratch; /* directory to create for this job */
	int scratch_made;    /* job_spawn: it exists already (files were put in) */
};

/* Reads a W_JOB payload: the job id, then the job frame (job_frame.h);
 * -1 if it is malformed or has no command.  Descriptors are the caller's
 * business (s->nfds says how many the frame declares).  job_spec_free()
 * frees what it allocated. */
struct rbuf;
int job_spec_read(struct rbuf *r, struct job_spec *s);
void job_spec_free(struct job_spec *s);

/* The exit status `flame run` reports for a finished job. */
int job_exit_code(int wait_status, uint32_t flags);

/* After the timeout TERMs a job's group, how long until it KILLs it. */
#define JOB_KILL_GRACE_MS 1000

#endif
