/* config_fly.c — see config_fly.h. */
#include "config_fly.h"
#include "duration.h"
#include "fly_machine.h"
#include "util.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const string_keys[] = { "app",      "image",   "region",     "cpu_kind",
	                                   "gpu_kind", "api_url", "token_file", "command",
	                                   "failsafe", "grace",   NULL };
static const char *const number_keys[] = { "cpus", "memory_mb", "port", NULL };

static int in(const char *const *list, const char *key)
{
	for (; *list; list++)
		if (!strcmp(*list, key))
			return 1;
	return 0;
}

int config_fly_key(const char *key)
{
	return in(string_keys, key) || in(number_keys, key) || !strcmp(key, "env");
}

static int type_error(const char *pool, const char *key, const char *want, char *err, size_t errlen)
{
	snprintf(err, errlen, "pool '%s': %s must be %s", pool, key, want);
	return -1;
}

/* A whole number from 1 to an int's largest (a port's for port), checked
 * as a double: converting one out of range is undefined. */
static int number_error(const cJSON *v, const char *pool, char *err, size_t errlen)
{
	double max = strcmp(v->string, "port") ? INT_MAX : 65535, d = v->valuedouble;
	char want[64];

	if (cJSON_IsNumber(v) && d >= 1 && d <= max && d == (double)(int)d)
		return 0;
	snprintf(want, sizeof want, "a whole number from 1 to %.0f", max);
	return type_error(pool, v->string, want, err, errlen);
}

/* Copies the settings given, checking their types. */
static int copy_given(const cJSON *pool, cJSON *conf, const char *name, char *err, size_t errlen)
{
	const cJSON *v;
	cJSON_ArrayForEach(v, pool) {
		if (in(string_keys, v->string)) {
			if (!cJSON_IsString(v) || !v->valuestring[0])
				return type_error(name, v->string, "a non-empty string", err, errlen);
		} else if (in(number_keys, v->string)) {
			if (number_error(v, name, err, errlen) < 0)
				return -1;
		} else if (!strcmp(v->string, "env")) {
			const cJSON *e;
			if (!cJSON_IsObject(v))
				return type_error(name, "env", "an object of \"NAME\": \"value\" strings",
				                  err, errlen);
			cJSON_ArrayForEach(e, v)
				if (!cJSON_IsString(e))
					return type_error(name, "env",
					                  "an object of \"NAME\": \"value\" strings", err,
					                  errlen);
		} else {
			continue;
		}
		cJSON_AddItemToObject(conf, v->string, cJSON_Duplicate(v, 1));
	}
	return 0;
}

/* A default from the environment (or a constant) when the key is not set. */
static void fill(cJSON *conf, const char *key, const char *env, const char *fallback)
{
	const char *v = env ? getenv(env) : NULL;
	if (cJSON_GetObjectItemCaseSensitive(conf, key))
		return;
	if (!v || !*v)
		v = fallback;
	if (v)
		cJSON_AddStringToObject(conf, key, v);
}

static const char *str(const cJSON *conf, const char *key)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(conf, key));
}

static int num(const cJSON *conf, const char *key, int dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(conf, key);
	return cJSON_IsNumber(v) ? (int)v->valuedouble : dflt;
}

/* What Fly would refuse is refused here, before any machine is asked for. */
static int check(const cJSON *conf, const char *name, char *err, size_t errlen)
{
	struct fly_launch l = { 0 };
	const char *d[] = { "failsafe", "grace" };
	char why[400];
	int64_t ms;

	if (!str(conf, "app")) {
		snprintf(err, errlen,
		         "pool '%s': a fly pool needs \"app\" (or FLY_APP_NAME in the environment)", name);
		return -1;
	}
	for (size_t i = 0; i < 2; i++)
		if (str(conf, d[i]) && (duration_parse(str(conf, d[i]), &ms) < 0 || ms <= 0))
			return type_error(name, d[i], "a duration above zero such as \"20s\"", err, errlen);
	if (num(conf, "port", 2222) > 65535)
		return type_error(name, "port", "a port number (1 to 65535)", err, errlen);
	l.image = str(conf, "image");
	l.cpu_kind = str(conf, "cpu_kind");
	l.cpus = num(conf, "cpus", 1);
	l.memory_mb = num(conf, "memory_mb", 256);
	l.gpu_kind = str(conf, "gpu_kind");
	l.launch_id = "check";
	if (!l.image) {
		snprintf(err, errlen,
		         "pool '%s': a fly pool needs \"image\" (or FLY_IMAGE_REF in the environment)", name);
		return -1;
	}
	if (fly_launch_check(&l, why, sizeof why) < 0) {
		snprintf(err, errlen, "pool '%s': %s", name, why);
		return -1;
	}
	return 0;
}

int config_fly_parse(const cJSON *pool, struct pool_settings *ps, char *err, size_t errlen)
{
	cJSON *conf = cJSON_CreateObject();
	char *text = NULL;
	int rc = -1;

	if (copy_given(pool, conf, ps->name, err, errlen) < 0)
		goto out;
	fill(conf, "app", "FLY_APP_NAME", NULL);
	fill(conf, "image", "FLY_IMAGE_REF", NULL);
	fill(conf, "region", "FLY_REGION", NULL);
	fill(conf, "cpu_kind", NULL, "shared");
	fill(conf, "api_url", NULL, "https://api.machines.dev");
	fill(conf, "command", NULL, "/usr/local/bin/flame");
	if (check(conf, ps->name, err, errlen) < 0)
		goto out;
	text = cJSON_PrintUnformatted(conf);
	if (!text || strlen(text) >= sizeof ps->backend_conf) {
		snprintf(err, errlen, "pool '%s': the fly settings are too long (at most 4 KiB of JSON)",
		         ps->name);
		goto out;
	}
	snprintf(ps->backend_conf, sizeof ps->backend_conf, "%s", text);
	rc = 0;
out:
	free(text);
	cJSON_Delete(conf);
	return rc;
}
