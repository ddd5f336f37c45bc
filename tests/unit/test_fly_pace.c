/* test_fly_pace.c — pacing and retry policy for the Machines API
 * (lib/fly/pace.h), on an injected clock and random source. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>

#include "fly/pace.h"

/* A request now, which must be allowed at once. */
static void go(struct fly_pace *p, enum fly_action a, const char *key, int64_t now)
{
	int64_t d = fly_pace_delay(p, a, key, now);
	if (d != 0)
		print_error("action %d key %s at %lld: delay %lld, expected 0\n", (int)a, key, (long long)now,
		            (long long)d);
	assert_int_equal(d, 0);
	fly_pace_sent(p, a, key, now);
}

/* The delay before the next request is in [lo, hi] ms. */
static void delay_in(struct fly_pace *p, enum fly_action a, const char *key, int64_t now, int64_t lo,
                     int64_t hi)
{
	int64_t d = fly_pace_delay(p, a, key, now);
	if (d < lo || d > hi)
		print_error("delay %lld not in [%lld, %lld]\n", (long long)d, (long long)lo, (long long)hi);
	assert_true(d >= lo && d <= hi);
}

static void test_burst_of_three_then_one_per_second(void **state)
{
	struct fly_pace *p = fly_pace_new();
	int64_t t = 1000000;
	(void)state;
	go(p, FLY_ACT_CREATE, "app", t);
	go(p, FLY_ACT_CREATE, "app", t);
	go(p, FLY_ACT_CREATE, "app", t);
	delay_in(p, FLY_ACT_CREATE, "app", t, 1000, 1050);
	delay_in(p, FLY_ACT_CREATE, "app", t + 400, 600, 650);
	/* asking does not take a token */
	delay_in(p, FLY_ACT_CREATE, "app", t + 400, 600, 650);
	t += 400;
	t += fly_pace_delay(p, FLY_ACT_CREATE, "app", t);
	go(p, FLY_ACT_CREATE, "app", t);
	delay_in(p, FLY_ACT_CREATE, "app", t, 950, 1050);
	/* steady state: one a second, never faster */
	for (int i = 0; i < 20; i++) {
		t += fly_pace_delay(p, FLY_ACT_CREATE, "app", t);
		go(p, FLY_ACT_CREATE, "app", t);
	}
	delay_in(p, FLY_ACT_CREATE, "app", t, 950, 1050);
	/* after 3 idle seconds the burst is back */
	t += 3100;
	go(p, FLY_ACT_CREATE, "app", t);
	go(p, FLY_ACT_CREATE, "app", t);
	go(p, FLY_ACT_CREATE, "app", t);
	delay_in(p, FLY_ACT_CREATE, "app", t, 1000, 1050);
	fly_pace_free(p);
}

static void test_twenty_requests_take_seventeen_seconds(void **state)
{
	struct fly_pace *p = fly_pace_new();
	int64_t t0 = 5000, t = t0;
	(void)state;
	for (int i = 0; i < 20; i++) {
		t += fly_pace_delay(p, FLY_ACT_STOP, "m1", t);
		go(p, FLY_ACT_STOP, "m1", t);
	}
	/* 3 at once, then 17 at one a second (plus a little slack each) */
	assert_true(t - t0 >= 17000);
	assert_true(t - t0 <= 17000 + 17 * 50);
	fly_pace_free(p);
}

static void test_get_is_five_per_second_burst_ten(void **state)
{
	struct fly_pace *p = fly_pace_new();
	int64_t t = 0;
	(void)state;
	for (int i = 0; i < 10; i++)
		go(p, FLY_ACT_GET, "m1", t);
	delay_in(p, FLY_ACT_GET, "m1", t, 200, 250);
	t += 200;
	delay_in(p, FLY_ACT_GET, "m1", t, 0, 25);
	t += 25;
	go(p, FLY_ACT_GET, "m1", t);
	delay_in(p, FLY_ACT_GET, "m1", t, 175, 250);
	/* wait is not get: a bucket of its own at 1/s */
	for (int i = 0; i < 3; i++)
		go(p, FLY_ACT_WAIT, "m1", t);
	delay_in(p, FLY_ACT_WAIT, "m1", t, 1000, 1050);
	fly_pace_free(p);
}

static void test_keys_and_actions_are_separate(void **state)
{
	struct fly_pace *p = fly_pace_new();
	static const enum fly_action acts[] = { FLY_ACT_CREATE, FLY_ACT_LIST, FLY_ACT_WAIT, FLY_ACT_STOP,
		                                FLY_ACT_DESTROY };
	(void)state;
	for (size_t a = 0; a < sizeof acts / sizeof acts[0]; a++)
		for (int i = 0; i < 3; i++) {
			go(p, acts[a], "m1", 100);
			go(p, acts[a], "m2", 100);
		}
	for (size_t a = 0; a < sizeof acts / sizeof acts[0]; a++) {
		delay_in(p, acts[a], "m1", 100, 1000, 1050);
		delay_in(p, acts[a], "m2", 100, 1000, 1050);
		delay_in(p, acts[a], "m3", 100, 0, 0);
	}
	fly_pace_free(p);
}

static void test_many_keys_come_and_go(void **state)
{
	struct fly_pace *p = fly_pace_new();
	char key[32];
	int64_t t = 0;
	(void)state;
	for (int i = 0; i < 5000; i++) {
		snprintf(key, sizeof key, "m%d", i);
		go(p, FLY_ACT_DESTROY, key, t);
		t += 10;
	}
	/* the last keys still count their request; old ones are full again */
	delay_in(p, FLY_ACT_DESTROY, key, t, 0, 0);
	go(p, FLY_ACT_DESTROY, key, t);
	go(p, FLY_ACT_DESTROY, key, t);
	delay_in(p, FLY_ACT_DESTROY, key, t, 1, 1050);
	go(p, FLY_ACT_DESTROY, "m0", t);
	go(p, FLY_ACT_DESTROY, "m0", t);
	go(p, FLY_ACT_DESTROY, "m0", t);
	fly_pace_free(p);
}

static void test_429_empties_the_bucket(void **state)
{
	struct fly_pace *p = fly_pace_new();
	(void)state;
	go(p, FLY_ACT_CREATE, "app", 0);
	fly_pace_limited(p, FLY_ACT_CREATE, "app", 0);
	delay_in(p, FLY_ACT_CREATE, "app", 0, 1000, 1050);
	delay_in(p, FLY_ACT_CREATE, "app", 1000, 0, 25);
	/* a 429 does not make a bucket that is already short shorter still */
	for (int i = 0; i < 3; i++)
		go(p, FLY_ACT_LIST, "app", 0);
	fly_pace_sent(p, FLY_ACT_LIST, "app", 0); /* sent too early: -1 */
	fly_pace_limited(p, FLY_ACT_LIST, "app", 0);
	delay_in(p, FLY_ACT_LIST, "app", 0, 2000, 2050);
	fly_pace_free(p);
}

static void test_clock_going_backwards(void **state)
{
	struct fly_pace *p = fly_pace_new();
	(void)state;
	for (int i = 0; i < 3; i++)
		go(p, FLY_ACT_CREATE, "app", 10000);
	delay_in(p, FLY_ACT_CREATE, "app", 9000, 1000, 1050);
	delay_in(p, FLY_ACT_CREATE, "app", 11000, 0, 25);
	fly_pace_free(p);
}

static void test_retryable_statuses(void **state)
{
	static const int yes[] = { 0, 408, 409, 412, 422, 429, 500, 502, 503, 504, 599 };
	static const int no[] = { 200, 201, 204, 301, 400, 401, 403, 404, 405, 410, 413, 600, -1 };
	(void)state;
	for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
		assert_int_equal(fly_retryable(yes[i]), 1);
	for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
		assert_int_equal(fly_retryable(no[i]), 0);
}

static void test_retry_limits(void **state)
{
	(void)state;
	assert_int_equal(fly_retry(500, 1), 1);
	assert_int_equal(fly_retry(500, FLY_MAX_TRIES - 1), 1);
	assert_int_equal(fly_retry(500, FLY_MAX_TRIES), 0);
	assert_int_equal(fly_retry(0, FLY_MAX_TRIES), 0);
	assert_int_equal(fly_retry(404, 1), 0);
	assert_int_equal(fly_retry(400, 1), 0);
	/* rate limits are waited out: the caller's deadline bounds them */
	assert_int_equal(fly_retry(429, FLY_MAX_TRIES * 10), 1);
}

static uint32_t fixed(void *ctx)
{
	return *(uint32_t *)ctx;
}

static uint32_t lcg(void *ctx)
{
	uint32_t *s = ctx;
	*s = *s * 1664525u + 1013904223u;
	return *s;
}

static void test_backoff_bounds(void **state)
{
	uint32_t v = 0, s = 42;
	(void)state;
	/* the smallest draw is 0, the largest the ceiling */
	assert_int_equal(fly_backoff_ms(0, 500, 8000, fixed, &v), 0);
	v = UINT32_MAX;
	assert_int_equal(fly_backoff_ms(0, 500, 8000, fixed, &v), 500);
	assert_int_equal(fly_backoff_ms(1, 500, 8000, fixed, &v), 1000);
	assert_int_equal(fly_backoff_ms(3, 500, 8000, fixed, &v), 4000);
	assert_int_equal(fly_backoff_ms(4, 500, 8000, fixed, &v), 8000);
	assert_int_equal(fly_backoff_ms(5, 500, 8000, fixed, &v), 8000);
	assert_int_equal(fly_backoff_ms(1000, 500, 8000, fixed, &v), 8000);
	assert_int_equal(fly_backoff_ms(70, 1, INT64_MAX, fixed, &v), INT32_MAX);
	v = UINT32_MAX / 2 + 1;
	assert_int_equal(fly_backoff_ms(2, 500, 8000, fixed, &v), 1000);
	assert_int_equal(fly_backoff_ms(0, 0, 8000, fixed, &v), 0);
	/* full jitter: spread over the whole range */
	for (int attempt = 0; attempt < 8; attempt++) {
		int64_t ceil = 500LL << attempt, lo = ceil, hi = 0;
		if (ceil > 8000)
			ceil = 8000;
		for (int i = 0; i < 2000; i++) {
			int64_t d = fly_backoff_ms(attempt, 500, 8000, lcg, &s);
			assert_true(d >= 0 && d <= ceil);
			lo = d < lo ? d : lo;
			hi = d > hi ? d : hi;
		}
		assert_true(lo < ceil / 10);
		assert_true(hi > ceil - ceil / 10);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_burst_of_three_then_one_per_second),
		cmocka_unit_test(test_twenty_requests_take_seventeen_seconds),
		cmocka_unit_test(test_get_is_five_per_second_burst_ten),
		cmocka_unit_test(test_keys_and_actions_are_separate),
		cmocka_unit_test(test_many_keys_come_and_go),
		cmocka_unit_test(test_429_empties_the_bucket),
		cmocka_unit_test(test_clock_going_backwards),
		cmocka_unit_test(test_retryable_statuses),
		cmocka_unit_test(test_retry_limits),
		cmocka_unit_test(test_backoff_bounds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
