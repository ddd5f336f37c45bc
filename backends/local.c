/* local.c — the local backend: each runner is a `flame agent local` process
 * on this machine, a child of the warmer (backends/runner_proc.c).  Jobs carry
 * the caller's own descriptors, so their data never passes through flame. */
#include "backend.h"
#include "paths.h"
#include "runner_proc.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>

/* The agent exits by itself if the warmer has not stopped it this long after
 * the pool's idle time (the warmer normally decides). */
#define AGENT_FAILSAFE_EXTRA_MS 30000

static int local_boot(struct runner *r, char *err, size_t errlen)
{
	char *scratch = paths_scratch_root(err, errlen), *root, idle[32];
	int rc;

	if (!scratch)
		return -1;
	root = xasprintf("%s/%s", scratch, r->id);
	free(scratch);
	snprintf(idle, sizeof idle, "%lld", (long long)(r->pool->live.idle_ms + AGENT_FAILSAFE_EXTRA_MS));
	{
		char *argv[] = { "flame",  "agent", "local",     "--fd", "3",      "--runner",         r->id,
			         "--root", root,    "--idle-ms", idle,   "--pool", r->pool->live.name, NULL };
		rc = runner_proc_spawn(r, "/proc/self/exe", argv, err, errlen);
	}
	free(root);
	return rc;
}

const struct backend backend_local = {
	.name = "local",
	.boot = local_boot,
	RUNNER_PROC_OPS,
};
