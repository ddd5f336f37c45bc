/* test_files.c — the file side of --get (lib/files.h): the sender, which
 * picks and copies the matches. */
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
#include "paths.h"
#include "util.h"

#include "files_fx.h"

static void test_pattern_problems(void **state)
{
	(void)state;
	assert_non_null(files_get_pattern_problem("../x"));
	assert_non_null(files_get_pattern_problem(".."));
	assert_non_null(files_get_pattern_problem("a/../b"));
	assert_non_null(files_get_pattern_problem("a/.."));
	assert_non_null(files_get_pattern_problem("a//../b"));
	assert_non_null(files_get_pattern_problem("/abs"));
	assert_non_null(files_get_pattern_problem("/"));
	assert_non_null(files_get_pattern_problem(""));
	assert_null(files_get_pattern_problem("ok/*.png"));
	assert_null(files_get_pattern_problem("..foo"));
	assert_null(files_get_pattern_problem("foo.."));
	assert_null(files_get_pattern_problem("a/..b/c"));
	assert_null(files_get_pattern_problem("."));
	assert_null(files_get_pattern_problem("./x"));
	assert_null(files_get_pattern_problem("*"));
	assert_null(files_get_pattern_problem("a b/\"c\"\n"));
	/* the reasons say what is wrong */
	assert_non_null(strstr(files_get_pattern_problem("../x"), ".."));
	assert_non_null(strstr(files_get_pattern_problem("/abs"), "absolute"));
	assert_non_null(strstr(files_get_pattern_problem(""), "empty"));
}

static void test_get_plain_and_odd_names(void **state)
{
	struct fx *f = *state;
	char *pats[] = { "a.txt", "*.png", "a b.txt", Q_NAME, "new*line.txt", "..foo", NULL };
	struct stat st;
	assert_int_equal(files_get(pats, f->scratch, f->dest_fd, f->err_fd), 0);
	assert_string_equal(errors(f), "");
	assert_string_equal(slurp_at(f->dest_fd, "a.txt"), "alpha\n");
	assert_string_equal(slurp_at(f->dest_fd, "b.png"), "png-bytes");
	assert_string_equal(slurp_at(f->dest_fd, "c.png"), "more-png");
	assert_string_equal(slurp_at(f->dest_fd, "a b.txt"), "space\n");
	assert_string_equal(slurp_at(f->dest_fd, Q_NAME), "quote\n");
	assert_string_equal(slurp_at(f->dest_fd, NL_NAME), "newline\n");
	assert_string_equal(slurp_at(f->dest_fd, "..foo"), "dotdot-prefix\n");
	/* the mode travels with the file */
	assert_int_equal(fstatat(f->dest_fd, "c.png", &st, 0), 0);
	assert_int_equal(st.st_mode & 0777, 0755);
	assert_int_equal(count_entries(f->dest), 7);
	no_temp_left(f->dest);
	outside_untouched(f);
}

static void test_get_keeps_relative_paths(void **state)
{
	struct fx *f = *state;
	char *pats[] = { "sub/*.dat", "sub/deeper/y.dat", "./a.txt", NULL };
	assert_int_equal(files_get(pats, f->scratch, f->dest_fd, f->err_fd), 0);
	assert_string_equal(errors(f), "");
	assert_string_equal(slurp_at(f->dest_fd, "sub/x.dat"), "ex\n");
	assert_string_equal(slurp_at(f->dest_fd, "sub/deeper/y.dat"), "why\n");
	assert_string_equal(slurp_at(f->dest_fd, "a.txt"), "alpha\n");
	assert_null(slurp_at(f->dest_fd, "x.dat"));
	assert_null(slurp_at(f->dest_fd, "y.dat"));
	no_temp_left(f->dest);
	outside_untouched(f);
}

static void test_get_symlink_outside_refused(void **state)
{
	struct fx *f = *state;
	char *pats[] = { "escape.txt", NULL };
	const char *e;
	assert_int_equal(files_get(pats, f->scratch, f->dest_fd, f->err_fd), 1);
	e = errors(f);
	assert_non_null(strstr(e, "flame: --get escape.txt: "));
	assert_non_null(strstr(e, "outside"));
	/* exactly one line */
	assert_int_equal(strchr(e, '\n'), e + strlen(e) - 1);
	assert_int_equal(count_entries(f->dest), 0);
	outside_untouched(f);
}

static void test_get_through_symlinked_dir_refused(void **state)
{
	struct fx *f = *state;
	char *pats[] = { "outdir/*", "outdir/secret.txt", NULL };
	const char *e;
	assert_int_equal(files_get(pats, f->scratch, f->dest_fd, f->err_fd), 3);
	e = errors(f);
	assert_non_null(strstr(e, "outside"));
	assert_int_equal(count_entries(f->dest), 0);
	outside_untouched(f);
}

static void test_get_glob_mixing_good_and_bad(void **state)
{
	struct fx *f = *state;
	char *pats[] = { "*.txt", NULL };
	const char *e;
	/* escape.txt points outside, dangling.txt resolves nowhere: two problems */
	int n = files_get(pats, f->scratch, f->dest_fd, f->err_fd);
	e = errors(f);
	assert_int_equal(n, 2);
	assert_non_null(strstr(e, "escape.txt"));
	assert_non_null(strstr(e, "dangling.txt"));
	assert_null(slurp_at(f->dest_fd, "escape.txt"));
	assert_null(slurp_at(f->dest_fd, "dangling.txt"));
	assert_string_equal(slurp_at(f->dest_fd, "a.txt"), "alpha\n");
	assert_string_equal(slurp_at(f->dest_fd, NL_NAME), "newline\n");
	/* a symlink that stays inside is fetched as the file it names */
	assert_string_equal(slurp_at(f->dest_fd, "alias.txt"), "alpha\n");
	outside_untouched(f);
	no_temp_left(f->dest);
}

static void test_get_no_match_and_bad_patterns(void **state)
{
	struct fx *f = *state;
	char *pats[] = { "nothing*.zzz", "missing.txt", "../scratch/a.txt", "/etc/passwd", "", "sub", NULL };
	const char *e;
	size_t lines = 0;
	assert_int_equal(files_get(pats, f->scratch, f->dest_fd, f->err_fd), 6);
	e = errors(f);
	assert_non_null(strstr(e, "flame: --get nothing*.zzz: no file matched\n"));
	assert_non_null(strstr(e, "flame: --get missing.txt: no file matched\n"));
	assert_non_null(strstr(e, "flame: --get ../scratch/a.txt: "));
	assert_non_null(strstr(e, "flame: --get /etc/passwd: "));
	assert_non_null(strstr(e, "flame: --get sub: ")); /* a directory */
	for (const char *p = e; *p; p++)
		lines += *p == '\n';
	assert_int_equal(lines, 6);
	assert_int_equal(count_entries(f->dest), 0);
	outside_untouched(f);
}

/* A message about a name holding a newline stays one line. */
static void test_messages_one_line(void **state)
{
	struct fx *f = *state;
	char p[PATH_MAX + 64];
	char *pats[] = { "bad\nlink", NULL };
	const char *e;
	snprintf(p, sizeof p, "%s/secret.txt", f->outside);
	assert_int_equal(symlink(p, "bad\nlink"), 0);
	assert_int_equal(files_get(pats, f->scratch, f->dest_fd, f->err_fd), 1);
	e = errors(f);
	assert_non_null(strstr(e, "outside"));
	assert_int_equal(strchr(e, '\n'), e + strlen(e) - 1);
	assert_int_equal(unlink("bad\nlink"), 0);
	clear_errors(f);
}

/* Symlinks planted in the destination are never followed. */
static void test_dest_symlinks_not_followed(void **state)
{
	struct fx *f = *state;
	char p[PATH_MAX + 64], buf[PATH_MAX];
	char *pats[] = { "a.txt", "sub/x.dat", NULL };
	const char *e;
	ssize_t n;
	int problems;
	snprintf(p, sizeof p, "%s/victim.txt", f->outside);
	assert_int_equal(symlinkat(p, f->dest_fd, "a.txt"), 0);
	assert_int_equal(symlinkat(f->outside, f->dest_fd, "sub"), 0);
	problems = files_get(pats, f->scratch, f->dest_fd, f->err_fd);
	e = errors(f);
	/* a.txt replaces the link itself; sub/x.dat cannot go through the link */
	assert_int_equal(problems, 1);
	assert_non_null(strstr(e, "sub/x.dat"));
	assert_string_equal(slurp_at(f->dest_fd, "a.txt"), "alpha\n");
	outside_untouched(f);
	n = readlinkat(f->dest_fd, "sub", buf, sizeof buf - 1);
	assert_true(n > 0); /* still the symlink we planted */
	no_temp_left(f->dest);
	no_temp_left(f->outside);
}

static void test_get_overwrites_existing(void **state)
{
	struct fx *f = *state;
	char *pats[] = { "a.txt", NULL };
	int fd = openat(f->dest_fd, "a.txt", O_WRONLY | O_CREAT, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "old content that is longer", 26), 26);
	close(fd);
	assert_int_equal(files_get(pats, f->scratch, f->dest_fd, f->err_fd), 0);
	assert_string_equal(slurp_at(f->dest_fd, "a.txt"), "alpha\n");
}

/* A very long pattern (the user types it; one argument may be up to 128 KiB)
 * is reported like any other: one line, no crash.  Runs in a child so that a
 * crash shows as a failure here. */
static void long_pattern_reported(struct fx *f, size_t len)
{
	char *pat = malloc(len + 1);
	char *pats[] = { pat, NULL };
	int st = 0;
	pid_t pid;
	assert_non_null(pat);
	memset(pat, 'q', len);
	pat[len] = 0;
	clear_errors(f);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* cmocka catches these to report a test; the child must just die */
		static const int sigs[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT };
		for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
			signal(sigs[i], SIG_DFL);
		_exit(files_get(pats, f->scratch, f->dest_fd, f->err_fd) == 1 ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	if (!WIFEXITED(st))
		print_error("files_get died of signal %d on a %zu-byte pattern\n",
		            WIFSIGNALED(st) ? WTERMSIG(st) : 0, len);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	{
		const char *e = errors(f);
		assert_true(!strncmp(e, "flame: --get qqq", 16));
		assert_int_equal(strchr(e, '\n'), e + strlen(e) - 1);
	}
	assert_int_equal(count_entries(f->dest), 0);
	free(pat);
}

static void test_long_pattern_reported(void **state)
{
	long_pattern_reported(*state, 1000);
	long_pattern_reported(*state, 3000);
	long_pattern_reported(*state, 100000);
}

static void test_null_patterns(void **state)
{
	struct fx *f = *state;
	char *none[] = { NULL };
	assert_int_equal(files_get(NULL, f->scratch, f->dest_fd, f->err_fd), 0);
	assert_int_equal(files_get(none, f->scratch, f->dest_fd, f->err_fd), 0);
	assert_string_equal(errors(f), "");
	assert_int_equal(count_entries(f->dest), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pattern_problems),
		cmocka_unit_test_setup_teardown(test_get_plain_and_odd_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_get_keeps_relative_paths, setup, teardown),
		cmocka_unit_test_setup_teardown(test_get_symlink_outside_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_get_through_symlinked_dir_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_get_glob_mixing_good_and_bad, setup, teardown),
		cmocka_unit_test_setup_teardown(test_get_no_match_and_bad_patterns, setup, teardown),
		cmocka_unit_test_setup_teardown(test_messages_one_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dest_symlinks_not_followed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_get_overwrites_existing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_pattern_reported, setup, teardown),
		cmocka_unit_test_setup_teardown(test_null_patterns, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
