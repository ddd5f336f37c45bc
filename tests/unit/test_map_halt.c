/* test_map_halt.c — --halt and flame map's exit status (lib/map/halt.h).
 * The "parallel:" comments give what GNU parallel 20221122 did with the
 * same jobs (run -j1 unless said), which the test expects of flame. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "map/halt.h"

#define NONE HALT_CONTINUE
#define SOON HALT_STOP_LAUNCHING
#define NOW HALT_KILL_RUNNING

static struct halt_spec parse_ok(const char *s)
{
	struct halt_spec spec;
	char err[256] = "";
	if (halt_parse(s, &spec, err, sizeof err) != 0)
		print_error("halt_parse(\"%s\"): %s\n", s, err);
	assert_string_equal(err, "");
	return spec;
}

static void expect_spec(const char *s, enum halt_when when, enum halt_why why, unsigned long count,
                        unsigned pct)
{
	struct halt_spec spec = parse_ok(s);
	assert_int_equal(spec.when, when);
	if (when == HALT_NEVER)
		return;
	assert_int_equal(spec.why, why);
	assert_int_equal(spec.count, count);
	assert_int_equal(spec.pct, pct);
}

static void parse_bad(const char *s, const char *want)
{
	struct halt_spec spec;
	char err[256] = "";
	if (halt_parse(s, &spec, err, sizeof err) != -1)
		print_error("halt_parse(\"%s\") accepted\n", s ? s : "(null)");
	assert_non_null(strstr(err, want));
	assert_null(strchr(err, '\n'));
	assert_non_null(strstr(err, ", e.g. now,fail=1"));
}

/* Runs jobs ending with the exit values in ev (negative: killed by signal
 * -ev) through spec, checks each action, and returns the exit status. */
static int run(const char *spec_text, const int *ev, const enum halt_action *want, size_t n,
               unsigned long total)
{
	struct halt_spec spec = parse_ok(spec_text);
	struct halt h;
	halt_init(&h, &spec);
	for (size_t i = 0; i < n; i++) {
		int exitval = ev[i] >= 0 ? ev[i] : 0, sig = ev[i] < 0 ? -ev[i] : 0;
		enum halt_action got = halt_job_ended(&h, exitval, sig, 0, total);
		if (got != want[i])
			print_error("%s: job %zu: action %d, want %d\n", spec_text, i + 1, got, want[i]);
		assert_int_equal(got, want[i]);
	}
	return halt_exit_status(&h);
}

#define RUN(spec, total, evs, wants)                                                                         \
	run(spec, (const int[])evs, (const enum halt_action[])wants, sizeof((const int[])evs) / sizeof(int), \
	    total)
#define L(...)              \
	{                   \
		__VA_ARGS__ \
	}

static void test_parse_forms(void **state)
{
	(void)state;
	expect_spec("never", HALT_NEVER, HALT_FAIL, 0, 0);
	expect_spec("now,fail=1", HALT_NOW, HALT_FAIL, 1, 0);
	expect_spec("soon,fail=3", HALT_SOON, HALT_FAIL, 3, 0);
	expect_spec("soon,fail=3%", HALT_SOON, HALT_FAIL, 0, 3);
	expect_spec("now,success=1", HALT_NOW, HALT_SUCCESS, 1, 0);
	expect_spec("soon,success=3", HALT_SOON, HALT_SUCCESS, 3, 0);
	expect_spec("now,success=3%", HALT_NOW, HALT_SUCCESS, 0, 3);
	expect_spec("now,done=1", HALT_NOW, HALT_DONE, 1, 0);
	expect_spec("soon,done=3", HALT_SOON, HALT_DONE, 3, 0);
	expect_spec("now,done=100%", HALT_NOW, HALT_DONE, 0, 100);
	expect_spec("soon,fail=1%", HALT_SOON, HALT_FAIL, 0, 1);
	expect_spec("now,fail=9223372036854775807", HALT_NOW, HALT_FAIL, 9223372036854775807UL, 0);
}

static void test_parse_shorthands(void **state)
{
	(void)state;
	expect_spec("0", HALT_NEVER, HALT_FAIL, 0, 0);
	expect_spec("1", HALT_SOON, HALT_FAIL, 1, 0);
	expect_spec("2", HALT_NOW, HALT_FAIL, 1, 0);
	expect_spec("-1", HALT_SOON, HALT_SUCCESS, 1, 0);
	expect_spec("-2", HALT_NOW, HALT_SUCCESS, 1, 0);
	expect_spec("5%", HALT_SOON, HALT_FAIL, 0, 5);
	expect_spec("100%", HALT_SOON, HALT_FAIL, 0, 100);
}

static void test_parse_refuses(void **state)
{
	char err[256];
	struct halt_spec spec;
	(void)state;
	/* parallel: exit 255 for each of these */
	parse_bad("bogus", "--halt 'bogus': expected never, soon,WHY=N or now,WHY=N");
	parse_bad("3", "--halt '3': expected never");
	parse_bad("now", "--halt 'now': expected never");
	parse_bad("now,fail", "--halt 'now,fail': WHY is fail=N, success=N or done=N");
	parse_bad("now,fail=x", "--halt 'now,fail=x': N is a count from 1 or a percentage from 1% to 100%");
	parse_bad("soon,oops=1", "WHY is fail=N");
	/* parallel takes these; they are refused as meaningless */
	parse_bad("now,fail=0", "N is a count from 1");
	parse_bad("now,fail=0%", "N is a count from 1");
	parse_bad("now,fail=101%", "N is a count from 1");
	parse_bad("0%", "--halt '0%': the percentage is from 1% to 100%");
	parse_bad("101%", "the percentage is from 1% to 100%");
	parse_bad("never,fail=1", "expected never");
	/* no sign, blank, case or trailing junk */
	parse_bad("now,fail=+1", "N is a count");
	parse_bad("now,fail=-1", "N is a count");
	parse_bad("now,fail= 1", "N is a count");
	parse_bad("now,fail=1 ", "N is a count");
	parse_bad("now,fail=1x", "N is a count");
	parse_bad("now,fail=1%%", "N is a count");
	parse_bad("now,fail=99999999999999999999", "N is a count");
	parse_bad("NOW,fail=1", "expected never");
	parse_bad("", "--halt '': expected never");
	/* a spec that would not print as one short line is not quoted */
	parse_bad("now,fail=1\nx", "--halt: N is a count");
	parse_bad("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
	          "--halt: expected never");
	assert_int_equal(halt_parse(NULL, &spec, err, sizeof err), -1);
	assert_string_equal(err, "--halt: no spec, e.g. now,fail=1");
	assert_int_equal(halt_parse("x", &spec, err, sizeof err), -1);
	assert_string_equal(
		err, "--halt 'x': expected never, soon,WHY=N or now,WHY=N (or 0, 1, 2, -1, -2, N%), e.g. "
		     "now,fail=1");
}

static void test_needs_total(void **state)
{
	struct halt_spec a = parse_ok("soon,fail=3%"), b = parse_ok("soon,fail=3"), c = parse_ok("never");
	(void)state;
	assert_true(halt_needs_total(&a));
	assert_false(halt_needs_total(&b));
	assert_false(halt_needs_total(&c));
}

/* Without --halt: the number of failed jobs, 101 for more than 100. */
static void test_never_counts_failures(void **state)
{
	int boundary[] = { 0, 1, 2, 100, 101, 102, 1000 }, want[] = { 0, 1, 2, 100, 101, 101, 101 };
	(void)state;
	for (size_t i = 0; i < sizeof boundary / sizeof boundary[0]; i++) {
		struct halt_spec spec = parse_ok("never");
		struct halt h;
		halt_init(&h, &spec);
		for (int j = 0; j < boundary[i] + 5; j++)
			assert_int_equal(halt_job_ended(&h, j < boundary[i] ? 1 + j % 3 : 0, 0, 0, 0), NONE);
		assert_int_equal(halt_exit_status(&h), want[i]);
		assert_int_equal(h.done, (unsigned long)boundary[i] + 5);
		assert_int_equal(h.failed, (unsigned long)boundary[i]);
	}
	/* parallel: --halt never ::: 0 4 1 => 2 */
	assert_int_equal(RUN("never", 3, L(0, 4, 1), L(NONE, NONE, NONE)), 2);
	/* a signal is a failure */
	assert_int_equal(RUN("0", 0, L(-9, 0), L(NONE, NONE)), 1);
}

/* fail=1 exits with the status of the job that failed. */
static void test_fail_one_gives_job_status(void **state)
{
	(void)state;
	/* parallel: --halt now,fail=1 'exit {}' ::: 3 => 3; kill -9 $$ => 137 */
	assert_int_equal(RUN("now,fail=1", 1, L(3), L(NOW)), 3);
	assert_int_equal(RUN("now,fail=1", 1, L(-9), L(NOW)), 137);
	assert_int_equal(RUN("now,fail=1", 1, L(-15), L(NOW)), 143);
	/* parallel: --halt soon,fail=1 ::: 0 5 7 => 5 (7 never starts) */
	assert_int_equal(RUN("soon,fail=1", 3, L(0, 5), L(NONE, SOON)), 5);
	/* parallel: --halt 2 ::: 0 4 1 => 4, --halt 1 ::: 0 4 1 => 4 */
	assert_int_equal(RUN("2", 3, L(0, 4), L(NONE, NOW)), 4);
	assert_int_equal(RUN("1", 3, L(0, 4), L(NONE, SOON)), 4);
	/* parallel: --halt soon,fail=1 ::: 0 0 300 => 44 (the shell's 300 & 255) */
	assert_int_equal(RUN("soon,fail=1", 3, L(0, 0, 44), L(NONE, NONE, SOON)), 44);
}

static void test_fail_timeout_is_255(void **state)
{
	struct halt_spec spec = parse_ok("now,fail=1");
	struct halt h;
	(void)state;
	/* parallel: --halt now,fail=1 --timeout 0.2 'sleep {}' ::: 1 => 255
	 * (Exitval -1, Signal 15 in its joblog) */
	halt_init(&h, &spec);
	assert_int_equal(halt_job_ended(&h, -1, 15, 0, 1), NOW);
	assert_int_equal(halt_exit_status(&h), 255);
	/* parallel: --timeout 0.2 'sleep {}' ::: 1 => 1 */
	spec = parse_ok("never");
	halt_init(&h, &spec);
	assert_int_equal(halt_job_ended(&h, -1, 15, 0, 1), NONE);
	assert_int_equal(halt_exit_status(&h), 1);
}

/* fail=N, N > 1: the number of failures when it fired, kept after. */
static void test_fail_count(void **state)
{
	(void)state;
	/* parallel: --halt soon,fail=2 ::: 0 5 7 9 => 2 */
	assert_int_equal(RUN("soon,fail=2", 4, L(0, 5, 7), L(NONE, NONE, SOON)), 2);
	/* parallel -j4: --halt soon,fail=2 'sleep 0.{}; exit {}' ::: 1 2 3 4
	 * => 2: the two that end after it fired do not count */
	assert_int_equal(RUN("soon,fail=2", 4, L(1, 2, 3, 4), L(NONE, SOON, SOON, SOON)), 2);
	/* after it fired, a success still gets the action */
	assert_int_equal(RUN("soon,fail=2", 4, L(1, 2, 0), L(NONE, SOON, SOON)), 2);
	/* parallel: --halt soon,fail=2 ::: 0 5 => 1: never fired */
	assert_int_equal(RUN("soon,fail=2", 2, L(0, 5), L(NONE, NONE)), 1);
	assert_int_equal(RUN("now,fail=3", 0, L(1, 0, 1, 0, 1), L(NONE, NONE, NONE, NONE, NOW)), 3);
}

static void test_fail_count_boundaries(void **state)
{
	const unsigned long ns[] = { 100, 101, 150 };
	const int want[] = { 100, 101, 101 };
	(void)state;
	for (size_t i = 0; i < 3; i++) {
		struct halt_spec spec = parse_ok(i == 0   ? "now,fail=100"
		                                 : i == 1 ? "now,fail=101"
		                                          : "now,fail=150");
		struct halt h;
		halt_init(&h, &spec);
		for (unsigned long j = 1; j < ns[i]; j++)
			assert_int_equal(halt_job_ended(&h, 1, 0, 0, 0), NONE);
		assert_int_equal(halt_job_ended(&h, 1, 0, 0, 0), NOW);
		assert_int_equal(halt_exit_status(&h), want[i]);
	}
}

static void test_success(void **state)
{
	(void)state;
	/* parallel: --halt now,success=1 ::: 3 0 5 => 0 */
	assert_int_equal(RUN("now,success=1", 3, L(3, 0), L(NONE, NOW)), 0);
	/* parallel: --halt -1 ::: 3 0 1 => 0 */
	assert_int_equal(RUN("-1", 3, L(3, 0, 1), L(NONE, SOON, SOON)), 0);
	/* parallel: --halt soon,success=2 ::: 3 0 5 => 2: never fired */
	assert_int_equal(RUN("soon,success=2", 3, L(3, 0, 5), L(NONE, NONE, NONE)), 2);
	assert_int_equal(RUN("-2", 3, L(0), L(NOW)), 0);
	assert_int_equal(RUN("soon,success=2", 3, L(0, 0), L(NONE, SOON)), 0);
}

static void test_done(void **state)
{
	(void)state;
	/* parallel: --halt now,done=1 ::: 3 0 5 => 3 (the job's status) */
	assert_int_equal(RUN("now,done=1", 3, L(3), L(NOW)), 3);
	assert_int_equal(RUN("now,done=1", 3, L(0), L(NOW)), 0);
	/* parallel: --halt now,done=2 ::: 3 0 5 => 1 */
	assert_int_equal(RUN("now,done=2", 3, L(3, 0), L(NONE, NOW)), 1);
	/* parallel: --halt soon,done=2 ::: 0 3 5 => 1 */
	assert_int_equal(RUN("soon,done=2", 3, L(0, 3), L(NONE, SOON)), 1);
	/* parallel exits 101 here (its count of failures is unset); flame: 0 */
	assert_int_equal(RUN("now,done=2", 3, L(0, 0), L(NONE, NOW)), 0);
}

static void test_percentages(void **state)
{
	(void)state;
	/* 10 jobs, two fail (the 2nd and the 4th) */
	/* parallel: --halt now,fail=25% => 20 (2 < 2.5: never fired, 2/10) */
	assert_int_equal(RUN("now,fail=25%", 10, L(0, 3, 0, 4, 0, 0, 0, 0, 0, 0),
	                     L(NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE)),
	                 20);
	/* parallel: --halt now,fail=20% => 20, fired by the 4th */
	assert_int_equal(RUN("now,fail=20%", 10, L(0, 3, 0, 4), L(NONE, NONE, NONE, NOW)), 20);
	/* parallel: --halt now,fail=30% => 20 */
	assert_int_equal(RUN("now,fail=30%", 10, L(0, 3, 0, 4, 0, 0, 0, 0, 0, 0),
	                     L(NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE)),
	                 20);
	/* parallel: --halt now,success=30% ::: 1 1 1 1 0 0 0 0 0 0 => 0 */
	assert_int_equal(RUN("now,success=30%", 10, L(1, 1, 1, 1, 0, 0, 0),
	                     L(NONE, NONE, NONE, NONE, NONE, NONE, NOW)),
	                 0);
	/* parallel: --halt now,success=90% => 40 (never fired: 4/10 failed) */
	assert_int_equal(RUN("now,success=90%", 10, L(1, 1, 1, 1, 0, 0, 0, 0, 0, 0),
	                     L(NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE)),
	                 40);
	/* parallel: --halt 5% ::: 0 4 1 => 34 (1 of 3, rounded up) */
	assert_int_equal(RUN("5%", 3, L(0, 4), L(NONE, SOON)), 34);
	/* done=N%: the failed share of all, when it fired */
	assert_int_equal(RUN("soon,done=50%", 4, L(1, 0), L(NONE, SOON)), 25);
	assert_int_equal(RUN("now,done=100%", 3, L(0, 0, 0), L(NONE, NONE, NOW)), 0);
	/* exact: 7% of 100 is 7 (parallel's 0.07 * 100 is a little over 7) */
	{
		struct halt_spec spec = parse_ok("now,fail=7%");
		struct halt h;
		halt_init(&h, &spec);
		for (int i = 0; i < 6; i++)
			assert_int_equal(halt_job_ended(&h, 1, 0, 0, 100), NONE);
		assert_int_equal(halt_job_ended(&h, 1, 0, 0, 100), NOW);
		assert_int_equal(halt_exit_status(&h), 7);
	}
}

/* Until the caller knows the total, a percentage does not fire; the first
 * job to end once it is known fires it. */
static void test_percentage_unknown_total(void **state)
{
	struct halt_spec spec = parse_ok("soon,fail=10%");
	struct halt h;
	(void)state;
	halt_init(&h, &spec);
	for (int i = 0; i < 5; i++)
		assert_int_equal(halt_job_ended(&h, 1, 0, 0, HALT_TOTAL_UNKNOWN), NONE);
	assert_int_equal(halt_job_ended(&h, 0, 0, 0, 100), NONE); /* 5 < 10 */
	assert_int_equal(halt_job_ended(&h, 0, 0, 0, 50), SOON);  /* 5 >= 5 */
	assert_int_equal(halt_exit_status(&h), 10);
	/* ended without knowing: the failed share of the jobs that ended */
	halt_init(&h, &spec);
	assert_int_equal(halt_job_ended(&h, 1, 0, 0, HALT_TOTAL_UNKNOWN), NONE);
	assert_int_equal(halt_job_ended(&h, 0, 0, 0, HALT_TOTAL_UNKNOWN), NONE);
	assert_int_equal(halt_job_ended(&h, 0, 0, 0, HALT_TOTAL_UNKNOWN), NONE);
	assert_int_equal(halt_exit_status(&h), 34);
	halt_init(&h, &spec);
	assert_int_equal(halt_exit_status(&h), 0);
}

/* A job flame failed is a failure, and the run exits 255 whatever else. */
static void test_flame_failure(void **state)
{
	struct halt_spec spec = parse_ok("now,fail=1");
	struct halt h;
	(void)state;
	halt_init(&h, &spec);
	assert_int_equal(halt_job_ended(&h, 0, 0, 1, 3), NOW);
	assert_int_equal(h.failed, 1);
	assert_int_equal(halt_exit_status(&h), 255);
	spec = parse_ok("never");
	halt_init(&h, &spec);
	for (int i = 0; i < 200; i++)
		halt_job_ended(&h, 1, 0, 0, 0);
	assert_int_equal(halt_exit_status(&h), 101);
	assert_int_equal(halt_job_ended(&h, 255, 0, 1, 0), NONE);
	assert_int_equal(halt_exit_status(&h), 255);
	spec = parse_ok("now,success=1");
	halt_init(&h, &spec);
	assert_int_equal(halt_job_ended(&h, 255, 0, 1, 0), NONE);
	assert_int_equal(halt_job_ended(&h, 0, 0, 0, 0), NOW);
	assert_int_equal(halt_exit_status(&h), 255);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_forms),
		cmocka_unit_test(test_parse_shorthands),
		cmocka_unit_test(test_parse_refuses),
		cmocka_unit_test(test_needs_total),
		cmocka_unit_test(test_never_counts_failures),
		cmocka_unit_test(test_fail_one_gives_job_status),
		cmocka_unit_test(test_fail_timeout_is_255),
		cmocka_unit_test(test_fail_count),
		cmocka_unit_test(test_fail_count_boundaries),
		cmocka_unit_test(test_success),
		cmocka_unit_test(test_done),
		cmocka_unit_test(test_percentages),
		cmocka_unit_test(test_percentage_unknown_total),
		cmocka_unit_test(test_flame_failure),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
