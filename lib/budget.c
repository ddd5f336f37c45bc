/* budget.c — see budget.h. */
#include "budget.h"

#include <string.h>

#define MINUTE_MS INT64_C(60000)
#define HOUR_MS (USAGE_MINUTES * MINUTE_MS)

/* Where minute m's bucket is (m may be below 0 in usage_json's walk). */
static int slot(int64_t m)
{
	return (int)((m % USAGE_MINUTES + USAGE_MINUTES) % USAGE_MINUTES);
}

static int64_t in_time(int64_t ms)
{
	return ms < 0 ? 0 : ms > USAGE_TIME_MAX ? USAGE_TIME_MAX : ms;
}

void usage_init(struct usage *u)
{
	memset(u, 0, sizeof *u);
}

/* Makes minute the newest, emptying the buckets of the minutes it passes.
 * A clock that went back moves nothing. */
static void roll(struct usage *u, int64_t minute)
{
	if (minute <= u->minute)
		return;
	if (minute - u->minute >= USAGE_MINUTES)
		memset(u->sec, 0, sizeof u->sec);
	else
		for (int64_t m = u->minute + 1; m <= minute; m++)
			u->sec[slot(m)] = 0;
	u->minute = minute;
}

void usage_add(struct usage *u, int64_t start_ms, int64_t end_ms, int64_t now_ms)
{
	int64_t now = in_time(now_ms), start = in_time(start_ms), end = in_time(end_ms), first;

	roll(u, now / MINUTE_MS);
	/* the buckets hold u->minute - 59 .. u->minute, ahead of now's minute
	 * when the clock went back: nothing older, or it would land on those */
	first = (u->minute - (USAGE_MINUTES - 1)) * MINUTE_MS;
	if (start < first)
		start = first;
	if (end > now)
		end = now;
	while (start < end) {
		int64_t m = start / MINUTE_MS, stop = (m + 1) * MINUTE_MS;
		double *b = &u->sec[slot(m)];
		if (stop > end)
			stop = end;
		*b += (double)(stop - start) / 1000;
		if (*b > USAGE_BUCKET_MAX)
			*b = USAGE_BUCKET_MAX;
		start = stop;
	}
}

/* The buckets' seconds at now: minutes 59 or fewer before now's. */
static double buckets_at(const struct usage *u, int64_t now)
{
	int64_t oldest = now / MINUTE_MS - (USAGE_MINUTES - 1);
	double s = 0;

	for (int64_t m = u->minute; m >= 0 && m > u->minute - USAGE_MINUTES; m--)
		if (m >= oldest)
			s += u->sec[slot(m)];
	return s;
}

double usage_used(const struct usage *u, const int64_t *running_since, size_t n, int64_t now_ms)
{
	int64_t now = in_time(now_ms);
	double s = buckets_at(u, now);

	for (size_t i = 0; i < n; i++) {
		int64_t from = in_time(running_since[i]);
		if (from < now - HOUR_MS)
			from = now - HOUR_MS;
		if (from < now)
			s += (double)(now - from) / 1000;
	}
	return s;
}

int64_t usage_frees_in(const struct usage *u, const int64_t *running_since, size_t n, int64_t now_ms,
                       double need_s, double budget_s)
{
	int64_t now = in_time(now_ms);
	double room = budget_s - need_s;

	if (usage_used(u, running_since, n, now) <= room)
		return 0;
	/* Between two drops of a bucket the running machines only add to the
	 * use: the first moment it fits, if any, is when a bucket drops. */
	for (int64_t m = u->minute - (USAGE_MINUTES - 1); m <= u->minute; m++) {
		int64_t at = (m + USAGE_MINUTES) * MINUTE_MS;
		if (m < 0 || u->sec[slot(m)] == 0 || at <= now)
			continue;
		if (at - now > HOUR_MS)
			break;
		if (usage_used(u, running_since, n, at) <= room)
			return at - now;
	}
	return -1;
}

cJSON *usage_json(const struct usage *u)
{
	cJSON *o = cJSON_CreateObject(), *secs = cJSON_CreateArray();

	cJSON_AddNumberToObject(o, "minute", (double)u->minute);
	for (int64_t m = u->minute - (USAGE_MINUTES - 1); m <= u->minute; m++)
		cJSON_AddItemToArray(secs, cJSON_CreateNumber(u->sec[slot(m)]));
	cJSON_AddItemToObject(o, "seconds", secs);
	return o;
}

int usage_parse(const cJSON *o, struct usage *u)
{
	const cJSON *minute = cJSON_GetObjectItemCaseSensitive(o, "minute");
	const cJSON *secs = cJSON_GetObjectItemCaseSensitive(o, "seconds"), *v;
	double d = cJSON_IsNumber(minute) ? minute->valuedouble : -1;
	struct usage t;
	int64_t m;

	usage_init(u);
	/* the range first: converting a double beyond an int64_t's is undefined */
	if (!cJSON_IsObject(o) || cJSON_GetArraySize(o) != 2 || !(d >= 0 && d <= USAGE_MINUTE_MAX) ||
	    d != (double)(int64_t)d || !cJSON_IsArray(secs) || cJSON_GetArraySize(secs) != USAGE_MINUTES)
		return -1;
	usage_init(&t);
	t.minute = (int64_t)d;
	m = t.minute - (USAGE_MINUTES - 1);
	cJSON_ArrayForEach(v, secs) {
		d = cJSON_IsNumber(v) ? v->valuedouble : -1;
		if (!(d >= 0 && d <= USAGE_BUCKET_MAX) || (m < 0 && d != 0))
			return -1;
		t.sec[slot(m++)] = d;
	}
	*u = t;
	return 0;
}
