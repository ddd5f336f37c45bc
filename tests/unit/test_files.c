/* test_files.c — the file side of --get (lib/files.h): both halves. */
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
#include "backends/backend.h"

/* lib/warmer.o refers to backend_find (backends/local.c), which unit tests do
 * not link: a weak stub, overridden if the real one is ever linked in. */
__attribute__((weak)) const struct backend *backend_find(const char *name)
{
	(void)name;
	return NULL;
}

#define NL_NAME "new\nline.txt"
#define Q_NAME "it's \"quoted\".txt"

struct fx {
	char top[1024];         /* holds everything below */
	char scratch[PATH_MAX]; /* the job's directory */
	char dest[PATH_MAX];
	char outside[PATH_MAX]; /* files the job must not reach */
	char oldcwd[PATH_MAX];
	int dest_fd;
	int err_fd; /* a temp file collecting messages */
};

static void put(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	assert_true(fd >= 0);
	assert_int_equal(write_all(fd, text, strlen(text)), 0);
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static char *slurp_at(int dir, const char *path)
{
	static char buf[4096];
	int fd = openat(dir, path, O_RDONLY | O_NOFOLLOW);
	ssize_t n;
	if (fd < 0)
		return NULL;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n < 0)
		return NULL;
	buf[n] = 0;
	return buf;
}

static const char *errors(struct fx *f)
{
	static char buf[8192];
	ssize_t n = pread(f->err_fd, buf, sizeof buf - 1, 0);
	buf[n < 0 ? 0 : n] = 0;
	return buf;
}

static void clear_errors(struct fx *f)
{
	assert_int_equal(ftruncate(f->err_fd, 0), 0);
	lseek(f->err_fd, 0, SEEK_SET);
}

/* The tree the tests work on; -1 if it could not be made. */
static int make_tree(struct fx *f)
{
	char tmpl[] = "/tmp/flame-test-files-XXXXXX";
	char p[PATH_MAX + 64];
	char *d = mkdtemp(tmpl), real[PATH_MAX];
	if (!d)
		return -1;
	/* the job's root is compared against realpaths: use the real one */
	if (!realpath(d, real) || strlen(real) >= sizeof f->top)
		return -1;
	memcpy(f->top, real, strlen(real) + 1);
	snprintf(f->scratch, sizeof f->scratch, "%s/scratch", f->top);
	snprintf(f->dest, sizeof f->dest, "%s/dest", f->top);
	snprintf(f->outside, sizeof f->outside, "%s/outside", f->top);
	if (mkdir(f->scratch, 0700) || mkdir(f->dest, 0700) || mkdir(f->outside, 0700))
		return -1;
	snprintf(p, sizeof p, "%s/secret.txt", f->outside);
	put(p, "SECRET\n", 0600);
	snprintf(p, sizeof p, "%s/victim.txt", f->outside);
	put(p, "VICTIM\n", 0600);

	if (!getcwd(f->oldcwd, sizeof f->oldcwd) || chdir(f->scratch))
		return -1;
	put("a.txt", "alpha\n", 0644);
	put("b.png", "png-bytes", 0644);
	put("c.png", "more-png", 0755);
	put("a b.txt", "space\n", 0644);
	put(Q_NAME, "quote\n", 0644);
	put(NL_NAME, "newline\n", 0644);
	put("..foo", "dotdot-prefix\n", 0644);
	if (mkdir("sub", 0700) || mkdir("sub/deeper", 0700))
		return -1;
	put("sub/x.dat", "ex\n", 0644);
	put("sub/deeper/y.dat", "why\n", 0600);
	snprintf(p, sizeof p, "%s/secret.txt", f->outside);
	if (symlink(p, "escape.txt"))
		return -1;
	if (symlink(f->outside, "outdir"))
		return -1;
	if (symlink("a.txt", "alias.txt")) /* a symlink that stays inside */
		return -1;
	if (symlink("/nonexistent/dangling", "dangling.txt"))
		return -1;

	f->dest_fd = open(f->dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	snprintf(p, sizeof p, "%s/errors", f->top);
	f->err_fd = open(p, O_RDWR | O_CREAT | O_TRUNC | O_APPEND, 0600);
	if (f->dest_fd < 0 || f->err_fd < 0)
		return -1;
	return 0;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	if (!f || make_tree(f) < 0) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	close(f->dest_fd);
	close(f->err_fd);
	if (chdir(f->oldcwd))
		return -1;
	paths_remove_tree(f->top);
	free(f);
	return 0;
}

/* Every name under dir, recursively, as "rel" lines: proves nothing extra was written. */
static void list_tree(const char *dir, const char *prefix, char *out, size_t outlen)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	assert_non_null(d);
	while ((e = readdir(d))) {
		char path[PATH_MAX + 256], rel[PATH_MAX];
		struct stat st;
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		snprintf(rel, sizeof rel, "%s%s", prefix, e->d_name);
		strncat(out, rel, outlen - strlen(out) - 1);
		strncat(out, "|", outlen - strlen(out) - 1);
		assert_int_equal(lstat(path, &st), 0);
		if (S_ISDIR(st.st_mode)) {
			char sub[PATH_MAX + 2];
			snprintf(sub, sizeof sub, "%s/", rel);
			list_tree(path, sub, out, outlen);
		}
	}
	closedir(d);
}

static int count_entries(const char *dir)
{
	char buf[8192] = "";
	int n = 0;
	list_tree(dir, "", buf, sizeof buf);
	for (char *p = buf; *p; p++)
		n += *p == '|';
	return n;
}

static void outside_untouched(struct fx *f)
{
	char p[PATH_MAX + 64];
	assert_int_equal(count_entries(f->outside), 2);
	snprintf(p, sizeof p, "%s/secret.txt", f->outside);
	assert_string_equal(slurp_at(AT_FDCWD, p), "SECRET\n");
	snprintf(p, sizeof p, "%s/victim.txt", f->outside);
	assert_string_equal(slurp_at(AT_FDCWD, p), "VICTIM\n");
}

static void no_temp_left(const char *dir)
{
	char buf[8192] = "";
	list_tree(dir, "", buf, sizeof buf);
	if (strstr(buf, ".flame-get"))
		print_error("temporary file left: %s\n", buf);
	assert_null(strstr(buf, ".flame-get"));
}

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

static void test_copy_in(void **state)
{
	struct fx *f = *state;
	int src = open("a b.txt", O_RDONLY);
	struct stat st;
	char p[PATH_MAX + 64];
	assert_true(src >= 0);
	/* reads from the start even if the offset moved */
	lseek(src, 3, SEEK_SET);
	assert_int_equal(files_copy_in(src, f->dest_fd, "in.txt", 0640), 0);
	assert_string_equal(slurp_at(f->dest_fd, "in.txt"), "space\n");
	assert_int_equal(fstatat(f->dest_fd, "in.txt", &st, 0), 0);
	assert_int_equal(st.st_mode & 0077 & ~0040, 0);
	/* never replaces an existing file, nor follows a symlink */
	assert_int_equal(files_copy_in(src, f->dest_fd, "in.txt", 0640), -1);
	assert_int_equal(errno, EEXIST);
	snprintf(p, sizeof p, "%s/victim.txt", f->outside);
	assert_int_equal(symlinkat(p, f->dest_fd, "link.txt"), 0);
	assert_int_equal(files_copy_in(src, f->dest_fd, "link.txt", 0600), -1);
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
		cmocka_unit_test(test_pattern_problems),
		cmocka_unit_test(test_wanted),
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
		cmocka_unit_test_setup_teardown(test_copy_in, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dest_refuses_paths_that_leave, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dest_commit_and_abort, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
