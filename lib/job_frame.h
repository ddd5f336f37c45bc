/* job_frame.h — one job as it travels, encoded once.
 *
 * `flame run` builds the job frame (job_frame_write) and every hop after it
 * forwards those bytes as they are: the warmer checks them (job_frame_check)
 * and hands them on in W_JOB {u32 job id, job frame}, the link passes them
 * to the runner's slot over SSH, and the process that runs the job reads
 * them (job_frame_read).  Nothing else builds or parses a job.
 *
 * The frame opens with a fixed head that declares the descriptors riding
 * with it, so a hop can check them without reading the strings:
 *
 *   u32 nput        number of --put files
 *   u32 getdir      0: no --get; else files_get_word(caller's umask)
 *   i64 timeout_ms  0: none
 *   strv argv, strv env (the whole environment), strv put names (nput of
 *   them, basenames), strv get patterns
 *
 * Descriptors, in this order: stdin, stdout, stderr, the --get directory
 * (when getdir != 0), then the --put files.  Over SSH no descriptor travels:
 * the link strips them and streams the data instead.
 *
 * A job's end is W_JOB_DONE {u32 job id, i64 wait status, i64 flags}
 * (JOB_* flags, wire.h), built and read here only. */
#ifndef FLAME_JOB_FRAME_H
#define FLAME_JOB_FRAME_H

#include "wire.h"

#include <stddef.h>
#include <stdint.h>

/* Limits on what a frame may hold: a reader refuses more. */
#define JOB_MAX_ARGS (1u << 20)
#define JOB_MAX_ENV (1u << 16)
#define JOB_MAX_GETS 4096u
#define JOB_MAX_PUTS (WIRE_MAX_FDS - 4)

enum { JOB_FD_STDIN, JOB_FD_STDOUT, JOB_FD_STDERR, JOB_FD_FILES };

struct job_desc {
	char *const *argv; /* argv[0] non-empty */
	char *const *env;
	char *const *put_names; /* one per --put descriptor */
	char *const *get_patterns;
	uint32_t getdir; /* 0, or files_get_word(umask) */
	int64_t timeout_ms;
};

/* What the head declares: enough to check and place the descriptors. */
struct job_layout {
	uint32_t nput, getdir;
	int64_t timeout_ms;
	int nfds; /* 3 + (getdir != 0) + nput */
};

/* The one builder: appends the frame for J to W. */
void job_frame_write(struct wbuf *w, const struct job_desc *j);

/* Checks that R, from its offset on, holds one whole well-formed frame
 * (head and strings agree, argv[0] non-empty) without copying anything:
 * 0 with *lay and *len (the frame's bytes), -1 if it is not one.  R's offset
 * is not moved. */
int job_frame_check(const struct rbuf *r, struct job_layout *lay, size_t *len);

/* The one reader: the whole frame into *j (malloc'd vectors; free with
 * job_frame_free), -1 if it is malformed.  R's offset moves past it. */
struct job_frame {
	struct job_layout lay;
	char **argv, **env, **put_names, **get_patterns;
};
int job_frame_read(struct rbuf *r, struct job_frame *j);
void job_frame_free(struct job_frame *j);

/* W_JOB_DONE, built and read in one place. */
void job_done_write(struct wbuf *w, uint32_t id, int64_t status, int64_t flags);
int job_done_read(struct rbuf *r, uint32_t *id, int64_t *status, int64_t *flags);

#endif
