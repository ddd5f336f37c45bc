/* files.c — see files.h: the patterns, --put's copy, and the sender half of
 * --get (the receiver half is files_dest.c). */
#include "files.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <stdarg.h>
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

/* "flame: --get PATTERN: <what>\n" in line, one line whatever the names
 * hold; returns its length (< cap, cap >= 2). */
static size_t problem_line(char *line, size_t cap, const char *pattern, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static size_t problem_line(char *line, size_t cap, const char *pattern, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(line, cap, "flame: --get %.300s: ", pattern);
	size_t len = n < 0 ? 0 : (size_t)n < cap - 1 ? (size_t)n : cap - 1;

	va_start(ap, fmt);
	n = vsnprintf(line + len, cap - len, fmt, ap);
	va_end(ap);
	len += n < 0 ? 0 : (size_t)n;
	if (len > cap - 2)
		len = cap - 2;
	for (size_t i = 0; i < len; i++)
		if (line[i] == '\n')
			line[i] = '?';
	line[len++] = '\n';
	line[len] = 0;
	return len;
}

size_t files_get_io_problem(char *line, size_t cap, const char *pattern, const char *verb, const char *path,
                            int err)
{
	return problem_line(line, cap, pattern, "cannot %s '%.300s': %s", verb, path, strerror(err));
}

static void report(const struct files_get_ops *ops, const char *pattern, const char *what)
{
	char line[1024];
	ops->report(ops->ctx, line, problem_line(line, sizeof line, pattern, "%s", what));
}

static int inside(const char *real, const char *root)
{
	size_t n = strlen(root);
	return !strncmp(real, root, n) && real[n] == '/';
}

/* Applies the rules to one match and fetches it; 1 if it was a problem. */
static int get_match(const char *pattern, const char *path, const char *root, const struct files_get_ops *ops)
{
	char real[PATH_MAX], line[1024];
	struct stat st;
	int in, rc;

	if (!realpath(path, real) || !inside(real, root)) {
		ops->report(ops->ctx, line,
		            problem_line(line, sizeof line, pattern,
		                         "'%.300s' points outside the job's directory; not fetched", path));
		return 1;
	}
	if (stat(real, &st) < 0 || !S_ISREG(st.st_mode)) {
		ops->report(
			ops->ctx, line,
			problem_line(
				line, sizeof line, pattern,
				"'%.300s' is not a regular file; not fetched (use a pattern such as 'dir/*')",
				path));
		return 1;
	}
	/* O_NONBLOCK: should it have become a fifo meanwhile, opening must not hang */
	in = open(real, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (in < 0 || fstat(in, &st) < 0 || !S_ISREG(st.st_mode)) {
		ops->report(ops->ctx, line,
		            files_get_io_problem(line, sizeof line, pattern, "read", path,
		                                 in < 0 ? errno : EINVAL));
		if (in >= 0)
			close(in);
		return 1;
	}
	rc = ops->fetch(ops->ctx, pattern, path, in, &st);
	if (rc < 0)
		ops->report(ops->ctx, line,
		            files_get_io_problem(line, sizeof line, pattern, "write", path, errno));
	close(in);
	return rc != 0;
}

static int get_pattern(const char *pattern, const char *root, const struct files_get_ops *ops)
{
	const char *why = files_get_pattern_problem(pattern);
	int rc, problems = 0;
	glob_t g;

	if (why) {
		report(ops, pattern, why);
		return 1;
	}
	rc = glob(pattern, 0, NULL, &g);
	if (rc == GLOB_NOMATCH) {
		report(ops, pattern, "no file matched");
		return 1;
	}
	if (rc != 0) {
		report(ops, pattern, "cannot list the job's directory");
		return 1;
	}
	for (size_t j = 0; j < g.gl_pathc; j++)
		problems += get_match(pattern, g.gl_pathv[j], root, ops);
	globfree(&g);
	return problems;
}

int files_get_each(char *const *patterns, const char *root, const struct files_get_ops *ops)
{
	char realroot[PATH_MAX];
	int problems = 0, here;

	if (!patterns || !patterns[0])
		return 0;
	if (!realpath(root, realroot))
		snprintf(realroot, sizeof realroot, "%s", root);
	/* glob has no directory descriptor: the patterns are expanded in root */
	here = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (chdir(realroot) < 0) {
		for (size_t i = 0; patterns[i]; i++, problems++)
			report(ops, patterns[i], "cannot list the job's directory");
	} else {
		for (size_t i = 0; patterns[i]; i++)
			problems += get_pattern(patterns[i], realroot, ops);
	}
	if (here < 0 || fchdir(here) < 0)
		(void)!chdir("/"); /* never stay in a directory about to be removed */
	if (here >= 0)
		close(here);
	return problems;
}

struct local_get {
	int dest_fd, err_fd;
};

static int local_fetch(void *ctx, const char *pattern, const char *path, int in, const struct stat *st)
{
	struct local_get *g = ctx;
	struct files_dest d;
	int saved;
	(void)pattern;

	if (files_dest_open(&d, g->dest_fd, path) < 0)
		return -1;
	if (copy_fd(in, d.fd) < 0) {
		saved = errno;
		files_dest_abort(&d);
		errno = saved;
		return -1;
	}
	return files_dest_commit(&d, st->st_mode);
}

static void local_report(void *ctx, const char *line, size_t len)
{
	struct local_get *g = ctx;
	(void)!write(g->err_fd, line, len);
}

int files_get(char *const *patterns, const char *root, int dest_fd, int err_fd)
{
	struct local_get g = { dest_fd, err_fd };
	struct files_get_ops ops = { local_fetch, local_report, &g };
	return files_get_each(patterns, root, &ops);
}
