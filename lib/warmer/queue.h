/* queue.h — a pool's queue of callers, and which runner its next job goes
 * to, as pure functions over the warmer's structs (warmer.h).
 *
 * Promises: no I/O, no globals, no clock (the time is passed in as now).
 * The queue is FIFO: callers leave it in the order they came, except one
 * put back at the head (its job could not be handed on), which goes first.
 * A job goes to the ready runner with a free slot that runs the fewest jobs,
 * the first in the pool's list on a tie (schedule.h's sched_pick); a runner
 * that is booting, draining or stopping never gets one. */
#ifndef FLAME_QUEUE_H
#define FLAME_QUEUE_H

#include "schedule.h"
#include "warmer.h"

#include <stdint.h>

/* Puts c (its pool set) in its pool's queue, at the tail or at the head. */
void enqueue(struct caller *c, int at_head);
/* Takes c out of its pool's queue, wherever it is. */
void unqueue(struct caller *c);
/* The caller whose job goes next, or NULL. */
struct caller *queue_next(const struct pool *p);

/* The first queued caller whose slot wait ended at or before now, or NULL. */
struct caller *queue_next_expired(const struct pool *p, int64_t now);
/* The earliest slot-wait deadline of p's queue, or until if it is earlier. */
int64_t queue_first_deadline(const struct pool *p, int64_t until);

/* Whether r takes a job now: ready, and fewer jobs than its slots (its
 * capacity when the backend opened fewer than max_concurrency). */
int runner_has_slot(const struct runner *r, long max_concurrency);
/* The runner p's next job goes to, or NULL.  skip (may be NULL) names
 * runners that must get none, e.g. those lost this round. */
struct runner *pick_runner(const struct pool *p, int (*skip)(const struct runner *));

/* p's runners counted by state, with its queue and settings. */
void count_runners(const struct pool *p, struct sched_view *v);
/* The runner to retire next when p has too many: an idle ready or a booting
 * one first (it can stop now), else a busy ready one (it drains first);
 * NULL when none is left. */
struct runner *next_retiree(const struct pool *p);
/* Whether r, ready and idle, has been so for the pool's idle timeout with
 * nobody waiting. */
int runner_idle_expired(const struct pool *p, const struct runner *r, int64_t now);
/* The earliest of until and p's timers: slot waits, boots, stops, idle
 * timeouts, and a boot debounce that ends after now. */
int64_t pool_next_deadline(const struct pool *p, int64_t now, int64_t until);

#endif
