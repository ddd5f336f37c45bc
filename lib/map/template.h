/* template.h — the command of each `flame map` job, built from the template
 * words as GNU parallel builds it: every occurrence of a replacement string,
 * anywhere in a word, becomes a value of the job's input:
 *
 *   {}    the input              {//}  its directory (Perl's dirname: "."
 *   {.}   without its extension        when it has no slash)
 *   {/}   its basename           {/.}  the basename without its extension
 *   {#}   the job's number, 1…   {%}   the job's slot, 1…
 *
 * and when no word holds one, the input is appended as one more word.
 * Anything else in braces ({1}, {= perl =}, {foo}) stays as it is, byte for
 * byte; the template lists it for --verbose.
 *
 * Three modes: ARGV builds an argv word by word, the input's bytes as they
 * are (no shell); SH builds {"/bin/sh", "-c", STRING} from one shell string,
 * each value inserted shell-quoted as parallel does (in single quotes, a '
 * as '\'', unless it is made of [-_.+/A-Za-z0-9] only; '' when empty; {#}
 * and {%} are digits); WORD builds one word and never appends (the paths of
 * --put and --get).  The template is parsed once; a build is one pass.
 * Pure: no I/O. */
#ifndef FLAME_MAP_TEMPLATE_H
#define FLAME_MAP_TEMPLATE_H

#include <stddef.h>

enum map_template_mode { MAP_TEMPLATE_ARGV, MAP_TEMPLATE_SH, MAP_TEMPLATE_WORD };

struct map_template;

/* ARGV: WORDS is NULL-terminated (an empty list runs the input itself); SH
 * and WORD: only words[0] is read.  The words are copied. */
struct map_template *map_template_new(char *const *words, enum map_template_mode mode);
void map_template_free(struct map_template *t);

enum map_template_mode map_template_mode(const struct map_template *t);

/* 1 if no replacement string appears, so that a build appends the input
 * (never in WORD mode). */
int map_template_appends(const struct map_template *t);
/* The brace strings that are not replacement strings, each once, in the
 * order met: a NULL-terminated list owned by t. */
const char *const *map_template_unknown(const struct map_template *t);

/* One job's command: a NULL-terminated vector of malloc'd strings (free with
 * strv_free; one word in WORD mode), or NULL if INPUT (LEN bytes) holds a
 * NUL byte, which no argument can carry. */
char **map_template_build(const struct map_template *t, const char *input, size_t len, unsigned long seq,
                          unsigned slot);
/* The same in WORD mode, as the word itself (malloc'd); NULL as above, or
 * in another mode. */
char *map_template_build_word(const struct map_template *t, const char *input, size_t len, unsigned long seq,
                              unsigned slot);

/* ARGV, built from t, on one line for the joblog and --verbose (malloc'd;
 * in template_display.c): the words joined by spaces, each one that is not
 * made of [A-Za-z0-9_@%+=:,./-] only in single quotes, and one with a
 * control byte as $'...' (\n, \t, \\, \', \xHH), so that a shell (bash, for
 * $'...') reads the words back.  In SH mode, the shell string itself when it
 * has no control byte. */
char *map_template_display(const struct map_template *t, char *const *argv);

#endif
