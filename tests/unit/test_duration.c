/* test_duration.c — duration_parse / duration_format (lib/duration.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "duration.h"

static int64_t parse_ok(const char *s)
{
	int64_t ms = -12345;
	int rc = duration_parse(s, &ms);
	if (rc != 0)
		print_error("duration_parse(\"%s\") refused\n", s);
	assert_int_equal(rc, 0);
	return ms;
}

static void parse_bad(const char *s)
{
	int64_t ms = -12345;
	int rc = duration_parse(s, &ms);
	if (rc != -1)
		print_error("duration_parse(\"%s\") accepted (%lld ms)\n", s ? s : "(null)", (long long)ms);
	assert_int_equal(rc, -1);
}

static void test_bare_number_is_seconds(void **state)
{
	(void)state;
	assert_int_equal(parse_ok("2"), 2000);
	assert_int_equal(parse_ok("0"), 0);
	assert_int_equal(parse_ok("1.5"), 1500);
	assert_int_equal(parse_ok(".5"), 500);
}

static void test_units(void **state)
{
	(void)state;
	assert_int_equal(parse_ok("500ms"), 500);
	assert_int_equal(parse_ok("1ms"), 1);
	assert_int_equal(parse_ok("1.5s"), 1500);
	assert_int_equal(parse_ok("30s"), 30000);
	assert_int_equal(parse_ok("5m"), 300000);
	assert_int_equal(parse_ok("0.5m"), 30000);
	assert_int_equal(parse_ok("1h"), 3600000);
	assert_int_equal(parse_ok("1.25h"), 4500000);
	assert_int_equal(parse_ok("0s"), 0);
}

static void test_rounds_up_to_whole_ms(void **state)
{
	(void)state;
	assert_int_equal(parse_ok("0.5ms"), 1);
	assert_int_equal(parse_ok("1.2ms"), 2);
	assert_int_equal(parse_ok("0.0001s"), 1);
	assert_int_equal(parse_ok("1.0001s"), 1001);
	/* exact decimal values must not be bumped by floating-point noise */
	assert_int_equal(parse_ok("0.1s"), 100);
	assert_int_equal(parse_ok("0.3s"), 300);
	assert_int_equal(parse_ok("2.3"), 2300);
	assert_int_equal(parse_ok("0.7m"), 42000);
}

static void test_thirty_day_limit(void **state)
{
	(void)state;
	assert_int_equal(parse_ok("720h"), 30LL * 24 * 3600 * 1000);
	assert_int_equal(parse_ok("2592000"), 2592000000LL);
	parse_bad("721h");
	parse_bad("2592001s");
	parse_bad("100000000000000000000");
	parse_bad("1e300");
}

static void test_refuses_non_durations(void **state)
{
	(void)state;
	parse_bad(NULL);
	parse_bad("");
	parse_bad("-1");
	parse_bad("-0.5s");
	parse_bad("+1s");
	parse_bad(" 1s");
	parse_bad("1s ");
	parse_bad("1 s");
	parse_bad("s");
	parse_bad("ms");
	parse_bad("abc");
	parse_bad("1d");
	parse_bad("1sec");
	parse_bad("1S");
	parse_bad("1mss");
	parse_bad("1m30s");
	parse_bad("inf");
	parse_bad("nan");
	parse_bad(".");
	parse_bad("1..5s");
}

static void test_refused_leaves_output_alone(void **state)
{
	int64_t ms = 77;
	(void)state;
	assert_int_equal(duration_parse("bogus", &ms), -1);
	assert_int_equal(ms, 77);
}

static void fmt_is(int64_t ms, const char *want)
{
	char buf[64];
	memset(buf, 'X', sizeof buf);
	duration_format(ms, buf, sizeof buf);
	assert_string_equal(buf, want);
}

static void test_format(void **state)
{
	(void)state;
	fmt_is(0, "0ms");
	fmt_is(1, "1ms");
	fmt_is(250, "250ms");
	fmt_is(999, "999ms");
	fmt_is(1000, "1s");
	fmt_is(2000, "2s");
	fmt_is(1500, "1.5s");
	fmt_is(12300, "12.3s");
	fmt_is(1050, "1050ms");
	fmt_is(59000, "59s");
	fmt_is(60000, "1m");
	fmt_is(61000, "61s");
	fmt_is(300000, "5m");
	fmt_is(5400000, "90m");
	fmt_is(3600000, "1h");
	fmt_is(7200000, "2h");
	fmt_is(30LL * 24 * 3600 * 1000, "720h");
}

static void test_format_truncates_safely(void **state)
{
	char buf[4];
	(void)state;
	memset(buf, 'X', sizeof buf);
	duration_format(123456, buf, sizeof buf);
	assert_int_equal(buf[3], '\0');
	assert_int_equal(strlen(buf), 3);
}

static void test_format_parse_round_trip(void **state)
{
	static const int64_t values[] = { 0,        1,
		                          17,       100,
		                          250,      999,
		                          1000,     1001,
		                          1100,     1500,
		                          2000,     12300,
		                          59999,    60000,
		                          61000,    90000,
		                          300000,   5400000,
		                          3600000,  7200000,
		                          86400000, 30LL * 24 * 3600 * 1000 };
	(void)state;
	for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
		char buf[64];
		int64_t back = -1;
		duration_format(values[i], buf, sizeof buf);
		assert_int_equal(duration_parse(buf, &back), 0);
		if (back != values[i])
			print_error("%lld -> \"%s\" -> %lld\n", (long long)values[i], buf, (long long)back);
		assert_int_equal(back, values[i]);
	}
}

/* Tenths of a second print as "12.3s": they must read back exactly, however
 * large (found by tests/fuzz/fuzz_duration.c). */
static void test_round_trip_large_tenths(void **state)
{
	static const int64_t values[] = { 33333300, 123456700, 999999900, 2591999900LL };
	(void)state;
	assert_int_equal(parse_ok("33333.3s"), 33333300);
	assert_int_equal(parse_ok("2591999.9"), 2591999900LL);
	assert_int_equal(parse_ok("0.000000000000000001s"), 1);
	assert_int_equal(parse_ok("1.000000000000000000000000001ms"), 2);
	assert_int_equal(parse_ok("719.99999999999999999h"), 30LL * 24 * 3600 * 1000);
	for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
		char buf[64];
		int64_t back = -1;
		duration_format(values[i], buf, sizeof buf);
		assert_int_equal(duration_parse(buf, &back), 0);
		if (back != values[i])
			print_error("%lld -> \"%s\" -> %lld\n", (long long)values[i], buf, (long long)back);
		assert_int_equal(back, values[i]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bare_number_is_seconds),
		cmocka_unit_test(test_units),
		cmocka_unit_test(test_rounds_up_to_whole_ms),
		cmocka_unit_test(test_thirty_day_limit),
		cmocka_unit_test(test_refuses_non_durations),
		cmocka_unit_test(test_refused_leaves_output_alone),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_format_truncates_safely),
		cmocka_unit_test(test_format_parse_round_trip),
		cmocka_unit_test(test_round_trip_large_tenths),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
