/* fly.c — a runner that is a Fly Machine: starting it before the link
 * connects, journaling it with the warmer, and the warmer's one-shot jobs
 * (--fly-destroy, --fly-sweep) (see internal.h). */
#include "internal.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>

/* Tells the warmer what to journal about a Fly runner. */
void report_fly(struct link *l, int released)
{
	char *info = fly_runner_info(&l->fly, l->fly_opts.launch_id, released);
	struct wbuf w;

	wbuf_init(&w, W_RUNNER_INFO);
	wbuf_str(&w, info);
	to_warmer(l, &w);
	free(info);
}

/* --fly-destroy and --fly-sweep: the warmer's one-shot jobs. */
int fly_one_shot(int what, const struct fly_runner_opts *o, const char *state)
{
	char err[1024];
	int rc;

	if (!o->conf_json || (what == 'D' && !o->launch_id) || (what == 'W' && (!o->parent || !state))) {
		msg("flame-link: --fly-destroy needs --settings-fd and --launch; --fly-sweep --settings-fd, --parent and "
		    "--state");
		return EXIT_USAGE;
	}
	rc = what == 'D' ? fly_destroy_launch(o->conf_json, o->token, o->launch_id, err, sizeof err)
	                 : fly_sweep(o->conf_json, o->token, o->parent, state, err, sizeof err);
	if (rc < 0)
		msg("%s", err);
	return rc < 0 ? EXIT_FAILURE_FLAME : 0;
}

/* A Fly runner: its host key is journaled first, then the machine is
 * created (or adopted) and started, and from then on it is an ssh host at
 * its private address. */
void fly_start(struct link *l)
{
	char err[1024];

	l->is_fly = 1;
	l->host[0] = '\0'; /* the machine's address comes from the API */
	l->boot_deadline = now_ms() + l->fly_opts.boot_ms;
	l->fly_opts.pool = l->pool;
	l->fly_opts.client_key = l->t.key_path;
	l->fly_opts.slots = l->nslots;
	if (!l->fly_opts.launch_id || !l->fly_opts.parent || !l->fly_opts.boot_ms || !l->fly_opts.idle_ms)
		lost(l, "flame-link: a Fly runner needs --launch, --parent, --boot-ms and --idle-ms");
	if (fly_runner_prepare(&l->fly, &l->fly_opts, err, sizeof err) < 0)
		lost(l, err);
	report_fly(l, 0);
	if (fly_runner_boot(&l->fly, &l->fly_opts, err, sizeof err) < 0)
		lost(l, err);
	report_fly(l, 0); /* its machine id: journaled, and named in errors */
	if (fly_runner_started(&l->fly, &l->fly_opts, l->boot_deadline, err, sizeof err) < 0) {
		if (l->fly.released)
			report_fly(l, 1); /* the warmer need not destroy it again */
		lost(l, err);
	}
	report_fly(l, 0);
	snprintf(l->host, sizeof l->host, "%s", l->fly.ip);
	l->t.port = l->fly.port;
	l->t.host_key = l->fly.host_key;
	l->t.known_hosts = NULL;
	l->command = fly_runner_command(l->fly_opts.conf_json); /* flame's path in the image */
}
