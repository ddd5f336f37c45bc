/* fly_runner.h — the link's side of a runner that is a Fly Machine: create
 * it (or adopt one a previous warmer created), wait until it has started,
 * and destroy it when the runner is done.  The machine boots the app's image
 * with `flame agent` as its main process; the files it gets carry a host
 * key made here for this machine alone (so the connection that follows is
 * pinned, never trusted on first use), the pool's client key and the
 * agent's settings.  It is created with restart policy "no", so a machine
 * whose agent exits (idle, failsafe) is never started again by Fly; and
 * with auto_destroy, so that Fly then removes it, unless the pool keeps
 * stopped machines: then it ends stopped (billed for storage only), and the
 * warmer that keeps it, or the next one's stray sweep, destroys it.
 * Linked only into flame-link (libcurl). */
#ifndef FLAME_FLY_RUNNER_H
#define FLAME_FLY_RUNNER_H

#include <stddef.h>
#include <stdint.h>

struct fly_api;

struct fly_runner_opts {
	const char *conf_json; /* the pool's fly settings (lib/config_fly.h) */
	const char *token;     /* the API token, unless conf names a token_file */
	const char *pool, *launch_id, *parent;
	const char *client_key; /* the pool's private key; PATH.pub goes to the machine */
	long slots;             /* max_concurrency */
	int64_t idle_ms, boot_ms;
	const char *machine;  /* adopt this machine instead of creating one */
	const char *host_key; /* its pinned key, from the journal */
	int keep;             /* created to be kept stopped (auto_destroy false) */
	int start;            /* the adopted machine is a kept stopped one: start it */
};

struct fly_runner {
	struct fly_api *api;
	char id[64], version[64], ip[64], host_key[256];
	int port;
	int created;           /* by this runner, not adopted */
	int started;           /* the API said so */
	int released;          /* destroyed (or found gone) by fly_runner_release() */
	int keep;              /* may be kept stopped (auto_destroy false) */
	int parked;            /* stopped and kept by fly_runner_park() */
	int64_t start_sent_at; /* now_ms() of the start of a kept machine, or 0 */
	char *host_priv;       /* until the create request has carried it */
	size_t host_priv_len;
};

/* Makes the machine's host key (or takes the adopted one's), so that the
 * warmer can journal it before the machine is asked for. */
int fly_runner_prepare(struct fly_runner *fr, const struct fly_runner_opts *o, char *err, size_t errlen);
/* Creates or adopts the machine: its id is known when this returns 0; -1
 * with a one-line reason. */
int fly_runner_boot(struct fly_runner *fr, const struct fly_runner_opts *o, char *err, size_t errlen);
/* Waits until the machine has started and its agent listens, by DEADLINE
 * (now_ms()), watching its state meanwhile: a machine that fails or whose
 * command exits is reported within about a second, with the exit code.
 * -1 with a one-line reason; a machine created here is then destroyed. */
int fly_runner_started(struct fly_runner *fr, const struct fly_runner_opts *o, int64_t deadline, char *err,
                       size_t errlen);
/* flame's path in the image (malloc'd). */
char *fly_runner_command(const char *conf_json);
/* What the warmer journals (malloc'd): {"machine", "launch", "host_key",
 * "ip", "where"}, "released": true once the link destroyed the machine,
 * "keep": true for one that may be kept stopped, "parked": true once it is. */
char *fly_runner_info(const struct fly_runner *fr, const char *launch_id, int released);
/* Destroys the machine (it is idle or lost: nothing to let finish), once;
 * 0 when it is gone. */
int fly_runner_release(struct fly_runner *fr);
/* Stops the machine and waits until it is stopped, to be started again
 * later (the warmer's stopped tier); 0 when it is, -1 (nothing changed or
 * it is stopping: release it) otherwise. */
int fly_runner_park(struct fly_runner *fr);

/* One-shot jobs of the warmer's, each with its own API client: */
/* destroy whatever machine carries launch id L (a runner the warmer gave up) */
int fly_destroy_launch(const char *conf_json, const char *token, const char *launch_id, char *err,
                       size_t errlen);
/* destroy the machines of parent P whose launch id is no runner and no kept
 * stopped machine in the warmer's journal (read at each decision: runners are journaled before
 * their machine is asked for, so none being created is taken for a stray) */
int fly_sweep(const char *conf_json, const char *token, const char *parent, const char *state_path, char *err,
              size_t errlen);

#endif
