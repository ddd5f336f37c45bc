/* fuzz_template.c — flame map's command builder (lib/map/template.h) on any
 * template and input.  The bytes are: a mode byte (ARGV, SH or WORD), the
 * template up to the first NUL (ARGV words separated by 0x1e), the input
 * after it (a NUL in it must make the build refuse).  Properties:
 *  - a template without replacement strings keeps every word byte for byte
 *    and appends the input (ARGV, SH) or nothing (WORD);
 *  - in SH mode the values read back through a small single-quote reader
 *    (sh itself is not run) as ARGV mode builds them; {/} and friends are
 *    the slices of the input they should be;
 *  - the display is one line of printable bytes that reads back as the
 *    command it shows. */
#include "fuzz.h"
#include "map/template.h"
#include "util.h"

#define SEP 0x1e

static int plain(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("_@%+=:,./-", c));
}

static int hex(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* bash's $'...' body as template_display.c writes it, at *sp past the $'. */
static int read_ansi(const char **sp, char *out, size_t *n)
{
	const char *s = *sp;
	while (*s != '\'') {
		if (!*s)
			return -1;
		if (*s != '\\') {
			out[(*n)++] = *s++;
			continue;
		}
		s++;
		if (*s == 'n' || *s == 't' || *s == '\\' || *s == '\'')
			out[(*n)++] = *s == 'n' ? '\n' : *s == 't' ? '\t' : *s;
		else if (*s == 'x' && hex(s[1]) >= 0 && hex(s[2]) >= 0)
			out[(*n)++] = (char)(hex(s[1]) * 16 + hex(s[2])), s += 2;
		else
			return -1;
		s++;
	}
	*sp = s + 1;
	return 0;
}

/* One shell word at *sp as flame quotes them: plain bytes, '...', \' and
 * (when ansi) $'...'; it ends at a space or the end.  -1 if it is not so. */
static int read_word(const char **sp, char *out, int ansi)
{
	const char *s = *sp;
	size_t n = 0;
	while (*s && *s != ' ') {
		if (*s == '\'') {
			const char *end = strchr(s + 1, '\'');
			if (!end)
				return -1;
			memcpy(out + n, s + 1, (size_t)(end - s - 1));
			n += (size_t)(end - s - 1);
			s = end + 1;
		} else if (s[0] == '\\' && s[1] == '\'') {
			out[n++] = '\'', s += 2;
		} else if (ansi && s[0] == '$' && s[1] == '\'') {
			s += 2;
			if (read_ansi(&s, out, &n) < 0)
				return -1;
		} else if (plain((unsigned char)*s)) {
			out[n++] = *s++;
		} else {
			return -1;
		}
	}
	if (s == *sp)
		return -1; /* an empty word is '' */
	out[n] = '\0';
	*sp = s;
	return 0;
}

/* The words of s, separated by one space; NULL if s is not made so. */
static char **read_words(const char *s, int ansi)
{
	size_t len = strlen(s), n = 0;
	char **v = xcalloc(len + 2, sizeof *v);
	while (*s || n == 0) {
		v[n] = xmalloc(len + 1);
		if (read_word(&s, v[n++], ansi) < 0 || (*s == ' ' && !*++s)) {
			strv_free(v);
			return NULL;
		}
	}
	return v;
}

static int same_strv(char *const *a, char *const *b)
{
	size_t i;
	for (i = 0; a[i] && b[i]; i++)
		if (strcmp(a[i], b[i]) != 0)
			return 0;
	return !a[i] && !b[i];
}

static int has_rpl(char *const *words)
{
	static const char *const rpl[] = { "{}", "{.}", "{/}", "{//}", "{/.}", "{#}", "{%}" };
	for (; *words; words++)
		for (size_t i = 0; i < sizeof rpl / sizeof rpl[0]; i++)
			if (strstr(*words, rpl[i]))
				return 1;
	return 0;
}

static void check_display(const struct map_template *t, char **argv)
{
	char *d = map_template_display(t, argv), **back;
	for (const char *p = d; *p; p++)
		FUZZ_CHECK((unsigned char)*p >= 0x20 && *p != 0x7f);
	if (map_template_mode(t) == MAP_TEMPLATE_SH && !strcmp(d, argv[2])) {
		free(d);
		return;
	}
	back = argv[0] ? read_words(d, 1) : NULL;
	FUZZ_CHECK(!argv[0] ? !*d : back && same_strv(back, argv));
	strv_free(back);
	free(d);
}

/* Without a replacement string: the words as given, then the input. */
static void check_literal(const struct map_template *t, char *const *words, char **argv, const char *in)
{
	enum map_template_mode mode = map_template_mode(t);
	const char *w0 = words[0] ? words[0] : "";
	size_t n = strv_len(words), tl = strlen(w0);
	char **back;

	FUZZ_CHECK(map_template_appends(t) == (mode != MAP_TEMPLATE_WORD));
	if (mode == MAP_TEMPLATE_WORD) {
		FUZZ_CHECK(strv_len(argv) == 1 && !strcmp(argv[0], w0));
		return;
	}
	if (mode == MAP_TEMPLATE_ARGV) {
		FUZZ_CHECK(strv_len(argv) == n + 1 && !strcmp(argv[n], in));
		for (size_t i = 0; i < n; i++)
			FUZZ_CHECK(!strcmp(argv[i], words[i]));
		return;
	}
	FUZZ_CHECK(!strncmp(argv[2], w0, tl) && argv[2][tl] == ' ');
	back = read_words(argv[2] + tl + 1, 0);
	FUZZ_CHECK(back && back[0] && !back[1] && !strcmp(back[0], in));
	strv_free(back);
}

static int is_prefix(const char *p, const char *s)
{
	return !strncmp(p, s, strlen(p));
}

static int is_suffix(const char *p, const char *s)
{
	size_t pl = strlen(p), sl = strlen(s);
	return pl <= sl && !strcmp(s + sl - pl, p);
}

/* The values, built in ARGV mode and in SH mode, where they read back the
 * same through the quotes. */
static void check_values(const char *in, size_t len, unsigned long seq, unsigned slot)
{
	char *const words[] = { "{}", "{.}", "{/}", "{//}", "{/.}", "{#}", "{%}", NULL };
	char *const line[] = { "{} {.} {/} {//} {/.} {#} {%}", NULL };
	struct map_template *a = map_template_new(words, MAP_TEMPLATE_ARGV);
	struct map_template *s = map_template_new(line, MAP_TEMPLATE_SH);
	char **v = map_template_build(a, in, len, seq, slot),
	     **sh = map_template_build(s, in, len, seq, slot);
	char **back = read_words(sh[2], 0), num[2][32];

	snprintf(num[0], sizeof num[0], "%lu", seq);
	snprintf(num[1], sizeof num[1], "%u", slot);
	FUZZ_CHECK(strv_len(v) == 7 && !strcmp(v[0], in) && back && same_strv(back, v));
	FUZZ_CHECK(is_prefix(v[1], in) && is_suffix(v[2], in) && !strchr(v[2], '/'));
	FUZZ_CHECK(!strcmp(v[3], ".") || is_prefix(v[3], in));
	FUZZ_CHECK(is_prefix(v[4], v[2]) && !strcmp(v[5], num[0]) && !strcmp(v[6], num[1]));
	check_display(a, v);
	check_display(s, sh);
	strv_free(back);
	strv_free(sh);
	strv_free(v);
	map_template_free(s);
	map_template_free(a);
}

/* The template's words: split at SEP in ARGV mode, else one. */
static char **split(const char *tmpl, enum map_template_mode mode)
{
	size_t n = 0;
	char **v = xcalloc(strlen(tmpl) + 2, sizeof *v);
	const char *p = tmpl, *sep;

	if (mode != MAP_TEMPLATE_ARGV) {
		v[0] = xstrdup(tmpl);
		return v;
	}
	while (*tmpl && (sep = strchr(p, SEP)) != NULL) {
		v[n] = xmalloc((size_t)(sep - p) + 1);
		memcpy(v[n], p, (size_t)(sep - p));
		v[n++][sep - p] = '\0';
		p = sep + 1;
	}
	if (*tmpl)
		v[n] = xstrdup(p);
	return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum map_template_mode mode = size ? (enum map_template_mode)(data[0] % 3) : MAP_TEMPLATE_ARGV;
	unsigned long seq = size ? data[0] * 2654435761ul : 1;
	unsigned slot = size ? data[0] / 3u + 1 : 1;
	char *rest = fuzz_text(data + (size > 0), size - (size > 0));
	size_t tlen = strlen(rest), rlen = size - (size > 0);
	const char *in = tlen < rlen ? rest + tlen + 1 : "";
	size_t ilen = tlen < rlen ? rlen - tlen - 1 : 0;
	char **words = split(rest, mode), **argv;
	struct map_template *t = map_template_new(words, mode);

	argv = map_template_build(t, in, ilen, seq, slot);
	FUZZ_CHECK((argv == NULL) == (memchr(in, 0, ilen) != NULL));
	for (const char *const *u = map_template_unknown(t); *u; u++)
		FUZZ_CHECK((*u)[0] == '{' && (*u)[strlen(*u) - 1] == '}');
	if (argv) {
		size_t want = mode == MAP_TEMPLATE_SH ? 3 : mode == MAP_TEMPLATE_WORD ? 1 : strv_len(words);
		FUZZ_CHECK(strv_len(argv) == want + (mode == MAP_TEMPLATE_ARGV && map_template_appends(t)));
		if (!has_rpl(words))
			check_literal(t, words, argv, in);
		check_display(t, argv);
		check_values(in, ilen, seq, slot);
	}
	strv_free(argv);
	strv_free(words);
	map_template_free(t);
	free(rest);
	return 0;
}
