/* test_map_template.c — flame map's command builder (lib/map/template.h).
 * Every expected value was checked against GNU parallel 20221122. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "map/template.h"
#include "util.h"

/* Builds INPUT with the ARGV template WORDS and compares to WANT. */
static void expect_argv(char *const *words, const char *input, size_t len, unsigned long seq, unsigned slot,
                        const char *const *want)
{
	struct map_template *t = map_template_new(words, MAP_TEMPLATE_ARGV);
	char **argv = map_template_build(t, input, len, seq, slot);
	size_t i;

	assert_non_null(argv);
	for (i = 0; want[i]; i++) {
		assert_non_null(argv[i]);
		assert_string_equal(argv[i], want[i]);
	}
	assert_null(argv[i]);
	strv_free(argv);
	map_template_free(t);
}

#define WORDS(...) ((char *const[]){ __VA_ARGS__, NULL })
#define WANT(...) ((const char *const[]){ __VA_ARGS__, NULL })
#define S(s) s, strlen(s)

/* The shell string built in SH mode. */
static char *sh_string(const char *tmpl, const char *input, unsigned long seq, unsigned slot)
{
	struct map_template *t = map_template_new(WORDS((char *)tmpl), MAP_TEMPLATE_SH);
	char **argv = map_template_build(t, input, strlen(input), seq, slot);
	char *s;

	assert_non_null(argv);
	assert_string_equal(argv[0], "/bin/sh");
	assert_string_equal(argv[1], "-c");
	assert_null(argv[3]);
	s = argv[2];
	free(argv[0]);
	free(argv[1]);
	free(argv);
	map_template_free(t);
	return s;
}

static void expect_sh(const char *tmpl, const char *input, const char *want)
{
	char *s = sh_string(tmpl, input, 4, 2);
	assert_string_equal(s, want);
	free(s);
}

static void expect_display(char *const *argv, enum map_template_mode mode, const char *want)
{
	struct map_template *t = map_template_new(argv, mode);
	char *s = map_template_display(t, argv);
	assert_string_equal(s, want);
	free(s);
	map_template_free(t);
}

/* parallel -k -j2 echo {} {.} {/} {//} {/.} {#} {%} ::: ... */
static void test_all_seven(void **state)
{
	char *const *all = WORDS("echo", "{}", "{.}", "{/}", "{//}", "{/.}", "{#}", "{%}");
	(void)state;
	expect_argv(all, S("foo.jpg"), 1, 1, WANT("echo", "foo.jpg", "foo", "foo.jpg", ".", "foo", "1", "1"));
	expect_argv(all, S("sub.dir/bar"), 2, 2,
	            WANT("echo", "sub.dir/bar", "sub.dir/bar", "bar", "sub.dir", "bar", "2", "2"));
	expect_argv(all, S("a/b.c.d"), 3, 1, WANT("echo", "a/b.c.d", "a/b.c", "b.c.d", "a", "b.c", "3", "1"));
	expect_argv(all, S("/x.y"), 4, 2, WANT("echo", "/x.y", "/x", "x.y", "/", "x", "4", "2"));
	expect_argv(all, S("./z"), 5, 1, WANT("echo", "./z", "./z", "z", ".", "z", "5", "1"));
	expect_argv(WORDS("{#}", "{%}"), S(""), 18446744073709551615ul, 4294967295u,
	            WANT("18446744073709551615", "4294967295"));
}

/* parallel -0 -k printf '%s|' {.} {/} {//} {/.} on each input */
static const struct {
	const char *in, *noext, *base, *dir, *base_noext;
} paths[] = {
	{ ".bashrc", "", ".bashrc", ".", "" },
	{ "a.", "a", "a.", ".", "a" },
	{ "a.b/", "a.b/", "", ".", "" },
	{ "a b.c", "a b", "a b.c", ".", "a b" },
	{ "", "", "", ".", "" },
	{ "/", "/", "", "/", "" },
	{ ".", "", ".", ".", "" },
	{ "..", ".", "..", ".", "." },
	{ "a/", "a/", "", ".", "" },
	{ "a//", "a//", "", ".", "" },
	{ "//a", "//a", "a", "/", "a" },
	{ "/a/", "/a/", "", "/", "" },
	{ "a/.b", "a/", ".b", "a", "" },
	{ ".a.b", ".a", ".a.b", ".", ".a" },
	{ "a..b", "a.", "a..b", ".", "a." },
	{ "a/b/", "a/b/", "", "a", "" },
	{ "/a", "/a", "a", "/", "a" },
	{ "x/.", "x/", ".", "x", "" },
	{ "a.b/c.d/", "a.b/c.d/", "", "a.b", "" },
	{ "//", "//", "", "/", "" },
	{ "///", "///", "", "/", "" },
	{ "a//b", "a//b", "b", "a", "b" },
	{ "a/b//", "a/b//", "", "a", "" },
	{ "./", "./", "", ".", "" },
	{ "../", "../", "", ".", "" },
	{ "../x.y", "../x", "x.y", "..", "x" },
	{ "/.", "/", ".", "/", "" },
	{ "/..", "/.", "..", "/", "." },
	{ "a/..", "a/.", "..", "a", "." },
	{ ".a/", ".a/", "", ".", "" },
	{ "a.b.", "a.b", "a.b.", ".", "a.b" },
	{ "a/\n", "a/\n", "\n", "a", "\n" },
	{ "x.y\n", "x", "x.y\n", ".", "x" },
	{ "a.b\nc", "a", "a.b\nc", ".", "a" },
	/* parallel's {/} is a Perl regex whose . stops at a newline: it
	 * gives "a\nc.d" here, and "\nx" for "\n/x".  flame takes what follows
	 * the last slash. */
	{ "a\nb/c.d", "a\nb/c", "c.d", "a\nb", "c" },
	{ "\n/x", "\n/x", "x", "\n", "x" },
};

static void test_path_strings(void **state)
{
	struct map_template *t = map_template_new(WORDS("{.}", "{/}", "{//}", "{/.}"), MAP_TEMPLATE_ARGV);
	(void)state;
	for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
		char **v = map_template_build(t, S(paths[i].in), 1, 1);
		if (strcmp(v[0], paths[i].noext) || strcmp(v[1], paths[i].base) ||
		    strcmp(v[2], paths[i].dir) || strcmp(v[3], paths[i].base_noext))
			fail_msg("input \"%s\": {.} \"%s\" {/} \"%s\" {//} \"%s\" {/.} \"%s\"", paths[i].in,
			         v[0], v[1], v[2], v[3]);
		assert_null(v[4]);
		strv_free(v);
	}
	map_template_free(t);
}

static void test_inside_words_and_repeated(void **state)
{
	(void)state;
	expect_argv(WORDS("echo", "{}{}"), S("a b"), 1, 1, WANT("echo", "a ba b"));
	expect_argv(WORDS("x{}y"), S(""), 1, 1, WANT("xy"));
	expect_argv(WORDS("{}", "x{}y"), S("a"), 1, 1, WANT("a", "xay"));
	expect_argv(WORDS("convert", "{}", "{/.}.png"), S("in/cat.jpg"), 1, 1,
	            WANT("convert", "in/cat.jpg", "cat.png"));
	/* braces around a replacement string stay: parallel prints {a/b}... */
	expect_argv(WORDS("{{.}}", "{}}", "{{}"), S("a/b.c"), 1, 1, WANT("{a/b}", "a/b.c}", "{a/b.c"));
	expect_argv(WORDS("{#}-{%}-{#}"), S("in"), 12, 3, WANT("12-3-12"));
}

static void test_appends_only_without_replacement(void **state)
{
	struct map_template *t;
	(void)state;
	expect_argv(WORDS("echo"), S("a"), 1, 1, WANT("echo", "a"));
	expect_argv(WORDS("echo", "x y"), S(""), 1, 1, WANT("echo", "x y", ""));
	expect_argv(WORDS("echo", "{#}"), S("a"), 1, 1, WANT("echo", "1"));
	expect_argv(WORDS("echo", "{%}"), S("a"), 1, 1, WANT("echo", "1"));
	expect_argv(WORDS("echo", "{//}"), S("a"), 1, 1, WANT("echo", "."));
	/* no words: the input is the command */
	expect_argv((char *const[]){ NULL }, S("true"), 1, 1, WANT("true"));
	t = map_template_new(WORDS("echo"), MAP_TEMPLATE_ARGV);
	assert_int_equal(map_template_appends(t), 1);
	map_template_free(t);
	t = map_template_new(WORDS("echo", "a{/.}b"), MAP_TEMPLATE_ARGV);
	assert_int_equal(map_template_appends(t), 0);
	map_template_free(t);
}

static void expect_unknown(const struct map_template *t, const char *const *want)
{
	const char *const *u = map_template_unknown(t);
	size_t i;
	for (i = 0; want[i]; i++) {
		assert_non_null(u[i]);
		assert_string_equal(u[i], want[i]);
	}
	assert_null(u[i]);
}

static void test_unknown_braces_stay(void **state)
{
	char *const *words =
		WORDS("echo", "{foo}", "{1}", "x{= s/a/b/ =}y", "{foo}", "{", "}", "{a b}", "{=}");
	struct map_template *t = map_template_new(words, MAP_TEMPLATE_ARGV);
	(void)state;
	expect_unknown(t, WANT("{foo}", "{1}", "{= s/a/b/ =}", "{a b}", "{=}"));
	assert_int_equal(map_template_appends(t), 1);
	map_template_free(t);
	expect_argv(words, S("in"), 1, 1,
	            WANT("echo", "{foo}", "{1}", "x{= s/a/b/ =}y", "{foo}", "{", "}", "{a b}", "{=}", "in"));
	/* a perl expression is taken whole: the {} inside it is not replaced */
	expect_argv(WORDS("{= {} =}"), S("in"), 1, 1, WANT("{= {} =}", "in"));
	/* {{} is a '{', then {} */
	t = map_template_new(WORDS("{{}", "{//.}", "{./}"), MAP_TEMPLATE_ARGV);
	expect_unknown(t, WANT("{//.}", "{./}"));
	assert_int_equal(map_template_appends(t), 0);
	map_template_free(t);
	t = map_template_new(WORDS("true"), MAP_TEMPLATE_ARGV);
	expect_unknown(t, WANT(NULL));
	map_template_free(t);
}

static void test_bytes_go_through(void **state)
{
	size_t big = 1 << 20;
	char *in = malloc(big + 1), **argv;
	struct map_template *t = map_template_new(WORDS("cat", "<{}>"), MAP_TEMPLATE_ARGV);
	(void)state;
	expect_argv(WORDS("printf"), S("\xff\xfe a\tb\n'\"$(id)`\\"), 1, 1,
	            WANT("printf", "\xff\xfe a\tb\n'\"$(id)`\\"));
	for (size_t i = 0; i < big; i++)
		in[i] = (char)(1 + i % 255);
	in[big] = '\0';
	argv = map_template_build(t, in, big, 1, 1);
	assert_int_equal(strlen(argv[1]), big + 2);
	assert_memory_equal(argv[1] + 1, in, big);
	strv_free(argv);
	/* no argument carries a NUL */
	assert_null(map_template_build(t, "a\0b", 3, 1, 1));
	assert_null(map_template_build(t, "\0", 1, 1, 1));
	/* the input need not be a C string: len counts */
	argv = map_template_build(t, "abc", 2, 1, 1);
	assert_string_equal(argv[1], "<ab>");
	strv_free(argv);
	map_template_free(t);
	free(in);
}

static void test_sh_quotes_values(void **state)
{
	(void)state;
	/* parallel --dry-run 'echo x{}y {#}' ::: 'a b' */
	expect_sh("echo x{}y {#}", "a b", "echo x'a b'y 4");
	expect_sh("echo {}", "ab", "echo ab");
	expect_sh("echo {} {.}", "a/b-c_d+e.f", "echo a/b-c_d+e.f a/b-c_d+e");
	expect_sh("echo {}", "", "echo ''");
	expect_sh("echo {}", "it's", "echo 'it'\\''s'");
	expect_sh("echo {}", "'", "echo ''\\'''");
	expect_sh("echo {}", "a=b", "echo 'a=b'");
	expect_sh("echo {}", "$(id) `id` \\ \"", "echo '$(id) `id` \\ \"'");
	expect_sh("echo {}", "a\nb", "echo 'a\nb'");
	expect_sh("echo {/} {//}", "d ir/f ile", "echo 'f ile' 'd ir'");
	expect_sh("echo {#} {%}", "x y", "echo 4 2");
	/* appended as one more quoted word */
	expect_sh("echo", "a b", "echo 'a b'");
	expect_sh("echo", "", "echo ''");
	expect_sh("grep -c {foo}", "f", "grep -c {foo} f");
}

static void test_sh_append_flag(void **state)
{
	struct map_template *t = map_template_new(WORDS("wc -l"), MAP_TEMPLATE_SH);
	(void)state;
	assert_int_equal(map_template_appends(t), 1);
	map_template_free(t);
	t = map_template_new(WORDS("echo {#}"), MAP_TEMPLATE_SH);
	assert_int_equal(map_template_appends(t), 0);
	map_template_free(t);
	/* awk's braces are no replacement string: the input is appended */
	t = map_template_new(WORDS("awk '{print $1}'"), MAP_TEMPLATE_SH);
	assert_int_equal(map_template_appends(t), 1);
	expect_unknown(t, WANT("{print $1}"));
	map_template_free(t);
}

static void test_word_mode(void **state)
{
	struct map_template *t = map_template_new(WORDS("{.}.png"), MAP_TEMPLATE_WORD);
	char **v, *w;
	(void)state;
	assert_int_equal(map_template_appends(t), 0);
	w = map_template_build_word(t, S("in/a b.jpg"), 1, 1);
	assert_string_equal(w, "in/a b.png");
	free(w);
	v = map_template_build(t, S("x"), 1, 1);
	assert_string_equal(v[0], "x.png");
	assert_null(v[1]);
	strv_free(v);
	assert_null(map_template_build_word(t, "a\0", 2, 1, 1));
	map_template_free(t);
	/* no replacement string: the word as it is, nothing appended */
	t = map_template_new(WORDS("data/common.csv"), MAP_TEMPLATE_WORD);
	w = map_template_build_word(t, S("in"), 1, 1);
	assert_string_equal(w, "data/common.csv");
	free(w);
	map_template_free(t);
	t = map_template_new(WORDS("out-{#}-{%}/{/}"), MAP_TEMPLATE_WORD);
	w = map_template_build_word(t, S("a/b"), 7, 3);
	assert_string_equal(w, "out-7-3/b");
	free(w);
	map_template_free(t);
	/* a word is built only from a WORD template */
	t = map_template_new(WORDS("{}"), MAP_TEMPLATE_ARGV);
	assert_null(map_template_build_word(t, S("a"), 1, 1));
	map_template_free(t);
}

static void test_display(void **state)
{
	(void)state;
	expect_display(WORDS("convert", "-resize", "50%", "a_b@c+d=e:f,g./h-i"), MAP_TEMPLATE_ARGV,
	               "convert -resize 50% a_b@c+d=e:f,g./h-i");
	expect_display(WORDS("echo", "a b", "", "it's", "$x", "*", "~"), MAP_TEMPLATE_ARGV,
	               "echo 'a b' '' 'it'\\''s' '$x' '*' '~'");
	expect_display(WORDS("printf", "\xff\xfe"), MAP_TEMPLATE_ARGV, "printf '\xff\xfe'");
	expect_display(WORDS("echo", "a\nb", "x\ty'\\", "\x01\x1f\x7f"), MAP_TEMPLATE_ARGV,
	               "echo $'a\\nb' $'x\\ty\\'\\\\' $'\\x01\\x1f\\x7f'");
	expect_display(WORDS("\r"), MAP_TEMPLATE_ARGV, "$'\\x0d'");
	expect_display(WORDS("out/a b.png"), MAP_TEMPLATE_WORD, "'out/a b.png'");
	expect_display((char *const[]){ NULL }, MAP_TEMPLATE_ARGV, "");
}

static void test_display_sh(void **state)
{
	struct map_template *t = map_template_new(WORDS("echo {} | wc -c"), MAP_TEMPLATE_SH);
	char **argv = map_template_build(t, S("a b"), 1, 1), *s;
	(void)state;
	s = map_template_display(t, argv);
	assert_string_equal(s, "echo 'a b' | wc -c");
	free(s);
	strv_free(argv);
	/* a newline would break the joblog's line: the whole command instead */
	argv = map_template_build(t, S("a\nb"), 1, 1);
	s = map_template_display(t, argv);
	assert_string_equal(s, "/bin/sh -c $'echo \\'a\\nb\\' | wc -c'");
	free(s);
	strv_free(argv);
	map_template_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_all_seven),
		cmocka_unit_test(test_path_strings),
		cmocka_unit_test(test_inside_words_and_repeated),
		cmocka_unit_test(test_appends_only_without_replacement),
		cmocka_unit_test(test_unknown_braces_stay),
		cmocka_unit_test(test_bytes_go_through),
		cmocka_unit_test(test_sh_quotes_values),
		cmocka_unit_test(test_sh_append_flag),
		cmocka_unit_test(test_word_mode),
		cmocka_unit_test(test_display),
		cmocka_unit_test(test_display_sh),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
