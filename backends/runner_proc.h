/* runner_proc.h — a runner that is a process of the warmer's, spoken to
 * over a socketpair with the wire protocol (W_JOB with the caller's
 * descriptors, W_JOB_SIGNAL, W_JOB_CANCEL, W_AGENT_STOP; W_READY and
 * W_JOB_DONE back).  The local agent and the ssh link are both such
 * processes, so their backends share everything here but the command line. */
#ifndef FLAME_RUNNER_PROC_H
#define FLAME_RUNNER_PROC_H

#include "warmer/warmer.h"

#include <stddef.h>

/* The descriptor a helper reads its settings from (see _spawn_with). */
#define RUNNER_PROC_SETTINGS_FD 4

/* Starts PATH with ARGV; its end of the socketpair is descriptor 3. */
int runner_proc_spawn(struct runner *r, const char *path, char *const *argv, char *err, size_t errlen);
/* The same, and SETTINGS (text, or NULL) readable from descriptor
 * RUNNER_PROC_SETTINGS_FD: what must not show in ps (a pool's env, the API
 * token) never goes on the command line or in the environment. */
int runner_proc_spawn_with(struct runner *r, const char *path, char *const *argv, const char *settings,
                           char *err, size_t errlen);
int runner_proc_start_job(struct runner *r, uint32_t job_id, const struct job_request *job);
void runner_proc_signal_job(struct runner *r, uint32_t job_id, int sig);
void runner_proc_cancel_job(struct runner *r, uint32_t job_id);
void runner_proc_stop(struct runner *r);
/* W_AGENT_PARK: stop, keeping the machine (backend_api.h park). */
void runner_proc_park(struct runner *r);
void runner_proc_destroy(struct runner *r);
void runner_proc_readable(struct runner *r);
/* Kills pid if it is still a flame process of this runner id. */
void runner_proc_reap_stray(const char *runner_id, long pid);

/* flame-link, next to this program; NULL with err if it is missing. */
char *runner_proc_link_path(char *err, size_t errlen);
/* Runs PATH ARGV detached (a one-shot job the warmer does not wait for),
 * SETTINGS (or NULL) on descriptor RUNNER_PROC_SETTINGS_FD as above. */
void runner_proc_detach(const char *path, char *const *argv, const char *settings);

/* The backend operations every runner-process backend shares, one a line
 * (clang-format 14 would pack them). */
/* clang-format off */
#define RUNNER_PROC_OPS                            \
	.start_job = runner_proc_start_job,        \
	.signal_job = runner_proc_signal_job,      \
	.cancel_job = runner_proc_cancel_job,      \
	.stop = runner_proc_stop,                  \
	.destroy = runner_proc_destroy,            \
	.readable = runner_proc_readable,          \
	.reap_stray = runner_proc_reap_stray
/* clang-format on */

#endif
