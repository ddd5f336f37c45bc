/* runner.c — creating or adopting a runner's machine, describing and
 * releasing it, and the warmer's one-shot jobs (see runner.h; waiting for
 * it to start is started.c's). */
#include "runner.h"
#include "config_fly.h"
#include "runner_internal.h"
#include "http.h"
#include "fly_machine.h"
#include "hostkey.h"
#include "util.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AGENT_KEY_PATH "/etc/flame/ssh_host_ed25519_key"
#define AGENT_AUTH_PATH "/etc/flame/authorized_keys"
#define AGENT_CONF_PATH "/etc/flame/agent.json"

static struct fly_api *api_for(const struct fly_settings *s, const char *token, char *err, size_t errlen)
{
	return fly_api_new(s->api_url, s->app, s->token_file, token, err, errlen);
}

/* Parses and reads the pool's settings: the cJSON, which *s points into,
 * or NULL with a one-line reason. */
static cJSON *settings_of(const char *conf_json, struct fly_settings *s, char *err, size_t errlen)
{
	cJSON *conf = cJSON_Parse(conf_json);
	char why[400];

	if (fly_settings_read(conf, s, why, sizeof why) == 0)
		return conf;
	snprintf(err, errlen, "the pool's fly settings are unreadable: %s", why);
	cJSON_Delete(conf);
	return NULL;
}

static char *read_file(const char *path, size_t *len)
{
	return read_small_file(path, 16u << 20, len);
}

static char *agent_settings(const struct fly_settings *s, const struct fly_runner_opts *o)
{
	cJSON *a = cJSON_CreateObject();
	char idle[32], *text;

	cJSON_AddNumberToObject(a, "port", s->port);
	snprintf(idle, sizeof idle, "%lldms", (long long)o->idle_ms);
	cJSON_AddStringToObject(a, "idle_shutdown_after", idle);
	if (s->failsafe)
		cJSON_AddStringToObject(a, "failsafe", s->failsafe);
	if (s->grace)
		cJSON_AddStringToObject(a, "grace", s->grace);
	cJSON_AddNumberToObject(a, "max_concurrency", (double)o->slots);
	text = cJSON_PrintUnformatted(a);
	cJSON_Delete(a);
	return text;
}

static char **env_of(const struct fly_settings *s)
{
	const cJSON *e;
	char **v = xcalloc((size_t)cJSON_GetArraySize(s->env) + 1, sizeof *v);
	size_t n = 0;
	cJSON_ArrayForEach(e, s->env)
		if (cJSON_IsString(e))
			v[n++] = xasprintf("%s=%s", e->string, e->valuestring);
	return v;
}

int fly_runner_prepare(struct fly_runner *fr, const struct fly_runner_opts *o, char *err, size_t errlen)
{
	memset(fr, 0, sizeof *fr);
	if (o->host_key && o->host_key[0]) {
		snprintf(fr->host_key, sizeof fr->host_key, "%s", o->host_key);
		return 0;
	}
	/* made for this machine alone, in memory: it lives on only in the create request */
	return ssh_hostkey_new("flame-runner", &fr->host_priv, &fr->host_priv_len, fr->host_key,
	                       sizeof fr->host_key, err, errlen);
}

static int create(struct fly_runner *fr, const struct fly_settings *s, const struct fly_runner_opts *o,
                  struct fly_machine *m, char *err, size_t errlen)
{
	char *priv = fr->host_priv, *auth = NULL, *pubpath = xasprintf("%s.pub", o->client_key), *settings;
	char *argv[] = { (char *)s->command, "agent", NULL };
	char **env = env_of(s);
	size_t privlen = fr->host_priv_len, authlen = 0;
	int rc = -1;

	fr->host_priv = NULL;
	if (!priv) {
		snprintf(err, errlen, "no host key was made for the machine");
		goto out;
	}
	if (!(auth = read_file(pubpath, &authlen))) {
		snprintf(err, errlen, "cannot read the pool's public key %s", pubpath);
		goto out;
	}
	settings = agent_settings(s, o);
	{
		struct fly_file files[] = {
			{ AGENT_KEY_PATH, priv, privlen, 0600 },
			{ AGENT_AUTH_PATH, auth, authlen, 0644 },
			{ AGENT_CONF_PATH, settings, strlen(settings), 0644 },
		};
		struct fly_launch l = {
			.image = s->image,
			.region = s->region,
			.cpu_kind = s->cpu_kind,
			.cpus = s->cpus,
			.memory_mb = s->memory_mb,
			.gpu_kind = s->gpu_kind,
			.env = env,
			.files = files,
			.nfiles = 3,
			.pool = o->pool,
			.parent = o->parent,
			.launch_id = o->launch_id,
			.argv = argv,
			.keep_stopped = o->keep,
		};
		rc = fly_create(fr->api, &l, m, (int)o->boot_ms, err, errlen);
	}
	free(settings);
out:
	if (priv)
		explicit_bzero(priv, privlen);
	free(priv);
	free(auth);
	free(pubpath);
	strv_free(env);
	return rc;
}

/* The machine of launch L, if the API knows one. */
static int find_launch(struct fly_api *api, const char *launch, struct fly_machine *m, char *err,
                       size_t errlen)
{
	struct fly_kv f = { FLY_META_LAUNCH, launch };
	struct fly_machine *v = NULL;
	size_t n = 0;

	if (fly_list(api, &f, 1, &v, &n, API_TIMEOUT_MS, err, errlen) < 0)
		return -1;
	if (n == 0) {
		fly_machines_free(v, n);
		snprintf(err, errlen, "its machine is gone");
		return -1;
	}
	*m = v[0];
	memset(&v[0], 0, sizeof v[0]);
	fly_machines_free(v, n);
	return 0;
}

/* A kept machine is started (it may still be stopping from its park: then
 * it is started once it has stopped). */
static int start_kept(struct fly_runner *fr, const struct fly_machine *m, char *err, size_t errlen)
{
	char werr[512];

	if (!strcmp(m->state, "started") || !strcmp(m->state, "starting"))
		return 0;
	fr->start_sent_at = now_ms();
	if (fly_start_machine(fr->api, m->id, API_TIMEOUT_MS, err, errlen) == 0)
		return 0;
	if (fly_api_last_status(fr->api) != 412 ||
	    fly_wait(fr->api, m->id, m->instance_id, "stopped", STOPPING_WAIT_MS, werr, sizeof werr) < 0)
		return -1;
	fr->start_sent_at = now_ms();
	return fly_start_machine(fr->api, m->id, API_TIMEOUT_MS, err, errlen);
}

static int adopt(struct fly_runner *fr, const struct fly_runner_opts *o, struct fly_machine *m, char *err,
                 size_t errlen)
{
	int rc;
	if (o->machine && o->machine[0])
		rc = fly_get(fr->api, o->machine, m, API_TIMEOUT_MS, err, errlen);
	else
		rc = find_launch(fr->api, o->launch_id, m, err, errlen);
	if (rc == 0 && o->start)
		rc = start_kept(fr, m, err, errlen);
	return rc;
}

int fly_runner_boot(struct fly_runner *fr, const struct fly_runner_opts *o, char *err, size_t errlen)
{
	struct fly_settings s;
	cJSON *conf = settings_of(o->conf_json, &s, err, errlen);
	struct fly_machine m = { 0 };
	int rc = -1;

	if (!conf || !(fr->api = api_for(&s, o->token, err, errlen)))
		goto out;
	fr->port = s.port;
	fr->keep = o->keep;
	if (o->host_key && o->host_key[0])
		rc = adopt(fr, o, &m, err, errlen);
	else if ((rc = create(fr, &s, o, &m, err, errlen)) == 0)
		fr->created = 1;
	if (rc < 0)
		goto out;
	snprintf(fr->id, sizeof fr->id, "%s", m.id);
	snprintf(fr->version, sizeof fr->version, "%s", m.instance_id);
	snprintf(fr->ip, sizeof fr->ip, "%s", m.private_ip);
	fr->started = !strcmp(m.state, "started") && !fr->start_sent_at;
out:
	fly_machine_free(&m);
	cJSON_Delete(conf);
	return rc;
}

char *fly_runner_command(const char *conf_json)
{
	struct fly_settings s;
	char why[400];
	cJSON *conf = cJSON_Parse(conf_json);
	char *path;

	(void)fly_settings_read(conf, &s, why, sizeof why); /* unreadable: the default */
	path = xstrdup(s.command);
	cJSON_Delete(conf);
	return path;
}

char *fly_runner_info(const struct fly_runner *fr, const char *launch_id, int released)
{
	cJSON *o = cJSON_CreateObject();
	char where[96], *text;

	snprintf(where, sizeof where, "machine %s", fr->id[0] ? fr->id : "(creating)");
	cJSON_AddStringToObject(o, "where", where);
	if (released)
		cJSON_AddTrueToObject(o, "released");
	if (fr->keep)
		cJSON_AddTrueToObject(o, "keep");
	if (fr->parked)
		cJSON_AddTrueToObject(o, "parked");
	if (fr->id[0])
		cJSON_AddStringToObject(o, "machine", fr->id);
	cJSON_AddStringToObject(o, "launch", launch_id);
	if (fr->host_key[0])
		cJSON_AddStringToObject(o, "host_key", fr->host_key);
	if (fr->ip[0])
		cJSON_AddStringToObject(o, "ip", fr->ip);
	text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return text;
}

int fly_runner_release(struct fly_runner *fr)
{
	char err[512];
	if (fr->released || !fr->api || !fr->id[0])
		return 0;
	if (fly_destroy(fr->api, fr->id, API_TIMEOUT_MS, err, sizeof err) < 0 &&
	    fly_api_last_status(fr->api) != 404) {
		msg("%s", err);
		return -1;
	}
	fr->released = 1;
	return 0;
}

int fly_runner_park(struct fly_runner *fr)
{
	char err[512];

	if (!fr->keep || fr->released || !fr->api || !fr->id[0])
		return -1;
	if (fly_stop(fr->api, fr->id, API_TIMEOUT_MS, err, sizeof err) < 0 ||
	    fly_wait(fr->api, fr->id, fr->version, "stopped", STOPPING_WAIT_MS, err, sizeof err) < 0) {
		msg("%s; destroying it instead of keeping it stopped", err);
		return -1;
	}
	fr->parked = 1;
	return 0;
}

int fly_destroy_launch(const char *conf_json, const char *token, const char *launch_id, char *err,
                       size_t errlen)
{
	struct fly_settings s;
	cJSON *conf = settings_of(conf_json, &s, err, errlen);
	struct fly_api *api = conf ? api_for(&s, token, err, errlen) : NULL;
	struct fly_machine m = { 0 };
	int rc = -1;

	if (api && find_launch(api, launch_id, &m, err, errlen) == 0)
		rc = fly_destroy(api, m.id, API_TIMEOUT_MS, err, errlen) == 0 ||
		                     fly_api_last_status(api) == 404
		             ? 0
		             : -1;
	else if (api && fly_api_last_status(api) == 200)
		rc = 0; /* no such machine: nothing to destroy */
	fly_machine_free(&m);
	fly_api_free(api);
	cJSON_Delete(conf);
	return rc;
}

static int same_id(const cJSON *runner, const char *launch)
{
	const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(runner, "id"));
	return id ? !strcmp(id, launch) : !launch[0];
}

/* Is launch id L a runner in the warmer's journal right now?  Read at the
 * moment of deciding, because the warmer journals a runner before it asks
 * for its machine: a machine being created is never taken for a stray. */
static int journaled(const char *state_path, const char *launch)
{
	size_t len;
	char *text = read_file(state_path, &len);
	cJSON *doc = text ? cJSON_Parse(text) : NULL, *p, *r;
	int found = 0;

	cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(doc, "pools")) {
		cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(p, "runners"))
			if (same_id(r, launch))
				found = 1;
		cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(p, "stopped"))
			if (same_id(r, launch))
				found = 1; /* kept by the stopped tier */
	}
	cJSON_Delete(doc);
	free(text);
	return found || !text; /* no journal to read: destroy nothing */
}

int fly_sweep(const char *conf_json, const char *token, const char *parent, const char *state_path, char *err,
              size_t errlen)
{
	struct fly_settings s;
	cJSON *conf = settings_of(conf_json, &s, err, errlen);
	struct fly_api *api = conf ? api_for(&s, token, err, errlen) : NULL;
	struct fly_kv f = { FLY_META_PARENT, parent };
	struct fly_machine *v = NULL;
	size_t n = 0;
	int rc = -1, destroyed = 0;

	if (api && fly_list(api, &f, 1, &v, &n, API_TIMEOUT_MS, err, errlen) == 0) {
		rc = 0;
		for (size_t i = 0; i < n; i++) {
			const char *launch = fly_machine_meta(&v[i], FLY_META_LAUNCH);
			if (launch && journaled(state_path, launch))
				continue;
			if (fly_destroy(api, v[i].id, API_TIMEOUT_MS, err, errlen) == 0)
				destroyed++;
		}
	}
	if (destroyed)
		msg("fly: destroyed %d stray machine(s) of %s", destroyed, parent);
	fly_machines_free(v, n);
	fly_api_free(api);
	cJSON_Delete(conf);
	return rc;
}
