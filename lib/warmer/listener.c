/* listener.c — the warmer's listening socket, and whether it takes new
 * callers now (descriptors and connections have limits). */
#include "internal.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* No new caller may reach a warmer that is going away, so the socket goes
 * first; connections still in its backlog are reset, and those callers were
 * never sent W_ACCEPTED: they take their job to the next warmer. */
void close_listener(void)
{
	if (W.listen_fd < 0)
		return;
	unlink(W.sock_path);
	close(W.listen_fd);
	W.listen_fd = -1;
}

/* Descriptors open now: /proc/self/fd, less the one reading it. */
static long fds_in_use(void)
{
	DIR *d = opendir("/proc/self/fd");
	long n = -1;
	if (!d)
		return 0;
	while (readdir(d))
		n++;
	closedir(d);
	return n - 2; /* "." and ".." */
}

/* Whether to take new callers this round.  At the cap the listening socket
 * is not polled: callers wait in its backlog, and their connect() blocks
 * once the backlog is full, so none is lost. */
int taking_callers(int64_t now)
{
	static int64_t said;
	long used;

	if (W.listen_fd < 0 || now < W.accept_pause_until)
		return 0;
	used = W.ncallers >= MAX_CALLERS ? W.fd_limit : fds_in_use();
	if (used + FD_HEADROOM <= W.fd_limit) {
		W.at_cap = 0;
		return 1;
	}
	if (!W.at_cap && now - said >= 10000) {
		warmer_log("at the limit of %d callers or %ld descriptors (%d callers now); new callers "
		           "wait until one ends",
		           MAX_CALLERS, W.fd_limit, W.ncallers);
		said = now;
	}
	W.at_cap = 1;
	return 0;
}

/* Every caller costs a few descriptors: use all the system allows us (the
 * runners it starts get the usual limit back: runner_proc.c). */
void raise_fd_limit(void)
{
	W.fd_limit = fd_limit_raise();
}

int listen_on(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;
	if (strlen(path) >= sizeof sa.sun_path) {
		warmer_log("socket path %s is too long; set XDG_RUNTIME_DIR to a shorter directory", path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || chmod(path, 0600) < 0 ||
	    listen(fd, LISTEN_BACKLOG) < 0) {
		warmer_log("cannot listen on %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}
