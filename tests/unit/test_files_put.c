/* test_files_put.c — the receiving half of --put (lib/files_put.h): one
 * writer, names checked again, nothing written over or through what is
 * already there, modes without special bits, holes kept. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "files_put.h"

static char dir[64];
static int dir_fd = -1;

static int setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/flame-put-test.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	dir_fd = open(dir, O_RDONLY | O_DIRECTORY);
	return dir_fd < 0 ? -1 : 0;
}

static int teardown(void **state)
{
	char cmd[128];
	(void)state;
	close(dir_fd);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_names(void **state)
{
	(void)state;
	assert_null(files_put_name_problem("in.mp4"));
	assert_null(files_put_name_problem(".hidden"));
	assert_null(files_put_name_problem("a b\n$(id)"));
	assert_non_null(files_put_name_problem(""));
	assert_non_null(files_put_name_problem("."));
	assert_non_null(files_put_name_problem(".."));
	assert_non_null(files_put_name_problem("a/b"));
	assert_non_null(files_put_name_problem("/etc/passwd"));
}

static void test_written_then_given_its_mode(void **state)
{
	struct files_put p;
	struct stat st;
	char buf[16] = { 0 };
	int fd;

	(void)state;
	assert_int_equal(files_put_open(&p, dir_fd, "w.txt"), 0);
	assert_int_equal(fstatat(dir_fd, "w.txt", &st, 0), 0);
	assert_int_equal(st.st_mode & 07777, 0600); /* private while written */
	assert_int_equal(files_put_write(&p, "hello", 5), 0);
	assert_int_equal(files_put_commit(&p, 04755), 0);
	assert_int_equal(p.fd, -1);
	assert_int_equal(fstatat(dir_fd, "w.txt", &st, 0), 0);
	assert_int_equal(st.st_mode & 07777, 0755); /* no setuid */
	fd = openat(dir_fd, "w.txt", O_RDONLY);
	assert_int_equal(read(fd, buf, sizeof buf), 5);
	assert_string_equal(buf, "hello");
	close(fd);
}

static void test_nothing_written_over_or_through(void **state)
{
	struct files_put p;

	(void)state;
	assert_int_equal(symlinkat("/tmp/flame-put-victim", dir_fd, "link"), 0);
	errno = 0;
	assert_int_equal(files_put_open(&p, dir_fd, "link"), -1);
	assert_int_equal(errno, EEXIST);
	assert_int_equal(access("/tmp/flame-put-victim", F_OK), -1);
	assert_int_equal(files_put_open(&p, dir_fd, "once"), 0);
	files_put_abort(&p);
	assert_int_equal(files_put_open(&p, dir_fd, "once"), -1);
	errno = 0;
	assert_int_equal(files_put_open(&p, dir_fd, "../escape"), -1);
	assert_int_equal(errno, EINVAL);
	files_put_abort(&p); /* harmless when finished */
}

static void test_copy_keeps_holes(void **state)
{
	char src[96];
	struct stat st;
	int in;

	(void)state;
	snprintf(src, sizeof src, "%s/sparse.src", dir);
	in = open(src, O_RDWR | O_CREAT | O_EXCL, 0644);
	assert_true(in >= 0);
	assert_int_equal(pwrite(in, "x", 1, 8 << 20), 1);
	assert_int_equal(files_put_copy(in, dir_fd, "sparse", 0640), 0);
	close(in);
	assert_int_equal(fstatat(dir_fd, "sparse", &st, 0), 0);
	assert_int_equal(st.st_size, (8 << 20) + 1);
	assert_true(st.st_blocks * 512 < (1 << 20));
	assert_int_equal(st.st_mode & 07777, 0640);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_written_then_given_its_mode),
		cmocka_unit_test(test_nothing_written_over_or_through),
		cmocka_unit_test(test_copy_keeps_holes),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
