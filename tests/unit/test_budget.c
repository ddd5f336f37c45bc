/* test_budget.c — machine-seconds in a rolling hour (lib/budget.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "budget.h"

#define S INT64_C(1000)
#define MIN (60 * S)
/* minute 1000's start: wall ms in the tests */
#define T0 (1000 * MIN)

static void seconds_equal(double got, double want)
{
	if (got != want)
		print_error("got %.6f s, want %.6f s\n", got, want);
	assert_true(got == want);
}

static double used(const struct usage *u, int64_t now)
{
	return usage_used(u, NULL, 0, now);
}

static void test_init(void **state)
{
	struct usage u;
	(void)state;
	memset(&u, 0x5a, sizeof u);
	usage_init(&u);
	assert_int_equal(u.minute, 0);
	seconds_equal(used(&u, T0), 0);
	assert_int_equal(usage_frees_in(&u, NULL, 0, T0, 10, 10), 0);
}

static void test_add_splits_at_minute_edges(void **state)
{
	struct usage u;
	(void)state;
	usage_init(&u);
	usage_add(&u, T0 + 30 * S, T0 + 2 * MIN + 15 * S, T0 + 3 * MIN);
	assert_int_equal(u.minute, 1003);
	seconds_equal(u.sec[1000 % 60], 30);
	seconds_equal(u.sec[1001 % 60], 60);
	seconds_equal(u.sec[1002 % 60], 15);
	seconds_equal(used(&u, T0 + 3 * MIN), 105);
	/* milliseconds count */
	usage_add(&u, T0 + 3 * MIN, T0 + 3 * MIN + 1, T0 + 3 * MIN + 1);
	seconds_equal(u.sec[1003 % 60], 0.001);
	/* nothing for an empty or backwards run */
	usage_add(&u, T0 + 3 * MIN + 1, T0 + 3 * MIN + 1, T0 + 4 * MIN);
	usage_add(&u, T0 + 4 * MIN, T0 + 3 * MIN, T0 + 4 * MIN);
	seconds_equal(used(&u, T0 + 4 * MIN), 105.001);
}

static void test_add_drops_the_old_and_the_future(void **state)
{
	struct usage u;
	int64_t now = T0 + 100 * MIN + 30 * S;
	(void)state;
	usage_init(&u);
	/* two hours of running: only minute 1041 (59 before now's) onwards */
	usage_add(&u, now - 120 * MIN, now, now);
	seconds_equal(used(&u, now), 59 * 60 + 30);
	/* what is after now has not happened */
	usage_init(&u);
	usage_add(&u, now - 10 * S, now + 50 * S, now);
	seconds_equal(used(&u, now), 10);
	/* times before the epoch count as nothing */
	usage_init(&u);
	usage_add(&u, -5 * S, 5 * S, 10 * S);
	seconds_equal(used(&u, 10 * S), 5);
}

static void test_rolling_window(void **state)
{
	struct usage u;
	(void)state;
	usage_init(&u);
	usage_add(&u, T0, T0 + 40 * S, T0 + 40 * S);
	usage_add(&u, T0 + MIN, T0 + MIN + 20 * S, T0 + MIN + 20 * S);
	/* minute 1000 counts through minute 1059, and is dropped at 1060 */
	seconds_equal(used(&u, T0 + 60 * MIN - 1), 60);
	seconds_equal(used(&u, T0 + 60 * MIN), 20);
	seconds_equal(used(&u, T0 + 61 * MIN), 0);
	/* adding later empties the buckets the window left */
	usage_add(&u, T0 + 60 * MIN, T0 + 60 * MIN + 5 * S, T0 + 60 * MIN + 5 * S);
	assert_int_equal(u.minute, 1060);
	seconds_equal(u.sec[1000 % 60], 5);
	seconds_equal(used(&u, T0 + 60 * MIN + 5 * S), 25);
	/* more than an hour later, nothing is left */
	usage_add(&u, T0 + 200 * MIN, T0 + 200 * MIN, T0 + 200 * MIN);
	seconds_equal(used(&u, T0 + 200 * MIN), 0);
	for (int i = 0; i < USAGE_MINUTES; i++)
		seconds_equal(u.sec[i], 0);
}

/* A clock that went back neither loses the newer buckets nor adds on top
 * of them what belongs to a minute an hour older. */
static void test_clock_back(void **state)
{
	struct usage u;
	(void)state;
	usage_init(&u);
	usage_add(&u, T0 + 70 * MIN, T0 + 70 * MIN + 10 * S, T0 + 70 * MIN + 10 * S);
	usage_add(&u, T0, T0 + 30 * MIN, T0 + 30 * MIN);
	assert_int_equal(u.minute, 1070);
	/* minute 1011 onwards only: 1010 shares 1070's bucket */
	seconds_equal(u.sec[1070 % 60], 10);
	seconds_equal(used(&u, T0 + 30 * MIN), 10 + 19 * 60);
}

static void test_running_machines(void **state)
{
	struct usage u;
	int64_t now = T0 + 10 * MIN + 500;
	int64_t since[] = { now - 90 * S, now - 120 * MIN, now + 5 * S, now - 1 };
	(void)state;
	usage_init(&u);
	seconds_equal(usage_used(&u, since, 1, now), 90);
	/* since max(start, now - 1 h), exactly */
	seconds_equal(usage_used(&u, since + 1, 1, now), 3600);
	seconds_equal(usage_used(&u, since + 2, 1, now), 0);
	seconds_equal(usage_used(&u, since, 4, now), 90 + 3600 + 0.001);
	usage_add(&u, T0, T0 + 7 * S, now);
	seconds_equal(usage_used(&u, since, 1, now), 97);
}

static void test_frees_in_without_running(void **state)
{
	struct usage u;
	int64_t now = T0 + 10 * MIN + 5 * S;
	(void)state;
	usage_init(&u);
	usage_add(&u, T0, T0 + 100 * S, now); /* 60 s in 1000, 40 in 1001 */
	usage_add(&u, T0 + 5 * MIN, T0 + 5 * MIN + 30 * S, now);
	assert_int_equal(usage_frees_in(&u, NULL, 0, now, 70, 200), 0);
	/* minute 1000 drops at minute 1060, 1001 at 1061, 1005 at 1065 */
	assert_int_equal(usage_frees_in(&u, NULL, 0, now, 71, 200), T0 + 60 * MIN - now);
	assert_int_equal(usage_frees_in(&u, NULL, 0, now, 131, 200), T0 + 61 * MIN - now);
	assert_int_equal(usage_frees_in(&u, NULL, 0, now, 171, 200), T0 + 65 * MIN - now);
	assert_int_equal(usage_frees_in(&u, NULL, 0, now, 200, 200), T0 + 65 * MIN - now);
	/* what needs more than the budget never fits */
	assert_int_equal(usage_frees_in(&u, NULL, 0, now, 201, 200), -1);
	/* at the drop itself it fits */
	assert_int_equal(usage_frees_in(&u, NULL, 0, T0 + 60 * MIN, 71, 200), 0);
}

static void test_frees_in_with_running(void **state)
{
	struct usage u;
	int64_t now = T0 + 50 * MIN;
	int64_t since[] = { now, now - 30 * MIN };
	(void)state;
	usage_init(&u);
	for (int i = 0; i < 15; i++) /* 15 machines ran minute 1000 */
		usage_add(&u, T0, T0 + MIN, now);
	seconds_equal(usage_used(&u, since, 1, now), 900);
	assert_int_equal(usage_frees_in(&u, since, 1, now, 100, 1000), 0);
	/* 10 minutes on minute 1000 drops, and the machine has run 600 s */
	assert_int_equal(usage_frees_in(&u, since, 1, now, 200, 1000), 10 * MIN);
	assert_int_equal(usage_frees_in(&u, since, 1, now, 400, 1000), 10 * MIN);
	assert_int_equal(usage_frees_in(&u, since, 1, now, 401, 1000), -1);
	/* each minute that drops 60 s, the machine adds 60 s: never */
	usage_init(&u);
	usage_add(&u, T0, T0 + 15 * MIN, now);
	assert_int_equal(usage_frees_in(&u, since, 1, now, 101, 1000), -1);
	/* the running ones alone use it up */
	assert_int_equal(usage_frees_in(&u, since, 2, now, 1, 1800), -1);
	assert_int_equal(usage_frees_in(&u, since + 1, 1, now + 31 * MIN, 0, 1800), -1);
}

static void test_json_round_trip(void **state)
{
	struct usage u, back;
	cJSON *o, *secs;
	char *text;
	(void)state;
	usage_init(&u);
	usage_add(&u, T0 + 1, T0 + 59 * MIN + 333, T0 + 59 * MIN + 333);
	o = usage_json(&u);
	assert_int_equal((int64_t)cJSON_GetObjectItem(o, "minute")->valuedouble, 1059);
	secs = cJSON_GetObjectItem(o, "seconds");
	assert_int_equal(cJSON_GetArraySize(secs), 60);
	/* oldest first */
	seconds_equal(cJSON_GetArrayItem(secs, 0)->valuedouble, 59.999);
	seconds_equal(cJSON_GetArrayItem(secs, 1)->valuedouble, 60);
	seconds_equal(cJSON_GetArrayItem(secs, 59)->valuedouble, 0.333);
	text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	o = cJSON_Parse(text);
	memset(&back, 0x5a, sizeof back);
	assert_int_equal(usage_parse(o, &back), 0);
	assert_int_equal(back.minute, u.minute);
	for (int i = 0; i < USAGE_MINUTES; i++)
		seconds_equal(back.sec[i], u.sec[i]);
	cJSON_Delete(o);
	free(text);
	/* the init'ed one too */
	usage_init(&u);
	o = usage_json(&u);
	assert_int_equal(usage_parse(o, &back), 0);
	assert_int_equal(memcmp(&back, &u, sizeof u), 0);
	cJSON_Delete(o);
}

static void parse_refuses(const char *minute, const char *first, int n, const char *extra)
{
	char text[1024];
	size_t len;
	struct usage u, init;
	cJSON *o;

	len = (size_t)snprintf(text, sizeof text, "{%s\"minute\": %s, \"seconds\": [%s", extra, minute,
	                       first);
	for (int i = 1; i < n; i++)
		len += (size_t)snprintf(text + len, sizeof text - len, ", 0");
	snprintf(text + len, sizeof text - len, "]}");
	o = cJSON_Parse(text);
	assert_non_null(o);
	memset(&u, 0x5a, sizeof u);
	if (usage_parse(o, &u) != -1)
		print_error("accepted %s\n", text);
	assert_int_equal(usage_parse(o, &u), -1);
	usage_init(&init);
	assert_int_equal(memcmp(&u, &init, sizeof u), 0);
	cJSON_Delete(o);
}

static void test_parse_refuses(void **state)
{
	static const char *const shapes[] = {
		"[]", "{}", "{\"minute\": 5}", "{\"seconds\": []}", "{\"minute\": 5, \"seconds\": {}}", "null"
	};
	struct usage u;
	(void)state;
	for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
		cJSON *o = cJSON_Parse(shapes[i]);
		assert_int_equal(usage_parse(o, &u), -1);
		cJSON_Delete(o);
	}
	assert_int_equal(usage_parse(NULL, &u), -1);
	parse_refuses("1000", "0", 59, "");
	parse_refuses("1000", "0", 61, "");
	parse_refuses("1000", "0", 60, "\"extra\": 1, ");
	parse_refuses("1000", "0", 60, "\"minute\": 1000, ");
	parse_refuses("-1", "0", 60, "");
	parse_refuses("1000.5", "0", 60, "");
	parse_refuses("1e400", "0", 60, "");
	parse_refuses("1e300", "0", 60, "");
	parse_refuses("\"1000\"", "0", 60, "");
	parse_refuses("1000", "-0.001", 60, "");
	parse_refuses("1000", "30720.001", 60, "");
	parse_refuses("1000", "1e400", 60, "");
	parse_refuses("1000", "\"5\"", 60, "");
	parse_refuses("1000", "null", 60, "");
	/* minute 5's oldest bucket is minute -54's */
	parse_refuses("5", "1", 60, "");
}

static void test_parse_edges(void **state)
{
	char text[1024];
	size_t len;
	struct usage u;
	cJSON *o;
	(void)state;
	len = (size_t)snprintf(text, sizeof text, "{\"seconds\": [30720");
	for (int i = 1; i < USAGE_MINUTES; i++)
		len += (size_t)snprintf(text + len, sizeof text - len, ", 0.5");
	snprintf(text + len, sizeof text - len, "], \"minute\": %lld}", (long long)USAGE_MINUTE_MAX);
	o = cJSON_Parse(text);
	assert_int_equal(usage_parse(o, &u), 0);
	assert_int_equal(u.minute, USAGE_MINUTE_MAX);
	seconds_equal(u.sec[(USAGE_MINUTE_MAX - 59) % 60], USAGE_BUCKET_MAX);
	seconds_equal(usage_used(&u, NULL, 0, USAGE_TIME_MAX), USAGE_BUCKET_MAX + 59 * 0.5);
	cJSON_Delete(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init),
		cmocka_unit_test(test_add_splits_at_minute_edges),
		cmocka_unit_test(test_add_drops_the_old_and_the_future),
		cmocka_unit_test(test_rolling_window),
		cmocka_unit_test(test_clock_back),
		cmocka_unit_test(test_running_machines),
		cmocka_unit_test(test_frees_in_without_running),
		cmocka_unit_test(test_frees_in_with_running),
		cmocka_unit_test(test_json_round_trip),
		cmocka_unit_test(test_parse_refuses),
		cmocka_unit_test(test_parse_edges),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
