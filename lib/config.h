/* config.h — pool declarations from JSON.
 *
 * Promises: config_parse() is pure (text in, settings or a one-line error
 * out, the error naming the file and, for malformed JSON, the line); every
 * setting has a documented default; invalid values are refused, never
 * clamped.  config_load() finds the project file (flame.json, walking up from
 * the working directory, or $FLAME_CONFIG) and the user file and merges
 * them, the project file winning per pool.  A file found by walking up is
 * used only when it and its directory are yours or root's and others cannot
 * write them; the walk stops at a directory others can write.  No config
 * file is read unless it is a regular file others cannot write, and none is
 * ever waited on (a FIFO). */
#ifndef FLAME_CONFIG_H
#define FLAME_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#define POOL_NAME_MAX 64

struct pool_settings {
	char name[POOL_NAME_MAX + 1];
	char backend[16];
	long min, max, max_concurrency;
	int64_t idle_ms, boot_ms, slot_ms;
	/* fly: stopped machines kept for quick starts (-1: the pool's max) and
	 * how long each is kept (stopped_ttl) */
	long stopped_max;
	int64_t stopped_ttl_ms;
	/* budget.machine_seconds_per_hour: 0 for none */
	long budget_s_per_hour;
	/* a machine's price in USD per hour, for pool ls's estimate; < 0: the
	 * price table's for the pool's guest (lib/price.h) */
	double price_per_hour;
	/* backend-specific settings as compact JSON (ssh: {"hosts": [...],
	 * "command": "flame", "known_hosts": PATH}); "" for local */
	char backend_conf[4096];
};

struct config {
	struct pool_settings *pools;
	size_t npools;
	char *project_path; /* NULL when none was found */
	char *user_path;
};

#define DEFAULT_POOL "default"

void pool_settings_default(struct pool_settings *ps, const char *name);
/* 0 if the settings are consistent; otherwise -1 and a reason in err. */
int pool_settings_check(const struct pool_settings *ps, char *err, size_t errlen);
int pool_name_valid(const char *name);

/* Parses one file's text into cfg (adding or replacing pools by name). */
int config_parse(struct config *cfg, const char *text, const char *path, char *err, size_t errlen);
int config_load(struct config *cfg, char *err, size_t errlen);
const struct pool_settings *config_find(const struct config *cfg, const char *name);
/* "default, ffmpeg, thumbs": every configured pool plus "default". */
char *config_pool_names(const struct config *cfg);
void config_free(struct config *cfg);
/* Loads the configuration and finds pool NAME ("default" always exists). */
int config_lookup(const char *name, struct pool_settings *ps, char *err, size_t errlen);

#endif
