/* schedule.c — see schedule.h. */
#include "schedule.h"

int sched_boots_needed(const struct sched_view *v)
{
	long exist = (long)v->ready + v->booting + v->retiring;
	long live = (long)v->ready + v->booting;
	long room = v->max - exist;
	long for_min = v->min - live;
	long unabsorbed = (long)v->waiting - (long)v->booting * v->max_concurrency;
	long for_queue = 0, want;

	if (unabsorbed > 0)
		for_queue = (unabsorbed + v->max_concurrency - 1) / v->max_concurrency;
	want = for_min > for_queue ? for_min : for_queue;
	if (want > room)
		want = room;
	return want > 0 ? (int)want : 0;
}

int sched_pick(const int *busy, const int *ready, int n, long max_concurrency)
{
	int best = -1;
	for (int i = 0; i < n; i++) {
		if (!ready[i] || busy[i] >= max_concurrency)
			continue;
		if (best < 0 || busy[i] < busy[best])
			best = i;
	}
	return best;
}

int sched_excess(const struct sched_view *v)
{
	long live = (long)v->ready + v->booting;
	return live > v->max ? (int)(live - v->max) : 0;
}

int sched_idle_spare(const struct sched_view *v)
{
	long live = (long)v->ready + v->booting;
	return live > v->min ? (int)(live - v->min) : 0;
}
