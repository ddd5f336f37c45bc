/* fly.c — the fly backend: each runner is a Fly Machine booted from the
 * app's own image with `flame agent` as its main process (lib/fly/runner.h).
 * Booting a runner starts a flame-link that creates the machine through
 * the Machines API, waits until it has started and then reaches its agent
 * over SSH at its private address, with the host key made for it; from
 * there on it is an ssh runner.  The warmer journals each runner before its
 * machine is asked for, and the link reports the machine's facts (id,
 * launch id, host key) as soon as it knows them, so a warmer that died is
 * replaced by one that adopts every machine and destroys the strays. */
#include "backend.h"
#include "keys.h"
#include "runner_proc.h"
#include "warmer/state.h"
#include "util.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The agent's own idle exit comes this long after the pool's: the warmer
 * normally stops an idle runner first, and no job races the agent's exit. */
#define AGENT_IDLE_EXTRA_MS 30000

/* Who launched the machines: they carry it in their metadata, and a warmer
 * sweeps only its own.  One warmer per user and machine. */
static void parent_id(char *buf, size_t len)
{
	const char *set = getenv("FLAME_FLY_PARENT"), *machine = getenv("FLY_MACHINE_ID");
	char host[128] = "";

	if (set && *set) {
		snprintf(buf, len, "%s", set);
		return;
	}
	if (!machine || !*machine) {
		gethostname(host, sizeof host - 1);
		machine = host;
	}
	snprintf(buf, len, "%s-%u", machine, (unsigned)getuid());
}

static void wipe_free(char *s)
{
	if (s)
		explicit_bzero(s, strlen(s));
	free(s);
}

/* What a link or one-shot reads from its settings descriptor: the pool's
 * fly settings (its env may hold secrets) and the API token, which must
 * not show in ps (runner_proc.h).  NULL if the settings are unreadable. */
static char *link_settings(const struct pool_settings *ps)
{
	cJSON *s = cJSON_CreateObject(), *conf = cJSON_Parse(ps->backend_conf);
	char *text = NULL;

	if (s && conf && cJSON_AddItemToObject(s, "fly", conf)) {
		conf = NULL;
		if (!warmer_fly_token() || cJSON_AddStringToObject(s, "token", warmer_fly_token()))
			text = cJSON_PrintUnformatted(s);
	}
	cJSON_Delete(conf);
	cJSON_Delete(s);
	return text;
}

/* Starts the link; extra is the adopt or create part of its command line. */
static int spawn_link(struct runner *r, char *const *extra, char *err, size_t errlen)
{
	char *path = runner_proc_link_path(err, errlen), *pub = NULL, *key = NULL, *settings = NULL;
	char slots[16], idle[32], boot[32], parent[256], fd[16];
	char *argv[32];
	int n = 0, rc = -1;

	if (!path || !(key = keys_pool_key(r->pool->live.name, &pub, err, errlen)))
		goto out;
	if (!(settings = link_settings(&r->pool->live))) {
		snprintf(err, errlen, "pool '%s' has unreadable fly settings", r->pool->live.name);
		goto out;
	}
	snprintf(fd, sizeof fd, "%d", RUNNER_PROC_SETTINGS_FD);
	parent_id(parent, sizeof parent);
	snprintf(slots, sizeof slots, "%ld", r->pool->live.max_concurrency);
	snprintf(idle, sizeof idle, "%lld", (long long)(r->pool->live.idle_ms + AGENT_IDLE_EXTRA_MS));
	snprintf(boot, sizeof boot, "%lld", (long long)r->pool->live.boot_ms);
	{
		/* options beside their values: clang-format 14 would put one word a line */
		/* clang-format off */
		char *base[] = { "flame-link", "--fd", "3", "--runner", r->id, "--pool", r->pool->live.name,
		                 "--key", key, "--slots", slots, "--settings-fd", fd,
		                 "--launch", r->id, "--parent", parent, "--idle-ms", idle, "--boot-ms", boot };
		/* clang-format on */
		for (size_t i = 0; i < sizeof base / sizeof base[0]; i++)
			argv[n++] = base[i];
	}
	while (extra && *extra && n < 30)
		argv[n++] = *extra++;
	argv[n] = NULL;
	rc = runner_proc_spawn_with(r, path, argv, settings, err, errlen);
out:
	wipe_free(settings);
	free(pub);
	free(key);
	free(path);
	return rc;
}

/* A new machine may be kept stopped later unless the pool keeps none:
 * then it is created to destroy itself when its agent exits. */
static int fly_boot(struct runner *r, char *err, size_t errlen)
{
	char *keep[] = { "--keep", NULL };
	return spawn_link(r, r->pool->live.stopped_max != 0 ? keep : NULL, err, errlen);
}

static const char *info_str(const cJSON *info, const char *key)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(info, key));
}

static void one_shot(const struct pool_settings *ps, const char *what, char *const *args);

/* Starts the link of a machine that exists (r->info names it and its pinned
 * host key): one a previous warmer journaled, or a kept stopped one, which
 * the link starts first (START). */
static int take_machine(struct runner *r, int start, char *err, size_t errlen)
{
	cJSON *info = cJSON_Parse(r->info);
	const char *host_key = info_str(info, "host_key"), *machine = info_str(info, "machine");
	char *extra[8];
	int n = 0, rc;

	/* (a journaled runner's machine id may be unknown: its launch id finds it) */
	if (!host_key || (start && !machine)) {
		snprintf(err, errlen, "its journaled machine or host key is missing");
		cJSON_Delete(info);
		return -1;
	}
	extra[n++] = "--adopt-host-key";
	extra[n++] = (char *)host_key;
	extra[n++] = "--machine";
	extra[n++] = (char *)(machine ? machine : "");
	if (r->keepable)
		extra[n++] = "--keep";
	if (start)
		extra[n++] = "--start";
	extra[n] = NULL;
	rc = spawn_link(r, extra, err, errlen);
	cJSON_Delete(info);
	return rc;
}

static int fly_unpark(struct runner *r, char *err, size_t errlen)
{
	return take_machine(r, 1, err, errlen);
}

/* A kept machine the tier lets go: destroyed by its launch id. */
static void fly_discard(const struct pool_settings *ps, const char *runner_id, const char *info)
{
	char *args[] = { "--fly-destroy", "--launch", (char *)runner_id, NULL };
	(void)info;
	one_shot(ps, "destroy a stopped machine", args);
}

/* A journaled runner whose host key we know is taken back: its link finds
 * the machine (by id, or by launch id if the warmer died while creating
 * it), waits for it and connects.  One without a key cannot be trusted. */
static int fly_adopt(struct pool *p, const cJSON *journaled)
{
	const cJSON *info = cJSON_GetObjectItemCaseSensitive(journaled, "info");
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(journaled, "id");
	const char *host_key = info_str(info, "host_key"), *machine = info_str(info, "machine");
	char err[512], *text;
	struct runner *r;

	if (!cJSON_IsString(id) || !host_key)
		return -1;
	runner_proc_reap_stray(id->valuestring, state_runner_pid(journaled));
	r = warmer_add_runner(p, id->valuestring);
	r->adopted = 1;
	text = cJSON_PrintUnformatted(info);
	if (text)
		warmer_on_info(r, text);
	free(text);
	if (take_machine(r, 0, err, sizeof err) < 0)
		warmer_on_lost(r, err);
	warmer_log("pool '%s': adopting runner %s (machine %s)", p->live.name, r->id,
	           machine ? machine : "?");
	return 0;
}

static void one_shot(const struct pool_settings *ps, const char *what, char *const *args)
{
	char err[512], *path = runner_proc_link_path(err, sizeof err), *settings = link_settings(ps);
	char fd[16], *argv[16];
	int n = 0;

	if (!path || !settings) {
		warmer_log("fly: cannot %s: %s", what, path ? "unreadable fly settings" : err);
		free(path);
		wipe_free(settings);
		return;
	}
	snprintf(fd, sizeof fd, "%d", RUNNER_PROC_SETTINGS_FD);
	argv[n++] = "flame-link";
	argv[n++] = "--settings-fd";
	argv[n++] = fd;
	while (*args && n < 15)
		argv[n++] = *args++;
	argv[n] = NULL;
	runner_proc_detach(path, argv, settings);
	wipe_free(settings);
	free(path);
}

/* The link destroys the machine when it stops a runner; when the link was
 * killed or lost the machine, a one-shot makes sure it is gone. */
static void fly_destroy(struct runner *r)
{
	cJSON *info = cJSON_Parse(r->info);
	int released = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(info, "released"));

	cJSON_Delete(info);
	runner_proc_destroy(r);
	if (!released && !r->parked) { /* a parked machine is kept: the tier's */
		char *args[] = { "--fly-destroy", "--launch", r->id, NULL };
		one_shot(&r->pool->live, "destroy a machine", args);
	}
}

static void fly_sweep(struct pool *p)
{
	char parent[256];
	char *args[] = { "--fly-sweep", "--parent", parent, "--state", (char *)warmer_state_path(), NULL };
	parent_id(parent, sizeof parent);
	one_shot(&p->live, "sweep for stray machines", args);
}

const struct backend backend_fly = {
	.name = "fly",
	.boot = fly_boot,
	.start_job = runner_proc_start_job,
	.signal_job = runner_proc_signal_job,
	.cancel_job = runner_proc_cancel_job,
	.stop = runner_proc_stop,
	.park = runner_proc_park,
	.unpark = fly_unpark,
	.discard = fly_discard,
	.destroy = fly_destroy,
	.readable = runner_proc_readable,
	.reap_stray = runner_proc_reap_stray,
	.adopt = fly_adopt,
	.sweep = fly_sweep,
};
