/* lines.c — see lines.h. */
#include "lines.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define READ_CHUNK 65536

int map_lines_open(struct map_lines *l, int *job_end)
{
	int p[2];
	memset(l, 0, sizeof *l);
	l->fd = -1;
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	set_nonblock(p[0], 1);
	l->fd = p[0];
	*job_end = p[1];
	return 0;
}

/* Writes buf's whole lines, each in one write with its tag before it; the
 * rest moves to the front. */
static int pass_lines(struct map_lines *l, int to_fd, const char *tag, size_t taglen)
{
	size_t at = 0;
	char *nl;
	while ((nl = memchr(l->buf + at, '\n', l->len - at))) {
		size_t n = (size_t)(nl - (l->buf + at)) + 1;
		if (tag) {
			char *line = xmalloc(taglen + n);
			int rc;
			memcpy(line, tag, taglen);
			memcpy(line + taglen, l->buf + at, n);
			rc = write_all(to_fd, line, taglen + n);
			free(line);
			if (rc < 0)
				return -1;
		} else if (write_all(to_fd, l->buf + at, n) < 0) {
			return -1;
		}
		at += n;
	}
	memmove(l->buf, l->buf + at, l->len - at);
	l->len -= at;
	return 0;
}

int map_lines_read(struct map_lines *l, int to_fd, const char *tag, size_t taglen)
{
	/* a few reads at a time: a job that writes without pause must not
	 * keep the batch from its other jobs */
	for (int reads = 0; reads < 16; reads++) {
		ssize_t n;
		if (l->cap - l->len < READ_CHUNK) {
			l->cap = l->cap ? 2 * l->cap : 2 * READ_CHUNK;
			l->buf = xrealloc(l->buf, l->cap);
		}
		n = read(l->fd, l->buf + l->len, l->cap - l->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n <= 0)
			return 1; /* the end (or a broken pipe: nothing more comes) */
		l->len += (size_t)n;
		l->total += (uint64_t)n;
		if (pass_lines(l, to_fd, tag, taglen) < 0)
			return -1;
	}
	return 0;
}

/* Whether more is there at once: the job has ended, so what its pipe
 * holds is all it wrote, unless something it left behind still writes. */
static int readable_now(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

int map_lines_close(struct map_lines *l, int to_fd, const char *tag, size_t taglen)
{
	int rc = 0;
	if (to_fd < 0 && l->fd >= 0) { /* dropped unread */
		close(l->fd);
		l->fd = -1;
		l->len = 0;
	}
	if (l->fd >= 0) {
		int r;
		while ((r = map_lines_read(l, to_fd, tag, taglen)) == 0 && l->len < (64u << 20))
			if (!readable_now(l->fd))
				break;
		rc = r < 0 ? -1 : 0;
		close(l->fd);
		l->fd = -1;
	}
	if (rc == 0 && l->len > 0) {
		if ((tag && write_all(to_fd, tag, taglen) < 0) || write_all(to_fd, l->buf, l->len) < 0)
			rc = -1;
	}
	free(l->buf);
	l->buf = NULL;
	l->len = l->cap = 0;
	return rc;
}
