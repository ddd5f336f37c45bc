/* runner_internal.h — private to lib/fly's runner (runner.h, in runner.c
 * and started.c): what its files share. */
#ifndef FLAME_FLY_RUNNER_INTERNAL_H
#define FLAME_FLY_RUNNER_INTERNAL_H

#define API_TIMEOUT_MS 30000 /* one API call of the runner's */
/* How long a machine may take to stop (Fly's kill timeout is 5 s by
 * default, then its processes are killed). */
#define STOPPING_WAIT_MS 20000

#endif
