/* fuzz.h — what the libFuzzer harnesses share: the entry point's prototype,
 * a NUL-terminated copy of the input, and a check that aborts (so libFuzzer
 * keeps the input as a crash) when a property of a parser does not hold. */
#ifndef FLAME_FUZZ_H
#define FLAME_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond)                                                                            \
	do {                                                                                        \
		if (!(cond)) {                                                                      \
			fprintf(stderr, "%s:%d: property broken: %s\n", __FILE__, __LINE__, #cond); \
			abort();                                                                    \
		}                                                                                   \
	} while (0)

/* The input as a C string (malloc'd; the caller frees it). */
static inline char *fuzz_text(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (!s)
		abort();
	if (size)
		memcpy(s, data, size);
	s[size] = 0;
	return s;
}

/* A message meant for one line of a terminal. */
static inline int fuzz_one_line(const char *s)
{
	return !strchr(s, '\n') && !strchr(s, '\r');
}

#endif
