/* test_map_input.c — flame map's input records (lib/map/input.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "map/input.h"

/* A descriptor that reads back the n bytes given. */
static int fd_with(const char *bytes, size_t n)
{
	int fd = memfd_create("input", 0);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, bytes, n), (ssize_t)n);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	return fd;
}

static void expect_record(struct map_input *in, const char *want, size_t wantlen)
{
	const char *rec;
	size_t len;
	assert_int_equal(map_input_next(in, &rec, &len), 1);
	assert_int_equal(len, wantlen);
	assert_memory_equal(rec, want, wantlen);
	assert_int_equal(rec[len], '\0');
}

static void expect_end(struct map_input *in)
{
	const char *rec;
	size_t len;
	assert_int_equal(map_input_next(in, &rec, &len), 0);
	assert_int_equal(map_input_next(in, &rec, &len), 0);
}

static void test_lines_empty_ones_included(void **state)
{
	int fd = fd_with("a\n\nb c\n", 7);
	struct map_input *in = map_input_fd(fd, '\n');
	(void)state;
	expect_record(in, "a", 1);
	expect_record(in, "", 0);
	expect_record(in, "b c", 3);
	expect_end(in);
	map_input_free(in);
	close(fd);
}

static void test_last_line_without_newline(void **state)
{
	int fd = fd_with("a\nlast", 6);
	struct map_input *in = map_input_fd(fd, '\n');
	(void)state;
	expect_record(in, "a", 1);
	expect_record(in, "last", 4);
	expect_end(in);
	map_input_free(in);
	close(fd);
}

static void test_nothing_is_no_input(void **state)
{
	int fd = fd_with("", 0);
	struct map_input *in = map_input_fd(fd, '\n');
	(void)state;
	expect_end(in);
	map_input_free(in);
	close(fd);
}

static void test_null_separated_keeps_newlines(void **state)
{
	int fd = fd_with("a\nb\0\0c\r\n\0", 9);
	struct map_input *in = map_input_fd(fd, '\0');
	(void)state;
	expect_record(in, "a\nb", 3);
	expect_record(in, "", 0);
	expect_record(in, "c\r\n", 3);
	expect_end(in);
	map_input_free(in);
	close(fd);
}

static void test_bytes_kept_as_they_are(void **state)
{
	const char bytes[] = "\xff\xfe\x01 \t\x80\n\xc3\x28\n";
	int fd = fd_with(bytes, sizeof bytes - 1);
	struct map_input *in = map_input_fd(fd, '\n');
	(void)state;
	expect_record(in, "\xff\xfe\x01 \t\x80", 6);
	expect_record(in, "\xc3\x28", 2);
	expect_end(in);
	map_input_free(in);
	close(fd);
}

/* Records that cross every read and one far longer than the buffer. */
static void test_long_records(void **state)
{
	size_t big = 3 * 1024 * 1024 + 7, total = big + 1 + 100001 * 2;
	char *bytes = malloc(total), *p = bytes;
	int fd;
	struct map_input *in;
	(void)state;
	memset(p, 'x', big);
	p += big;
	*p++ = '\n';
	for (int i = 0; i < 100001; i++) {
		*p++ = (char)('0' + i % 10);
		*p++ = '\n';
	}
	fd = fd_with(bytes, total);
	in = map_input_fd(fd, '\n');
	expect_record(in, bytes, big);
	for (int i = 0; i < 100001; i++) {
		char want = (char)('0' + i % 10);
		expect_record(in, &want, 1);
	}
	expect_end(in);
	map_input_free(in);
	free(bytes);
	close(fd);
}

static void test_words(void **state)
{
	char *words[] = { "a b", "", "c" };
	struct map_input *in = map_input_words(words, 3);
	(void)state;
	expect_record(in, "a b", 3);
	expect_record(in, "", 0);
	expect_record(in, "c", 1);
	expect_end(in);
	map_input_free(in);
}

static void test_read_error(void **state)
{
	const char *rec;
	size_t len;
	int fd = open("/dev/null", O_WRONLY);
	struct map_input *in = map_input_fd(fd, '\n');
	(void)state;
	assert_int_equal(map_input_next(in, &rec, &len), -1);
	map_input_free(in);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines_empty_ones_included),
		cmocka_unit_test(test_last_line_without_newline),
		cmocka_unit_test(test_nothing_is_no_input),
		cmocka_unit_test(test_null_separated_keeps_newlines),
		cmocka_unit_test(test_bytes_kept_as_they_are),
		cmocka_unit_test(test_long_records),
		cmocka_unit_test(test_words),
		cmocka_unit_test(test_read_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
