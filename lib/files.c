/* files.c — see files.h. */
#include "files.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *files_get_pattern_problem(const char *pattern)
{
	const char *p = pattern;
	if (!*pattern)
		return "is empty";
	if (pattern[0] == '/')
		return "is an absolute path; give a path relative to the job's directory";
	while (*p) {
		size_t n = strcspn(p, "/");
		if (n == 2 && p[0] == '.' && p[1] == '.')
			return "leaves the job's directory ('..'); give a path inside it";
		p += n;
		while (*p == '/')
			p++;
	}
	return NULL;
}

static int copy_fd(int in, int out)
{
	char buf[65536];
	for (;;) {
		ssize_t n = copy_file_range(in, NULL, out, NULL, 1 << 30, 0);
		if (n > 0)
			continue;
		if (n == 0)
			return 0;
		if (errno == EINTR)
			continue;
		break; /* not supported here: fall back to read/write */
	}
	for (;;) {
		ssize_t n = read(in, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			return 0;
		if (write_all(out, buf, (size_t)n) < 0)
			return -1;
	}
}

int files_copy_in(int src_fd, int dir_fd, const char *name, unsigned mode)
{
	int out = openat(dir_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode & 0777);
	int rc, saved;
	if (out < 0)
		return -1;
	lseek(src_fd, 0, SEEK_SET);
	rc = copy_fd(src_fd, out);
	saved = errno;
	if (close(out) < 0 && rc == 0)
		rc = -1;
	errno = saved;
	return rc;
}

static void report(int err_fd, const char *pattern, const char *fmt, const char *arg)
{
	char line[1024];
	int n = snprintf(line, sizeof line, "flame: --get %.300s: ", pattern);
	if (n > (int)sizeof line - 1)
		n = sizeof line - 1;
	n += snprintf(line + n, sizeof line - n, fmt, arg);
	for (int i = 0; i < n && i < (int)sizeof line - 1; i++)
		if (line[i] == '\n')
			line[i] = '?';
	if (n > (int)sizeof line - 2)
		n = sizeof line - 2;
	line[n++] = '\n';
	(void)!write(err_fd, line, (size_t)n);
}

/* Opens (creating) the directory chain of rel's parents under dest_fd without
 * following symlinks; returns a descriptor of the innermost one and sets *base. */
static int open_parent(int dest_fd, char *rel, const char **base)
{
	int dir = dup(dest_fd);
	char *p = rel, *slash;

	while (dir >= 0 && (slash = strchr(p, '/'))) {
		int next;
		*slash = 0;
		if (*p && strcmp(p, ".")) {
			if (mkdirat(dir, p, 0777) < 0 && errno != EEXIST)
				next = -1;
			else
				next = openat(dir, p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			close(dir);
			dir = next;
		}
		*slash = '/';
		p = slash + 1;
	}
	*base = p;
	return dir;
}

static int fetch_one(const char *path, const struct stat *st, int dest_fd)
{
	char *rel = xstrdup(path);
	const char *base;
	char tmp[NAME_MAX + 1];
	int dir, in = -1, out = -1, rc = -1;

	dir = open_parent(dest_fd, rel, &base);
	if (dir < 0)
		goto out;
	snprintf(tmp, sizeof tmp, ".flame-get.%d.%.200s", (int)getpid(), base);
	in = open(path, O_RDONLY | O_CLOEXEC);
	out = openat(dir, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (in < 0 || out < 0)
		goto out;
	if (copy_fd(in, out) < 0 || fchmod(out, st->st_mode & 0777) < 0 || close(out) < 0) {
		out = -1;
		unlinkat(dir, tmp, 0);
		goto out;
	}
	out = -1;
	rc = renameat(dir, tmp, dir, base);
	if (rc < 0)
		unlinkat(dir, tmp, 0);
out:
	if (in >= 0)
		close(in);
	if (out >= 0) {
		close(out);
		unlinkat(dir, tmp, 0);
	}
	if (dir >= 0)
		close(dir);
	free(rel);
	return rc;
}

static int inside(const char *real, const char *root)
{
	size_t n = strlen(root);
	return !strncmp(real, root, n) && real[n] == '/';
}

static int get_match(const char *pattern, const char *path, const char *root, int dest_fd, int err_fd)
{
	char real[PATH_MAX];
	struct stat st;

	if (!realpath(path, real) || !inside(real, root)) {
		report(err_fd, pattern, "'%s' points outside the job's directory; not fetched", path);
		return 1;
	}
	if (stat(real, &st) < 0 || !S_ISREG(st.st_mode)) {
		report(err_fd, pattern, "'%s' is not a regular file; not fetched (use a pattern such as 'dir/*')", path);
		return 1;
	}
	if (fetch_one(path, &st, dest_fd) < 0) {
		char why[600];
		snprintf(why, sizeof why, "'%.300s': %s", path, strerror(errno));
		report(err_fd, pattern, "cannot write %s", why);
		return 1;
	}
	return 0;
}

int files_get(char *const *patterns, const char *root, int dest_fd, int err_fd)
{
	char realroot[PATH_MAX];
	int problems = 0;

	if (!realpath(root, realroot))
		snprintf(realroot, sizeof realroot, "%s", root);
	for (size_t i = 0; patterns && patterns[i]; i++) {
		const char *why = files_get_pattern_problem(patterns[i]);
		glob_t g;
		int rc;

		if (why) {
			report(err_fd, patterns[i], "%s", why);
			problems++;
			continue;
		}
		rc = glob(patterns[i], 0, NULL, &g);
		if (rc == GLOB_NOMATCH) {
			report(err_fd, patterns[i], "%s", "no file matched");
			problems++;
			continue;
		}
		if (rc != 0) {
			report(err_fd, patterns[i], "%s", "cannot list the job's directory");
			problems++;
			continue;
		}
		for (size_t j = 0; j < g.gl_pathc; j++)
			problems += get_match(patterns[i], g.gl_pathv[j], realroot, dest_fd, err_fd);
		globfree(&g);
	}
	return problems;
}
