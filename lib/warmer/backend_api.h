/* backend_api.h — what the warmer asks of a backend, and how a backend
 * answers.
 *
 * A backend boots runners, hands them jobs, passes signals and cancels on,
 * and stops or destroys them.  It reports readiness, job ends and losses back
 * through warmer_on_ready / warmer_on_job_done / warmer_on_lost.  The warmer
 * polls r->fd (when >= 0) and calls readable() when it has input.  The
 * warmer owns this interface; backends/ implements it, and the program that
 * runs the warmer hands it the table (warmer_main), so lib/ never reaches
 * into backends/. */
#ifndef FLAME_BACKEND_API_H
#define FLAME_BACKEND_API_H

#include "warmer.h"

#include <cJSON.h>

#include <stddef.h>

struct backend {
	const char *name;
	/* Starts booting r (its id and pool are set); -1 with err on failure. */
	int (*boot)(struct runner *r, char *err, size_t errlen);
	/* Hands job to a ready runner; the descriptors in job->fds travel with it. */
	int (*start_job)(struct runner *r, uint32_t job_id, const struct job_request *job);
	void (*signal_job)(struct runner *r, uint32_t job_id, int sig);
	void (*cancel_job)(struct runner *r, uint32_t job_id);
	/* Graceful: the runner exits when its jobs are done. */
	void (*stop)(struct runner *r);
	/* Optional: like stop, but the runner's machine is stopped and kept for
	 * a later unpark; the backend sets r->parked (warmer_on_info's
	 * "parked": true) once it is, else the machine is gone as after stop. */
	void (*park)(struct runner *r);
	/* Optional: boots r (its id and info set from a stopped_machine) by
	 * starting the kept machine; -1 with err on failure. */
	int (*unpark)(struct runner *r, char *err, size_t errlen);
	/* Optional: destroys a kept machine, given its runner id and info. */
	void (*discard)(const struct pool_settings *ps, const char *runner_id, const char *info);
	/* Immediate; also releases everything the backend holds for r. */
	void (*destroy)(struct runner *r);
	void (*readable)(struct runner *r);
	/* After a warmer crash: make sure a journaled runner is gone (or adopt it). */
	void (*reap_stray)(const char *runner_id, long pid);
	/* Optional.  After a warmer crash, take a journaled runner back (its
	 * journal entry: id, pid, info); 0 if adopted, -1 if it is given up. */
	int (*adopt)(struct pool *p, const cJSON *journaled);
	/* Optional, every minute and after a restart: remove what the pool's
	 * backend holds that no runner accounts for (orphaned machines). */
	void (*sweep)(struct pool *p);
};

#endif
