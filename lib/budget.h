/* budget.h — the machine-seconds a pool used in the last hour, for its
 * "budget": {"machine_seconds_per_hour": N}.
 *
 * What machines that have stopped used is kept in 60 one-minute buckets,
 * so it is bounded and fits the journal; machines still running are
 * counted from when they started (a machine is one or the other: added
 * when it stops, never both).  Times are wall-clock milliseconds (util.h's
 * wall_ms()), taken as 0 below 0 and as USAGE_TIME_MAX above it; a minute
 * is wall ms / 60000.
 *
 * The window: a running machine's seconds count exactly since
 * max(its start, now - 1 h).  The buckets count for the 60 minutes ending
 * with now's minute: a bucket is dropped when its minute is 60 or more
 * minutes before now's, so a stopped machine's second is counted for
 * between 59 and 60 minutes after it was used.  (Buckets newer than now's
 * minute, if the clock went back, still count: a budget errs on the safe
 * side.)
 *
 * Promises: pure, no allocation but usage_json()'s; usage_parse() trusts
 * nothing of what it reads (a journal from a file) and refuses, rather
 * than clamps, what is out of range. */
#ifndef FLAME_BUDGET_H
#define FLAME_BUDGET_H

#include "flame_limits.h"

#include <cJSON.h>
#include <stddef.h>
#include <stdint.h>

#define USAGE_MINUTES 60
/* 2^53 ms (the year 287,000): a JSON number holds its minutes exactly */
#define USAGE_TIME_MAX (INT64_C(1) << 53)
#define USAGE_MINUTE_MAX (USAGE_TIME_MAX / 60000)
/* The most one bucket can hold: every runner a pool may have, the whole
 * minute.  usage_add() keeps a bucket within it, usage_parse() refuses
 * more. */
#define USAGE_BUCKET_MAX (60.0 * LIMIT_RUNNERS)

struct usage {
	int64_t minute;            /* minute number (wall ms / 60000) of the newest bucket */
	double sec[USAGE_MINUTES]; /* machine-seconds of minute m at sec[m % 60] */
};

void usage_init(struct usage *u);

/* A machine ran from start to end (wall ms): its seconds go into the
 * minutes they fell in.  Parts older than the window (above) are dropped,
 * and parts after now are not counted (they have not happened). */
void usage_add(struct usage *u, int64_t start_ms, int64_t end_ms, int64_t now_ms);

/* Machine-seconds in the hour before now: the buckets plus the n running
 * machines, each since running_since[i] (wall ms). */
double usage_used(const struct usage *u, const int64_t *running_since, size_t n, int64_t now_ms);

/* Ms from now until used + need_s <= budget_s, assuming the running
 * machines keep running and no others start: 0 if that holds already; -1
 * if it does not within the next hour (the running ones alone use the
 * budget up, or need_s is above it). */
int64_t usage_frees_in(const struct usage *u, const int64_t *running_since, size_t n, int64_t now_ms,
                       double need_s, double budget_s);

/* {"minute": M, "seconds": [60 numbers]}, the oldest minute (M - 59)
 * first and M's last. */
cJSON *usage_json(const struct usage *u);

/* Reads what usage_json() wrote: 0, or -1 (u left init'ed) when o is not
 * exactly that shape (those two keys, 60 numbers), the minute is not a
 * whole number from 0 to USAGE_MINUTE_MAX, a bucket is not a number from 0
 * to USAGE_BUCKET_MAX, or one before minute 0 is not 0. */
int usage_parse(const cJSON *o, struct usage *u);

#endif
