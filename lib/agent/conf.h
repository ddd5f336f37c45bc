/* agent_conf.h — what `flame agent` (a runner's main process) is told, and
 * the sshd configuration it derives from that.
 *
 * Everything lives under a root directory ($FLAME_AGENT_ROOT, "/" on a real
 * machine; the fake Machines API gives each machine its own):
 *
 *   ROOT/etc/flame/agent.json            settings (below), optional
 *   ROOT/etc/flame/ssh_host_ed25519_key  the host key flame generated and pinned
 *   ROOT/etc/flame/authorized_keys       the pool's client key
 *   ROOT/run/flame-agent/                state: sshd_config, pid, log, beats
 *
 * agent.json: {"port": 2222, "listen": "ADDR", "idle_shutdown_after": "30s",
 * "failsafe": "20s", "grace": "30s", "max_concurrency": 4}; every key is
 * optional and unknown keys are errors.  Without "listen", $FLY_PRIVATE_IP
 * (set by Fly on every machine) is used, else every address.
 *
 * Pure functions: unit-tested. */
#ifndef FLAME_AGENT_CONF_H
#define FLAME_AGENT_CONF_H

#include <stddef.h>
#include <stdint.h>

#define AGENT_DEFAULT_PORT 2222

struct agent_conf {
	char listen[128]; /* "" = every address */
	long port, max_concurrency;
	int64_t idle_ms, failsafe_ms, grace_ms;
	char *root, *settings, *host_key, *authorized_keys, *state;
	const char *runtime_dir; /* the sessions' XDG_RUNTIME_DIR (slot sockets); NULL: none */
};

/* Defaults, and the paths under root. */
void agent_conf_init(struct agent_conf *c, const char *root);
/* Applies agent.json's text; -1 with a one-line reason in err. */
int agent_conf_parse(struct agent_conf *c, const char *text, char *err, size_t errlen);
/* The sshd_config text (malloc'd).  path_env is the PATH sessions get
 * (flame's own directory first, so `flame` is this agent's binary); tmpdir,
 * if not NULL, their TMPDIR (where job scratch directories go), and
 * c->runtime_dir their XDG_RUNTIME_DIR (where the slots meet). */
char *agent_conf_sshd_config(const struct agent_conf *c, const char *path_env, const char *tmpdir);
void agent_conf_free(struct agent_conf *c);

#endif
