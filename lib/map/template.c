/* template.c — see template.h. */
#include "template.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* PART_TEXT: bytes of the word itself; the others, in the order of
 * template.h: {} {.} {/} {//} {/.} {#} {%}. */
enum part_kind {
	PART_TEXT,
	PART_INPUT,
	PART_NOEXT,
	PART_BASE,
	PART_DIR,
	PART_BASE_NOEXT,
	PART_SEQ,
	PART_SLOT,
	PART_KINDS
};

/* No replacement string is a prefix of another, so the first match is the
 * only one. */
static const struct {
	const char *s;
	size_t len;
	enum part_kind kind;
} replacements[] = {
	{ "{}", 2, PART_INPUT }, { "{.}", 3, PART_NOEXT },       { "{/}", 3, PART_BASE },
	{ "{//}", 4, PART_DIR }, { "{/.}", 4, PART_BASE_NOEXT }, { "{#}", 3, PART_SEQ },
	{ "{%}", 3, PART_SLOT },
};

struct part {
	enum part_kind kind;
	size_t off, len; /* PART_TEXT: the bytes text[off, off + len) */
};

struct tword {
	char *text;
	struct part *parts;
	size_t nparts;
};

struct map_template {
	enum map_template_mode mode;
	struct tword *words;
	size_t nwords;
	unsigned uses; /* 1 << kind for each replacement string met */
	char **unknown;
	size_t nunknown;
};

struct slice {
	const char *p;
	size_t len;
};

/* One job's values, each a slice of the input (or of a constant). */
struct values {
	struct slice v[PART_KINDS];
	char seq[24], slot[16];
};

static enum part_kind replacement_at(const char *s, size_t *len)
{
	for (size_t i = 0; i < sizeof replacements / sizeof replacements[0]; i++) {
		if (strncmp(s, replacements[i].s, replacements[i].len) == 0) {
			*len = replacements[i].len;
			return replacements[i].kind;
		}
	}
	return PART_TEXT;
}

/* The length of the brace string at s (a '{') that is no replacement
 * string: parallel's {= perl =} up to its "=}", else up to the first '}'
 * with no '{' before it; 0 if there is none. */
static size_t unknown_at(const char *s)
{
	const char *end;
	if (s[1] == '=' && (end = strstr(s + 2, "=}")) != NULL)
		return (size_t)(end + 2 - s);
	for (size_t i = 1; s[i]; i++) {
		if (s[i] == '}')
			return i + 1;
		if (s[i] == '{')
			return 0;
	}
	return 0;
}

static char *copy_bytes(const char *p, size_t len)
{
	char *s = xmalloc(len + 1);
	memcpy(s, p, len);
	s[len] = '\0';
	return s;
}

static void note_unknown(struct map_template *t, const char *s, size_t len)
{
	for (size_t i = 0; i < t->nunknown; i++)
		if (strncmp(t->unknown[i], s, len) == 0 && t->unknown[i][len] == '\0')
			return;
	t->unknown = xrealloc(t->unknown, (t->nunknown + 2) * sizeof *t->unknown);
	t->unknown[t->nunknown++] = copy_bytes(s, len);
	t->unknown[t->nunknown] = NULL;
}

static void add_part(struct tword *w, enum part_kind kind, size_t off, size_t len)
{
	struct part *last = w->nparts > 0 ? &w->parts[w->nparts - 1] : NULL;

	/* text next to text is one run of the word */
	if (kind == PART_TEXT && last && last->kind == PART_TEXT) {
		last->len += len;
		return;
	}
	w->parts[w->nparts++] = (struct part){ kind, off, len };
}

/* A word split into its parts (built in a local, which nothing else can
 * reach while the template grows). */
static struct tword parse_word(struct map_template *t, const char *word)
{
	struct tword w = { xstrdup(word), NULL, 0 };
	size_t i = 0, len, braces = 0;
	enum part_kind kind;

	for (const char *p = word; (p = strchr(p, '{')) != NULL; p++)
		braces++;
	/* each '{' ends at most one text part and starts one more */
	w.parts = xmalloc((2 * braces + 1) * sizeof *w.parts);
	while (word[i]) {
		if (word[i] != '{') {
			len = strcspn(word + i, "{");
			add_part(&w, PART_TEXT, i, len);
			i += len;
			continue;
		}
		kind = replacement_at(word + i, &len);
		if (kind != PART_TEXT) {
			t->uses |= 1u << kind;
			add_part(&w, kind, i, len);
			i += len;
			continue;
		}
		len = unknown_at(word + i);
		if (len > 0)
			note_unknown(t, word + i, len);
		else
			len = 1; /* a lone '{' */
		add_part(&w, PART_TEXT, i, len);
		i += len;
	}
	return w;
}

struct map_template *map_template_new(char *const *words, enum map_template_mode mode)
{
	struct map_template *t = xcalloc(1, sizeof *t);
	static char *const none[] = { "", NULL };
	size_t n;

	if (mode != MAP_TEMPLATE_ARGV && (!words || !words[0]))
		words = none;
	n = mode == MAP_TEMPLATE_ARGV ? strv_len(words) : 1;
	t->mode = mode;
	t->nwords = n;
	t->words = xcalloc(n, sizeof *t->words);
	t->unknown = xcalloc(1, sizeof *t->unknown);
	for (size_t i = 0; i < n; i++)
		t->words[i] = parse_word(t, words[i]);
	return t;
}

void map_template_free(struct map_template *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nwords; i++) {
		free(t->words[i].text);
		free(t->words[i].parts);
	}
	free(t->words);
	strv_free(t->unknown);
	free(t);
}

enum map_template_mode map_template_mode(const struct map_template *t)
{
	return t->mode;
}

int map_template_appends(const struct map_template *t)
{
	return t->uses == 0 && t->mode != MAP_TEMPLATE_WORD;
}

const char *const *map_template_unknown(const struct map_template *t)
{
	return (const char *const *)t->unknown;
}

/* {.}: parallel's s:\.[^/.]*$:: — the last dot and what follows, when no
 * slash follows. */
static struct slice without_ext(struct slice s)
{
	const char *dot = memrchr(s.p, '.', s.len);
	if (dot && !memchr(dot, '/', s.len - (size_t)(dot - s.p)))
		s.len = (size_t)(dot - s.p);
	return s;
}

/* {/}: what follows the last slash.  (parallel's regex stops at a newline:
 * it differs for a newline before the last slash, -0 only.) */
static struct slice base_of(struct slice s)
{
	const char *slash = memrchr(s.p, '/', s.len);
	if (slash) {
		s.len -= (size_t)(slash + 1 - s.p);
		s.p = slash + 1;
	}
	return s;
}

/* Perl's fileparse: the directory part, up to its last slash; "./" if it
 * has none.  *baselen is what follows. */
static struct slice dir_part(struct slice s, size_t *baselen)
{
	const char *slash = memrchr(s.p, '/', s.len);
	if (!slash) {
		*baselen = s.len;
		return (struct slice){ "./", 2 };
	}
	*baselen = s.len - (size_t)(slash + 1 - s.p);
	return (struct slice){ s.p, (size_t)(slash + 1 - s.p) };
}

/* Trailing slashes go, but the first byte stays ("/" is "/"). */
static struct slice strip_slashes(struct slice s)
{
	while (s.len > 1 && s.p[s.len - 1] == '/')
		s.len--;
	return s;
}

/* {//}: Perl's File::Basename::dirname, as parallel calls it: a trailing
 * slash ends no name, so "a/b/" is in "a". */
static struct slice dir_of(struct slice s)
{
	size_t baselen;
	struct slice d = strip_slashes(dir_part(s, &baselen));

	if (baselen == 0)
		d = strip_slashes(dir_part(d, &baselen));
	return d;
}

static void values_of(const struct map_template *t, struct values *v, struct slice in, unsigned long seq,
                      unsigned slot)
{
	v->v[PART_INPUT] = in;
	if (t->uses & (1u << PART_NOEXT))
		v->v[PART_NOEXT] = without_ext(in);
	if (t->uses & (1u << PART_BASE | 1u << PART_BASE_NOEXT)) {
		v->v[PART_BASE] = base_of(in);
		v->v[PART_BASE_NOEXT] = without_ext(v->v[PART_BASE]);
	}
	if (t->uses & (1u << PART_DIR))
		v->v[PART_DIR] = dir_of(in);
	if (t->uses & (1u << PART_SEQ)) {
		int n = snprintf(v->seq, sizeof v->seq, "%lu", seq);
		v->v[PART_SEQ] = (struct slice){ v->seq, (size_t)n };
	}
	if (t->uses & (1u << PART_SLOT)) {
		int n = snprintf(v->slot, sizeof v->slot, "%u", slot);
		v->v[PART_SLOT] = (struct slice){ v->slot, (size_t)n };
	}
}

static int is_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* What a value may hold and go into a shell string unquoted: parallel's set,
 * which quotes '=' (a first word would be an assignment). */
static int sh_plain(unsigned char c)
{
	return is_alnum(c) || (c != '\0' && strchr("-_.+/", c));
}

static int all_plain(struct slice s, int (*plain)(unsigned char))
{
	if (s.len == 0)
		return 0;
	for (size_t i = 0; i < s.len; i++)
		if (!plain((unsigned char)s.p[i]))
			return 0;
	return 1;
}

/* Single quotes, a ' inside as '\'': what sh reads back as s. */
static size_t quoted_len(struct slice s, int (*plain)(unsigned char))
{
	size_t n = 2;
	if (all_plain(s, plain))
		return s.len;
	for (size_t i = 0; i < s.len; i++)
		n += s.p[i] == '\'' ? 4 : 1;
	return n;
}

static char *put_quoted(char *dst, struct slice s, int (*plain)(unsigned char))
{
	if (all_plain(s, plain))
		return mempcpy(dst, s.p, s.len);
	*dst++ = '\'';
	for (size_t i = 0; i < s.len; i++) {
		if (s.p[i] == '\'')
			dst = mempcpy(dst, "'\\''", 4);
		else
			*dst++ = s.p[i];
	}
	*dst++ = '\'';
	return dst;
}

static size_t part_len(const struct map_template *t, const struct part *p, const struct values *v)
{
	if (p->kind == PART_TEXT)
		return p->len;
	if (t->mode == MAP_TEMPLATE_SH)
		return quoted_len(v->v[p->kind], sh_plain);
	return v->v[p->kind].len;
}

static char *put_part(char *dst, const struct map_template *t, const struct tword *w, const struct part *p,
                      const struct values *v)
{
	if (p->kind == PART_TEXT)
		return mempcpy(dst, w->text + p->off, p->len);
	if (t->mode == MAP_TEMPLATE_SH)
		return put_quoted(dst, v->v[p->kind], sh_plain);
	return mempcpy(dst, v->v[p->kind].p, v->v[p->kind].len);
}

/* One word, sized first and then written in one go; APPEND adds " " and
 * the quoted input (SH mode). */
static char *word_of(const struct map_template *t, const struct tword *w, const struct values *v, int append)
{
	size_t len = 0;
	char *s, *end;

	for (size_t i = 0; i < w->nparts; i++)
		len += part_len(t, &w->parts[i], v);
	if (append)
		len += 1 + quoted_len(v->v[PART_INPUT], sh_plain);
	s = end = xmalloc(len + 1);
	for (size_t i = 0; i < w->nparts; i++)
		end = put_part(end, t, w, &w->parts[i], v);
	if (append) {
		*end++ = ' ';
		end = put_quoted(end, v->v[PART_INPUT], sh_plain);
	}
	*end = '\0';
	return s;
}

char **map_template_build(const struct map_template *t, const char *input, size_t len, unsigned long seq,
                          unsigned slot)
{
	struct values v;
	struct slice in = { input ? input : "", input ? len : 0 };
	char **argv;
	size_t n = 0;

	if (memchr(in.p, '\0', in.len))
		return NULL;
	values_of(t, &v, in, seq, slot);
	if (t->mode == MAP_TEMPLATE_SH) {
		argv = xmalloc(4 * sizeof *argv);
		argv[0] = xstrdup("/bin/sh");
		argv[1] = xstrdup("-c");
		argv[2] = word_of(t, &t->words[0], &v, map_template_appends(t));
		argv[3] = NULL;
		return argv;
	}
	argv = xmalloc((t->nwords + 2) * sizeof *argv);
	for (size_t i = 0; i < t->nwords; i++)
		argv[n++] = word_of(t, &t->words[i], &v, 0);
	if (map_template_appends(t))
		argv[n++] = copy_bytes(in.p, in.len);
	argv[n] = NULL;
	return argv;
}

char *map_template_build_word(const struct map_template *t, const char *input, size_t len, unsigned long seq,
                              unsigned slot)
{
	char **v = t->mode == MAP_TEMPLATE_WORD ? map_template_build(t, input, len, seq, slot) : NULL;
	char *word = v ? v[0] : NULL;
	free(v);
	return word;
}
