/* test_files_dest.c — the file side of --put and --get (lib/files.h): the
 * receiver half, which writes files into a directory. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "files.h"
#include "files_put.h"
#include "paths.h"
#include "util.h"

#include "files_fx.h"

static void test_copy_in(void **state)
{
	struct fx *f = *state;
	int src = open("a b.txt", O_RDONLY);
	struct stat st;
	char p[PATH_MAX + 64];
	assert_true(src >= 0);
	/* reads from the start even if the offset moved */
	lseek(src, 3, SEEK_SET);
	assert_int_equal(files_put_copy(src, f->dest_fd, "in.txt", 0640), 0);
	assert_string_equal(slurp_at(f->dest_fd, "in.txt"), "space\n");
	assert_int_equal(fstatat(f->dest_fd, "in.txt", &st, 0), 0);
	assert_int_equal(st.st_mode & 0077 & ~0040, 0);
	/* never replaces an existing file, nor follows a symlink */
	assert_int_equal(files_put_copy(src, f->dest_fd, "in.txt", 0640), -1);
	assert_int_equal(errno, EEXIST);
	snprintf(p, sizeof p, "%s/victim.txt", f->outside);
	assert_int_equal(symlinkat(p, f->dest_fd, "link.txt"), 0);
	assert_int_equal(files_put_copy(src, f->dest_fd, "link.txt", 0600), -1);
	close(src);
	outside_untouched(f);
}

/* The receiver half on its own, as the ssh link uses it: the path comes
 * from the runner, so it is checked again. */
static void test_dest_refuses_paths_that_leave(void **state)
{
	struct fx *f = *state;
	const char *bad[] = { "../x", "a/../../x", "/etc/passwd", "", "sub/", ".", "sub/." };
	struct files_dest d;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(files_dest_open(&d, f->dest_fd, bad[i]), -1);
		assert_int_equal(d.fd, -1);
	}
	assert_int_equal(count_entries(f->dest), 0);
	no_temp_left(f->dest);
	outside_untouched(f);
}

static void test_dest_commit_and_abort(void **state)
{
	struct fx *f = *state;
	struct files_dest a, b;
	struct stat st;
	assert_int_equal(files_dest_open(&a, f->dest_fd, "n/e/w.txt"), 0);
	assert_int_equal(files_dest_open(&b, f->dest_fd, "n/e/w.txt"), 0);
	/* two receivers of one name at once do not collide */
	assert_string_not_equal(a.tmp, b.tmp);
	assert_int_equal(write_all(a.fd, "first", 5), 0);
	assert_int_equal(write_all(b.fd, "half", 4), 0);
	/* nothing under the final name before the commit */
	assert_null(slurp_at(f->dest_fd, "n/e/w.txt"));
	files_dest_abort(&b);
	files_dest_abort(&b); /* harmless twice */
	assert_int_equal(files_dest_commit(&a, 04751), 0);
	assert_string_equal(slurp_at(f->dest_fd, "n/e/w.txt"), "first");
	assert_int_equal(fstatat(f->dest_fd, "n/e/w.txt", &st, 0), 0);
	assert_int_equal(st.st_mode & 07777, 0751);        /* permission bits only */
	assert_int_equal(files_dest_commit(&a, 0600), -1); /* finished */
	no_temp_left(f->dest);
}

/* The receiver takes only paths the caller's patterns match, by glob's rules. */
static void test_wanted(void **state)
{
	char *pats[] = { "out.txt", "d/*.png", ".*/x", "*", NULL };
	(void)state;
	assert_true(files_get_wanted(pats, "out.txt", "out.txt"));
	assert_true(files_get_wanted(pats, "d/*.png", "d/a b.png"));
	assert_true(files_get_wanted(pats, "*", "evil"));
	assert_false(files_get_wanted(pats, "out.txt", ".git/hooks/pre-commit"));
	assert_false(files_get_wanted(pats, "d/*", "d/a.png"));       /* not the caller's */
	assert_false(files_get_wanted(pats, "d/*.png", "d/e/a.png")); /* '*' stops at '/' */
	assert_false(files_get_wanted(pats, "*", ".hidden"));         /* nor a leading '.' */
	assert_false(files_get_wanted(pats, ".*/x", "../x"));         /* matches, but leaves */
	assert_false(files_get_wanted(pats, "*", "/etc/passwd"));
	assert_false(files_get_wanted(NULL, "out.txt", "out.txt"));
	assert_int_equal(files_get_word_umask(files_get_word(027)), 027);
	assert_int_equal(files_get_word_umask(files_get_word(0)), 0);
	assert_int_equal(files_get_word_umask(1), 022);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wanted),
		cmocka_unit_test_setup_teardown(test_copy_in, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dest_refuses_paths_that_leave, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dest_commit_and_abort, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
