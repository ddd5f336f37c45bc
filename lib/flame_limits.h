/* flame_limits.h — the one set of limits on a pool's numbers, shared by the
 * config reader, `pool scale`, the warmer and the runner sides, so that
 * whatever the config accepts every part can do.  (Not "limits.h": with -Ilib
 * that name would hide the C library's.) */
#ifndef FLAME_LIMITS_H
#define FLAME_LIMITS_H

#include <stdint.h>

/* Runners one pool may have (min and max): the warmer places jobs among at
 * most this many. */
#define LIMIT_RUNNERS 512
/* Jobs one runner runs at once (max_concurrency): the ssh and fly link's
 * slots, the local agent's jobs. */
#define LIMIT_CONCURRENCY 256
/* Pools one configuration file may declare. */
#define LIMIT_POOLS 1000

/* now + ms, saturating: a timeout too long to represent never comes. */
static inline int64_t limit_deadline(int64_t now, int64_t ms)
{
	return ms > INT64_MAX - now ? INT64_MAX : now + ms;
}

#endif
