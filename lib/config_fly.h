/* config_fly.h — the settings of a pool with "backend": "fly", checked when
 * the configuration is read and kept as JSON text in
 * pool_settings.backend_conf, where the fly backend reads them.
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
 * deploy's FLY_IMAGE_REF reaches the warmer with the next call. */
#ifndef FLAME_CONFIG_FLY_H
#define FLAME_CONFIG_FLY_H

#include "config.h"

#include <cJSON.h>
#include <stddef.h>

/* Is KEY a fly pool setting? */
int config_fly_key(const char *key);
/* Checks a fly pool's settings and stores them in ps->backend_conf. */
int config_fly_parse(const cJSON *pool, struct pool_settings *ps, char *err, size_t errlen);

#endif
