/* template_display.c — map_template_display() (template.h): a built
 * command on one line, in words a shell reads back. */
#include "template.h"
#include "util.h"

#include <stdio.h>
#include <string.h>

/* A string that grows, always NUL-terminated. */
struct buf {
	char *p;
	size_t len, cap;
};

static void buf_add(struct buf *b, const char *s, size_t n)
{
	if (b->cap - b->len < n + 1) {
		b->cap = 2 * (b->len + n + 1);
		b->p = xrealloc(b->p, b->cap);
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static int is_control(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

static int has_control(const char *s)
{
	for (; *s; s++)
		if (is_control((unsigned char)*s))
			return 1;
	return 0;
}

static int is_plain(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		int alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
		if (!alnum && !strchr("_@%+=:,./-", c))
			return 0;
	}
	return 1;
}

/* bash's $'...': a control byte written as an escape keeps the joblog at
 * one line per job. */
static void add_ansi_c(struct buf *b, const char *s)
{
	char esc[8];

	buf_add(b, "$'", 2);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '\n')
			buf_add(b, "\\n", 2);
		else if (c == '\t')
			buf_add(b, "\\t", 2);
		else if (c == '\\' || c == '\'')
			buf_add(b, c == '\\' ? "\\\\" : "\\'", 2);
		else if (is_control(c))
			buf_add(b, esc, (size_t)snprintf(esc, sizeof esc, "\\x%02x", c));
		else
			buf_add(b, s, 1);
	}
	buf_add(b, "'", 1);
}

/* Single quotes, a ' inside as '\''. */
static void add_quoted(struct buf *b, const char *s)
{
	buf_add(b, "'", 1);
	for (; *s; s++)
		buf_add(b, *s == '\'' ? "'\\''" : s, *s == '\'' ? 4 : 1);
	buf_add(b, "'", 1);
}

char *map_template_display(const struct map_template *t, char *const *argv)
{
	struct buf b = { NULL, 0, 0 };

	if (map_template_mode(t) == MAP_TEMPLATE_SH && strv_len(argv) == 3 && !has_control(argv[2]))
		return xstrdup(argv[2]);
	buf_add(&b, "", 0);
	for (size_t i = 0; argv[i]; i++) {
		if (i > 0)
			buf_add(&b, " ", 1);
		if (has_control(argv[i]))
			add_ansi_c(&b, argv[i]);
		else if (is_plain(argv[i]))
			buf_add(&b, argv[i], strlen(argv[i]));
		else
			add_quoted(&b, argv[i]);
	}
	return b.p;
}
