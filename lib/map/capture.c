/* capture.c — see capture.h. */
#include "capture.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define COPY_CHUNK 65536

static int open_unlinked(const char *dir)
{
	char *path;
	int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);

	if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR && errno != ENOENT))
		return fd;
	/* a file system without O_TMPFILE: a named file, unlinked at once */
	path = xasprintf("%s/map-out.XXXXXX", dir);
	fd = mkostemp(path, O_CLOEXEC);
	if (fd >= 0)
		unlink(path);
	free(path);
	return fd;
}

int map_capture_open(struct map_capture *c, const char *dir, char *err, size_t errlen)
{
	c->out = open_unlinked(dir);
	c->err = c->out >= 0 ? open_unlinked(dir) : -1;
	if (c->err >= 0)
		return 0;
	snprintf(err, errlen, "cannot make a file for a job's output in %s: %s", dir, strerror(errno));
	map_capture_close(c);
	return -1;
}

int map_write_tagged(int fd, const char *buf, size_t len, const char *tag, size_t taglen, int *at_line_start)
{
	while (len > 0) {
		const char *nl = memchr(buf, '\n', len);
		size_t n = nl ? (size_t)(nl - buf) + 1 : len;
		if (tag && *at_line_start && write_all(fd, tag, taglen) < 0)
			return -1;
		if (write_all(fd, buf, n) < 0)
			return -1;
		*at_line_start = nl != NULL;
		buf += n;
		len -= n;
	}
	return 0;
}

/* Copies fd's first size bytes to to_fd, then empties fd. */
static int drain(int fd, int to_fd, const char *tag, size_t taglen, uint64_t *size)
{
	struct stat st;
	static char buf[COPY_CHUNK];
	int line_start = 1;
	off_t at = 0;

	if (fstat(fd, &st) < 0)
		return -1;
	*size = (uint64_t)st.st_size;
	while (at < st.st_size) {
		ssize_t n = pread(fd, buf, sizeof buf, at);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break; /* shrunk meanwhile: what was there is shown */
		if (map_write_tagged(to_fd, buf, (size_t)n, tag, taglen, &line_start) < 0)
			return -1;
		at += n;
	}
	if (st.st_size > 0 && (ftruncate(fd, 0) < 0 || lseek(fd, 0, SEEK_SET) < 0))
		return -1;
	return 0;
}

int map_capture_show(struct map_capture *c, int out_fd, int err_fd, const char *tag, size_t taglen,
                     uint64_t *out_bytes)
{
	uint64_t err_bytes;
	if (drain(c->out, out_fd, tag, taglen, out_bytes) < 0)
		return -1;
	return drain(c->err, err_fd, tag, taglen, &err_bytes);
}

void map_capture_close(struct map_capture *c)
{
	if (c->out >= 0)
		close(c->out);
	if (c->err >= 0)
		close(c->err);
	c->out = c->err = -1;
}
