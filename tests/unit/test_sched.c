/* test_sched.c — placement and growth rules (lib/warmer/schedule.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>

#include "warmer/schedule.h"

static struct sched_view view(int ready, int booting, int retiring, int waiting, long min, long max, long mc)
{
	struct sched_view v = { ready, booting, retiring, waiting, min, max, mc };
	return v;
}

static int boots(int ready, int booting, int retiring, int waiting, long min, long max, long mc)
{
	struct sched_view v = view(ready, booting, retiring, waiting, min, max, mc);
	return sched_boots_needed(&v);
}

static void test_boots_for_min(void **state)
{
	(void)state;
	assert_int_equal(boots(0, 0, 0, 0, 0, 4, 4), 0);
	assert_int_equal(boots(0, 0, 0, 0, 2, 4, 4), 2);
	assert_int_equal(boots(1, 0, 0, 0, 2, 4, 4), 1);
	assert_int_equal(boots(1, 1, 0, 0, 2, 4, 4), 0); /* a booting runner counts toward min */
	assert_int_equal(boots(0, 2, 0, 0, 2, 4, 4), 0);
	assert_int_equal(boots(3, 0, 0, 0, 2, 4, 4), 0);
	/* retiring runners do not count toward min, but they do count toward max */
	assert_int_equal(boots(0, 0, 1, 0, 2, 4, 4), 2);
	assert_int_equal(boots(0, 0, 3, 0, 2, 4, 4), 1);
	assert_int_equal(boots(0, 0, 4, 0, 2, 4, 4), 0);
	assert_int_equal(boots(0, 0, 0, 0, 4, 4, 1), 4);
}

static void test_one_boot_per_max_concurrency_waiting(void **state)
{
	(void)state;
	assert_int_equal(boots(0, 0, 0, 1, 0, 10, 4), 1);
	assert_int_equal(boots(0, 0, 0, 4, 0, 10, 4), 1);
	assert_int_equal(boots(0, 0, 0, 5, 0, 10, 4), 2);
	assert_int_equal(boots(0, 0, 0, 8, 0, 10, 4), 2);
	assert_int_equal(boots(0, 0, 0, 9, 0, 10, 4), 3);
	assert_int_equal(boots(0, 0, 0, 3, 0, 10, 1), 3);
	/* ready runners that are full do not change how many callers wait */
	assert_int_equal(boots(2, 0, 0, 5, 0, 10, 4), 2);
	/* min and queue needs are not added together: the larger wins */
	assert_int_equal(boots(0, 0, 0, 4, 1, 10, 4), 1);
	assert_int_equal(boots(0, 0, 0, 9, 2, 10, 4), 3);
	assert_int_equal(boots(0, 0, 0, 1, 3, 10, 4), 3);
}

static void test_booting_runners_absorb_waiting(void **state)
{
	(void)state;
	assert_int_equal(boots(0, 1, 0, 1, 0, 10, 4), 0);
	assert_int_equal(boots(0, 1, 0, 4, 0, 10, 4), 0);
	assert_int_equal(boots(0, 1, 0, 5, 0, 10, 4), 1);
	assert_int_equal(boots(0, 2, 0, 8, 0, 10, 4), 0);
	assert_int_equal(boots(0, 2, 0, 13, 0, 10, 4), 2);
	assert_int_equal(boots(0, 3, 0, 2, 0, 10, 1), 0);
	assert_int_equal(boots(0, 3, 0, 4, 0, 10, 1), 1);
}

static void test_never_above_max(void **state)
{
	(void)state;
	assert_int_equal(boots(0, 0, 0, 100, 0, 4, 4), 4);
	assert_int_equal(boots(3, 0, 0, 100, 0, 4, 4), 1);
	assert_int_equal(boots(2, 1, 0, 100, 0, 4, 4), 1);
	assert_int_equal(boots(2, 1, 1, 100, 0, 4, 4), 0); /* retiring ones still exist */
	assert_int_equal(boots(0, 0, 4, 100, 0, 4, 4), 0);
	assert_int_equal(boots(0, 0, 3, 100, 0, 4, 4), 1);
	assert_int_equal(boots(0, 4, 0, 100, 0, 4, 4), 0);
	assert_int_equal(boots(4, 0, 0, 100, 0, 4, 4), 0);
	assert_int_equal(boots(0, 0, 0, 0, 10, 4, 4), 4); /* even min cannot break max */
	/* above max already (after `pool scale` lowered it): never negative */
	assert_int_equal(boots(6, 1, 2, 100, 0, 4, 4), 0);
	assert_int_equal(boots(6, 0, 0, 0, 8, 4, 4), 0);
}

/* Exhaustive small-space property: no result ever takes the runners that
 * exist past max, and the result is never negative. */
static void test_property_max_holds(void **state)
{
	(void)state;
	for (int ready = 0; ready <= 6; ready++)
		for (int booting = 0; booting <= 6; booting++)
			for (int retiring = 0; retiring <= 3; retiring++)
				for (int waiting = 0; waiting <= 20; waiting++)
					for (long min = 0; min <= 5; min++)
						for (long max = 1; max <= 6; max++)
							for (long mc = 1; mc <= 5; mc++) {
								int b = boots(ready, booting, retiring,
								              waiting, min, max, mc);
								long exist = (long)ready + booting + retiring;
								assert_true(b >= 0);
								if (exist + b > max && b > 0) {
									print_error(
										"r%d b%d t%d w%d min%ld max%ld mc%ld -> %d\n",
										ready, booting, retiring,
										waiting, min, max, mc, b);
									fail();
								}
							}
}

static void test_pick_least_loaded(void **state)
{
	int busy[] = { 2, 1, 3, 0 };
	int ready[] = { 1, 1, 1, 1 };
	(void)state;
	assert_int_equal(sched_pick(busy, ready, 4, 4), 3);
	assert_int_equal(sched_pick(busy, ready, 3, 4), 1);
}

static void test_pick_ties_go_to_lower_index(void **state)
{
	int busy[] = { 2, 1, 1, 1 };
	int ready[] = { 1, 1, 1, 1 };
	int zero[] = { 0, 0, 0 };
	(void)state;
	assert_int_equal(sched_pick(busy, ready, 4, 4), 1);
	assert_int_equal(sched_pick(zero, ready, 3, 4), 0);
}

static void test_pick_skips_not_ready_and_full(void **state)
{
	int busy[] = { 0, 4, 1, 2 };
	int ready[] = { 0, 1, 1, 1 };
	int none_ready[] = { 0, 0, 0, 0 };
	int full[] = { 4, 4, 5, 4 };
	int all[] = { 1, 1, 1, 1 };
	(void)state;
	assert_int_equal(sched_pick(busy, ready, 4, 4), 2);
	assert_int_equal(sched_pick(busy, none_ready, 4, 4), -1);
	assert_int_equal(sched_pick(full, all, 4, 4), -1);
	assert_int_equal(sched_pick(full, all, 4, 5), 0);
	assert_int_equal(sched_pick(busy, all, 0, 4), -1);
	{
		int b1[] = { 0 };
		int r1[] = { 1 };
		assert_int_equal(sched_pick(b1, r1, 1, 1), 0);
		b1[0] = 1;
		assert_int_equal(sched_pick(b1, r1, 1, 1), -1);
	}
	/* ready is any non-zero value */
	{
		int b2[] = { 3, 2 };
		int r2[] = { 7, -1 };
		assert_int_equal(sched_pick(b2, r2, 2, 4), 1);
	}
}

static void test_excess(void **state)
{
	struct sched_view v;
	(void)state;
	v = view(4, 0, 0, 0, 0, 4, 4);
	assert_int_equal(sched_excess(&v), 0);
	v = view(2, 1, 0, 0, 0, 4, 4);
	assert_int_equal(sched_excess(&v), 0);
	v = view(5, 0, 0, 0, 0, 4, 4);
	assert_int_equal(sched_excess(&v), 1);
	v = view(5, 1, 0, 0, 0, 4, 4);
	assert_int_equal(sched_excess(&v), 2);
	v = view(0, 3, 0, 0, 0, 1, 4);
	assert_int_equal(sched_excess(&v), 2);
	/* retiring runners are already going: they are not counted again */
	v = view(4, 0, 3, 0, 0, 4, 4);
	assert_int_equal(sched_excess(&v), 0);
	v = view(5, 0, 2, 9, 3, 4, 4);
	assert_int_equal(sched_excess(&v), 1);
}

static void test_idle_spare(void **state)
{
	struct sched_view v;
	(void)state;
	v = view(3, 0, 0, 0, 1, 4, 4);
	assert_int_equal(sched_idle_spare(&v), 2);
	v = view(1, 0, 0, 0, 1, 4, 4);
	assert_int_equal(sched_idle_spare(&v), 0);
	/* booting runners count toward min; retiring ones are going anyway */
	v = view(1, 1, 0, 0, 1, 4, 4);
	assert_int_equal(sched_idle_spare(&v), 1);
	v = view(2, 0, 5, 0, 2, 4, 4);
	assert_int_equal(sched_idle_spare(&v), 0);
	/* below min: never negative */
	v = view(0, 0, 0, 0, 3, 4, 4);
	assert_int_equal(sched_idle_spare(&v), 0);
	v = view(2, 0, 0, 0, 0, 4, 4);
	assert_int_equal(sched_idle_spare(&v), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_boots_for_min),
		cmocka_unit_test(test_one_boot_per_max_concurrency_waiting),
		cmocka_unit_test(test_booting_runners_absorb_waiting),
		cmocka_unit_test(test_never_above_max),
		cmocka_unit_test(test_property_max_holds),
		cmocka_unit_test(test_pick_least_loaded),
		cmocka_unit_test(test_pick_ties_go_to_lower_index),
		cmocka_unit_test(test_pick_skips_not_ready_and_full),
		cmocka_unit_test(test_excess),
		cmocka_unit_test(test_idle_spare),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
