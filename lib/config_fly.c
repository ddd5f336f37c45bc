/* config_fly.c — see config_fly.h. */
#include "config_fly.h"
#include "duration.h"
#include "fly_machine.h"
#include "util.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum kind { TEXT, DURATION, WHOLE, PORT, ENV };

/* Every setting, with its defaults: from_env when the configuration is
 * read (written into the JSON, as text defaults are), number defaults when
 * the JSON is read. */
static const struct setting {
	const char *key;
	enum kind kind;
	size_t at; /* offsetof in struct fly_settings */
	const char *from_env;
	const char *text;
	int number;
} settings[] = {
	{ "app", TEXT, offsetof(struct fly_settings, app), "FLY_APP_NAME", NULL, 0 },
	{ "image", TEXT, offsetof(struct fly_settings, image), "FLY_IMAGE_REF", NULL, 0 },
	{ "region", TEXT, offsetof(struct fly_settings, region), "FLY_REGION", NULL, 0 },
	{ "cpu_kind", TEXT, offsetof(struct fly_settings, cpu_kind), NULL, "shared", 0 },
	{ "cpus", WHOLE, offsetof(struct fly_settings, cpus), NULL, NULL, 1 },
	{ "memory_mb", WHOLE, offsetof(struct fly_settings, memory_mb), NULL, NULL, 256 },
	{ "gpu_kind", TEXT, offsetof(struct fly_settings, gpu_kind), NULL, NULL, 0 },
	{ "env", ENV, offsetof(struct fly_settings, env), NULL, NULL, 0 },
	{ "port", PORT, offsetof(struct fly_settings, port), NULL, NULL, 2222 },
	{ "api_url", TEXT, offsetof(struct fly_settings, api_url), NULL, "https://api.machines.dev", 0 },
	{ "token_file", TEXT, offsetof(struct fly_settings, token_file), NULL, NULL, 0 },
	{ "command", TEXT, offsetof(struct fly_settings, command), NULL, "/usr/local/bin/flame", 0 },
	{ "failsafe", DURATION, offsetof(struct fly_settings, failsafe), NULL, NULL, 0 },
	{ "grace", DURATION, offsetof(struct fly_settings, grace), NULL, NULL, 0 },
};
#define NSETTINGS (sizeof settings / sizeof settings[0])

static const struct setting *setting(const char *key)
{
	for (size_t i = 0; i < NSETTINGS; i++)
		if (!strcmp(settings[i].key, key))
			return &settings[i];
	return NULL;
}

int config_fly_key(const char *key)
{
	return setting(key) != NULL;
}

static const char **text_at(struct fly_settings *s, const struct setting *k)
{
	return (const char **)(void *)((char *)s + k->at);
}

static int *number_at(struct fly_settings *s, const struct setting *k)
{
	return (int *)(void *)((char *)s + k->at);
}

static void defaults(struct fly_settings *s)
{
	memset(s, 0, sizeof *s);
	for (size_t i = 0; i < NSETTINGS; i++)
		if (settings[i].kind == WHOLE || settings[i].kind == PORT)
			*number_at(s, &settings[i]) = settings[i].number;
		else if (settings[i].kind != ENV)
			*text_at(s, &settings[i]) = settings[i].text;
}

static int type_error(const char *key, const char *want, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s must be %s", key, want);
	return -1;
}

/* A whole number from 1 to an int's largest (a port's for port), checked
 * as a double: converting one out of range is undefined. */
static int number_error(const struct setting *k, const cJSON *v, char *err, size_t errlen)
{
	double max = k->kind == PORT ? 65535 : INT_MAX, d = v->valuedouble;
	char want[64];

	if (cJSON_IsNumber(v) && d >= 1 && d <= max && d == (double)(int)d)
		return 0;
	snprintf(want, sizeof want, "a whole number from 1 to %.0f", max);
	return type_error(k->key, want, err, errlen);
}

static int type_check(const struct setting *k, const cJSON *v, char *err, size_t errlen)
{
	const char *env_want = "an object of \"NAME\": \"value\" strings";
	const cJSON *e;

	if (k->kind == WHOLE || k->kind == PORT)
		return number_error(k, v, err, errlen);
	if (k->kind != ENV) {
		if (!cJSON_IsString(v) || !v->valuestring[0])
			return type_error(k->key, "a non-empty string", err, errlen);
		return 0;
	}
	if (!cJSON_IsObject(v))
		return type_error(k->key, env_want, err, errlen);
	cJSON_ArrayForEach(e, v)
		if (!cJSON_IsString(e))
			return type_error(k->key, env_want, err, errlen);
	return 0;
}

/* Takes what CONF sets (the first of a repeated key, as cJSON finds it). */
static void take(const cJSON *conf, struct fly_settings *s)
{
	for (size_t i = 0; i < NSETTINGS; i++) {
		const struct setting *k = &settings[i];
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(conf, k->key);
		if (!v)
			continue;
		if (k->kind == WHOLE || k->kind == PORT)
			*number_at(s, k) = (int)v->valuedouble;
		else if (k->kind == ENV)
			s->env = v;
		else
			*text_at(s, k) = v->valuestring;
	}
}

static int required(const char *key, char *err, size_t errlen)
{
	snprintf(err, errlen, "a fly pool needs \"%s\" (or %s in the environment)", key,
	         setting(key)->from_env);
	return -1;
}

/* The settings beyond their types, in the order the errors are reported. */
static int complete(const struct fly_settings *s, char *err, size_t errlen)
{
	int64_t ms;

	if (!s->app)
		return required("app", err, errlen);
	if (s->failsafe && (duration_parse(s->failsafe, &ms) < 0 || ms <= 0))
		return type_error("failsafe", "a duration above zero such as \"20s\"", err, errlen);
	if (s->grace && (duration_parse(s->grace, &ms) < 0 || ms <= 0))
		return type_error("grace", "a duration above zero such as \"20s\"", err, errlen);
	if (!s->image)
		return required("image", err, errlen);
	return 0;
}

int fly_settings_read(const cJSON *conf, struct fly_settings *s, char *err, size_t errlen)
{
	const cJSON *v;

	defaults(s);
	if (!cJSON_IsObject(conf)) {
		snprintf(err, errlen, "the fly settings are not a JSON object");
		return -1;
	}
	cJSON_ArrayForEach(v, conf) {
		const struct setting *k = v->string ? setting(v->string) : NULL;
		if (k && type_check(k, v, err, errlen) < 0)
			return -1;
	}
	take(conf, s);
	if (complete(s, err, errlen) < 0) {
		defaults(s);
		return -1;
	}
	return 0;
}

/* Copies the settings given; fly_settings_read() checks them. */
static cJSON *given(const cJSON *pool)
{
	cJSON *conf = cJSON_CreateObject();
	const cJSON *v;

	cJSON_ArrayForEach(v, pool)
		if (config_fly_key(v->string))
			cJSON_AddItemToObject(conf, v->string, cJSON_Duplicate(v, 1));
	return conf;
}

/* Writes the text defaults (from the environment, or constant) of the keys
 * not set, so the warmer and the link see what this process meant. */
static void fill(cJSON *conf)
{
	for (size_t i = 0; i < NSETTINGS; i++) {
		const struct setting *k = &settings[i];
		const char *v = k->from_env ? getenv(k->from_env) : NULL;
		if (cJSON_GetObjectItemCaseSensitive(conf, k->key))
			continue;
		if (!v || !*v)
			v = k->text;
		if (v)
			cJSON_AddStringToObject(conf, k->key, v);
	}
}

/* What Fly would refuse is refused here, before any machine is asked for. */
static int check(const cJSON *conf, char *err, size_t errlen)
{
	struct fly_settings s;
	struct fly_launch l = { 0 };

	if (fly_settings_read(conf, &s, err, errlen) < 0)
		return -1;
	l.image = s.image;
	l.cpu_kind = s.cpu_kind;
	l.cpus = s.cpus;
	l.memory_mb = s.memory_mb;
	l.gpu_kind = s.gpu_kind;
	l.launch_id = "check";
	return fly_launch_check(&l, err, errlen);
}

int config_fly_parse(const cJSON *pool, struct pool_settings *ps, char *err, size_t errlen)
{
	cJSON *conf = given(pool);
	char *text = NULL, why[400];
	int rc = -1;

	fill(conf);
	if (check(conf, why, sizeof why) < 0) {
		snprintf(err, errlen, "pool '%s': %s", ps->name, why);
		goto out;
	}
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
