/* test_config.c — pool declarations (lib/config.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "backends/backend.h"

/* lib/warmer.o refers to backend_find (backends/local.c), which unit tests do
 * not link: a weak stub, overridden if the real one is ever linked in. */
__attribute__((weak)) const struct backend *backend_find(const char *name)
{
	(void)name;
	return NULL;
}

static char err[1024];

static int parse(struct config *cfg, const char *text)
{
	memset(cfg, 0, sizeof *cfg);
	err[0] = 0;
	return config_parse(cfg, text, "flame.json", err, sizeof err);
}

static void contains(const char *hay, const char *needle)
{
	if (!strstr(hay, needle))
		print_error("\"%s\" does not contain \"%s\"\n", hay, needle);
	assert_non_null(strstr(hay, needle));
}

static void one_line(const char *s)
{
	assert_true(s[0] != 0);
	assert_null(strchr(s, '\n'));
	assert_null(strchr(s, '\r'));
}

/* Parsing TEXT must fail, the message naming the file, pool and setting. */
static void refused(const char *text, const char *pool, const char *setting)
{
	struct config cfg;
	char want[128];
	int rc = parse(&cfg, text);
	if (rc != -1)
		print_error("accepted: %s\n", text);
	assert_int_equal(rc, -1);
	one_line(err);
	assert_true(!strncmp(err, "flame.json", 10));
	if (pool) {
		snprintf(want, sizeof want, "'%s'", pool);
		contains(err, want);
	}
	if (setting)
		contains(err, setting);
	config_free(&cfg);
}

static void test_defaults(void **state)
{
	struct pool_settings ps;
	(void)state;
	memset(&ps, 0x5a, sizeof ps);
	pool_settings_default(&ps, "thumbs");
	assert_string_equal(ps.name, "thumbs");
	assert_string_equal(ps.backend, "local");
	assert_int_equal(ps.min, 0);
	assert_int_equal(ps.max, 4);
	assert_int_equal(ps.max_concurrency, 4);
	assert_int_equal(ps.idle_ms, 30000);
	assert_int_equal(ps.boot_ms, 30000);
	assert_int_equal(ps.slot_ms, 300000);
	assert_int_equal(pool_settings_check(&ps, err, sizeof err), 0);
}

static void test_empty_pool_gets_defaults(void **state)
{
	struct config cfg;
	const struct pool_settings *ps;
	struct pool_settings def;
	(void)state;
	assert_int_equal(parse(&cfg, "{\"pools\": {\"thumbs\": {}}}"), 0);
	assert_int_equal(cfg.npools, 1);
	ps = config_find(&cfg, "thumbs");
	assert_non_null(ps);
	pool_settings_default(&def, "thumbs");
	assert_string_equal(ps->backend, def.backend);
	assert_int_equal(ps->min, def.min);
	assert_int_equal(ps->max, def.max);
	assert_int_equal(ps->max_concurrency, def.max_concurrency);
	assert_int_equal(ps->idle_ms, def.idle_ms);
	assert_int_equal(ps->boot_ms, def.boot_ms);
	assert_int_equal(ps->slot_ms, def.slot_ms);
	assert_null(config_find(&cfg, "nope"));
	config_free(&cfg);

	assert_int_equal(parse(&cfg, "{}"), 0);
	assert_int_equal(cfg.npools, 0);
	config_free(&cfg);
	assert_int_equal(parse(&cfg, "{\"pools\": {}}"), 0);
	assert_int_equal(cfg.npools, 0);
	config_free(&cfg);
}

static void test_every_setting(void **state)
{
	struct config cfg;
	const struct pool_settings *ps;
	(void)state;
	assert_int_equal(
		parse(&cfg, "{\"pools\": {\"ffmpeg\": {\"backend\": \"local\", \"min\": 1, \"max\": 8,"
	                    " \"max_concurrency\": 3, \"idle_shutdown_after\": \"5m\", \"boot_timeout\": 10,"
	                    " \"slot_timeout\": \"1.5s\"}}}"),
		0);
	ps = config_find(&cfg, "ffmpeg");
	assert_non_null(ps);
	assert_string_equal(ps->name, "ffmpeg");
	assert_string_equal(ps->backend, "local");
	assert_int_equal(ps->min, 1);
	assert_int_equal(ps->max, 8);
	assert_int_equal(ps->max_concurrency, 3);
	assert_int_equal(ps->idle_ms, 300000);
	assert_int_equal(ps->boot_ms, 10000);
	assert_int_equal(ps->slot_ms, 1500);
	config_free(&cfg);
}

static void test_limits_at_edges(void **state)
{
	struct config cfg;
	const struct pool_settings *ps;
	(void)state;
	assert_int_equal(
		parse(&cfg, "{\"pools\": {\"p\": {\"min\": 0, \"max\": 1, \"max_concurrency\": 1}}}"), 0);
	ps = config_find(&cfg, "p");
	assert_int_equal(ps->min, 0);
	assert_int_equal(ps->max, 1);
	assert_int_equal(ps->max_concurrency, 1);
	config_free(&cfg);
	/* min == max is allowed */
	assert_int_equal(parse(&cfg, "{\"pools\": {\"p\": {\"min\": 3, \"max\": 3}}}"), 0);
	assert_int_equal(config_find(&cfg, "p")->min, 3);
	config_free(&cfg);
}

static void test_durations_strings_and_numbers(void **state)
{
	struct config cfg;
	const struct pool_settings *ps;
	(void)state;
	assert_int_equal(parse(&cfg, "{\"pools\": {\"p\": {\"idle_shutdown_after\": 1.5,"
	                             " \"boot_timeout\": \"500ms\", \"slot_timeout\": \"2\"}}}"),
	                 0);
	ps = config_find(&cfg, "p");
	assert_int_equal(ps->idle_ms, 1500);
	assert_int_equal(ps->boot_ms, 500);
	assert_int_equal(ps->slot_ms, 2000);
	config_free(&cfg);
	assert_int_equal(parse(&cfg, "{\"pools\": {\"p\": {\"idle_shutdown_after\": \"1h\","
	                             " \"boot_timeout\": 0.25, \"slot_timeout\": 60}}}"),
	                 0);
	ps = config_find(&cfg, "p");
	assert_int_equal(ps->idle_ms, 3600000);
	assert_int_equal(ps->boot_ms, 250);
	assert_int_equal(ps->slot_ms, 60000);
	config_free(&cfg);
}

static void test_zero_and_bad_durations_refused(void **state)
{
	static const char *keys[] = { "idle_shutdown_after", "boot_timeout", "slot_timeout" };
	static const char *bad[] = { "\"0s\"", "\"0\"",   "\"0ms\"", "0",    "-1",  "\"-1s\"", "\"abc\"",
		                     "\"\"",   "\"5 m\"", "true",    "null", "[1]", "{}",      "\"721h\"" };
	(void)state;
	for (size_t k = 0; k < 3; k++)
		for (size_t b = 0; b < sizeof bad / sizeof bad[0]; b++) {
			char text[256];
			snprintf(text, sizeof text, "{\"pools\": {\"p1\": {\"%s\": %s}}}", keys[k], bad[b]);
			refused(text, "p1", keys[k]);
		}
}

static void test_limits_refused(void **state)
{
	(void)state;
	refused("{\"pools\": {\"big\": {\"max\": 0}}}", "big", "max");
	refused("{\"pools\": {\"big\": {\"max\": -2}}}", "big", "max");
	refused("{\"pools\": {\"big\": {\"max_concurrency\": 0}}}", "big", "max_concurrency");
	refused("{\"pools\": {\"big\": {\"min\": -1}}}", "big", "min");
	refused("{\"pools\": {\"big\": {\"max\": 2.5}}}", "big", "max");
	refused("{\"pools\": {\"big\": {\"max\": \"3\"}}}", "big", "max");
	refused("{\"pools\": {\"big\": {\"min\": true}}}", "big", "min");
	refused("{\"pools\": {\"big\": {\"max\": 1e12}}}", "big", "max");
	refused("{\"pools\": {\"big\": {\"min\": 5, \"max\": 2}}}", "big", "min");
	/* default max is 4 */
	refused("{\"pools\": {\"big\": {\"min\": 5}}}", "big", "min");
}

static void test_min_above_max_message(void **state)
{
	struct config cfg;
	(void)state;
	assert_int_equal(parse(&cfg, "{\"pools\": {\"enc\": {\"min\": 5, \"max\": 2}}}"), -1);
	contains(err, "'enc'");
	contains(err, "min");
	contains(err, "max");
	contains(err, "5");
	contains(err, "2");
	config_free(&cfg);
}

static void test_unknown_keys_refused(void **state)
{
	(void)state;
	refused("{\"pools\": {\"p\": {\"maxx\": 3}}}", "p", "maxx");
	refused("{\"pools\": {\"p\": {\"Max\": 3}}}", "p", "Max");
	refused("{\"pool\": {}}", NULL, "pool");
	refused("{\"pools\": {}, \"extra\": 1}", NULL, "extra");
	refused("{\"pools\": {\"p\": {\"backend\": \"kubernetes\"}}}", "p", "backend");
	refused("{\"pools\": {\"p\": {\"backend\": \"ssh\"}}}", "p", "hosts");
	refused("{\"pools\": {\"p\": {\"backend\": \"ssh\", \"hosts\": [\"a@\"]}}}", "p", "host");
	refused("{\"pools\": {\"p\": {\"backend\": \"ssh\", \"hosts\": [\"h1\"], \"max\": 2}}}", "p", "max");
	refused("{\"pools\": {\"p\": {\"hosts\": [\"h1\"]}}}", "p", "ssh");
	refused("{\"pools\": {\"p\": {\"backend\": 1}}}", "p", "backend");
}

static void test_wrong_shapes_refused(void **state)
{
	struct config cfg;
	(void)state;
	assert_int_equal(parse(&cfg, "[]"), -1);
	one_line(err);
	config_free(&cfg);
	assert_int_equal(parse(&cfg, "{\"pools\": []}"), -1);
	one_line(err);
	config_free(&cfg);
	assert_int_equal(parse(&cfg, "{\"pools\": {\"p\": 3}}"), -1);
	contains(err, "'p'");
	config_free(&cfg);
	assert_int_equal(parse(&cfg, "\"pools\""), -1);
	config_free(&cfg);
}

static void malformed_at(const char *text, int line)
{
	struct config cfg;
	char want[64];
	assert_int_equal(parse(&cfg, text), -1);
	one_line(err);
	snprintf(want, sizeof want, "flame.json:%d:", line);
	if (strncmp(err, want, strlen(want)))
		print_error("want prefix \"%s\", got \"%s\"\n", want, err);
	assert_true(!strncmp(err, want, strlen(want)));
	contains(err, "malformed JSON");
	config_free(&cfg);
}

static void test_malformed_json_line_numbers(void **state)
{
	(void)state;
	malformed_at("{\n  \"pools\": {\n    \"a\": {,\n  }\n}\n", 3);
	malformed_at("{\"pools\": {\"a\": {\"max\": 2,}}}", 1);
	malformed_at("{\n\"pools\": {\n\"a\": {}\n}\n}\n\n\ngarbage\n", 8);
	malformed_at("{\n  \"pools\": {\n    \"a\": {\n      \"max\": 2\n", 5);
	malformed_at("", 1);
	malformed_at("\n\n\n", 4);
	/* a newline inside the quoted context stays off the message line */
	malformed_at("{\n\"pools\" x\n\n\n}", 2);
}

static void test_replaces_pool_by_name(void **state)
{
	struct config cfg;
	(void)state;
	memset(&cfg, 0, sizeof cfg);
	assert_int_equal(config_parse(&cfg, "{\"pools\": {\"a\": {\"min\": 1, \"max\": 2}, \"u\": {}}}",
	                              "user.json", err, sizeof err),
	                 0);
	assert_int_equal(
		config_parse(&cfg, "{\"pools\": {\"a\": {\"max\": 7}}}", "flame.json", err, sizeof err), 0);
	assert_int_equal(cfg.npools, 2);
	assert_int_equal(config_find(&cfg, "a")->max, 7);
	/* the later file's pool replaces the whole pool */
	assert_int_equal(config_find(&cfg, "a")->min, 0);
	assert_non_null(config_find(&cfg, "u"));
	config_free(&cfg);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_load_project_overrides_user(void **state)
{
	char tmpl[] = "/tmp/flame-test-config-XXXXXX";
	char *dir = mkdtemp(tmpl), path[512], proj[512];
	struct config cfg;
	struct pool_settings ps;
	(void)state;
	assert_non_null(dir);
	snprintf(path, sizeof path, "%s/flame", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof path, "%s/flame/config.json", dir);
	write_file(path, "{\"pools\": {\"shared\": {\"max\": 2, \"min\": 1}, \"mine\": {\"max\": 3}}}");
	snprintf(proj, sizeof proj, "%s/project.json", dir);
	write_file(proj, "{\"pools\": {\"shared\": {\"max\": 9}, \"proj\": {}}}");
	setenv("XDG_CONFIG_HOME", dir, 1);
	setenv("FLAME_CONFIG", proj, 1);

	assert_int_equal(config_load(&cfg, err, sizeof err), 0);
	assert_non_null(cfg.user_path);
	assert_string_equal(cfg.user_path, path);
	assert_non_null(cfg.project_path);
	assert_string_equal(cfg.project_path, proj);
	assert_int_equal(cfg.npools, 3);
	assert_int_equal(config_find(&cfg, "shared")->max, 9);
	assert_int_equal(config_find(&cfg, "mine")->max, 3);
	assert_non_null(config_find(&cfg, "proj"));
	config_free(&cfg);

	assert_int_equal(config_lookup("shared", &ps, err, sizeof err), 0);
	assert_int_equal(ps.max, 9);
	assert_int_equal(config_lookup("default", &ps, err, sizeof err), 0);
	assert_string_equal(ps.name, "default");
	assert_int_equal(ps.max, 4);
	assert_int_equal(config_lookup("nope", &ps, err, sizeof err), -1);
	contains(err, "'nope'");
	contains(err, "default, shared, mine, proj");

	/* an error in the project file names that file */
	write_file(proj, "{\"pools\": {\"shared\": {\"max\": 0}}}");
	assert_int_equal(config_load(&cfg, err, sizeof err), -1);
	contains(err, proj);
	contains(err, "'shared'");
	config_free(&cfg);

	unsetenv("FLAME_CONFIG");
	unsetenv("XDG_CONFIG_HOME");
	unlink(proj);
	unlink(path);
	snprintf(path, sizeof path, "%s/flame", dir);
	rmdir(path);
	rmdir(dir);
}

static void test_pool_names_default_first(void **state)
{
	struct config cfg;
	char *s;
	(void)state;
	assert_int_equal(parse(&cfg, "{}"), 0);
	s = config_pool_names(&cfg);
	assert_string_equal(s, "default");
	free(s);
	config_free(&cfg);

	assert_int_equal(parse(&cfg, "{\"pools\": {\"zeta\": {}, \"default\": {\"max\": 1}, \"alpha\": {}}}"),
	                 0);
	s = config_pool_names(&cfg);
	assert_string_equal(s, "default, zeta, alpha");
	free(s);
	assert_int_equal(config_find(&cfg, "default")->max, 1);
	config_free(&cfg);

	assert_int_equal(parse(&cfg, "{\"pools\": {\"ffmpeg\": {}}}"), 0);
	s = config_pool_names(&cfg);
	assert_string_equal(s, "default, ffmpeg");
	free(s);
	config_free(&cfg);
}

static void test_pool_name_valid(void **state)
{
	char n64[65], n65[66];
	(void)state;
	memset(n64, 'a', 64);
	n64[64] = 0;
	memset(n65, 'a', 65);
	n65[65] = 0;
	assert_true(pool_name_valid("default"));
	assert_true(pool_name_valid("a"));
	assert_true(pool_name_valid("A.b_c-9"));
	assert_true(pool_name_valid(n64));
	assert_false(pool_name_valid(""));
	assert_false(pool_name_valid(n65));
	assert_false(pool_name_valid("a b"));
	assert_false(pool_name_valid("a/b"));
	assert_false(pool_name_valid("a\nb"));
	assert_false(pool_name_valid("caf\xc3\xa9"));
	assert_false(pool_name_valid("x;rm"));
	assert_false(pool_name_valid("a:b"));
}

static void test_invalid_pool_names_refused(void **state)
{
	struct config cfg;
	char text[256];
	(void)state;
	assert_int_equal(parse(&cfg, "{\"pools\": {\"a b\": {}}}"), -1);
	one_line(err);
	contains(err, "a b");
	config_free(&cfg);
	assert_int_equal(parse(&cfg, "{\"pools\": {\"\": {}}}"), -1);
	one_line(err);
	config_free(&cfg);
	snprintf(text, sizeof text, "{\"pools\": {\"%0*d\": {}}}", 65, 0);
	assert_int_equal(parse(&cfg, text), -1);
	one_line(err);
	config_free(&cfg);
}

/* config.h promises a one-line error; names taken from the file may hold
 * newlines (JSON "\n" escapes) and must not break that. */
static void test_errors_one_line_for_names_with_newlines(void **state)
{
	struct config cfg;
	(void)state;
	assert_int_equal(parse(&cfg, "{\"pools\": {\"a\\nb\": {}}}"), -1);
	print_message("pool name with newline: [%s]\n", err);
	one_line(err);
	config_free(&cfg);
	assert_int_equal(parse(&cfg, "{\"pools\": {\"p\": {\"x\\ny\": 1}}}"), -1);
	print_message("setting with newline: [%s]\n", err);
	one_line(err);
	config_free(&cfg);
	assert_int_equal(parse(&cfg, "{\"po\\rols\": {}}"), -1);
	print_message("top-level key with CR: [%s]\n", err);
	one_line(err);
	config_free(&cfg);
}

static void test_fly_pool_settings_and_defaults_from_env(void **state)
{
	struct config cfg;
	(void)state;
	setenv("FLY_APP_NAME", "parent-app", 1);
	setenv("FLY_IMAGE_REF", "registry.fly.io/parent-app:deployment-7", 1);
	setenv("FLY_REGION", "ams", 1);
	assert_int_equal(parse(&cfg,
	                       "{\"pools\": {\"f\": {\"backend\": \"fly\", \"cpus\": 2, "
	                       "\"memory_mb\": 1024, \"env\": {\"A\": \"b\"}, \"failsafe\": \"25s\"}}}"),
	                 0);
	assert_string_equal(cfg.pools[0].backend, "fly");
	contains(cfg.pools[0].backend_conf, "\"app\":\"parent-app\"");
	contains(cfg.pools[0].backend_conf, "\"image\":\"registry.fly.io/parent-app:deployment-7\"");
	contains(cfg.pools[0].backend_conf, "\"region\":\"ams\"");
	contains(cfg.pools[0].backend_conf, "\"cpu_kind\":\"shared\"");
	contains(cfg.pools[0].backend_conf, "\"api_url\":\"https://api.machines.dev\"");
	contains(cfg.pools[0].backend_conf, "\"command\":\"/usr/local/bin/flame\"");
	contains(cfg.pools[0].backend_conf, "\"env\":{\"A\":\"b\"}");
	config_free(&cfg);
	/* the file wins over the environment */
	assert_int_equal(parse(&cfg, "{\"pools\": {\"f\": {\"backend\": \"fly\", \"app\": \"x\", "
	                             "\"image\": \"img:1\"}}}"),
	                 0);
	contains(cfg.pools[0].backend_conf, "\"app\":\"x\"");
	contains(cfg.pools[0].backend_conf, "\"image\":\"img:1\"");
	config_free(&cfg);
	unsetenv("FLY_APP_NAME");
	unsetenv("FLY_IMAGE_REF");
	unsetenv("FLY_REGION");
}

static void test_fly_pool_errors(void **state)
{
	(void)state;
	unsetenv("FLY_APP_NAME");
	unsetenv("FLY_IMAGE_REF");
	refused("{\"pools\": {\"f\": {\"backend\": \"fly\", \"image\": \"i\"}}}", "f", "\"app\"");
	refused("{\"pools\": {\"f\": {\"backend\": \"fly\", \"app\": \"a\"}}}", "f", "\"image\"");
	refused("{\"pools\": {\"f\": {\"backend\": \"fly\", \"app\": \"a\", \"image\": \"i\", "
	        "\"memory_mb\": 300}}}",
	        "f", "memory_mb");
	refused("{\"pools\": {\"f\": {\"backend\": \"fly\", \"app\": \"a\", \"image\": \"i\", "
	        "\"env\": {\"A\": 1}}}}",
	        "f", "env");
	refused("{\"pools\": {\"f\": {\"backend\": \"fly\", \"app\": \"a\", \"image\": \"i\", "
	        "\"port\": 70000}}}",
	        "f", "port");
	refused("{\"pools\": {\"f\": {\"backend\": \"fly\", \"app\": \"a\", \"image\": \"i\", "
	        "\"grace\": \"soon\"}}}",
	        "f", "grace");
	refused("{\"pools\": {\"f\": {\"backend\": \"local\", \"image\": \"i\"}}}", "f",
	        "belongs to fly pools");
	refused("{\"pools\": {\"f\": {\"backend\": \"cloud\"}}}", "f", "\"fly\"");
}

/* Numbers beyond any range are refused with the range, never converted
 * first (float-to-int overflow is undefined; the sanitizer build aborted). */
static void test_huge_numbers_refused(void **state)
{
	(void)state;
	unsetenv("FLY_APP_NAME");
	unsetenv("FLY_IMAGE_REF");
	refused("{\"pools\": {\"big\": {\"max\": 1e400}}}", "big",
	        "max must be a whole number from 1 to 512");
	refused("{\"pools\": {\"big\": {\"max\": -1e400}}}", "big",
	        "max must be a whole number from 1 to 512");
	refused("{\"pools\": {\"big\": {\"min\": 1e300}}}", "big",
	        "min must be a whole number from 0 to 512");
	refused("{\"pools\": {\"big\": {\"max_concurrency\": 9.3e18}}}", "big", "max_concurrency");
	refused("{\"pools\": {\"big\": {\"slot_timeout\": 1e400}}}", "big", "slot_timeout");
	refused("{\"pools\": {\"f\": {\"backend\": \"fly\", \"app\": \"a\", \"image\": \"i\", "
	        "\"cpus\": 1e10}}}",
	        "f", "cpus must be a whole number from 1 to");
	refused("{\"pools\": {\"f\": {\"backend\": \"fly\", \"app\": \"a\", \"image\": \"i\", "
	        "\"memory_mb\": 1e400}}}",
	        "f", "memory_mb must be a whole number from 1 to");
	refused("{\"pools\": {\"f\": {\"backend\": \"fly\", \"app\": \"a\", \"image\": \"i\", "
	        "\"port\": -1e300}}}",
	        "f", "port");
	/* 256 MiB x 16777217 CPUs wrapped around to 256 in an int */
	refused("{\"pools\": {\"f\": {\"backend\": \"fly\", \"app\": \"a\", \"image\": \"i\", "
	        "\"cpus\": 16777217, \"memory_mb\": 1024}}}",
	        "f", "memory_mb 1024 is below");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_empty_pool_gets_defaults),
		cmocka_unit_test(test_every_setting),
		cmocka_unit_test(test_limits_at_edges),
		cmocka_unit_test(test_durations_strings_and_numbers),
		cmocka_unit_test(test_zero_and_bad_durations_refused),
		cmocka_unit_test(test_limits_refused),
		cmocka_unit_test(test_min_above_max_message),
		cmocka_unit_test(test_unknown_keys_refused),
		cmocka_unit_test(test_wrong_shapes_refused),
		cmocka_unit_test(test_malformed_json_line_numbers),
		cmocka_unit_test(test_replaces_pool_by_name),
		cmocka_unit_test(test_load_project_overrides_user),
		cmocka_unit_test(test_pool_names_default_first),
		cmocka_unit_test(test_pool_name_valid),
		cmocka_unit_test(test_invalid_pool_names_refused),
		cmocka_unit_test(test_errors_one_line_for_names_with_newlines),
		cmocka_unit_test(test_fly_pool_settings_and_defaults_from_env),
		cmocka_unit_test(test_fly_pool_errors),
		cmocka_unit_test(test_huge_numbers_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
