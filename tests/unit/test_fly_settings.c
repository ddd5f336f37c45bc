/* test_fly_settings.c — fly_settings_read (lib/config_fly.h): the one
 * reader of a fly pool's settings, its defaults and its refusals. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "config_fly.h"
#include "backends/backend.h"

/* lib/warmer.o refers to backend_find (backends/local.c), which unit tests do
 * not link: a weak stub, overridden if the real one is ever linked in. */
__attribute__((weak)) const struct backend *backend_find(const char *name)
{
	(void)name;
	return NULL;
}

static const char *const minimal = "{\"app\": \"a\", \"image\": \"registry.fly.io/a:1\"}";

static void test_defaults_filled(void **state)
{
	cJSON *conf = cJSON_Parse(minimal);
	struct fly_settings s;
	char err[256];

	(void)state;
	assert_int_equal(fly_settings_read(conf, &s, err, sizeof err), 0);
	assert_string_equal(s.app, "a");
	assert_string_equal(s.image, "registry.fly.io/a:1");
	assert_null(s.region);
	assert_string_equal(s.cpu_kind, "shared");
	assert_int_equal(s.cpus, 1);
	assert_int_equal(s.memory_mb, 256);
	assert_null(s.gpu_kind);
	assert_null(s.env);
	assert_int_equal(s.port, 2222);
	assert_string_equal(s.api_url, "https://api.machines.dev");
	assert_null(s.token_file);
	assert_string_equal(s.command, "/usr/local/bin/flame");
	assert_null(s.failsafe);
	assert_null(s.grace);
	cJSON_Delete(conf);
}

static void test_every_key_read(void **state)
{
	cJSON *conf = cJSON_Parse("{\"app\": \"a\", \"image\": \"i:1\", \"region\": \"ams\","
	                          " \"cpu_kind\": \"performance\", \"cpus\": 2, \"memory_mb\": 4096,"
	                          " \"gpu_kind\": \"a100-pcie-40gb\", \"env\": {\"A\": \"1\"},"
	                          " \"port\": 2022, \"api_url\": \"http://127.0.0.1:9\","
	                          " \"token_file\": \"/t\", \"command\": \"/bin/flame\","
	                          " \"failsafe\": \"5s\", \"grace\": \"1m\", \"other\": 1}");
	struct fly_settings s;
	char err[256];

	(void)state;
	assert_int_equal(fly_settings_read(conf, &s, err, sizeof err), 0);
	assert_string_equal(s.app, "a");
	assert_string_equal(s.image, "i:1");
	assert_string_equal(s.region, "ams");
	assert_string_equal(s.cpu_kind, "performance");
	assert_int_equal(s.cpus, 2);
	assert_int_equal(s.memory_mb, 4096);
	assert_string_equal(s.gpu_kind, "a100-pcie-40gb");
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(s.env, "A")), "1");
	assert_int_equal(s.port, 2022);
	assert_string_equal(s.api_url, "http://127.0.0.1:9");
	assert_string_equal(s.token_file, "/t");
	assert_string_equal(s.command, "/bin/flame");
	assert_string_equal(s.failsafe, "5s");
	assert_string_equal(s.grace, "1m");
	cJSON_Delete(conf);
}

/* The first of a repeated key counts, as cJSON finds it. */
static void test_first_repeated_key(void **state)
{
	cJSON *conf = cJSON_Parse("{\"app\": \"a\", \"app\": \"b\", \"image\": \"i\"}");
	struct fly_settings s;
	char err[256];

	(void)state;
	assert_int_equal(fly_settings_read(conf, &s, err, sizeof err), 0);
	assert_string_equal(s.app, "a");
	cJSON_Delete(conf);
}

/* KEY set to VALUE (JSON) in the minimal settings is refused with WANT. */
static void refused(const char *key, const char *value, const char *want)
{
	cJSON *conf = cJSON_Parse(minimal), *v = cJSON_Parse(value);
	struct fly_settings s;
	char err[256];

	assert_non_null(v);
	cJSON_DeleteItemFromObjectCaseSensitive(conf, key);
	cJSON_AddItemToObject(conf, key, v);
	memset(err, 0, sizeof err);
	if (fly_settings_read(conf, &s, err, sizeof err) != -1)
		fail_msg("%s: %s accepted", key, value);
	if (!strstr(err, want) || strncmp(err, key, strlen(key)) || strchr(err, '\n'))
		fail_msg("%s: %s refused with \"%s\", not \"%s\"", key, value, err, want);
	/* on refusal the settings hold the defaults only */
	assert_null(s.app);
	assert_int_equal(s.port, 2222);
	cJSON_Delete(conf);
}

static void test_wrong_types_refused(void **state)
{
	const char *texts[] = { "app",     "image",      "region",  "cpu_kind", "gpu_kind",
		                "api_url", "token_file", "command", "failsafe", "grace" };
	(void)state;
	for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
		refused(texts[i], "5", "must be a non-empty string");
		refused(texts[i], "\"\"", "must be a non-empty string");
		refused(texts[i], "null", "must be a non-empty string");
	}
	refused("cpus", "\"2\"", "must be a whole number from 1 to 2147483647");
	refused("cpus", "0", "must be a whole number from 1 to 2147483647");
	refused("memory_mb", "1.5", "must be a whole number from 1 to 2147483647");
	refused("memory_mb", "1e12", "must be a whole number from 1 to 2147483647");
	refused("port", "65536", "must be a whole number from 1 to 65535");
	refused("port", "true", "must be a whole number from 1 to 65535");
	refused("env", "[]", "must be an object of \"NAME\": \"value\" strings");
	refused("env", "{\"A\": 1}", "must be an object of \"NAME\": \"value\" strings");
	refused("failsafe", "\"soon\"", "must be a duration above zero");
	refused("grace", "\"0s\"", "must be a duration above zero");
}

static void test_required_and_not_an_object(void **state)
{
	cJSON *conf = cJSON_Parse("{\"image\": \"i\"}");
	struct fly_settings s;
	char err[256];

	(void)state;
	assert_int_equal(fly_settings_read(conf, &s, err, sizeof err), -1);
	assert_string_equal(err, "a fly pool needs \"app\" (or FLY_APP_NAME in the environment)");
	cJSON_Delete(conf);
	conf = cJSON_Parse("{\"app\": \"a\"}");
	assert_int_equal(fly_settings_read(conf, &s, err, sizeof err), -1);
	assert_string_equal(err, "a fly pool needs \"image\" (or FLY_IMAGE_REF in the environment)");
	cJSON_Delete(conf);
	assert_int_equal(fly_settings_read(NULL, &s, err, sizeof err), -1);
	assert_string_equal(err, "the fly settings are not a JSON object");
	assert_string_equal(s.command, "/usr/local/bin/flame");
}

/* config_fly_parse writes the text defaults, so the JSON the warmer and
 * the link get reads back to the same settings. */
static void test_parse_round_trip(void **state)
{
	cJSON *pool = cJSON_Parse("{\"backend\": \"fly\", \"app\": \"a\", \"image\": \"i:1\", \"cpus\": 2,"
	                          " \"memory_mb\": 512}");
	struct pool_settings ps;
	struct fly_settings s;
	cJSON *conf;
	char err[256];

	(void)state;
	unsetenv("FLY_REGION");
	pool_settings_default(&ps, "p");
	assert_int_equal(config_fly_parse(pool, &ps, err, sizeof err), 0);
	assert_string_equal(ps.backend_conf,
	                    "{\"app\":\"a\",\"image\":\"i:1\",\"cpus\":2,\"memory_mb\":512,\"cpu_kind\":"
	                    "\"shared\",\"api_url\":\"https://api.machines.dev\",\"command\":\"/usr/"
	                    "local/bin/flame\"}");
	conf = cJSON_Parse(ps.backend_conf);
	assert_int_equal(fly_settings_read(conf, &s, err, sizeof err), 0);
	assert_int_equal(s.cpus, 2);
	assert_int_equal(s.memory_mb, 512);
	cJSON_Delete(conf);
	cJSON_Delete(pool);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_filled),
		cmocka_unit_test(test_every_key_read),
		cmocka_unit_test(test_first_repeated_key),
		cmocka_unit_test(test_wrong_types_refused),
		cmocka_unit_test(test_required_and_not_an_object),
		cmocka_unit_test(test_parse_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
