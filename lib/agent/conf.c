/* agent_conf.c — see agent_conf.h. */
#include "conf.h"
#include "duration.h"
#include "util.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void agent_conf_init(struct agent_conf *c, const char *root)
{
	const char *sep = root[0] && root[strlen(root) - 1] == '/' ? "" : "/";

	memset(c, 0, sizeof *c);
	c->port = AGENT_DEFAULT_PORT;
	c->max_concurrency = 4;
	c->idle_ms = 30000;     /* the pool default */
	c->failsafe_ms = 20000; /* FLAME's child failsafe; the warmer's side pings every 4 s */
	c->grace_ms = 30000;    /* FLAME's shutdown_timeout */
	c->root = xstrdup(root);
	c->settings = xasprintf("%s%setc/flame/agent.json", root, sep);
	c->host_key = xasprintf("%s%setc/flame/ssh_host_ed25519_key", root, sep);
	c->authorized_keys = xasprintf("%s%setc/flame/authorized_keys", root, sep);
	c->state = xasprintf("%s%srun/flame-agent", root, sep);
}

void agent_conf_free(struct agent_conf *c)
{
	free(c->root);
	free(c->settings);
	free(c->host_key);
	free(c->authorized_keys);
	free(c->state);
}

static int set_duration(const cJSON *v, int64_t *out, char *err, size_t errlen)
{
	if (cJSON_IsString(v) && duration_parse(v->valuestring, out) == 0 && *out > 0)
		return 0;
	snprintf(err, errlen, "agent.json: \"%s\" must be a positive duration such as \"30s\"", v->string);
	return -1;
}

static int set_number(const cJSON *v, long min, long max, long *out, char *err, size_t errlen)
{
	if (cJSON_IsNumber(v) && v->valuedouble >= (double)min && v->valuedouble <= (double)max &&
	    v->valuedouble == (double)(long)v->valuedouble) {
		*out = (long)v->valuedouble;
		return 0;
	}
	snprintf(err, errlen, "agent.json: \"%s\" must be a whole number from %ld to %ld", v->string, min,
	         max);
	return -1;
}

static int set_listen(const cJSON *v, char *out, size_t outlen, char *err, size_t errlen)
{
	const char *s = cJSON_GetStringValue(v);
	if (s && strlen(s) < outlen && strspn(s, "0123456789abcdefABCDEF.:") == strlen(s)) {
		snprintf(out, outlen, "%s", s);
		return 0;
	}
	snprintf(err, errlen, "agent.json: \"listen\" must be an IPv4 or IPv6 address");
	return -1;
}

/* The key as given, made printable (a control character would break the
 * one-line message) and cut short. */
static int unknown_key(const char *k, char *err, size_t errlen)
{
	char shown[64];
	size_t i = 0;

	for (; i < sizeof shown - 1 && k[i]; i++)
		shown[i] = (unsigned char)k[i] < 0x20 || k[i] == 0x7f ? '?' : k[i];
	shown[i] = 0;
	snprintf(err, errlen,
	         "agent.json: unknown setting \"%s\" (known: port, listen, idle_shutdown_after, "
	         "failsafe, grace, max_concurrency)",
	         shown);
	return -1;
}

static int parse_key(struct agent_conf *c, const cJSON *v, char *err, size_t errlen)
{
	const char *k = v->string;
	if (!strcmp(k, "port"))
		return set_number(v, 1, 65535, &c->port, err, errlen);
	if (!strcmp(k, "max_concurrency"))
		return set_number(v, 1, 1000, &c->max_concurrency, err, errlen);
	if (!strcmp(k, "listen"))
		return set_listen(v, c->listen, sizeof c->listen, err, errlen);
	if (!strcmp(k, "idle_shutdown_after"))
		return set_duration(v, &c->idle_ms, err, errlen);
	if (!strcmp(k, "failsafe"))
		return set_duration(v, &c->failsafe_ms, err, errlen);
	if (!strcmp(k, "grace"))
		return set_duration(v, &c->grace_ms, err, errlen);
	return unknown_key(k, err, errlen);
}

int agent_conf_parse(struct agent_conf *c, const char *text, char *err, size_t errlen)
{
	cJSON *root = cJSON_Parse(text), *v;
	int rc = 0;

	if (!cJSON_IsObject(root)) {
		snprintf(err, errlen, "agent.json: not a JSON object");
		cJSON_Delete(root);
		return -1;
	}
	cJSON_ArrayForEach(v, root)
		if ((rc = parse_key(c, v, err, errlen)) < 0)
			break;
	cJSON_Delete(root);
	return rc;
}

/* " NAME=VALUE" for SetEnv, or "" when value is unset or not a plain
 * absolute path (sshd would split it). */
static char *session_var(const char *name, const char *value)
{
	if (!value || value[0] != '/' || strpbrk(value, " \t\n\"'"))
		return xstrdup("");
	return xasprintf(" %s=%s", name, value);
}

char *agent_conf_sshd_config(const struct agent_conf *c, const char *path_env, const char *tmpdir)
{
	char *listen = c->listen[0] ? xasprintf("ListenAddress %s\n", c->listen) : xstrdup("");
	char *tmp = session_var("TMPDIR", tmpdir), *run = session_var("XDG_RUNTIME_DIR", c->runtime_dir);
	/* MaxSessions: two channels per job slot plus room for a second link
	 * while a warmer restarts; no ChannelTimeout (idle slots are normal) */
	char *text = xasprintf("# written by flame agent; the settings are explained in README.md\n"
	                       "%s"
	                       "Port %ld\n"
	                       "HostKey %s\n"
	                       "AuthorizedKeysFile %s\n"
	                       "PidFile %s/sshd.pid\n"
	                       "PermitRootLogin prohibit-password\n"
	                       "PubkeyAuthentication yes\n"
	                       "PasswordAuthentication no\n"
	                       "KbdInteractiveAuthentication no\n"
	                       "HostbasedAuthentication no\n"
	                       "UsePAM no\n"
	                       "StrictModes no\n"
	                       "AllowTcpForwarding no\n"
	                       "AllowAgentForwarding no\n"
	                       "X11Forwarding no\n"
	                       "PermitTunnel no\n"
	                       "MaxSessions %ld\n"
	                       "MaxStartups 100:30:200\n"
	                       "RekeyLimit 4G\n"
	                       "PrintMotd no\n"
	                       "PrintLastLog no\n"
	                       "UseDNS no\n"
	                       "LogLevel ERROR\n"
	                       "SetEnv HOME=%s/home FLAME_AGENT_STATE=%s PATH=%s%s%s\n",
	                       listen, c->port, c->host_key, c->authorized_keys, c->state,
	                       4 * c->max_concurrency + 4, c->state, c->state, path_env, tmp, run);
	free(listen);
	free(tmp);
	free(run);
	return text;
}
