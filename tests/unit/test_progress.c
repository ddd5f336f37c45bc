/* test_progress.c — what a transfer's progress bar shows, and when
 * (lib/progress.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "progress.h"

#define MiB (1024ull * 1024)

/* Columns of a UTF-8 string, one per character. */
static size_t cols(const char *s)
{
	size_t c = 0;
	for (; *s; s++)
		c += ((unsigned char)*s & 0xC0) != 0x80;
	return c;
}

static void test_due_only_after_a_second(void **state)
{
	(void)state;
	assert_false(progress_due(5000, -1, 5000));
	assert_false(progress_due(5000, -1, 5999));
	assert_false(progress_due(5000, -1, 6000)); /* exactly one second: not longer */
	assert_true(progress_due(5000, -1, 6001));
	assert_true(progress_due(0, -1, 3600 * 1000));
}

static void test_due_at_most_ten_times_a_second(void **state)
{
	(void)state;
	assert_false(progress_due(0, 2000, 2000));
	assert_false(progress_due(0, 2000, 2099));
	assert_true(progress_due(0, 2000, 2100));
	assert_true(progress_due(0, 2000, 9000));
}

static void size_is(uint64_t bytes, const char *want)
{
	char buf[32];
	size_t n = progress_size(buf, sizeof buf, bytes);
	assert_string_equal(buf, want);
	assert_int_equal(n, strlen(want));
}

static void test_sizes(void **state)
{
	(void)state;
	size_is(0, "0 B");
	size_is(1, "1 B");
	size_is(1023, "1023 B");
	size_is(1024, "1.0 KiB");
	size_is(1536, "1.5 KiB");
	size_is(64 * MiB, "64.0 MiB");
	size_is(200 * MiB + 512 * 1024, "200.5 MiB");
	size_is(1024 * MiB - 1, "1.0 GiB"); /* never "1024.0 MiB" */
	size_is(5 * 1024 * MiB, "5.0 GiB");
	size_is(UINT64_MAX, "16.0 EiB");
}

static void test_size_truncated_to_cap(void **state)
{
	char buf[4];
	(void)state;
	assert_int_equal(progress_size(buf, sizeof buf, 64 * MiB), 3);
	assert_string_equal(buf, "64.");
}

static void line_is(const char *name, uint64_t done, uint64_t total, int64_t ms, int width, const char *want)
{
	char buf[256];
	size_t n = progress_line(buf, sizeof buf, name, done, total, ms, width);
	assert_string_equal(buf, want);
	assert_int_equal(n, strlen(want));
}

static void test_line_name_percent_sizes_rate(void **state)
{
	(void)state;
	line_is("big.bin", 32 * MiB, 64 * MiB, 2000, 80, "big.bin   50%  32.0 MiB / 64.0 MiB  16.0 MiB/s");
}

static void test_line_edges(void **state)
{
	(void)state;
	/* nothing moved yet, no time passed: no division by zero */
	line_is("f", 0, 10 * MiB, 0, 80, "f    0%  0 B / 10.0 MiB  0 B/s");
	/* an empty file is done */
	line_is("empty", 0, 0, 1500, 80, "empty  100%  0 B / 0 B  0 B/s");
	/* a file that grew past its size says 100%, not more */
	line_is("g", 3000, 2048, 1000, 80, "g  100%  2.9 KiB / 2.0 KiB  2.9 KiB/s");
}

static void test_line_control_characters_shown_as_question_marks(void **state)
{
	char buf[256];
	(void)state;
	progress_line(buf, sizeof buf, "a\nb\rc\033[2Jd\x7f", 1, 2, 2000, 80);
	assert_null(strchr(buf, '\n'));
	assert_null(strchr(buf, '\r'));
	assert_null(strchr(buf, '\033'));
	assert_null(strchr(buf, '\x7f'));
	assert_true(!strncmp(buf, "a?b?c?[2Jd?  ", 13));
}

static void test_line_long_name_cut_to_width(void **state)
{
	char name[300], buf[512];
	(void)state;
	memset(name, 'n', sizeof name - 1);
	name[sizeof name - 1] = 0;
	for (int width = 44; width <= 200; width += 7) {
		size_t n = progress_line(buf, sizeof buf, name, 5 * MiB, 64 * MiB, 3000, width);
		assert_int_equal(n, strlen(buf));
		assert_true(n <= (size_t)width - 1);
		assert_non_null(strstr(buf, "...  "));
		assert_non_null(strstr(buf, "MiB/s"));
		assert_int_equal(buf[0], 'n');
	}
}

static void test_line_narrow_terminal_drops_the_name(void **state)
{
	(void)state;
	line_is("file.bin", 5 * MiB, 64 * MiB, 3000, 40, "  7%  5.0 MiB / 64.0 MiB  1.7 MiB/s");
	line_is("file.bin", 5 * MiB, 64 * MiB, 3000, 12, "  7%  5.0 M");
	line_is("file.bin", 5 * MiB, 64 * MiB, 3000, 0, "");
	/* no name at all: the figures alone */
	line_is("", 5 * MiB, 64 * MiB, 3000, 80, "  7%  5.0 MiB / 64.0 MiB  1.7 MiB/s");
	line_is(NULL, 5 * MiB, 64 * MiB, 3000, 80, "  7%  5.0 MiB / 64.0 MiB  1.7 MiB/s");
}

static void test_line_utf8_name_cut_between_characters(void **state)
{
	char name[200] = "", buf[256];
	(void)state;
	for (int i = 0; i < 60; i++)
		strcat(name, "\xc3\xa9"); /* é */
	progress_line(buf, sizeof buf, name, 1, 2, 2000, 60);
	assert_true(cols(buf) <= 59);
	/* the cut is at a character boundary: "..." follows a whole é */
	assert_non_null(strstr(buf, "\xc3\xa9..."));
	/* a name that fits is shown whole, and its columns, not bytes, count */
	progress_line(buf, sizeof buf, "\xc3\xa9t\xc3\xa9", 1, 2, 2000, 60);
	assert_true(!strncmp(buf, "\xc3\xa9t\xc3\xa9  ", 7));
}

static void test_line_small_buffer(void **state)
{
	char buf[10];
	size_t n;
	(void)state;
	n = progress_line(buf, sizeof buf, "file.bin", 5 * MiB, 64 * MiB, 3000, 200);
	assert_true(n < sizeof buf);
	assert_int_equal(n, strlen(buf));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_due_only_after_a_second),
		cmocka_unit_test(test_due_at_most_ten_times_a_second),
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_size_truncated_to_cap),
		cmocka_unit_test(test_line_name_percent_sizes_rate),
		cmocka_unit_test(test_line_edges),
		cmocka_unit_test(test_line_control_characters_shown_as_question_marks),
		cmocka_unit_test(test_line_long_name_cut_to_width),
		cmocka_unit_test(test_line_narrow_terminal_drops_the_name),
		cmocka_unit_test(test_line_utf8_name_cut_between_characters),
		cmocka_unit_test(test_line_small_buffer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
