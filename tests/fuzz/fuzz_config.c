/* fuzz_config.c — config_parse() (flame.json) on any text: it never
 * crashes, errors are one line naming the file, and what it accepts is
 * within the documented ranges. */
#include "fuzz.h"
#include "config.h"

#include <cJSON.h>

#define LIMIT_MAX 100000
#define DAY_MS (24LL * 3600 * 1000)

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* fly pools must name app and image themselves */
	unsetenv("FLY_APP_NAME");
	unsetenv("FLY_IMAGE_REF");
	unsetenv("FLY_REGION");
	return 0;
}

static void check_pool(const struct pool_settings *ps)
{
	char why[512];

	FUZZ_CHECK(pool_name_valid(ps->name));
	FUZZ_CHECK(!strcmp(ps->backend, "local") || !strcmp(ps->backend, "ssh") ||
	           !strcmp(ps->backend, "fly"));
	FUZZ_CHECK(ps->min >= 0 && ps->min <= ps->max && ps->max <= LIMIT_MAX);
	FUZZ_CHECK(ps->max_concurrency >= 1 && ps->max_concurrency <= LIMIT_MAX);
	FUZZ_CHECK(ps->idle_ms > 0 && ps->idle_ms <= 30 * DAY_MS);
	FUZZ_CHECK(ps->boot_ms > 0 && ps->boot_ms <= 30 * DAY_MS);
	FUZZ_CHECK(ps->slot_ms > 0 && ps->slot_ms <= 30 * DAY_MS);
	FUZZ_CHECK(ps->stopped_max >= -1 && ps->stopped_max <= LIMIT_MAX);
	FUZZ_CHECK(ps->stopped_ttl_ms > 0 && ps->stopped_ttl_ms <= 30 * DAY_MS);
	FUZZ_CHECK(ps->budget_s_per_hour >= 0 && ps->budget_s_per_hour <= LIMIT_MAX * 3600L);
	FUZZ_CHECK(ps->price_per_hour == -1 || (ps->price_per_hour >= 0 && ps->price_per_hour <= 1000));
	/* the stopped tier and the price are a fly pool's */
	if (strcmp(ps->backend, "fly"))
		FUZZ_CHECK(ps->stopped_max == -1 && ps->stopped_ttl_ms == 600000 && ps->price_per_hour == -1);
	FUZZ_CHECK(pool_settings_check(ps, why, sizeof why) == 0);
	if (ps->backend_conf[0]) {
		cJSON *conf = cJSON_Parse(ps->backend_conf);
		FUZZ_CHECK(cJSON_IsObject(conf));
		cJSON_Delete(conf);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_text(data, size), err[1024];
	struct config cfg = { 0 };

	if (config_parse(&cfg, text, "flame.json", err, sizeof err) == 0) {
		for (size_t i = 0; i < cfg.npools; i++)
			check_pool(&cfg.pools[i]);
		free(config_pool_names(&cfg));
	} else {
		FUZZ_CHECK(!strncmp(err, "flame.json", 10));
		FUZZ_CHECK(fuzz_one_line(err));
	}
	config_free(&cfg);
	free(text);
	return 0;
}
