/* schedule.h — the pool's placement and growth rules, as pure functions.
 *
 * Placement: the least-loaded ready runner with a free slot.
 * Growth: keep `min` runners; boot one runner per max_concurrency callers that
 * the ready runners and the boots already under way cannot absorb; never let
 * the runners that exist (in any state) exceed max.
 * Shrinking: runners beyond max retire; idle runners stop while more than
 * min are ready or booting. */
#ifndef FLAME_SCHEDULE_H
#define FLAME_SCHEDULE_H

struct sched_view {
	int ready;    /* runners taking jobs */
	int booting;  /* runners on their way up */
	int retiring; /* draining or stopping: they still exist */
	int waiting;  /* callers queued for a slot */
	long min, max, max_concurrency;
};

/* How many runners to start booting now. */
int sched_boots_needed(const struct sched_view *v);

/* Index of the runner a job goes to, or -1: busy[i] is runner i's running
 * jobs, ready[i] non-zero when it takes jobs. Ties go to the lower index. */
int sched_pick(const int *busy, const int *ready, int n, long max_concurrency);

/* How many runners must go to bring the count within max (0 if none). */
int sched_excess(const struct sched_view *v);

/* How many idle runners may stop without leaving fewer than min (0 if none). */
int sched_idle_spare(const struct sched_view *v);

#endif
