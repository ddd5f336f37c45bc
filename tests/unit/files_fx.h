/* files_fx.h — the fixture test_files*.c share: a job's scratch tree with
 * odd names and symlinks, a destination, and files the job must not reach. */

#ifndef FLAME_TEST_FILES_FX_H
#define FLAME_TEST_FILES_FX_H

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

static __attribute__((unused)) void put(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	assert_true(fd >= 0);
	assert_int_equal(write_all(fd, text, strlen(text)), 0);
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static __attribute__((unused)) char *slurp_at(int dir, const char *path)
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

static __attribute__((unused)) const char *errors(struct fx *f)
{
	static char buf[8192];
	ssize_t n = pread(f->err_fd, buf, sizeof buf - 1, 0);
	buf[n < 0 ? 0 : n] = 0;
	return buf;
}

static __attribute__((unused)) void clear_errors(struct fx *f)
{
	assert_int_equal(ftruncate(f->err_fd, 0), 0);
	lseek(f->err_fd, 0, SEEK_SET);
}

/* The tree the tests work on; -1 if it could not be made. */
static __attribute__((unused)) int make_tree(struct fx *f)
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

static __attribute__((unused)) int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	if (!f || make_tree(f) < 0) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static __attribute__((unused)) int teardown(void **state)
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
static __attribute__((unused)) void list_tree(const char *dir, const char *prefix, char *out, size_t outlen)
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

static __attribute__((unused)) int count_entries(const char *dir)
{
	char buf[8192] = "";
	int n = 0;
	list_tree(dir, "", buf, sizeof buf);
	for (char *p = buf; *p; p++)
		n += *p == '|';
	return n;
}

static __attribute__((unused)) void outside_untouched(struct fx *f)
{
	char p[PATH_MAX + 64];
	assert_int_equal(count_entries(f->outside), 2);
	snprintf(p, sizeof p, "%s/secret.txt", f->outside);
	assert_string_equal(slurp_at(AT_FDCWD, p), "SECRET\n");
	snprintf(p, sizeof p, "%s/victim.txt", f->outside);
	assert_string_equal(slurp_at(AT_FDCWD, p), "VICTIM\n");
}

static __attribute__((unused)) void no_temp_left(const char *dir)
{
	char buf[8192] = "";
	list_tree(dir, "", buf, sizeof buf);
	if (strstr(buf, ".flame-get"))
		print_error("temporary file left: %s\n", buf);
	assert_null(strstr(buf, ".flame-get"));
}

#endif
