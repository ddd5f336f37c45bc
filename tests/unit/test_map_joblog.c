/* test_map_joblog.c — flame map's --joblog as written (lib/map/joblog.h),
 * against lines GNU parallel 20221122 wrote; read back in
 * test_map_joblog_read.c. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "map/joblog.h"

#define PAR_HEADER "Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\tCommand\n"
#define EXTRA_HEADER \
	"Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\tPool\tSlotWait\tBootWait\tCommand\n"

static void expect_line(const struct joblog_entry *e, int extra, const char *want, size_t wantlen)
{
	size_t len = 0;
	char *line = joblog_line(e, extra, &len);
	assert_int_equal(len, wantlen);
	assert_memory_equal(line, want, wantlen);
	free(line);
}

static void expect_line_s(const struct joblog_entry *e, int extra, const char *want)
{
	expect_line(e, extra, want, strlen(want));
}

static void test_header(void **state)
{
	(void)state;
	assert_string_equal(joblog_header(0), PAR_HEADER);
	assert_string_equal(joblog_header(1), EXTRA_HEADER);
}

static void test_line_as_parallel_writes_it(void **state)
{
	struct joblog_entry e = { .seq = 2,
		                  .host = ":",
		                  .start_ms = 1796455572559,
		                  .runtime_ms = 7,
		                  .receive = 2,
		                  .exitval = 1,
		                  .command = "echo 1; exit 1" };
	(void)state;
	expect_line_s(&e, 0, "2\t:\t1796455572.559\t     0.007\t0\t2\t1\t0\techo 1; exit 1\n");
	e.seq = 1;
	e.exitval = 0;
	e.signal = 9;
	e.receive = 0;
	e.runtime_ms = 1;
	e.command = "kill -9 $$ 1";
	expect_line_s(&e, 0, "1\t:\t1796455572.559\t     0.001\t0\t0\t0\t9\tkill -9 $$ 1\n");
	e.exitval = -1;
	e.signal = 15;
	e.command = "";
	expect_line_s(&e, 0, "1\t:\t1796455572.559\t     0.001\t0\t0\t-1\t15\t\n");
}

static void test_line_numbers_wide_and_clamped(void **state)
{
	struct joblog_entry e = { .seq = 4294967295UL,
		                  .host = "r1",
		                  .start_ms = 5,
		                  .runtime_ms = 12345678123,
		                  .send = UINT64_MAX,
		                  .receive = 1000000,
		                  .command = "x" };
	const char want[] = "4294967295\tr1\t0.005\t12345678.123\t18446744073709551615\t1000000\t0\t0\tx\n";
	(void)state;
	expect_line(&e, 0, want, sizeof want - 1);
	e.start_ms = -5;
	e.runtime_ms = -1;
	e.send = 0;
	const char clamped[] = "4294967295\tr1\t0.000\t     0.000\t0\t1000000\t0\t0\tx\n";
	expect_line(&e, 0, clamped, sizeof clamped - 1);
}

static void test_line_command_keeps_tabs_newlines_as_nul(void **state)
{
	struct joblog_entry e = { .seq = 3, .host = ":", .command = "echo 'a\tb'\necho c\n" };
	const char want[] = "3\t:\t0.000\t     0.000\t0\t0\t0\t0\techo 'a\tb'\0echo c\0\n";
	(void)state;
	expect_line(&e, 0, want, sizeof want - 1);
}

static void test_line_host_and_pool_made_fields(void **state)
{
	struct joblog_entry e = { .seq = 1, .host = "a b\tc\nd", .command = "x", .pool = "p\tq r" };
	const char blank[] = "1\ta_b_c_d\t0.000\t     0.000\t0\t0\t0\t0\tp_q r\t0.000\t0.000\tx\n";
	const char local[] = "1\t:\t0.000\t     0.000\t0\t0\t0\t0\tx\n";
	(void)state;
	expect_line(&e, 1, blank, sizeof blank - 1);
	e.host = "";
	expect_line(&e, 0, local, sizeof local - 1);
	e.host = NULL;
	e.command = NULL;
	const char empty[] = "1\t:\t0.000\t     0.000\t0\t0\t0\t0\t\t0.000\t0.000\t\n";
	e.pool = NULL;
	expect_line(&e, 1, empty, sizeof empty - 1);
}

static void test_line_extra_columns_before_command(void **state)
{
	struct joblog_entry e = { .seq = 7,
		                  .host = "fly-3",
		                  .start_ms = 1796455572554,
		                  .runtime_ms = 9,
		                  .send = 100,
		                  .receive = 2,
		                  .command = "echo\ta",
		                  .pool = "big",
		                  .slot_wait_ms = 1500,
		                  .boot_wait_ms = 12 };
	const char want[] =
		"7\tfly-3\t1796455572.554\t     0.009\t100\t2\t0\t0\tbig\t1.500\t0.012\techo\ta\n";
	(void)state;
	expect_line(&e, 1, want, sizeof want - 1);
}

static void test_write_is_one_whole_line(void **state)
{
	struct joblog_entry e = { .seq = 1, .host = "r", .command = "a\nb" };
	char buf[128];
	size_t len;
	char *line = joblog_line(&e, 1, &len);
	int fd = memfd_create("joblog", 0);
	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(joblog_write(fd, &e, 1), 0);
	assert_int_equal(lseek(fd, 0, SEEK_CUR), (off_t)len);
	assert_int_equal(pread(fd, buf, sizeof buf, 0), (ssize_t)len);
	assert_memory_equal(buf, line, len);
	free(line);
	close(fd);
	assert_int_equal(joblog_write(fd, &e, 0), -1);
}

static void test_round_trip(void **state)
{
	const char *cmds[] = { "echo a", "x\ty", "multi\nline", "", "  spaces  " };
	int extra;
	(void)state;
	for (extra = 0; extra <= 1; extra++) {
		int fd = memfd_create("joblog", 0);
		struct joblog_done *d;
		struct joblog_info info;
		char err[256];
		assert_true(fd >= 0);
		assert_int_equal(write(fd, joblog_header(extra), strlen(joblog_header(extra))),
		                 (ssize_t)strlen(joblog_header(extra)));
		for (unsigned long s = 1; s <= 50; s++) {
			struct joblog_entry e = { .seq = s * 3,
				                  .host = "r 1",
				                  .start_ms = (int64_t)s * 1001,
				                  .runtime_ms = (int64_t)s,
				                  .exitval = (int)(s % 3),
				                  .signal = s % 7 == 0,
				                  .command = cmds[s % 5],
				                  .pool = "p" };
			assert_int_equal(joblog_write(fd, &e, extra), 0);
		}
		assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
		assert_int_equal(joblog_read(fd, 1, &d, &info, err, sizeof err), 0);
		assert_int_equal(info.extra, extra);
		assert_int_equal(info.lines, 50);
		for (unsigned long s = 1; s <= 150; s++)
			assert_int_equal(joblog_done_has(d, s),
			                 s % 3 == 0 && (s / 3) % 3 == 0 && (s / 3) % 7 != 0);
		joblog_done_free(d);
		close(fd);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header),
		cmocka_unit_test(test_line_as_parallel_writes_it),
		cmocka_unit_test(test_line_numbers_wide_and_clamped),
		cmocka_unit_test(test_line_command_keeps_tabs_newlines_as_nul),
		cmocka_unit_test(test_line_host_and_pool_made_fields),
		cmocka_unit_test(test_line_extra_columns_before_command),
		cmocka_unit_test(test_write_is_one_whole_line),
		cmocka_unit_test(test_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
