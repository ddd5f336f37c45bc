/* duration.h — parse and print durations such as "500ms", "1.5s", "2", "5m", "1h".
 * A bare number means seconds.  Pure functions; unit-tested. */
#ifndef FLAME_DURATION_H
#define FLAME_DURATION_H

#include <stddef.h>
#include <stdint.h>

/* 0 on success with *ms set (rounded up to whole milliseconds); -1 if s is not a
 * duration or is negative or larger than about 30 days. */
int duration_parse(const char *s, int64_t *ms);

/* Shortest readable form: "250ms", "2s", "1.5s", "5m", "90m", "2h". */
void duration_format(int64_t ms, char *buf, size_t len);

#endif
