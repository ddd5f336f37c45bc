/* progress.c — see progress.h. */
#include "progress.h"

#include <stdio.h>
#include <string.h>

int progress_due(int64_t started_ms, int64_t drawn_ms, int64_t now_ms)
{
	if (now_ms - started_ms <= PROGRESS_DELAY_MS)
		return 0;
	return drawn_ms < 0 || now_ms - drawn_ms >= PROGRESS_EVERY_MS;
}

size_t progress_size(char *buf, size_t cap, uint64_t bytes)
{
	static const char *units[] = { "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	double v = (double)bytes;
	size_t u = 0;
	int n;

	if (bytes < 1024) {
		n = snprintf(buf, cap, "%u B", (unsigned)bytes);
	} else {
		v /= 1024;
		while (v >= 1024 && u + 1 < sizeof units / sizeof units[0]) {
			v /= 1024;
			u++;
		}
		/* 1023.96 would print as "1024.0": call it the next unit */
		if (v >= 1023.95 && u + 1 < sizeof units / sizeof units[0]) {
			v /= 1024;
			u++;
		}
		n = snprintf(buf, cap, "%.1f %s", v, units[u]);
	}
	if (n < 0)
		n = 0;
	return (size_t)n < cap ? (size_t)n : cap - 1;
}

/* Columns a UTF-8 string takes (one per character: good enough for names). */
static size_t columns(const char *s, size_t len)
{
	size_t c = 0;
	for (size_t i = 0; i < len; i++)
		c += ((unsigned char)s[i] & 0xC0) != 0x80;
	return c;
}

/* How many bytes of s make its first `cols` characters. */
static size_t bytes_for(const char *s, size_t cols)
{
	size_t i = 0;
	while (s[i] && cols > 0) {
		i++;
		while (((unsigned char)s[i] & 0xC0) == 0x80)
			i++;
		cols--;
	}
	return i;
}

/* Appends NAME to buf at *len, cut to `room` columns, control characters
 * replaced. */
static void put_name(char *buf, size_t cap, size_t *len, const char *name, size_t room)
{
	size_t n = strlen(name), take = n;
	int cut = columns(name, n) > room;

	if (cut)
		take = bytes_for(name, room - 3);
	for (size_t i = 0; i < take && *len + 1 < cap; i++) {
		unsigned char c = (unsigned char)name[i];
		buf[(*len)++] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	for (int i = 0; cut && i < 3 && *len + 1 < cap; i++)
		buf[(*len)++] = '.';
	buf[*len] = 0;
}

size_t progress_line(char *buf, size_t cap, const char *name, uint64_t done, uint64_t total,
                     int64_t elapsed_ms, int width)
{
	char d[32], t[32], r[32], figures[128];
	unsigned pct = total ? (unsigned)(done >= total ? 100 : done * 100.0 / (double)total) : 100;
	uint64_t rate = elapsed_ms > 0 ? (uint64_t)((double)done * 1000.0 / (double)elapsed_ms) : 0;
	size_t len = 0, fig, max = width > 1 ? (size_t)width - 1 : 0;

	progress_size(d, sizeof d, done);
	progress_size(t, sizeof t, total);
	progress_size(r, sizeof r, rate);
	fig = (size_t)snprintf(figures, sizeof figures, "%3u%%  %s / %s  %s/s", pct, d, t, r);
	buf[0] = 0;
	/* a name needs room for a few characters and "...", plus two spaces */
	if (name && name[0] && max >= fig + 2 + 6) {
		put_name(buf, cap, &len, name, max - fig - 2);
		for (int i = 0; i < 2 && len + 1 < cap; i++)
			buf[len++] = ' ';
	}
	if (fig > max)
		fig = max;
	if (len + fig >= cap)
		fig = cap - 1 - len;
	memcpy(buf + len, figures, fig);
	len += fig;
	buf[len] = 0;
	return len;
}
