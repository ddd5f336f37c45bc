/* client_job.h — the W_RUN a caller sends for one job: the job's descriptors
 * (its stdio, the --get directory, the --put files, each checked here), the
 * pool's settings, the RUN_* flags and the job frame (job_frame.h).  `flame
 * run` sends one; `flame map` one per job, built by the same code. */
#ifndef FLAME_CLIENT_JOB_H
#define FLAME_CLIENT_JOB_H

#include "config.h"
#include "wire.h"

#include <stddef.h>
#include <stdint.h>

struct client_job {
	char *const *argv;
	char *const *env;  /* NAME=VALUE each (client_job_env) */
	char *const *puts; /* --put paths as given */
	int nput;
	char *const *gets; /* --get patterns */
	size_t nget;
	const char *get_dir; /* NULL: the current directory */
	int64_t timeout_ms, slot_ms;
	uint32_t flags; /* RUN_* (wire.h) */
	int stdio[3];
};

/* Builds W_RUN in w: 0, or EXIT_USAGE after one line "WHO: what is wrong"
 * (a --put file that cannot be read or has no name, two --put files of one
 * name, a bad --get pattern or directory).  The descriptors it opens ride
 * in w; client_job_close() closes them (never the three stdio ones). */
int client_job_request(const struct client_job *j, const struct pool_settings *ps, const char *who,
                       struct wbuf *w);
void client_job_close(struct wbuf *w);

/* The job's environment from --env specs (NAME=VALUE, or NAME to pass this
 * process's value on, if it has one): a NULL-terminated vector, or NULL
 * after one line when a spec has no name. */
char **client_job_env(char *const *specs, size_t n, const char *who);

#endif
