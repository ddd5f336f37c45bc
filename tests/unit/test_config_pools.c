/* test_config_pools.c — pool declarations (lib/config.h): loading the files,
 * pool names, fly pools, the stopped tier and the budget. */
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

#define FLY "\"backend\": \"fly\", \"app\": \"a\", \"image\": \"i\""

static void test_tier_and_budget_accepted(void **state)
{
	struct config cfg;
	const struct pool_settings *ps;
	(void)state;
	assert_int_equal(parse(&cfg,
	                       "{\"pools\": {\"f\": {" FLY ", \"stopped_max\": 3, \"stopped_ttl\": \"90s\", "
	                       "\"budget\": {\"machine_seconds_per_hour\": 7200}, \"price_per_hour\": 0.05}, "
	                       "\"g\": {" FLY "}}}"),
	                 0);
	ps = config_find(&cfg, "f");
	assert_int_equal(ps->stopped_max, 3);
	assert_int_equal(ps->stopped_ttl_ms, 90000);
	assert_int_equal(ps->budget_s_per_hour, 7200);
	assert_true(ps->price_per_hour == 0.05);
	/* the stopped tier's settings stay out of what the link reads */
	assert_null(strstr(ps->backend_conf, "stopped"));
	assert_null(strstr(ps->backend_conf, "price"));
	/* not given: the defaults */
	ps = config_find(&cfg, "g");
	assert_int_equal(ps->stopped_max, -1);
	assert_int_equal(ps->stopped_ttl_ms, 600000);
	assert_int_equal(ps->budget_s_per_hour, 0);
	assert_true(ps->price_per_hour < 0);
	config_free(&cfg);
	/* the edges */
	assert_int_equal(
		parse(&cfg,
	              "{\"pools\": {\"f\": {" FLY ", \"stopped_max\": 0, \"stopped_ttl\": 0.5, "
	              "\"budget\": {\"machine_seconds_per_hour\": 1}, \"price_per_hour\": 0}, "
	              "\"g\": {" FLY ", \"stopped_max\": 512, \"stopped_ttl\": \"720h\", "
	              "\"budget\": {\"machine_seconds_per_hour\": 1843200}, \"price_per_hour\": 1000}}}"),
		0);
	ps = config_find(&cfg, "f");
	assert_int_equal(ps->stopped_max, 0);
	assert_int_equal(ps->stopped_ttl_ms, 500);
	assert_int_equal(ps->budget_s_per_hour, 1);
	assert_true(ps->price_per_hour == 0);
	ps = config_find(&cfg, "g");
	assert_int_equal(ps->stopped_max, 512);
	assert_int_equal(ps->stopped_ttl_ms, 720LL * 3600 * 1000);
	assert_int_equal(ps->budget_s_per_hour, 1843200);
	assert_true(ps->price_per_hour == 1000);
	config_free(&cfg);
	/* a budget applies to every backend */
	assert_int_equal(parse(&cfg, "{\"pools\": {\"l\": {\"budget\": {\"machine_seconds_per_hour\": 60}}, "
	                             "\"s\": {\"backend\": \"ssh\", \"hosts\": [\"u@h\"], "
	                             "\"budget\": {\"machine_seconds_per_hour\": 3600}}}}"),
	                 0);
	assert_int_equal(config_find(&cfg, "l")->budget_s_per_hour, 60);
	assert_int_equal(config_find(&cfg, "s")->budget_s_per_hour, 3600);
	config_free(&cfg);
}

static void refused_in_fly(const char *key, const char *value, const char *want)
{
	char text[512];
	snprintf(text, sizeof text, "{\"pools\": {\"f\": {" FLY ", \"%s\": %s}}}", key, value);
	refused(text, "f", want);
}

static void test_tier_and_budget_refused(void **state)
{
	static const char *const whole[] = { "-1", "513", "2.5", "\"3\"", "true", "null", "1e400", "{}" };
	static const char *const ttl[] = { "0", "\"0s\"", "-1", "\"abc\"", "\"721h\"", "[1]", "1e400" };
	static const char *const price[] = {
		"-0.01", "1000.01", "\"0.05\"", "1e400", "-1e400", "null", "{}"
	};
	static const char *const budget[] = { "3", "[]", "{}", "\"3600\"", "null", "true" };
	static const char *const per_hour[] = { "0", "1843201", "1.5", "\"100\"", "-5", "1e400", "{}" };
	char value[128];
	(void)state;
	for (size_t i = 0; i < sizeof whole / sizeof whole[0]; i++)
		refused_in_fly("stopped_max", whole[i], "stopped_max must be a whole number from 0 to 512");
	for (size_t i = 0; i < sizeof ttl / sizeof ttl[0]; i++)
		refused_in_fly("stopped_ttl", ttl[i], "stopped_ttl must be a duration");
	for (size_t i = 0; i < sizeof price / sizeof price[0]; i++)
		refused_in_fly("price_per_hour", price[i], "price_per_hour must be a machine's price");
	for (size_t i = 0; i < sizeof budget / sizeof budget[0]; i++)
		refused_in_fly("budget", budget[i],
		               "budget must be {\"machine_seconds_per_hour\": N}, N a whole number from 1 to "
		               "1843200");
	for (size_t i = 0; i < sizeof per_hour / sizeof per_hour[0]; i++) {
		snprintf(value, sizeof value, "{\"machine_seconds_per_hour\": %s}", per_hour[i]);
		refused_in_fly("budget", value,
		               "budget.machine_seconds_per_hour must be a whole number from 1 to 1843200");
	}
	refused_in_fly("budget", "{\"machine_seconds_per_hour\": 60, \"usd\": 5}",
	               "budget has no setting 'usd'; it takes only {\"machine_seconds_per_hour\": N}");
	refused("{\"pools\": {\"l\": {\"budget\": {\"seconds\": 60}}}}", "l",
	        "budget has no setting 'seconds'");
}

/* The stopped tier's settings and the price are a fly pool's. */
static void test_tier_refused_in_other_backends(void **state)
{
	(void)state;
	refused("{\"pools\": {\"l\": {\"stopped_max\": 2}}}", "l",
	        "stopped_max is a fly setting and this pool's backend is local; remove it or add "
	        "\"backend\": \"fly\"");
	refused("{\"pools\": {\"l\": {\"backend\": \"local\", \"price_per_hour\": 0.1}}}", "l",
	        "price_per_hour is a fly setting and this pool's backend is local");
	refused("{\"pools\": {\"s\": {\"backend\": \"ssh\", \"hosts\": [\"u@h\"], \"stopped_ttl\": \"5m\"}}}",
	        "s", "stopped_ttl is a fly setting and this pool's backend is ssh");
	/* the unknown-setting message lists them */
	refused("{\"pools\": {\"p\": {\"stopped\": 1}}}", "p", "budget; ssh:");
	refused("{\"pools\": {\"p\": {\"stopped\": 1}}}", "p",
	        "grace, stopped_max, stopped_ttl, price_per_hour)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load_project_overrides_user),
		cmocka_unit_test(test_pool_names_default_first),
		cmocka_unit_test(test_pool_name_valid),
		cmocka_unit_test(test_invalid_pool_names_refused),
		cmocka_unit_test(test_errors_one_line_for_names_with_newlines),
		cmocka_unit_test(test_fly_pool_settings_and_defaults_from_env),
		cmocka_unit_test(test_fly_pool_errors),
		cmocka_unit_test(test_tier_and_budget_accepted),
		cmocka_unit_test(test_tier_and_budget_refused),
		cmocka_unit_test(test_tier_refused_in_other_backends),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
