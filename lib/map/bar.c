/* bar.c — --bar: one line on a terminal's stderr, redrawn as jobs end (at
 * most a few times a second), erased at the end.  Nothing on a pipe. */
#include "internal.h"
#include "util.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define BAR_EVERY_MS 200

static void draw(const struct map_batch *b)
{
	char line[256];
	int n;
	int64_t elapsed = now_ms() - b->first_ms;
	unsigned long total = b->o->args ? b->o->nargs : b->input_done ? b->next_seq - 1 : 0;

	if (total && b->done > 0 && b->done < total) {
		int64_t eta = elapsed * (int64_t)(total - b->done) / (int64_t)b->done / 1000;
		n = snprintf(line, sizeof line, "\r%lu/%lu done, %lu failed, %lu running, ETA %llds\033[K",
		             b->done, total, b->failed, b->running, (long long)eta);
	} else if (total) {
		n = snprintf(line, sizeof line, "\r%lu/%lu done, %lu failed, %lu running\033[K", b->done,
		             total, b->failed, b->running);
	} else {
		n = snprintf(line, sizeof line, "\r%lu done, %lu failed, %lu running\033[K", b->done,
		             b->failed, b->running);
	}
	(void)write_all(2, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

void map_bar_clear(struct map_batch *b)
{
	if (!b->bar_on_tty || !b->bar_drawn)
		return;
	(void)write_all(2, "\r\033[K", 4);
	b->bar_drawn = 0;
	b->last_bar_ms = 0;
}

void map_bar(struct map_batch *b, int final)
{
	int64_t now;
	if (!b->o->bar || !b->bar_on_tty)
		return;
	if (final) {
		map_bar_clear(b);
		return;
	}
	now = now_ms();
	if (!b->first_ms)
		b->first_ms = now;
	if (now - b->last_bar_ms < BAR_EVERY_MS)
		return;
	b->last_bar_ms = now;
	b->bar_drawn = 1;
	draw(b);
}
