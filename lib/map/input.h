/* input.h — the inputs of `flame map`, one record at a time: lines (or
 * NUL-separated records) read from a descriptor as they come, or the words
 * given after `:::`.  Memory stays at the longest record, however many there
 * are; every byte of a record is kept as it was (a final record without its
 * separator counts; an empty record is an input). */
#ifndef FLAME_MAP_INPUT_H
#define FLAME_MAP_INPUT_H

#include <stddef.h>

struct map_input;

/* Records read from fd (not closed), separated by sep ('\n' or '\0'). */
struct map_input *map_input_fd(int fd, char sep);
/* The words themselves, one record each (not copied: they must outlive it). */
struct map_input *map_input_words(char *const *words, size_t n);

/* The next record: 1 and *rec, *len (valid until the next call; rec[len] is
 * a NUL, so a record without NUL bytes is a C string), 0 at the end, -1 when
 * reading failed (errno says why). */
int map_input_next(struct map_input *in, const char **rec, size_t *len);

/* For a caller that must not block on a slow pipe (`tail -f | flame map`):
 * whether map_input_next() can answer without reading (a whole record is
 * held, or the end was seen; always for words), the descriptor to poll
 * otherwise, and one read of what is there: 0, or -1 (errno). */
int map_input_ready(const struct map_input *in);
int map_input_fd_of(const struct map_input *in);
int map_input_fill(struct map_input *in);

void map_input_free(struct map_input *in);

#endif
