/* input.c — see input.h. */
#include "input.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define READ_CHUNK 65536

struct map_input {
	int fd;
	char sep;
	char *buf;
	size_t cap, start, end; /* unread bytes are buf[start..end) */
	int eof;
	char *const *words;
	size_t nwords, next;
};

struct map_input *map_input_fd(int fd, char sep)
{
	struct map_input *in = xcalloc(1, sizeof *in);
	in->fd = fd;
	in->sep = sep;
	return in;
}

struct map_input *map_input_words(char *const *words, size_t n)
{
	struct map_input *in = xcalloc(1, sizeof *in);
	in->fd = -1;
	in->words = words;
	in->nwords = n;
	return in;
}

/* Room for at least one more chunk after the unread bytes, which move to
 * the front: the buffer grows only for a record longer than it. */
static void make_room(struct map_input *in)
{
	size_t unread = in->end - in->start;
	if (in->start > 0) {
		memmove(in->buf, in->buf + in->start, unread);
		in->start = 0;
		in->end = unread;
	}
	if (in->cap - in->end < READ_CHUNK + 1) {
		in->cap = in->cap ? in->cap * 2 : 2 * READ_CHUNK;
		in->buf = xrealloc(in->buf, in->cap);
	}
}

static int fill(struct map_input *in)
{
	ssize_t n;
	make_room(in);
	do
		n = read(in->fd, in->buf + in->end, in->cap - in->end - 1);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	if (n == 0)
		in->eof = 1;
	in->end += (size_t)n;
	return 0;
}

static int next_from_fd(struct map_input *in, const char **rec, size_t *len)
{
	size_t scanned = 0;
	for (;;) {
		char *from = in->buf ? in->buf + in->start + scanned : NULL;
		char *sep = from ? memchr(from, in->sep, in->end - in->start - scanned) : NULL;
		if (sep) {
			*sep = '\0';
			*rec = in->buf + in->start;
			*len = (size_t)(sep - *rec);
			in->start += *len + 1;
			return 1;
		}
		if (in->eof) {
			if (!in->buf || in->end == in->start)
				return 0;
			in->buf[in->end] = '\0'; /* the last record, without its separator */
			*rec = in->buf + in->start;
			*len = in->end - in->start;
			in->start = in->end;
			return 1;
		}
		scanned = in->end - in->start;
		if (fill(in) < 0)
			return -1;
	}
}

int map_input_next(struct map_input *in, const char **rec, size_t *len)
{
	if (in->fd >= 0)
		return next_from_fd(in, rec, len);
	if (in->next >= in->nwords)
		return 0;
	*rec = in->words[in->next++];
	*len = strlen(*rec);
	return 1;
}

int map_input_ready(const struct map_input *in)
{
	if (in->fd < 0 || in->eof)
		return 1;
	return in->end > in->start && memchr(in->buf + in->start, in->sep, in->end - in->start);
}

int map_input_fd_of(const struct map_input *in)
{
	return in->fd;
}

int map_input_fill(struct map_input *in)
{
	return in->fd < 0 || in->eof ? 0 : fill(in);
}

void map_input_free(struct map_input *in)
{
	if (!in)
		return;
	free(in->buf);
	free(in);
}
