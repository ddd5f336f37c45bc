/* test_config_pools.c — pool declarations (lib/config.h): loading the files,
 * pool names, fly pools. */
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
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
