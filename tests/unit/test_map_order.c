/* test_map_order.c — --keep-order's window (lib/map/order.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "map/order.h"

static int items[5000];

static void test_in_order_comes_out_at_once(void **state)
{
	struct map_order o;
	(void)state;
	map_order_init(&o, 1);
	map_order_put(&o, 1, &items[1]);
	assert_ptr_equal(map_order_take(&o), &items[1]);
	assert_null(map_order_take(&o));
	map_order_put(&o, 2, &items[2]);
	assert_ptr_equal(map_order_take(&o), &items[2]);
	assert_int_equal(o.held, 0);
	map_order_free(&o);
}

static void test_later_ones_wait_for_the_first(void **state)
{
	struct map_order o;
	(void)state;
	map_order_init(&o, 1);
	map_order_put(&o, 3, &items[3]);
	map_order_put(&o, 2, &items[2]);
	assert_null(map_order_take(&o));
	assert_int_equal(o.held, 2);
	map_order_put(&o, 1, &items[1]);
	assert_ptr_equal(map_order_take(&o), &items[1]);
	assert_ptr_equal(map_order_take(&o), &items[2]);
	assert_ptr_equal(map_order_take(&o), &items[3]);
	assert_null(map_order_take(&o));
	assert_int_equal(o.next, 4);
	map_order_free(&o);
}

/* The window grows past its first size with items kept where they were. */
static void test_a_wide_window_grows(void **state)
{
	struct map_order o;
	(void)state;
	map_order_init(&o, 1);
	for (unsigned long s = 4999; s >= 2; s--)
		map_order_put(&o, s, &items[s]);
	assert_null(map_order_take(&o));
	map_order_put(&o, 1, &items[1]);
	for (unsigned long s = 1; s < 5000; s++)
		assert_ptr_equal(map_order_take(&o), &items[s]);
	assert_null(map_order_take(&o));
	map_order_free(&o);
}

/* A window that slides far: sequence numbers wrap around the ring. */
static void test_sliding_window_wraps(void **state)
{
	struct map_order o;
	(void)state;
	map_order_init(&o, 1);
	for (unsigned long s = 1; s < 4000; s += 2) {
		map_order_put(&o, s + 1, &items[(s + 1) % 5000]);
		map_order_put(&o, s, &items[s % 5000]);
		assert_ptr_equal(map_order_take(&o), &items[s % 5000]);
		assert_ptr_equal(map_order_take(&o), &items[(s + 1) % 5000]);
	}
	assert_true(o.cap <= 16);
	map_order_free(&o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_in_order_comes_out_at_once),
		cmocka_unit_test(test_later_ones_wait_for_the_first),
		cmocka_unit_test(test_a_wide_window_grows),
		cmocka_unit_test(test_sliding_window_wraps),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
