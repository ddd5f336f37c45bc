/* progress.h — what a file transfer's progress bar shows, and when.
 *
 * Pure: no I/O and no clock, so that it can be tested; the caller (the ssh
 * link, which moves --put and --get files) owns the terminal and the time.
 * The line is "NAME  45%  28.8 MiB / 64.0 MiB  12.3 MiB/s", like curl's and
 * scp's, without a newline: it is redrawn in place after a carriage return. */
#ifndef FLAME_PROGRESS_H
#define FLAME_PROGRESS_H

#include <stddef.h>
#include <stdint.h>

#define PROGRESS_DELAY_MS 1000 /* a shorter transfer shows nothing */
#define PROGRESS_EVERY_MS 100  /* redraw at most ten times a second */

/* Whether to draw now: the transfer started at started_ms has lasted more
 * than PROGRESS_DELAY_MS, and the last drawing (drawn_ms, < 0 for none) is
 * PROGRESS_EVERY_MS old. */
int progress_due(int64_t started_ms, int64_t drawn_ms, int64_t now_ms);

/* "912 B", "1.5 KiB", "64.0 MiB", "1.2 GiB"...; returns its length. */
size_t progress_size(char *buf, size_t cap, uint64_t bytes);

/* The line for NAME (control characters shown as '?') with done of total
 * bytes moved in elapsed_ms, in at most width - 1 columns (the last column
 * would wrap on some terminals): a name too long is cut and ends in "...",
 * and with no room left for it only the figures are shown.  Returns the
 * length in bytes (< cap; cap >= 1). */
size_t progress_line(char *buf, size_t cap, const char *name, uint64_t done, uint64_t total,
                     int64_t elapsed_ms, int width);

#endif
