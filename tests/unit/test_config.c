/* test_config.c — pool declarations (lib/config.h): parsing settings. */
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

#include "config_fx.h"

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
	assert_int_equal(ps.stopped_max, -1);
	assert_int_equal(ps.stopped_ttl_ms, 600000);
	assert_int_equal(ps.budget_s_per_hour, 0);
	assert_true(ps.price_per_hour == -1);
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
		cmocka_unit_test(test_huge_numbers_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
