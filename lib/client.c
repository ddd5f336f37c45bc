/* client.c — see client.h. */
#include "client.h"
#include "fly_token.h"
#include "paths.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define START_WAIT_MS 5000
#define STOPPING_WAIT_MS 30000 /* a stopping warmer waits for its running jobs */
#define RESPAWN_MS 250
#define LOG_KEEP_BYTES (1 << 20)

static pid_t warmer_pid; /* of the last connection, from SO_PEERCRED */

void client_put_settings(struct wbuf *w, const struct pool_settings *ps)
{
	wbuf_str(w, ps->name);
	wbuf_str(w, ps->backend);
	wbuf_i64(w, ps->min);
	wbuf_i64(w, ps->max);
	wbuf_i64(w, ps->max_concurrency);
	wbuf_i64(w, ps->idle_ms);
	wbuf_i64(w, ps->boot_ms);
	wbuf_i64(w, ps->slot_ms);
	wbuf_str(w, ps->backend_conf);
	wbuf_i64(w, ps->stopped_max);
	wbuf_i64(w, ps->stopped_ttl_ms);
	wbuf_i64(w, ps->budget_s_per_hour);
	{
		int64_t bits; /* exactly: the warmer compares settings byte for byte */
		memcpy(&bits, &ps->price_per_hour, sizeof bits);
		wbuf_i64(w, bits);
	}
}

int client_ask(struct wbuf *w)
{
	char err[1024], *text = NULL;
	struct wire_conn conn;
	struct rbuf r = { 0 };
	int sock = client_connect(1, err, sizeof err), type, rc;

	if (sock < 0) {
		msg("%s", err);
		return EXIT_FAILURE_FLAME;
	}
	client_conn_init(&conn, sock);
	type = client_call(sock, w, &conn, &r, err, sizeof err);
	rc = client_reply(type, &r, &text, err, sizeof err);
	if (rc == 0)
		printf("%s\n", text);
	else
		msg("%s", err);
	free(text);
	wire_conn_free(&conn);
	close(sock);
	return rc;
}

char *client_log_path(void)
{
	char err[256];
	char *dir = paths_state_dir(err, sizeof err), *p;
	if (!dir)
		return xstrdup("$XDG_STATE_HOME/flame/warmer.log");
	p = xasprintf("%s/warmer.log", dir);
	free(dir);
	return p;
}

int client_find_pool(const char *name, struct pool_settings *ps)
{
	char err[1024];
	if (config_lookup(name, ps, err, sizeof err) < 0) {
		msg("%s", err);
		return EXIT_USAGE;
	}
	return 0;
}

int client_reply(int type, struct rbuf *r, char **text, char *err, size_t errlen)
{
	uint32_t code;

	*text = NULL;
	if (type < 0)
		return EXIT_FAILURE_FLAME;
	code = rbuf_u32(r);
	if (type == W_REPLY || type == W_ERROR)
		*text = rbuf_str(r);
	if (type == W_REPLY && !r->bad)
		return 0;
	if (type == W_ERROR && !r->bad && (*text)[0])
		snprintf(err, errlen, "%s", *text);
	else
		snprintf(err, errlen, "unexpected answer from the warmer (frame type %d)", type);
	free(*text);
	*text = NULL;
	return type == W_ERROR && code ? (int)code : EXIT_FAILURE_FLAME;
}

static int try_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;
	if (strlen(path) >= sizeof sa.sun_path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	/* Our descriptors go to this process: it must be our own user's. */
	{
		struct ucred cred;
		socklen_t len = sizeof cred;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || cred.uid != geteuid()) {
			close(fd);
			errno = EPERM;
			return -1;
		}
		warmer_pid = cred.pid;
	}
	/* our hello goes first; the warmer checks it before any request */
	if (wire_send_hello(fd, "flame") < 0) {
		int e = errno;
		close(fd);
		errno = e == EPIPE ? ECONNREFUSED : e;
		return -1;
	}
	return fd;
}

/* Double fork so the warmer is nobody's child and in a session of its own; it
 * must hold none of the caller's descriptors (a pipe it kept open would never
 * see EOF). */
static int start_warmer(char *err, size_t errlen)
{
	char *log = client_log_path();
	pid_t pid = fork();
	int st;

	if (pid < 0) {
		snprintf(err, errlen, "cannot start the warmer: %s", strerror(errno));
		free(log);
		return -1;
	}
	if (pid == 0) {
		struct stat ls;
		int fd;
		setsid();
		if (fork() != 0)
			_exit(0);
		fd = open("/dev/null", O_RDONLY);
		if (fd >= 0 && fd != 0) {
			dup2(fd, 0);
			close(fd);
		}
		if (stat(log, &ls) == 0 && ls.st_size > LOG_KEEP_BYTES) {
			char *old = xasprintf("%s.1", log);
			rename(log, old); /* keep one previous log, like logrotate's rotate 1 */
			free(old);
		}
		fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
			if (fd > 2)
				close(fd);
		}
		close_range(3, ~0U, 0);
		fly_token_hand_over(); /* not in the warmer's environment */
		execl("/proc/self/exe", "flame", "warmer", "run", (char *)NULL);
		_exit(EXIT_FAILURE_FLAME);
	}
	free(log);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return 0;
}

/* Whether a warmer holds its lock: one is starting, running or stopping, and
 * starting another would only fail. */
static int warmer_alive(const char *dir)
{
	char *lock = xasprintf("%s/warmer.lock", dir);
	int fd = open(lock, O_RDONLY | O_CLOEXEC), alive = 0;
	free(lock);
	if (fd < 0)
		return 0;
	if (flock(fd, LOCK_SH | LOCK_NB) < 0)
		alive = errno == EWOULDBLOCK;
	close(fd);
	return alive;
}

/* Connects, starting a warmer while none holds the lock.  A warmer that is
 * stopping has already removed its socket: we wait for it to go and start
 * the next one. */
static int connect_or_start(const char *dir, const char *path, char *err, size_t errlen)
{
	int64_t begin = now_ms(), first = -1, last = 0, now;
	int fd, e;

	for (;;) {
		fd = try_connect(path);
		if (fd >= 0 || (errno != ENOENT && errno != ECONNREFUSED))
			return fd;
		e = errno;
		now = now_ms();
		if (warmer_alive(dir)) {
			if (now - begin >= STOPPING_WAIT_MS) {
				char *log = client_log_path();
				snprintf(err, errlen,
				         "a warmer holds %s/warmer.lock but has not answered for %ds "
				         "(stopping with running jobs?); see %s",
				         dir, STOPPING_WAIT_MS / 1000, log);
				free(log);
				return -1;
			}
		} else if (first >= 0 && now - first >= START_WAIT_MS) {
			char *log = client_log_path();
			snprintf(err, errlen, "the warmer did not start within %ds; see %s",
			         START_WAIT_MS / 1000, log);
			free(log);
			return -1;
		} else if (first < 0 || now - last >= RESPAWN_MS) {
			/* again if the last one lost the lock to a probe or died */
			if (start_warmer(err, errlen) < 0)
				return -1;
			last = now;
			if (first < 0)
				first = now;
		}
		errno = e;
		nanosleep(&(struct timespec){ .tv_nsec = 5000000 }, NULL);
	}
}

int client_connect(int start, char *err, size_t errlen)
{
	char *dir, *path;
	int fd;

	err[0] = 0;
	path = paths_runtime_socket();
	fd = try_connect(path);
	if (fd >= 0) { /* the common case: no directory checks needed */
		free(path);
		return fd;
	}
	free(path);
	dir = paths_runtime_dir(err, errlen);
	if (!dir)
		return -1;
	path = xasprintf("%s/warmer.sock", dir);
	fd = start ? connect_or_start(dir, path, err, errlen) : try_connect(path);
	free(dir);
	if (fd < 0 && !err[0] && errno == EPERM)
		snprintf(err, errlen, "%s belongs to another user's process; set XDG_RUNTIME_DIR", path);
	else if (fd < 0 && !err[0])
		snprintf(err, errlen, "cannot reach the warmer at %s: %s", path, strerror(errno));
	free(path);
	return fd;
}

pid_t client_warmer_pid(void)
{
	return warmer_pid;
}

/* argv[1..2] of the process are "warmer run" */
static int is_warmer_process(pid_t pid)
{
	char buf[256];
	ssize_t n = proc_cmdline(pid, buf, sizeof buf);

	if (n <= 0)
		return 0;
	{
		const char *a1 = buf + strlen(buf) + 1;
		const char *a2 = a1 < buf + n ? a1 + strlen(a1) + 1 : buf + n;
		return a2 < buf + n && !strcmp(a1, "warmer") && !strcmp(a2, "run");
	}
}

int client_warmer_is_other_build(void)
{
	char path[64];
	struct stat theirs, ours;

	if (warmer_pid <= 0 || !is_warmer_process(warmer_pid))
		return 0;
	snprintf(path, sizeof path, "/proc/%ld/exe", (long)warmer_pid);
	if (stat(path, &theirs) < 0 || stat("/proc/self/exe", &ours) < 0)
		return 0;
	return theirs.st_dev != ours.st_dev || theirs.st_ino != ours.st_ino;
}

void client_conn_init(struct wire_conn *conn, int sock)
{
	wire_conn_init(conn, sock);
	wire_conn_want_hello(conn);
}

void client_refusal(const struct wire_conn *conn, char *err, size_t errlen)
{
	char where[64];
	struct wire_peer peer = conn->peer;

	if (!peer.protocol)
		peer.protocol = 1; /* closed before any hello */
	snprintf(where, sizeof where, "the warmer (pid %ld)", (long)warmer_pid);
	wire_peer_refusal(&peer, where,
	                  "stop it with 'flame warmer stop' (its running jobs finish first), then run again",
	                  err, errlen);
}

int client_call(int sock, struct wbuf *req, struct wire_conn *conn, struct rbuf *reply, char *err,
                size_t errlen)
{
	uint8_t type;
	int fds[WIRE_MAX_FDS], nfds, rc;

	if (wire_send(sock, req) < 0) {
		/* a warmer from before the hello may have dropped us already */
		if (client_warmer_is_other_build()) {
			client_refusal(conn, err, errlen);
			return CLIENT_OTHER_PROTOCOL;
		}
		snprintf(err, errlen, "cannot talk to the warmer: %s", strerror(errno));
		return -1;
	}
	rc = wire_conn_recv(conn, &type, reply, fds, &nfds);
	if ((rc < 0 && errno == EPROTO) ||
	    (rc == 0 && !wire_conn_hello_done(conn) && client_warmer_is_other_build())) {
		client_refusal(conn, err, errlen);
		return CLIENT_OTHER_PROTOCOL;
	}
	if (rc <= 0) {
		snprintf(err, errlen, "the warmer closed the connection without answering");
		return -1;
	}
	close_fds(fds, nfds);
	return type;
}
