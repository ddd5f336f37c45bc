/* config.c — see config.h. */
#include "config.h"
#include "config_fly.h"
#include "duration.h"
#include "flame_limits.h"
#include "login.h"
#include "util.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void pool_settings_default(struct pool_settings *ps, const char *name)
{
	memset(ps, 0, sizeof *ps);
	snprintf(ps->name, sizeof ps->name, "%s", name);
	snprintf(ps->backend, sizeof ps->backend, "local");
	ps->min = 0;
	ps->max = 4;
	ps->max_concurrency = 4;
	ps->idle_ms = 30000;
	ps->boot_ms = 30000;
	ps->slot_ms = 300000;
	ps->stopped_max = -1;
	ps->stopped_ttl_ms = 600000;
	ps->budget_s_per_hour = 0;
	ps->price_per_hour = -1;
}

int pool_name_valid(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > POOL_NAME_MAX)
		return 0;
	return strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

int pool_settings_check(const struct pool_settings *ps, char *err, size_t errlen)
{
	if (ps->min > ps->max) {
		snprintf(err, errlen, "pool '%s': min (%ld) is above max (%ld); lower min or raise max",
		         ps->name, ps->min, ps->max);
		return -1;
	}
	return 0;
}

static int line_of(const char *text, const char *at)
{
	int line = 1;
	for (const char *p = text; p < at && *p; p++)
		line += *p == '\n';
	return line;
}

static int set_limit(const cJSON *v, const char *key, long min, long max, long *out, const char *pool,
                     char *err, size_t errlen)
{
	double d = cJSON_IsNumber(v) ? v->valuedouble : -1;
	/* the range first: converting a double beyond a long's is undefined */
	if (!cJSON_IsNumber(v) || !(d >= min && d <= max) || d != (double)(long)d) {
		snprintf(err, errlen, "pool '%s': %s must be a whole number from %ld to %ld", pool, key, min,
		         max);
		return -1;
	}
	*out = (long)d;
	return 0;
}

static int set_duration(const cJSON *v, const char *key, int64_t *out, const char *pool, char *err,
                        size_t errlen)
{
	int64_t ms = -1;
	if (cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble < 30.0 * 86400)
		ms = (int64_t)(v->valuedouble * 1000 + 0.999);
	else if (cJSON_IsString(v) && duration_parse(v->valuestring, &ms) < 0)
		ms = -1;
	if (ms <= 0) {
		snprintf(err, errlen,
		         "pool '%s': %s must be a duration above zero such as \"30s\", \"500ms\" or \"5m\"",
		         pool, key);
		return -1;
	}
	*out = ms;
	return 0;
}

/* "budget": {"machine_seconds_per_hour": N}, nothing else. */
static int parse_budget(const cJSON *v, struct pool_settings *ps, char *err, size_t errlen)
{
	const cJSON *item;

	if (!cJSON_IsObject(v) || !cJSON_GetArraySize(v)) {
		snprintf(
			err, errlen,
			"pool '%s': budget must be {\"machine_seconds_per_hour\": N}, N a whole number from 1 "
			"to %ld",
			ps->name, LIMIT_RUNNERS * 3600L);
		return -1;
	}
	cJSON_ArrayForEach(item, v) {
		if (strcmp(item->string, "machine_seconds_per_hour")) {
			snprintf(err, errlen,
			         "pool '%s': budget has no setting '%s'; it takes only "
			         "{\"machine_seconds_per_hour\": N}, N from 1 to %ld",
			         ps->name, item->string, LIMIT_RUNNERS * 3600L);
			return -1;
		}
		if (set_limit(item, "budget.machine_seconds_per_hour", 1, LIMIT_RUNNERS * 3600L,
		              &ps->budget_s_per_hour, ps->name, err, errlen) < 0)
			return -1;
	}
	return 0;
}

static int parse_price(const cJSON *v, struct pool_settings *ps, char *err, size_t errlen)
{
	if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0 && v->valuedouble <= 1000)) {
		snprintf(err, errlen,
		         "pool '%s': price_per_hour must be a machine's price in US dollars per hour, a "
		         "number from 0 to 1000 such as 0.0031",
		         ps->name);
		return -1;
	}
	ps->price_per_hour = v->valuedouble;
	return 0;
}

static int parse_backend(const cJSON *v, struct pool_settings *ps, char *err, size_t errlen)
{
	if (!cJSON_IsString(v) || (strcmp(v->valuestring, "local") && strcmp(v->valuestring, "ssh") &&
	                           strcmp(v->valuestring, "fly"))) {
		snprintf(err, errlen, "pool '%s': backend must be \"local\", \"ssh\" or \"fly\"", ps->name);
		return -1;
	}
	snprintf(ps->backend, sizeof ps->backend, "%s", v->valuestring);
	return 0;
}

static int check_host(const cJSON *h, const char *pool, char *err, size_t errlen)
{
	const cJSON *login = cJSON_IsObject(h) ? cJSON_GetObjectItemCaseSensitive(h, "login") : h;
	const cJSON *key = cJSON_IsObject(h) ? cJSON_GetObjectItemCaseSensitive(h, "host_key") : NULL;
	char user[64], host[256], why[300];
	int port = 22;

	if (!cJSON_IsString(login) || login_parse(login->valuestring, user, sizeof user, host, sizeof host,
	                                          &port, why, sizeof why) < 0) {
		snprintf(err, errlen,
		         "pool '%s': each host is \"user@host:port\" or {\"login\": ..., "
		         "\"host_key\": \"ssh-ed25519 ...\"}%s%s",
		         pool, cJSON_IsString(login) ? ": " : "", cJSON_IsString(login) ? why : "");
		return -1;
	}
	if (key && (!cJSON_IsString(key) || strncmp(key->valuestring, "ssh-ed25519 ", 12))) {
		snprintf(err, errlen,
		         "pool '%s': host_key of %s must be an \"ssh-ed25519 AAAA...\" line "
		         "(ssh-keyscan -t ed25519 prints it; check its fingerprint)",
		         pool, login->valuestring);
		return -1;
	}
	return 0;
}

/* ssh pools: hosts (required), command, known_hosts; kept as JSON text. */
static int parse_ssh(const cJSON *pool, struct pool_settings *ps, int max_given, char *err, size_t errlen)
{
	const cJSON *hosts = cJSON_GetObjectItemCaseSensitive(pool, "hosts"), *h;
	const cJSON *command = cJSON_GetObjectItemCaseSensitive(pool, "command");
	const cJSON *known = cJSON_GetObjectItemCaseSensitive(pool, "known_hosts");
	cJSON *conf;
	char *text;
	int n = 0;

	if (!cJSON_IsArray(hosts) || cJSON_GetArraySize(hosts) == 0) {
		snprintf(err, errlen, "pool '%s': an ssh pool needs \"hosts\": [\"user@host:port\", ...]",
		         ps->name);
		return -1;
	}
	cJSON_ArrayForEach(h, hosts) {
		if (check_host(h, ps->name, err, errlen) < 0)
			return -1;
		n++;
	}
	if ((command && !cJSON_IsString(command)) || (known && !cJSON_IsString(known))) {
		snprintf(err, errlen, "pool '%s': command and known_hosts must be strings", ps->name);
		return -1;
	}
	if (!max_given)
		ps->max = n;
	if (ps->max > n) {
		snprintf(err, errlen,
		         "pool '%s': max (%ld) is above the number of hosts (%d); an ssh runner is a host",
		         ps->name, ps->max, n);
		return -1;
	}
	conf = cJSON_CreateObject();
	cJSON_AddItemToObject(conf, "hosts", cJSON_Duplicate(hosts, 1));
	cJSON_AddStringToObject(conf, "command", command ? command->valuestring : "flame");
	if (known)
		cJSON_AddStringToObject(conf, "known_hosts", known->valuestring);
	text = cJSON_PrintUnformatted(conf);
	cJSON_Delete(conf);
	if (!text || strlen(text) >= sizeof ps->backend_conf) {
		snprintf(err, errlen, "pool '%s': the hosts list is too long (at most 4 KiB of JSON)",
		         ps->name);
		free(text);
		return -1;
	}
	snprintf(ps->backend_conf, sizeof ps->backend_conf, "%s", text);
	free(text);
	return 0;
}

static int parse_setting(const cJSON *item, struct pool_settings *ps, char *err, size_t errlen)
{
	const char *k = item->string;
	if (!strcmp(k, "backend"))
		return parse_backend(item, ps, err, errlen);
	if (!strcmp(k, "min"))
		return set_limit(item, k, 0, LIMIT_RUNNERS, &ps->min, ps->name, err, errlen);
	if (!strcmp(k, "max"))
		return set_limit(item, k, 1, LIMIT_RUNNERS, &ps->max, ps->name, err, errlen);
	if (!strcmp(k, "max_concurrency"))
		return set_limit(item, k, 1, LIMIT_CONCURRENCY, &ps->max_concurrency, ps->name, err, errlen);
	if (!strcmp(k, "idle_shutdown_after"))
		return set_duration(item, k, &ps->idle_ms, ps->name, err, errlen);
	if (!strcmp(k, "boot_timeout"))
		return set_duration(item, k, &ps->boot_ms, ps->name, err, errlen);
	if (!strcmp(k, "slot_timeout"))
		return set_duration(item, k, &ps->slot_ms, ps->name, err, errlen);
	if (!strcmp(k, "stopped_max"))
		return set_limit(item, k, 0, LIMIT_RUNNERS, &ps->stopped_max, ps->name, err, errlen);
	if (!strcmp(k, "stopped_ttl"))
		return set_duration(item, k, &ps->stopped_ttl_ms, ps->name, err, errlen);
	if (!strcmp(k, "budget"))
		return parse_budget(item, ps, err, errlen);
	if (!strcmp(k, "price_per_hour"))
		return parse_price(item, ps, err, errlen);
	if (!strcmp(k, "hosts") || !strcmp(k, "command") || !strcmp(k, "known_hosts"))
		return 0; /* the ssh backend's: checked with the backend below */
	if (config_fly_key(k))
		return 0; /* the fly backend's: likewise */
	snprintf(
		err, errlen,
		"pool '%s': unknown setting '%s' (known: backend, min, max, max_concurrency, "
		"idle_shutdown_after, boot_timeout, slot_timeout, budget; ssh: hosts, command, known_hosts; fly: "
		"app, image, region, cpu_kind, cpus, memory_mb, gpu_kind, env, port, api_url, token_file, "
		"command, failsafe, grace, stopped_max, stopped_ttl, price_per_hour)",
		ps->name, k);
	return -1;
}

static void put_pool(struct config *cfg, const struct pool_settings *ps)
{
	for (size_t i = 0; i < cfg->npools; i++) {
		if (!strcmp(cfg->pools[i].name, ps->name)) {
			cfg->pools[i] = *ps;
			return;
		}
	}
	cfg->pools = xrealloc(cfg->pools, (cfg->npools + 1) * sizeof *cfg->pools);
	cfg->pools[cfg->npools++] = *ps;
}

/* The first fly-only setting in pool ("command" is shared with ssh), or NULL. */
static const char *has_fly_key(const cJSON *pool)
{
	const cJSON *item;
	cJSON_ArrayForEach(item, pool)
		if (config_fly_key(item->string) && strcmp(item->string, "command"))
			return item->string;
	return NULL;
}

/* The first of the fly pools' settings kept outside backend_conf (the
 * stopped tier's and the price) that pool sets, or NULL. */
static const char *has_fly_tier_key(const cJSON *pool)
{
	const cJSON *item;
	cJSON_ArrayForEach(item, pool)
		if (!strcmp(item->string, "stopped_max") || !strcmp(item->string, "stopped_ttl") ||
		    !strcmp(item->string, "price_per_hour"))
			return item->string;
	return NULL;
}

static int parse_pool(struct config *cfg, const cJSON *pool, char *err, size_t errlen)
{
	struct pool_settings ps;
	const cJSON *item;

	if (!pool_name_valid(pool->string)) {
		snprintf(err, errlen,
		         "pool name '%.80s' is invalid; use 1 to %d letters, digits, '.', '_' or '-'",
		         pool->string, POOL_NAME_MAX);
		return -1;
	}
	pool_settings_default(&ps, pool->string);
	if (!cJSON_IsObject(pool)) {
		snprintf(err, errlen, "pool '%s' must be a JSON object of settings", ps.name);
		return -1;
	}
	cJSON_ArrayForEach(item, pool) {
		if (parse_setting(item, &ps, err, errlen) < 0)
			return -1;
	}
	if (!strcmp(ps.backend, "ssh") &&
	    parse_ssh(pool, &ps, cJSON_GetObjectItemCaseSensitive(pool, "max") != NULL, err, errlen) < 0)
		return -1;
	if (!strcmp(ps.backend, "fly") && config_fly_parse(pool, &ps, err, errlen) < 0)
		return -1;
	if (strcmp(ps.backend, "fly") && has_fly_key(pool)) {
		snprintf(err, errlen, "pool '%s': %s belongs to fly pools; add \"backend\": \"fly\"", ps.name,
		         has_fly_key(pool));
		return -1;
	}
	if (strcmp(ps.backend, "fly") && has_fly_tier_key(pool)) {
		snprintf(err, errlen,
		         "pool '%s': %s is a fly setting and this pool's backend is %s; remove it or add "
		         "\"backend\": \"fly\"",
		         ps.name, has_fly_tier_key(pool), ps.backend);
		return -1;
	}
	if (strcmp(ps.backend, "ssh") &&
	    (cJSON_GetObjectItemCaseSensitive(pool, "hosts") ||
	     (strcmp(ps.backend, "fly") && cJSON_GetObjectItemCaseSensitive(pool, "command")) ||
	     cJSON_GetObjectItemCaseSensitive(pool, "known_hosts"))) {
		snprintf(err, errlen,
		         "pool '%s': hosts, command and known_hosts belong to ssh pools; add "
		         "\"backend\": \"ssh\"",
		         ps.name);
		return -1;
	}
	if (pool_settings_check(&ps, err, errlen) < 0)
		return -1;
	put_pool(cfg, &ps);
	return 0;
}

static int parse_root(struct config *cfg, const cJSON *root, char *err, size_t errlen)
{
	const cJSON *item, *pool;

	if (!cJSON_IsObject(root)) {
		snprintf(err, errlen, "the top level must be a JSON object with a \"pools\" object");
		return -1;
	}
	cJSON_ArrayForEach(item, root) {
		if (strcmp(item->string, "pools") != 0) {
			snprintf(err, errlen, "unknown top-level key '%s' (known: pools)", item->string);
			return -1;
		}
		if (!cJSON_IsObject(item)) {
			snprintf(err, errlen, "\"pools\" must be an object mapping pool names to settings");
			return -1;
		}
		if (cJSON_GetArraySize(item) > LIMIT_POOLS) {
			snprintf(err, errlen, "it declares %d pools; at most %d may be declared",
			         cJSON_GetArraySize(item), LIMIT_POOLS);
			return -1;
		}
		cJSON_ArrayForEach(pool, item) {
			if (parse_pool(cfg, pool, err, errlen) < 0)
				return -1;
		}
	}
	return 0;
}

/* Names from the file may hold control characters; messages stay one line. */
static void one_line(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20)
			*s = ' ';
}

/* Where a string of the JSON text holds \u0000, or NULL.  cJSON's strings
 * are C strings: "a\u0000b" would quietly become "a" (another pool's name). */
static const char *escaped_nul(const char *text)
{
	int in_string = 0;
	for (const char *p = text; *p; p++) {
		if (*p == '"') {
			in_string = !in_string;
		} else if (in_string && *p == '\\') {
			if (p[1] == 'u' && !strncmp(p + 2, "0000", 4))
				return p;
			if (p[1])
				p++; /* the escaped character, a quote included */
		}
	}
	return NULL;
}

int config_parse(struct config *cfg, const char *text, const char *path, char *err, size_t errlen)
{
	const char *end = NULL, *nul = escaped_nul(text);
	char why[512];
	cJSON *root;
	int rc;

	if (nul) {
		snprintf(err, errlen,
		         "%s:%d: a string holds \\u0000 (a NUL byte), which flame cannot use; "
		         "remove it",
		         path, line_of(text, nul));
		one_line(err);
		return -1;
	}
	root = cJSON_ParseWithOpts(text, &end, 1);
	if (!root) {
		const char *at = end ? end : cJSON_GetErrorPtr();
		if (!at)
			at = text + strlen(text);
		snprintf(err, errlen, "%s:%d: malformed JSON near '%.20s'; fix the file", path,
		         line_of(text, at), *at ? at : "end of file");
		one_line(err);
		return -1;
	}
	rc = parse_root(cfg, root, why, sizeof why);
	if (rc < 0) {
		snprintf(err, errlen, "%s: %s", path, why);
		one_line(err);
	}
	cJSON_Delete(root);
	return rc;
}

const struct pool_settings *config_find(const struct config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->npools; i++)
		if (!strcmp(cfg->pools[i].name, name))
			return &cfg->pools[i];
	return NULL;
}

char *config_pool_names(const struct config *cfg)
{
	size_t len = strlen(DEFAULT_POOL) + 1;
	char *s;
	for (size_t i = 0; i < cfg->npools; i++)
		len += strlen(cfg->pools[i].name) + 2;
	s = xmalloc(len);
	strcpy(s, DEFAULT_POOL);
	for (size_t i = 0; i < cfg->npools; i++) {
		if (!strcmp(cfg->pools[i].name, DEFAULT_POOL))
			continue;
		strcat(s, ", ");
		strcat(s, cfg->pools[i].name);
	}
	return s;
}

void config_free(struct config *cfg)
{
	free(cfg->pools);
	free(cfg->project_path);
	free(cfg->user_path);
	memset(cfg, 0, sizeof *cfg);
}
