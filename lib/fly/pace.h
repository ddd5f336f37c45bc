/* fly_pace.h — how fast and how often flame may ask the Fly Machines API
 * (fly-machines-api.md §4).  Pure: the caller passes the clock and the random
 * source, so every decision is testable.
 *
 * Promises:
 *  - pacing follows Fly's documented limits, a token bucket per action and
 *    per machine (or per app, for create and list): 1 request/s with bursts
 *    of 3, and 5/s with bursts of 10 for getting a machine; a client that
 *    waits fly_pace_delay() before each request stays under them;
 *  - a 429 empties the bucket, since the server's own count is what matters;
 *  - the retry policy: 408, 409, 412, 422, 429, every 5xx and transport
 *    failures (status 0) are worth another try, other 4xx are not; a call
 *    makes at most FLY_MAX_TRIES tries, not counting 429s (rate limits are
 *    waited out until the caller's deadline);
 *  - backoff with full jitter: a uniform delay in [0, min(cap, base * 2^n)].
 * Not thread-safe: one pacer per thread, or a lock around it. */
#ifndef FLAME_FLY_PACE_H
#define FLAME_FLY_PACE_H

#include <stdint.h>

enum fly_action {
	FLY_ACT_CREATE,  /* per app */
	FLY_ACT_LIST,    /* per app */
	FLY_ACT_GET,     /* per machine: 5/s, bursts of 10 */
	FLY_ACT_WAIT,    /* per machine */
	FLY_ACT_STOP,    /* per machine */
	FLY_ACT_START,   /* per machine */
	FLY_ACT_DESTROY, /* per machine */
	FLY_ACT_COUNT
};

#define FLY_MAX_TRIES 10

struct fly_pace;

struct fly_pace *fly_pace_new(void);
void fly_pace_free(struct fly_pace *p);

/* Milliseconds to wait, from now_ms, before the next request of ACTION on KEY
 * (a machine id or an app name) may go; 0: at once.  Takes nothing. */
int64_t fly_pace_delay(struct fly_pace *p, enum fly_action a, const char *key, int64_t now_ms);
/* Records a request of ACTION on KEY sent at now_ms. */
void fly_pace_sent(struct fly_pace *p, enum fly_action a, const char *key, int64_t now_ms);
/* Records a 429 for ACTION on KEY: nothing more may go until a token refills. */
void fly_pace_limited(struct fly_pace *p, enum fly_action a, const char *key, int64_t now_ms);

/* 1 if a request that ended with STATUS (0: no answer) is worth another try. */
int fly_retryable(int status);
/* 1 if try number TRIES (1 = the first) that ended with STATUS may be
 * followed by another: fly_retryable() and, but for 429, under FLY_MAX_TRIES. */
int fly_retry(int status, int tries);

/* Full-jitter backoff before retry number ATTEMPT (0 = the first retry):
 * uniform in [0, min(cap_ms, base_ms << attempt)], drawn from rnd (which
 * returns uniform 32-bit values). */
int64_t fly_backoff_ms(int attempt, int64_t base_ms, int64_t cap_ms, uint32_t (*rnd)(void *ctx), void *ctx);

#endif
