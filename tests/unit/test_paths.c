/* test_paths.c — private directories and tree removal (lib/paths.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "paths.h"
#include "util.h"

struct fx {
	char dir[256];
};

static char *at(struct fx *f, const char *rel)
{
	static char buf[4][512];
	static int i;
	i = (i + 1) % 4;
	snprintf(buf[i], sizeof buf[i], "%s/%s", f->dir, rel);
	return buf[i];
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	char tmpl[] = "/tmp/flame-test-paths-XXXXXX";
	if (!f || !mkdtemp(tmpl)) {
		free(f);
		return -1;
	}
	snprintf(f->dir, sizeof f->dir, "%s", tmpl);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[600];
	/* independent of the code under test */
	snprintf(cmd, sizeof cmd, "chmod -R u+rwx '%s' 2>/dev/null; rm -rf '%s'", f->dir, f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static void put(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write_all(fd, text, strlen(text)), 0);
	close(fd);
}

static mode_t mode_of(const char *path)
{
	struct stat st;
	assert_int_equal(lstat(path, &st), 0);
	return st.st_mode;
}

static void test_private_dir_creates_0700(void **state)
{
	struct fx *f = *state;
	char err[512] = "";
	mode_t old = umask(0);
	assert_int_equal(paths_private_dir(at(f, "a/b/c"), err, sizeof err), 0);
	umask(old);
	assert_true(S_ISDIR(mode_of(at(f, "a/b/c"))));
	assert_int_equal(mode_of(at(f, "a/b/c")) & 07777, 0700);
	assert_true(S_ISDIR(mode_of(at(f, "a/b"))));
	/* again: already there and private */
	assert_int_equal(paths_private_dir(at(f, "a/b/c"), err, sizeof err), 0);
	assert_int_equal(mode_of(at(f, "a/b/c")) & 07777, 0700);
}

static void test_private_dir_tightens_open_mode(void **state)
{
	struct fx *f = *state;
	char err[512] = "";
	assert_int_equal(mkdir(at(f, "open"), 0700), 0);
	assert_int_equal(chmod(at(f, "open"), 0777), 0);
	/* "the last component is made 0700": it ends up private either way */
	if (paths_private_dir(at(f, "open"), err, sizeof err) == 0)
		assert_int_equal(mode_of(at(f, "open")) & 07777, 0700);
	else
		assert_true(err[0] != 0);
}

static void test_private_dir_refuses_non_directories(void **state)
{
	struct fx *f = *state;
	char err[512] = "";
	put(at(f, "file"), "x");
	assert_int_equal(paths_private_dir(at(f, "file"), err, sizeof err), -1);
	assert_non_null(strstr(err, at(f, "file")));

	/* a symlink to a directory is not a private directory */
	assert_int_equal(mkdir(at(f, "real"), 0700), 0);
	assert_int_equal(symlink(at(f, "real"), at(f, "link")), 0);
	err[0] = 0;
	assert_int_equal(paths_private_dir(at(f, "link"), err, sizeof err), -1);
	assert_true(err[0] != 0);

	/* a parent that is a file */
	err[0] = 0;
	assert_int_equal(paths_private_dir(at(f, "file/sub"), err, sizeof err), -1);
	assert_true(err[0] != 0);
}

static void test_env_dirs(void **state)
{
	struct fx *f = *state;
	char err[512] = "", want[600];
	char *p;

	setenv("XDG_RUNTIME_DIR", at(f, "run"), 1);
	p = paths_runtime_dir(err, sizeof err);
	assert_non_null(p);
	snprintf(want, sizeof want, "%s/run/flame", f->dir);
	assert_string_equal(p, want);
	assert_int_equal(mode_of(p) & 07777, 0700);
	free(p);

	setenv("XDG_STATE_HOME", at(f, "state"), 1);
	p = paths_state_dir(err, sizeof err);
	assert_non_null(p);
	snprintf(want, sizeof want, "%s/state/flame", f->dir);
	assert_string_equal(p, want);
	assert_int_equal(mode_of(p) & 07777, 0700);
	free(p);

	setenv("TMPDIR", f->dir, 1);
	p = paths_scratch_root(err, sizeof err);
	assert_non_null(p);
	snprintf(want, sizeof want, "%s/flame-%u/jobs", f->dir, (unsigned)geteuid());
	assert_string_equal(p, want);
	assert_int_equal(mode_of(p) & 07777, 0700);
	snprintf(want, sizeof want, "%s/flame-%u", f->dir, (unsigned)geteuid());
	assert_int_equal(mode_of(want) & 07777, 0700);
	free(p);

	setenv("XDG_CONFIG_HOME", at(f, "cfg"), 1);
	p = paths_user_config();
	snprintf(want, sizeof want, "%s/cfg/flame/config.json", f->dir);
	assert_string_equal(p, want);
	free(p);
	/* not created */
	assert_int_equal(access(at(f, "cfg"), F_OK), -1);

	/* relative XDG values are ignored */
	setenv("XDG_CONFIG_HOME", "relative", 1);
	setenv("HOME", f->dir, 1);
	p = paths_user_config();
	snprintf(want, sizeof want, "%s/.config/flame/config.json", f->dir);
	assert_string_equal(p, want);
	free(p);

	unsetenv("XDG_RUNTIME_DIR");
	unsetenv("XDG_STATE_HOME");
	unsetenv("XDG_CONFIG_HOME");
	unsetenv("TMPDIR");
}

static void test_remove_tree_keeps_symlink_targets(void **state)
{
	struct fx *f = *state;
	assert_int_equal(mkdir(at(f, "outside"), 0700), 0);
	put(at(f, "outside/target.txt"), "keep me\n");
	assert_int_equal(mkdir(at(f, "outside/dir"), 0700), 0);
	put(at(f, "outside/dir/inner.txt"), "keep me too\n");

	assert_int_equal(mkdir(at(f, "tree"), 0700), 0);
	assert_int_equal(mkdir(at(f, "tree/sub"), 0700), 0);
	assert_int_equal(mkdir(at(f, "tree/sub/deeper"), 0700), 0);
	put(at(f, "tree/file"), "x");
	put(at(f, "tree/sub/deeper/f"), "y");
	put(at(f, "tree/name with\nnewline"), "z");
	assert_int_equal(symlink(at(f, "outside/target.txt"), at(f, "tree/link-to-file")), 0);
	assert_int_equal(symlink(at(f, "outside/dir"), at(f, "tree/sub/link-to-dir")), 0);
	assert_int_equal(symlink("/nonexistent", at(f, "tree/dangling")), 0);
	assert_int_equal(mkfifo(at(f, "tree/fifo"), 0600), 0);

	assert_int_equal(paths_remove_tree(at(f, "tree")), 0);
	assert_int_equal(access(at(f, "tree"), F_OK), -1);
	/* the symlinks' targets are untouched */
	assert_int_equal(access(at(f, "outside/target.txt"), F_OK), 0);
	assert_int_equal(access(at(f, "outside/dir/inner.txt"), F_OK), 0);
	assert_true(S_ISREG(mode_of(at(f, "outside/target.txt"))));
	{
		char buf[32] = "";
		int fd = open(at(f, "outside/target.txt"), O_RDONLY);
		assert_true(fd >= 0);
		assert_int_equal(read(fd, buf, sizeof buf - 1), 8);
		close(fd);
		assert_string_equal(buf, "keep me\n");
	}
}

static void test_remove_tree_of_a_symlink_removes_only_the_link(void **state)
{
	struct fx *f = *state;
	assert_int_equal(mkdir(at(f, "outside"), 0700), 0);
	put(at(f, "outside/target.txt"), "keep me\n");
	assert_int_equal(symlink(at(f, "outside"), at(f, "link")), 0);
	(void)paths_remove_tree(at(f, "link"));
	assert_int_equal(access(at(f, "outside/target.txt"), F_OK), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_private_dir_creates_0700, setup, teardown),
		cmocka_unit_test_setup_teardown(test_private_dir_tightens_open_mode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_private_dir_refuses_non_directories, setup, teardown),
		cmocka_unit_test_setup_teardown(test_env_dirs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_remove_tree_keeps_symlink_targets, setup, teardown),
		cmocka_unit_test_setup_teardown(test_remove_tree_of_a_symlink_removes_only_the_link, setup,
		                                teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
