/* files.c — see files.h: the patterns, --put's copy, and the sender half of
 * --get (the receiver half is files_dest.c). */
#include "files.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <glob.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define STEP (8u << 20) /* bytes copied between looks at a stop */

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

/* Set by files_get_stop(), maybe from a signal handler. */
static volatile sig_atomic_t stop_asked;

void files_get_stop(void)
{
	stop_asked = 1;
}

int files_get_stopped(void)
{
	return stop_asked != 0;
}

unsigned files_get_word(unsigned umask)
{
	return FILES_GET_WANTED | (umask & 0777);
}

unsigned files_get_word_umask(unsigned word)
{
	return word & FILES_GET_WANTED ? word & 0777 : 022;
}

int files_get_wanted(char *const *patterns, const char *pattern, const char *path)
{
	if (!patterns || !pattern || !path || files_get_pattern_problem(path))
		return 0;
	for (size_t i = 0; patterns[i]; i++)
		if (!strcmp(patterns[i], pattern))
			return fnmatch(pattern, path, FNM_PATHNAME | FNM_PERIOD) == 0;
	return 0;
}

static int pwrite_all(int fd, const char *p, size_t n, off_t off)
{
	while (n > 0) {
		ssize_t w = pwrite(fd, p, n, off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		n -= (size_t)w;
		off += w;
	}
	return 0;
}

/* One step of a copy at off: copy_file_range while the file systems allow
 * it, else read and write.  Bytes copied, 0 at the end, -1 with errno. */
static ssize_t copy_step(int in, int out, off_t off, size_t want, int *fast)
{
	char buf[65536];
	ssize_t n;

	if (*fast) {
		off_t o_in = off, o_out = off;
		n = copy_file_range(in, &o_in, out, &o_out, want, 0);
		if (n >= 0 || errno == EINTR)
			return n;
		*fast = 0; /* not supported here */
	}
	n = pread(in, buf, want < sizeof buf ? want : sizeof buf, off);
	if (n > 0 && pwrite_all(out, buf, (size_t)n, off) < 0)
		return -1;
	return n;
}

/* Bytes [off, end) of in to the same place in out, in steps small enough
 * that a stop is noticed at once. */
static int copy_range(int in, int out, off_t off, off_t end)
{
	int fast = 1;

	while (off < end) {
		size_t want = end - off < (off_t)STEP ? (size_t)(end - off) : STEP;
		ssize_t n;
		if (stop_asked) {
			errno = ECANCELED;
			return -1;
		}
		n = copy_step(in, out, off, want, &fast);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break; /* it shrank: what is there is the file */
		off += n;
	}
	return 0;
}

/* Copies the size bytes in had when copying began, data extents only
 * (SEEK_DATA/SEEK_HOLE), so that a sparse file stays sparse; the end of
 * the file is set by its size, so a trailing hole stays one too. */
int files_copy_fd(int in, int out)
{
	struct stat st;
	off_t pos = 0, size;

	if (fstat(in, &st) < 0)
		return -1;
	size = st.st_size;
	while (pos < size) {
		off_t data = lseek(in, pos, SEEK_DATA), hole;
		if (data < 0 && errno == ENXIO)
			break; /* a hole up to the end */
		if (data < 0) {
			data = pos; /* holes unknown here: all of it is data */
			hole = size;
		} else {
			hole = lseek(in, data, SEEK_HOLE);
			if (hole < 0 || hole > size)
				hole = size;
		}
		if (data >= size)
			break;
		if (copy_range(in, out, data, hole) < 0)
			return -1;
		pos = hole;
	}
	if (stop_asked) {
		errno = ECANCELED;
		return -1;
	}
	if (fstat(in, &st) == 0 && st.st_size < size)
		size = st.st_size; /* it shrank meanwhile */
	return ftruncate(out, size);
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
	if (rc < 0) /* a stop is said as the ssh runner says it: reading ended */
		ops->report(ops->ctx, line,
		            files_get_io_problem(line, sizeof line, pattern,
		                                 errno == ECANCELED ? "read" : "write", path, errno));
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
	for (size_t j = 0; j < g.gl_pathc && !stop_asked; j++)
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
		for (size_t i = 0; patterns[i] && !stop_asked; i++)
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
	unsigned umask;
};

static int local_fetch(void *ctx, const char *pattern, const char *path, int in, const struct stat *st)
{
	struct local_get *g = ctx;
	struct files_dest d;
	int saved;
	(void)pattern;

	if (files_dest_open(&d, g->dest_fd, path) < 0)
		return -1;
	d.umask = g->umask;
	if (files_copy_fd(in, d.fd) < 0) {
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
	return files_get_masked(patterns, root, dest_fd, err_fd, 0);
}

int files_get_masked(char *const *patterns, const char *root, int dest_fd, int err_fd, unsigned umask)
{
	struct local_get g = { dest_fd, err_fd, umask };
	struct files_get_ops ops = { local_fetch, local_report, &g };
	return files_get_each(patterns, root, &ops);
}
