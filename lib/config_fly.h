/* config_fly.h — the settings of a pool with "backend": "fly", checked when
 * the configuration is read and kept as JSON text in
 * pool_settings.backend_conf, which flame-link reads back (lib/fly/runner.c).
 *
 *   app        the Fly app the runners belong to   (default $FLY_APP_NAME)
 *   image      the image they boot                 (default $FLY_IMAGE_REF)
 *   region     where                               (default $FLY_REGION, else Fly's choice)
 *   cpu_kind, cpus, memory_mb, gpu_kind            the guest ("shared", 1, 256, none)
 *   env        {"NAME": "value", ...} for the runner's processes
 *   port       the agent's sshd port               (2222)
 *   api_url    the Machines API                    (https://api.machines.dev)
 *   token_file a file holding the API token        (default: $FLY_API_TOKEN)
 *   command    flame's path in the image           (/usr/local/bin/flame)
 *   failsafe, grace                                the agent's (20s, 30s)
 *
 * The defaults taken from the environment are those of the process that
 * reads the configuration (`flame run` on the parent machine), so a fresh
 * deploy's FLY_IMAGE_REF reaches the warmer with the next call.
 *
 * Promise: fly_settings_read() is the one place that looks these keys up
 * in the JSON and the one place that knows their defaults; the check made
 * when the configuration is read and the link that creates the machines
 * both go through it, so they cannot disagree. */
#ifndef FLAME_CONFIG_FLY_H
#define FLAME_CONFIG_FLY_H

#include "config.h"

#include <cJSON.h>
#include <stddef.h>

/* A fly pool's settings, defaults filled.  The strings and env point into
 * the cJSON object they were read from: valid while it lives. */
struct fly_settings {
	const char *app;        /* required */
	const char *image;      /* required */
	const char *region;     /* NULL: Fly's choice */
	const char *cpu_kind;   /* "shared" */
	int cpus;               /* 1 */
	int memory_mb;          /* 256 */
	const char *gpu_kind;   /* NULL: no GPU */
	const cJSON *env;       /* {"NAME": "value", ...}, or NULL */
	int port;               /* 2222 */
	const char *api_url;    /* "https://api.machines.dev" */
	const char *token_file; /* NULL: the token handed over with the settings */
	const char *command;    /* "/usr/local/bin/flame" */
	const char *failsafe;   /* a duration; NULL: the agent's own */
	const char *grace;      /* a duration; NULL: the agent's own */
};

/* Reads CONF (the JSON object in backend_conf) into *s: every key's type
 * checked, app and image required, the rest defaulted.  0, or -1 with a
 * one-line reason naming the key (*s then holds the defaults only). */
int fly_settings_read(const cJSON *conf, struct fly_settings *s, char *err, size_t errlen);

/* Is KEY a fly pool setting? */
int config_fly_key(const char *key);
/* Checks a fly pool's settings and stores them in ps->backend_conf. */
int config_fly_parse(const cJSON *pool, struct pool_settings *ps, char *err, size_t errlen);

#endif
