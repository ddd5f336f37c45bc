/* started.c — waiting for a runner's machine to start and its agent to
 * listen, looking at it meanwhile so that one that fails is reported at
 * once (see runner.h). */
#include "runner.h"
#include "runner_internal.h"
#include "duration.h"
#include "fly_machine.h"
#include "http.h"
#include "util.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define LOOK_MS 1000        /* the longest wait before a look at a booting machine */
#define PROBE_MS 200        /* one try to reach the agent's port */
#define PROBE_PAUSE_US 5000 /* between tries: a refused connect costs little */
#define PROBE_LOOK_MS 500   /* between looks at the machine while its agent is silent */
/* Right after a start, a kept machine may still read as stopped. */
#define START_SETTLE_MS 2000

/* Machine states from which it will not start by itself. */
static int is_down(const char *state)
{
	static const char *down[] = { "stopping",  "stopped",    "failed",    "launch_failed", "destroying",
		                      "destroyed", "suspending", "suspended", "replaced",      NULL };
	for (int i = 0; down[i]; i++)
		if (!strcmp(state, down[i]))
			return 1;
	return 0;
}

/* How a machine that went down ended, as one line for the caller. */
static int ended(const struct fly_runner *fr, const struct fly_machine *m, char *err, size_t errlen)
{
	char how[128];

	if (m->oom_killed)
		snprintf(how, sizeof how, "it ran out of memory (raise memory_mb)");
	else if (m->exited && m->exit_signal)
		snprintf(how, sizeof how, "its command was killed by signal %d", m->exit_signal);
	else if (m->exited)
		snprintf(how, sizeof how, "its command exited with exit code %d", m->exit_code);
	else
		snprintf(how, sizeof how, "Fly reported no exit");
	snprintf(err, errlen,
	         "fly: machine %s is %s before flame's agent answered: %s; check the image and the "
	         "pool's \"command\" (fly logs --machine %s)",
	         fr->id, m->state[0] ? m->state : "gone", how, fr->id);
	return -1;
}

/* A machine GET says is gone: the list of destroyed machines may still
 * tell how it ended. */
static int find_gone(struct fly_runner *fr, const char *launch, struct fly_machine *m)
{
	struct fly_kv f = { FLY_META_LAUNCH, launch };
	struct fly_machine *v = NULL;
	size_t n = 0;
	char lerr[512];
	int rc = -1;

	if (fly_list_deleted(fr->api, &f, 1, &v, &n, LOOK_MS, lerr, sizeof lerr) == 0)
		for (size_t i = 0; i < n && rc < 0; i++)
			if (!strcmp(v[i].id, fr->id)) {
				*m = v[i];
				memset(&v[i], 0, sizeof v[i]);
				rc = 0;
			}
	fly_machines_free(v, n);
	return rc;
}

/* A look at the machine between waits: 1 if it has started, 0 if it may
 * still (or the look failed: no verdict), -1 with err if it will not. */
static int look(struct fly_runner *fr, const char *launch, char *err, size_t errlen)
{
	struct fly_machine m = { 0 };
	char gerr[512];
	int rc = 0;

	if (fly_get(fr->api, fr->id, &m, LOOK_MS, gerr, sizeof gerr) < 0) {
		if (fly_api_last_status(fr->api) != 404)
			return 0;
		if (find_gone(fr, launch, &m) < 0) {
			snprintf(err, errlen,
			         "fly: machine %s is gone before flame's agent answered; check the image "
			         "and the pool's \"command\" (fly logs --machine %s)",
			         fr->id, fr->id);
			return -1;
		}
	}
	if (!strcmp(m.state, "started")) {
		rc = 1;
		if (!fr->ip[0])
			snprintf(fr->ip, sizeof fr->ip, "%s", m.private_ip);
	} else if (!strcmp(m.state, "stopped") && fr->start_sent_at &&
	           now_ms() - fr->start_sent_at < START_SETTLE_MS) {
		rc = 0;
	} else if (is_down(m.state)) {
		rc = ended(fr, &m, err, errlen);
	}
	fly_machine_free(&m);
	return rc;
}

static int too_late(const struct fly_runner *fr, const char *what, int64_t boot_ms, char *err, size_t errlen)
{
	char d[32];
	duration_format(boot_ms, d, sizeof d);
	snprintf(err, errlen,
	         "fly: machine %s %s within %s (boot_timeout); check the machine (fly machine status %s) or "
	         "raise boot_timeout",
	         fr->id, what, d, fr->id);
	return -1;
}

/* Short waits for "started", with a look at the machine between them: a
 * machine that fails or exits is reported at once, not at the deadline. */
static int until_started(struct fly_runner *fr, const char *launch, int64_t deadline, int64_t boot_ms,
                         char *err, size_t errlen)
{
	char werr[1024];

	while (!fr->started) {
		int64_t left = deadline - now_ms();
		int rc;
		if (left <= 0)
			return too_late(fr, "not started", boot_ms, err, errlen);
		if (fly_wait(fr->api, fr->id, fr->version, "started", (int)(left < LOOK_MS ? left : LOOK_MS),
		             werr, sizeof werr) == 0) {
			fr->started = 1;
			break;
		}
		rc = fly_api_last_status(fr->api);
		if (rc != 408 && rc != 404 && rc != 429 && rc != 0 && rc < 500) {
			snprintf(err, errlen, "%s", werr);
			return -1;
		}
		if ((rc = look(fr, launch, err, errlen)) < 0)
			return -1;
		fr->started = rc == 1;
	}
	return 0;
}

/* 0 if something accepts a TCP connection at ip:port within ms. */
static int probe(const char *ip, int port, int64_t ms)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST }, *ai = NULL;
	char service[16];
	int fd = -1, rc = -1;

	snprintf(service, sizeof service, "%d", port);
	if (getaddrinfo(ip, service, &hints, &ai) != 0)
		return -1;
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd >= 0 && (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 || errno == EINPROGRESS)) {
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		int soerr = 0;
		socklen_t len = sizeof soerr;
		if (poll(&p, 1, (int)ms) == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == 0 &&
		    !soerr)
			rc = 0;
	}
	if (fd >= 0)
		close(fd);
	freeaddrinfo(ai);
	return rc;
}

/* The agent starts its sshd after the machine has started: until it
 * listens, the machine is looked at now and then, so a command that exits
 * is reported at once. */
static int until_listening(struct fly_runner *fr, const char *launch, int64_t deadline, int64_t boot_ms,
                           char *err, size_t errlen)
{
	int64_t next_look = now_ms() + PROBE_LOOK_MS;
	char what[96];

	for (;;) {
		int64_t now = now_ms();
		if (probe(fr->ip, fr->port,
		          deadline - now < PROBE_MS ? (deadline > now ? deadline - now : 1) : PROBE_MS) == 0)
			return 0;
		now = now_ms();
		if (now >= deadline) {
			snprintf(what, sizeof what, "started but its agent did not answer on port %d",
			         fr->port);
			return too_late(fr, what, boot_ms, err, errlen);
		}
		if (now >= next_look) {
			if (look(fr, launch, err, errlen) < 0)
				return -1;
			next_look = now_ms() + PROBE_LOOK_MS;
		}
		usleep(PROBE_PAUSE_US);
	}
}

int fly_runner_started(struct fly_runner *fr, const struct fly_runner_opts *o, int64_t deadline, char *err,
                       size_t errlen)
{
	int rc = until_started(fr, o->launch_id, deadline, o->boot_ms, err, errlen);

	if (rc == 0 && !fr->ip[0]) {
		struct fly_machine now = { 0 };
		rc = fly_get(fr->api, fr->id, &now, API_TIMEOUT_MS, err, errlen);
		if (rc == 0)
			snprintf(fr->ip, sizeof fr->ip, "%s", now.private_ip);
		fly_machine_free(&now);
		if (rc == 0 && !fr->ip[0]) {
			snprintf(err, errlen, "fly: machine %s has no private address", fr->id);
			rc = -1;
		}
	}
	if (rc == 0)
		rc = until_listening(fr, o->launch_id, deadline, o->boot_ms, err, errlen);
	if (rc < 0 && fr->created)
		fly_runner_release(fr); /* never left behind */
	return rc;
}
