/* put.c — sending a job's --put files ahead of its stdin, with a
 * progress bar on the caller's terminal (see internal.h). */
#include "internal.h"
#include "progress.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

void bar_begin(struct link_bar *b, int fd, const char *name, uint64_t total)
{
	b->fd = fd >= 0 && isatty(fd) ? fd : -1;
	b->name = b->fd >= 0 ? xstrdup(name) : NULL;
	b->total = total;
	b->started = now_ms();
	b->drawn = -1;
}

void bar_step(struct link_bar *b, uint64_t done)
{
	char line[1024];
	struct winsize ws;
	int64_t now = now_ms();
	int width;
	size_t n;

	if (b->fd < 0 || !progress_due(b->started, b->drawn, now))
		return;
	width = ioctl(b->fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 ? ws.ws_col : 80;
	/* "\r", the line, then erase what a longer previous line left */
	line[0] = '\r';
	n = 1 + progress_line(line + 1, sizeof line - 4, b->name, done, b->total, now - b->started, width);
	memcpy(line + n, "\033[K", 3);
	(void)!write(b->fd, line, n + 3);
	b->drawn = now;
}

void bar_end(struct link_bar *b)
{
	if (b->fd >= 0 && b->drawn >= 0)
		(void)!write(b->fd, "\r\033[K", 4);
	free(b->name);
	b->name = NULL;
	b->fd = -1;
	b->drawn = -1;
}

/* One --put file in frames that fill an SSH packet, then its mode. */
static void send_put(struct link_slot *s, int i)
{
	unsigned char buf[CHUNK];
	struct stat st;
	struct wbuf w;
	uint64_t done = 0;
	ssize_t n;
	int known = fstat(s->puts[i], &st) == 0;

	bar_begin(&s->put_bar, s->fds[2], s->put_names[i], known ? (uint64_t)st.st_size : 0);
	lseek(s->puts[i], 0, SEEK_SET);
	while ((n = read(s->puts[i], buf, sizeof buf - 4)) > 0) {
		wbuf_init(&w, W_PUT);
		wbuf_u32(&w, s->st.job);
		wbuf_u32(&w, (uint32_t)i);
		wbuf_bytes(&w, buf, (size_t)n);
		slot_write(s, &w);
		wbuf_free(&w);
		done += (uint64_t)n;
		bar_step(&s->put_bar, done);
	}
	bar_end(&s->put_bar);
	wbuf_init(&w, W_PUT_END);
	wbuf_u32(&w, s->st.job);
	wbuf_u32(&w, (uint32_t)i);
	wbuf_u32(&w, known ? (uint32_t)(st.st_mode & 0777) : 0600);
	slot_write(s, &w);
	wbuf_free(&w);
}

/* The --put files, in order. */
void send_puts(struct link_slot *s)
{
	for (int i = 0; i < s->nputs; i++) {
		send_put(s, i);
		close(s->puts[i]);
		s->puts[i] = -1;
	}
	s->nputs = 0;
}
