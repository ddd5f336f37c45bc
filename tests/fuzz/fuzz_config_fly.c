/* fuzz_config_fly.c — config_fly_parse() on any JSON object as a fly pool's
 * settings, with app and image coming from the environment so that the
 * guest checks are reached: never a crash, one-line errors, and accepted
 * settings are ones the Fly launch check accepts too. */
#include "fuzz.h"
#include "config.h"
#include "config_fly.h"
#include "fly_machine.h"

#include <cJSON.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	setenv("FLY_APP_NAME", "fuzz-app", 1);
	setenv("FLY_IMAGE_REF", "registry.fly.io/fuzz-app:latest", 1);
	unsetenv("FLY_REGION");
	return 0;
}

/* What was accepted reads back, and passes the same check the launch makes. */
static void check_accepted(const struct pool_settings *ps)
{
	cJSON *conf = cJSON_Parse(ps->backend_conf);
	struct fly_settings s;
	char why[400];

	FUZZ_CHECK(fly_settings_read(conf, &s, why, sizeof why) == 0);
	FUZZ_CHECK(s.cpus >= 1 && s.memory_mb >= 1 && s.port >= 1 && s.port <= 65535);
	{
		struct fly_launch l = { .image = s.image,
			                .cpu_kind = s.cpu_kind,
			                .gpu_kind = s.gpu_kind,
			                .cpus = s.cpus,
			                .memory_mb = s.memory_mb,
			                .launch_id = "fuzz" };
		FUZZ_CHECK(fly_launch_check(&l, why, sizeof why) == 0);
	}
	cJSON_Delete(conf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_text(data, size), err[1024];
	cJSON *pool = cJSON_Parse(text);
	struct pool_settings ps;

	if (cJSON_IsObject(pool)) {
		pool_settings_default(&ps, "fuzz");
		if (config_fly_parse(pool, &ps, err, sizeof err) == 0)
			check_accepted(&ps);
		else
			FUZZ_CHECK(fuzz_one_line(err) && !strncmp(err, "pool 'fuzz': ", 13));
	}
	cJSON_Delete(pool);
	free(text);
	return 0;
}
