/* test_price.c — a Fly Machine's price (lib/price.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "price.h"

/* Hours in the 30 days Fly's monthly prices assume. */
#define MONTH_H (30 * 24)

static void near(double got, double want, double within)
{
	if (!(got >= want - within && got <= want + within))
		print_error("got %.9f, want %.9f (within %g)\n", got, want, within);
	assert_true(got >= want - within && got <= want + within);
}

/* The presets Fly's pricing page lists, from its per-second rates; its
 * monthly figures, rounded to the cent, agree. */
static void test_presets(void **state)
{
	(void)state;
	near(price_machine_hour("shared", 1, 256), 0.0030474, 1e-9);
	near(price_machine_hour("shared", 1, 256) * MONTH_H, 2.19, 0.005);
	near(price_machine_hour("performance", 2, 4096), 0.0916704, 1e-9);
	near(price_machine_hour("performance", 2, 4096) * MONTH_H, 66.00, 0.005);
	near(price_machine_hour("performance", 1, 2048) * MONTH_H, 33.00, 0.005);
	near(price_machine_hour("shared", 2, 2048) * MONTH_H, 13.39, 0.005);
	near(price_machine_hour("shared", 1, 512) * MONTH_H, 3.69, 0.005);
}

/* Memory above what the CPUs include is billed per GB. */
static void test_extra_memory(void **state)
{
	(void)state;
	/* 768 MB above the 256 included: 0.75 GB at $0.0083376 per GB-hour */
	near(price_machine_hour("shared", 1, 1024), 0.0030474 + 0.75 * 0.0083376, 1e-9);
	near(price_machine_hour("shared", 1, 1024) * MONTH_H, 6.70, 0.005);
	near(price_machine_hour("performance", 1, 4096) - price_machine_hour("performance", 1, 2048),
	     2 * 0.0083376, 1e-9);
	/* less memory than included is no cheaper */
	near(price_machine_hour("performance", 2, 1024), price_machine_hour("performance", 2, 4096), 1e-12);
	near(price_machine_hour("shared", 4, 0), 4 * 0.0030474, 1e-9);
	/* more CPUs than an int's worth of included MB: no overflow */
	assert_true(price_machine_hour("performance", 2000000, 256) > 0);
}

static void test_unknown_refused(void **state)
{
	(void)state;
	assert_true(price_machine_hour("gpu", 1, 256) == -1);
	assert_true(price_machine_hour("", 1, 256) == -1);
	assert_true(price_machine_hour("Shared", 1, 256) == -1);
	assert_true(price_machine_hour(NULL, 1, 256) == -1);
	assert_true(price_machine_hour("shared", 0, 256) == -1);
	assert_true(price_machine_hour("shared", -1, 256) == -1);
	assert_true(price_machine_hour("shared", 1, -256) == -1);
}

static void test_stopped(void **state)
{
	(void)state;
	near(price_stopped_hour(1) * MONTH_H, 0.15, 1e-12);
	near(price_stopped_hour(8), 8 * 0.15 / MONTH_H, 1e-12);
	assert_true(price_stopped_hour(0) == 0);
	assert_true(price_stopped_hour(-1) == -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_presets),
		cmocka_unit_test(test_extra_memory),
		cmocka_unit_test(test_unknown_refused),
		cmocka_unit_test(test_stopped),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
