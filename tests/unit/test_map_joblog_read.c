/* test_map_joblog_read.c — flame map's --joblog read back for --resume
 * and --resume-failed (lib/map/joblog.h).  The parallel logs below were
 * written by GNU parallel 20221122. */
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

/* parallel --joblog jl 'echo {}; exit {}' ::: 0 1 2 */
#define PAR_EXIT                                                                    \
	PAR_HEADER "1\t:\t1796455572.554\t     0.009\t0\t2\t0\t0\techo 0; exit 0\n" \
		   "2\t:\t1796455572.559\t     0.007\t0\t2\t1\t0\techo 1; exit 1\n" \
		   "3\t:\t1796455572.567\t     0.003\t0\t2\t2\t0\techo 2; exit 2\n"
/* a job killed by a signal, one killed by --timeout, a tab and a newline
 * (written as a NUL) in commands */
#define PAR_ODD                                                                           \
	PAR_HEADER "1\t:\t1796455124.785\t     0.001\t0\t0\t0\t9\tkill -9 $$ 1\n"         \
		   "2\t:\t1796455574.414\t     0.634\t0\t0\t-1\t15\tsleep 1\n"            \
		   "3\t:\t1796455125.087\t     0.004\t0\t4\t0\t0\tsleep 0; echo 'a\tb'\n" \
		   "4\t:\t1796455129.458\t     0.003\t0\t4\t0\t0\techo 'a\0b'\n"

static int fd_with(const char *bytes, size_t n)
{
	int fd = memfd_create("joblog", 0);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, bytes, n), (ssize_t)n);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	return fd;
}

/* Reads text both ways (string and descriptor), checks they agree, and
 * returns the set. */
static struct joblog_done *read_ok(const char *text, size_t len, int failed, struct joblog_info *info)
{
	char err[256] = "";
	struct joblog_done *d = NULL, *d2 = NULL;
	struct joblog_info info2;
	int fd = fd_with(text, len);

	if (joblog_parse(text, len, failed, &d, info, err, sizeof err) != 0)
		print_error("refused: %s\n", err);
	assert_non_null(d);
	assert_int_equal(joblog_read(fd, failed, &d2, &info2, err, sizeof err), 0);
	close(fd);
	assert_memory_equal(info, &info2, sizeof info2);
	assert_int_equal(joblog_done_count(d), joblog_done_count(d2));
	for (unsigned long s = 0; (s = joblog_done_next(d, s)) != 0;)
		assert_true(joblog_done_has(d2, s));
	joblog_done_free(d2);
	return d;
}

/* Refused both ways with the same one-line reason, which contains want. */
static void read_bad(const char *text, size_t len, const char *want)
{
	char err[256] = "", err2[256] = "";
	struct joblog_done *d = (struct joblog_done *)1;
	struct joblog_info info;
	int fd = fd_with(text, len);

	assert_int_equal(joblog_parse(text, len, 0, &d, &info, err, sizeof err), -1);
	assert_null(d);
	assert_int_equal(joblog_read(fd, 1, &d, &info, err2, sizeof err2), -1);
	close(fd);
	if (!strstr(err, want))
		print_error("error \"%s\" lacks \"%s\"\n", err, want);
	assert_non_null(strstr(err, want));
	assert_string_equal(err, err2);
	assert_null(strchr(err, '\n'));
}

static void read_bad_s(const char *text, const char *want)
{
	read_bad(text, strlen(text), want);
}

static void expect_set(const struct joblog_done *d, const unsigned long *seqs, size_t n)
{
	unsigned long s = 0;
	for (size_t i = 0; i < n; i++) {
		s = joblog_done_next(d, s);
		assert_int_equal(s, seqs[i]);
		assert_true(joblog_done_has(d, s));
	}
	assert_int_equal(joblog_done_next(d, s), 0);
	assert_int_equal(joblog_done_count(d), n);
}

static void test_read_parallel_log(void **state)
{
	struct joblog_info info;
	struct joblog_done *d;
	const unsigned long all[] = { 1, 2, 3 }, ok[] = { 1 };
	(void)state;
	d = read_ok(PAR_EXIT, sizeof PAR_EXIT - 1, 0, &info);
	expect_set(d, all, 3);
	assert_int_equal(info.header, 1);
	assert_int_equal(info.extra, 0);
	assert_int_equal(info.lines, 3);
	assert_int_equal(info.whole_len, sizeof PAR_EXIT - 1);
	assert_false(joblog_done_has(d, 0));
	assert_false(joblog_done_has(d, 4));
	joblog_done_free(d);
	d = read_ok(PAR_EXIT, sizeof PAR_EXIT - 1, 1, &info);
	expect_set(d, ok, 1);
	joblog_done_free(d);
}

static void test_read_signals_timeouts_tabs_nuls(void **state)
{
	struct joblog_info info;
	struct joblog_done *d;
	const unsigned long all[] = { 1, 2, 3, 4 }, ok[] = { 3, 4 };
	(void)state;
	d = read_ok(PAR_ODD, sizeof PAR_ODD - 1, 0, &info);
	expect_set(d, all, 4);
	joblog_done_free(d);
	d = read_ok(PAR_ODD, sizeof PAR_ODD - 1, 1, &info);
	expect_set(d, ok, 2);
	assert_int_equal(info.lines, 4);
	joblog_done_free(d);
}

static void test_read_extra_columns(void **state)
{
	const char log[] =
		EXTRA_HEADER "5\tr\t1.000\t     2.000\t3\t4\t1\t0\tp\t0.500\t0.000\tcmd\twith tab\n"
			     "6\tr\t1.000\t     2.000\t3\t4\t0\t0\t\t0.500\t0.000\t\n";
	struct joblog_info info;
	struct joblog_done *d;
	const unsigned long all[] = { 5, 6 }, ok[] = { 6 };
	(void)state;
	d = read_ok(log, sizeof log - 1, 0, &info);
	expect_set(d, all, 2);
	assert_int_equal(info.extra, 1);
	joblog_done_free(d);
	d = read_ok(log, sizeof log - 1, 1, &info);
	expect_set(d, ok, 1);
	joblog_done_free(d);
	/* parallel's own line, 9 fields, under the extra header */
	read_bad_s(EXTRA_HEADER "1\t:\t1.0\t1.0\t0\t0\t0\t0\tcmd\n",
	           "line 2: has fewer than 12 tab-separated fields");
}

/* A job re-run by --resume-failed has a second line: a success anywhere
 * makes the Seq done. */
static void test_read_rerun_lines_union(void **state)
{
	const char log[] = PAR_HEADER "2\t:\t1.0\t1.0\t0\t0\t1\t0\tx\n"
				      "1\t:\t1.0\t1.0\t0\t0\t0\t0\tx\n"
				      "2\t:\t1.0\t1.0\t0\t0\t0\t0\tx\n"
				      "3\t:\t1.0\t1.0\t0\t0\t0\t0\tx\n"
				      "3\t:\t1.0\t1.0\t0\t0\t0\t2\tx\n";
	struct joblog_info info;
	struct joblog_done *d;
	const unsigned long all[] = { 1, 2, 3 };
	(void)state;
	d = read_ok(log, sizeof log - 1, 1, &info);
	expect_set(d, all, 3);
	assert_int_equal(info.lines, 5);
	joblog_done_free(d);
}

static void test_read_torn_last_line_ignored(void **state)
{
	const char log[] = PAR_HEADER "1\t:\t1.0\t1.0\t0\t0\t0\t0\tx\n2\t:\t17";
	const char torn_whole[] = PAR_HEADER "1\t:\t1.0\t1.0\t0\t0\t0\t0\tx\n2\t:\t1.0\t1.0\t0\t0\t0\t0\tx";
	struct joblog_info info;
	struct joblog_done *d;
	const unsigned long one[] = { 1 };
	(void)state;
	d = read_ok(log, sizeof log - 1, 0, &info);
	expect_set(d, one, 1);
	assert_int_equal(info.whole_len, sizeof log - 1 - strlen("2\t:\t17"));
	assert_int_equal(info.lines, 1);
	joblog_done_free(d);
	/* a line without its newline is torn even when it looks whole */
	d = read_ok(torn_whole, sizeof torn_whole - 1, 0, &info);
	expect_set(d, one, 1);
	joblog_done_free(d);
	/* garbage after the last newline too: a crash can leave anything */
	d = read_ok(PAR_HEADER "\0\0\0", sizeof PAR_HEADER + 2, 0, &info);
	expect_set(d, one, 0);
	assert_int_equal(info.header, 1);
	assert_int_equal(info.whole_len, sizeof PAR_HEADER - 1);
	joblog_done_free(d);
}

static void test_read_empty_and_torn_header(void **state)
{
	struct joblog_info info;
	struct joblog_done *d;
	(void)state;
	d = read_ok("", 0, 0, &info);
	assert_int_equal(joblog_done_count(d), 0);
	assert_int_equal(info.header, 0);
	assert_int_equal(info.whole_len, 0);
	joblog_done_free(d);
	d = read_ok("Seq\tHost\tSta", 12, 1, &info);
	assert_int_equal(info.header, 0);
	assert_int_equal(info.whole_len, 0);
	joblog_done_free(d);
	d = read_ok(EXTRA_HEADER, sizeof EXTRA_HEADER - 2, 1, &info);
	assert_int_equal(info.header, 0);
	joblog_done_free(d);
	read_bad_s("hello", "line 1: not a joblog");
	read_bad_s("Seq\tHosts", "line 1: not a joblog");
}

static void test_read_refuses_non_joblogs(void **state)
{
	(void)state;
	read_bad_s("hello\n", "line 1: not a joblog: the first line is not GNU parallel's header");
	read_bad_s("Seq\tHost\n", "line 1: not a joblog");
	read_bad_s("seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\tCommand\n",
	           "line 1: not a joblog");
	read_bad_s(PAR_HEADER "\n", "line 2: has fewer than 9 tab-separated fields");
	read_bad_s(PAR_HEADER "1\t:\t1.0\t1.0\t0\t0\t0\t0\n", "line 2: has fewer than 9");
	read_bad_s(PAR_HEADER "x\t:\t1.0\t1.0\t0\t0\t0\t0\tc\n",
	           "line 2: Seq is not a number from 1 to 4294967295");
	read_bad_s(PAR_HEADER "0\t:\t1.0\t1.0\t0\t0\t0\t0\tc\n", "line 2: Seq is not");
	read_bad_s(PAR_HEADER "-1\t:\t1.0\t1.0\t0\t0\t0\t0\tc\n", "line 2: Seq is not");
	read_bad_s(PAR_HEADER "4294967296\t:\t1.0\t1.0\t0\t0\t0\t0\tc\n", "line 2: Seq is not");
	read_bad_s(PAR_HEADER "1\t:\tnow\t1.0\t0\t0\t0\t0\tc\n", "line 2: Starttime is not a number");
	read_bad_s(PAR_HEADER "1\t:\t1.0\t1.0\t0\t0\t1.5\t0\tc\n", "line 2: Exitval is not a whole number");
	read_bad_s(PAR_HEADER "1\t:\t1.0\t1.0\t0\t0\t0\t 1\tc\n", "line 2: Signal is not a whole number");
	read_bad_s(PAR_HEADER "1\t:\t1.0\t1.0\t0\t0\t99999999999\t0\tc\n",
	           "line 2: Exitval is not a whole number");
	read_bad_s(PAR_HEADER "1\t:\t1.0\t1.0\t\t0\t0\t0\tc\n", "line 2: Send is not a number");
	read_bad_s(EXTRA_HEADER "1\t:\t1.0\t1.0\t0\t0\t0\t0\tp\tsoon\t0\tc\n",
	           "line 2: SlotWait is not a number");
}

/* A line longer than a read; a read from the descriptor's offset. */
static void test_read_long_line_and_offset(void **state)
{
	const char head[] = PAR_HEADER "9\t:\t1.0\t1.0\t0\t0\t0\t0\t";
	size_t n = sizeof head - 1 + 300000;
	char *log = malloc(n + 1), err[256];
	struct joblog_done *d;
	struct joblog_info info;
	int fd;
	(void)state;
	assert_non_null(log);
	memset(log, 'a', n);
	memcpy(log, head, sizeof head - 1);
	log[n] = '\n';
	d = read_ok(log, n + 1, 0, &info);
	assert_true(joblog_done_has(d, 9));
	joblog_done_free(d);
	fd = fd_with(log, n + 1);
	assert_int_equal(lseek(fd, 1, SEEK_SET), 1);
	assert_int_equal(joblog_read(fd, 0, &d, &info, err, sizeof err), -1);
	assert_string_equal(err,
	                    "line 1: not a joblog: the first line is not GNU parallel's header (Seq, Host, "
	                    "Starttime, ...)");
	close(fd);
	free(log);
}

static void test_read_refuses_huge_line(void **state)
{
	size_t n = (16u << 20) + 1000;
	char *log = malloc(n);
	(void)state;
	assert_non_null(log);
	memset(log, 'x', n);
	memcpy(log, PAR_HEADER, sizeof PAR_HEADER - 1);
	read_bad(log, n, "line 2: longer than 16 MiB: not a joblog");
	log[n - 1] = '\n';
	read_bad(log, n, "line 2: longer than 16 MiB: not a joblog");
	free(log);
}

static void test_set_sparse_and_empty(void **state)
{
	char *log = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&log, &len);
	struct joblog_info info;
	struct joblog_done *d;
	const unsigned long seqs[] = { 1, 65535, 65536, 65537, 1000000, 4294967295UL };
	(void)state;
	assert_non_null(f);
	fputs(PAR_HEADER, f);
	for (size_t i = 6; i-- > 0;)
		fprintf(f, "%lu\t:\t1.0\t1.0\t0\t0\t0\t0\tc\n", seqs[i]);
	fprintf(f, "65536\t:\t1.0\t1.0\t0\t0\t0\t0\tc\n");
	fclose(f);
	d = read_ok(log, len, 0, &info);
	expect_set(d, seqs, 6);
	assert_false(joblog_done_has(d, 2));
	assert_false(joblog_done_has(d, 4294967294UL));
	assert_int_equal(joblog_done_next(d, 4294967295UL), 0);
	assert_int_equal(info.lines, 7);
	joblog_done_free(d);
	free(log);
	assert_false(joblog_done_has(NULL, 1));
	assert_int_equal(joblog_done_count(NULL), 0);
	assert_int_equal(joblog_done_next(NULL, 0), 0);
	joblog_done_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_parallel_log),
		cmocka_unit_test(test_read_signals_timeouts_tabs_nuls),
		cmocka_unit_test(test_read_extra_columns),
		cmocka_unit_test(test_read_rerun_lines_union),
		cmocka_unit_test(test_read_torn_last_line_ignored),
		cmocka_unit_test(test_read_empty_and_torn_header),
		cmocka_unit_test(test_read_refuses_non_joblogs),
		cmocka_unit_test(test_read_long_line_and_offset),
		cmocka_unit_test(test_read_refuses_huge_line),
		cmocka_unit_test(test_set_sparse_and_empty),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
