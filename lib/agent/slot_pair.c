/* slot_pair.c — the pair of processes a job slot is: `slot out` hands its
 * stdout (the channel back to the warmer) to `slot in` over a Unix socket
 * named by the slot's token, then keeps watch on it (see slot.h). */
#include "slot.h"
#include "paths.h"
#include "util.h"
#include "wire.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define RENDEZVOUS_MS 15000

static char *socket_path(const char *token, char *err, size_t errlen)
{
	char *dir = paths_runtime_dir(err, errlen), *p;
	if (!dir)
		return NULL;
	if (strspn(token, "0123456789abcdef") != strlen(token) || strlen(token) < 16 || strlen(token) > 64) {
		snprintf(err, errlen, "slot token must be 16 to 64 hex digits");
		free(dir);
		return NULL;
	}
	p = xasprintf("%s/slot-%s.sock", dir, token);
	free(dir);
	return p;
}

/* `slot out` keeps watch on `slot in` until it is gone: if it dies (killed,
 * crashed), `slot out` kills the job `slot in` last said was running and
 * leaves, which closes the channel and tells the warmer.  The end of its own
 * input is not the end of the watch: `slot in` sees it too and ends its job
 * (and says so) unless it is dead already, which is when the watch matters. */
static int note_pgid(void *pgid, uint8_t type, struct rbuf *r, int *fds, int nfds)
{
	close_fds(fds, nfds);
	if (type == W_JOB_PGID)
		*(pid_t *)pgid = (pid_t)rbuf_i64(r);
	return 0;
}

static int watch_partner(int sock)
{
	struct wire_conn c;
	pid_t pgid = 0;
	char b[256];
	int in = 0;

	wire_conn_init(&c, sock);
	for (;;) {
		struct pollfd p[2] = { { .fd = in, .events = POLLIN }, { .fd = sock, .events = POLLIN } };
		int rc;

		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		if (in >= 0 && p[0].revents && read(0, b, sizeof b) <= 0)
			in = -1; /* the warmer's side closed the channel */
		if (!p[1].revents)
			continue;
		rc = wire_conn_pump(&c, note_pgid, &pgid);
		/* (a corrupt frame is not the partner gone) */
		if (rc == 0 || (rc < 0 && errno != EBADMSG && errno != EPROTO)) {
			if (pgid > 0)
				kill(-pgid, SIGKILL);
			break;
		}
	}
	wire_conn_free(&c);
	close(sock);
	return 0;
}

int slot_out(const char *token)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char err[512];
	char *path = socket_path(token, err, sizeof err);
	int64_t until = now_ms() + RENDEZVOUS_MS;
	int fd = -1;
	struct wbuf w;

	signal(SIGPIPE, SIG_IGN);
	if (!path) {
		msg("agent slot out: %s", err);
		return EXIT_USAGE;
	}
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
	free(path);
	while (now_ms() < until) {
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0)
			break;
		if (fd >= 0)
			close(fd);
		fd = -1;
		usleep(1000); /* the partner is starting: it comes within milliseconds */
	}
	if (fd < 0) {
		msg("agent slot out: no 'slot in' for this token within %d s", RENDEZVOUS_MS / 1000);
		return EXIT_FAILURE_FLAME;
	}
	wbuf_init(&w, W_READY);
	wbuf_fd(&w, 1);
	if (wire_send(fd, &w) < 0) {
		wbuf_free(&w);
		return EXIT_FAILURE_FLAME;
	}
	wbuf_free(&w);
	close(1);
	return watch_partner(fd);
}

int slot_rendezvous(const char *token, int *partner, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char *path = socket_path(token, err, errlen);
	struct wire_conn c;
	struct rbuf r = { 0 };
	uint8_t type;
	int lfd, cfd, fds[WIRE_MAX_FDS], nfds = 0, out = -1;
	struct pollfd p;

	if (!path)
		return -1;
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	unlink(path);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(lfd, 1) < 0) {
		snprintf(err, errlen, "cannot listen on %s: %s", path, strerror(errno));
		goto out;
	}
	p.fd = lfd;
	p.events = POLLIN;
	if (poll(&p, 1, RENDEZVOUS_MS) <= 0 || (cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) < 0) {
		snprintf(err, errlen, "no 'slot out' for this token within %d s", RENDEZVOUS_MS / 1000);
		goto out;
	}
	wire_conn_init(&c, cfd);
	if (wire_conn_recv(&c, &type, &r, fds, &nfds) == 1 && type == W_READY && nfds == 1) {
		out = fds[0];
		nfds = 0;
	} else {
		snprintf(err, errlen, "'slot out' did not hand over its channel");
	}
	close_fds(fds, nfds);
	wire_conn_free(&c);
	if (out >= 0)
		*partner = cfd; /* kept: it tells `slot out` which job to kill if we die */
	else
		close(cfd);
out:
	if (lfd >= 0)
		close(lfd);
	unlink(path);
	free(path);
	return out;
}
