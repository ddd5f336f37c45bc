/* ssh.c — the ssh backend: a pool over hosts the user already has, like GNU
 * parallel's --sshlogin.  Each host is one runner; "booting" it starts a
 * flame-link (lib/link/link.h) that connects with the pool's key (flame
 * pool key), checks the pinned host key and that flame is installed there,
 * and opens one job slot per max_concurrency.  Jobs then run under
 * `flame agent slot` on the host with the local backend's semantics. */
#include "backend.h"
#include "keys.h"
#include "login.h"
#include "runner_proc.h"
#include "util.h"

#include <cJSON.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int in_use(const struct runner *r, const char *login)
{
	for (const struct runner *o = r->pool->runners; o; o = o->next)
		if (o != r && !strcmp(o->where, login))
			return 1;
	return 0;
}

/* A host of the pool with no runner yet, and its pinned key.  The search
 * starts one further along at every boot, so a host that is down does not
 * keep the others from being tried. */
static const cJSON *pick_host(struct runner *r, const cJSON *conf)
{
	const cJSON *hosts = cJSON_GetObjectItemCaseSensitive(conf, "hosts");
	int n = cJSON_GetArraySize(hosts);
	for (int k = 0; k < n; k++) {
		const cJSON *h = cJSON_GetArrayItem(hosts, (int)((r->pool->seq + (unsigned)k) % (unsigned)n));
		const cJSON *login = cJSON_IsObject(h) ? cJSON_GetObjectItemCaseSensitive(h, "login") : h;
		if (cJSON_IsString(login) && !in_use(r, login->valuestring)) {
			snprintf(r->where, sizeof r->where, "%s", login->valuestring);
			return h;
		}
	}
	return NULL;
}

static char *default_known_hosts(void)
{
	const char *home = getenv("HOME");
	return xasprintf("%s/.ssh/known_hosts", home && *home ? home : "");
}

/* What the link reads from its settings descriptor: the pool's settings
 * stay off its command line, which ps shows to everyone (runner_proc.h). */
static char *link_settings(const char *login, const char *host_key, const char *known_hosts,
                           const char *command)
{
	cJSON *s = cJSON_CreateObject();
	char *text;

	cJSON_AddStringToObject(s, "login", login);
	if (host_key)
		cJSON_AddStringToObject(s, "host_key", host_key);
	else
		cJSON_AddStringToObject(s, "known_hosts", known_hosts);
	cJSON_AddStringToObject(s, "command", command);
	text = cJSON_PrintUnformatted(s);
	cJSON_Delete(s);
	return text;
}

static int ssh_boot(struct runner *r, char *err, size_t errlen)
{
	cJSON *conf = cJSON_Parse(r->pool->live.backend_conf);
	const cJSON *h, *known, *command;
	char *key; /* the host's own host_key, if it has one */
	char *path = NULL, *keypath = NULL, *pub = NULL, *kh = NULL, *settings = NULL, slots[16], fd[16];
	int rc = -1;

	if (!conf) {
		snprintf(err, errlen, "pool '%s' has no ssh settings", r->pool->live.name);
		return -1;
	}
	h = pick_host(r, conf);
	if (!h) {
		snprintf(err, errlen, "every host of pool '%s' already has a runner", r->pool->live.name);
		goto out;
	}
	path = runner_proc_link_path(err, errlen);
	keypath = path ? keys_pool_key(r->pool->live.name, &pub, err, errlen) : NULL;
	if (!keypath)
		goto out;
	key = cJSON_IsObject(h) ? cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(h, "host_key"))
	                        : NULL;
	known = cJSON_GetObjectItemCaseSensitive(conf, "known_hosts");
	command = cJSON_GetObjectItemCaseSensitive(conf, "command");
	kh = cJSON_IsString(known) ? xstrdup(known->valuestring) : default_known_hosts();
	snprintf(slots, sizeof slots, "%ld", r->pool->live.max_concurrency);
	snprintf(fd, sizeof fd, "%d", RUNNER_PROC_SETTINGS_FD);
	settings = link_settings(r->where, key, kh, cJSON_IsString(command) ? command->valuestring : "flame");
	{
		/* options beside their values: clang-format 14 would put one word a line */
		/* clang-format off */
		char *argv[] = { "flame-link", "--fd", "3", "--runner", r->id, "--pool", r->pool->live.name,
		                 "--key", keypath, "--slots", slots, "--settings-fd", fd, NULL };
		/* clang-format on */
		rc = runner_proc_spawn_with(r, path, argv, settings, err, errlen);
	}
out:
	free(settings);
	free(kh);
	free(pub);
	free(keypath);
	free(path);
	cJSON_Delete(conf);
	return rc;
}

const struct backend backend_ssh = {
	.name = "ssh",
	.boot = ssh_boot,
	RUNNER_PROC_OPS,
};
