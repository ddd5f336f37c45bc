/* runner_proc.c — see runner_proc.h. */
#include "runner_proc.h"
#include "job_frame.h"
#include "util.h"
#include "wire.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* A memfd holding TEXT, read from its start: settings for a helper that
 * must not see them on its command line or in its environment, where any
 * local user (ps) or the helper's own children could read them. */
static int settings_fd(const char *text, char *err, size_t errlen)
{
	size_t len = strlen(text), off = 0;
	int fd = memfd_create("flame-settings", MFD_CLOEXEC);

	if (fd < 0) {
		snprintf(err, errlen, "memfd_create: %s", strerror(errno));
		return -1;
	}
	while (off < len) {
		ssize_t n = write(fd, text + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(err, errlen, "cannot hand settings over: %s", strerror(errno));
			close(fd);
			return -1;
		}
		off += (size_t)n;
	}
	if (lseek(fd, 0, SEEK_SET) < 0) {
		snprintf(err, errlen, "lseek: %s", strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* In the child: FD becomes descriptor TO, kept across exec. */
static void give_fd(int fd, int to)
{
	if (fd == to)
		fcntl(fd, F_SETFD, 0);
	else if (dup2(fd, to) < 0)
		_exit(EXIT_FAILURE_FLAME);
}

int runner_proc_spawn(struct runner *r, const char *path, char *const *argv, char *err, size_t errlen)
{
	return runner_proc_spawn_with(r, path, argv, NULL, err, errlen);
}

int runner_proc_spawn_with(struct runner *r, const char *path, char *const *argv, const char *settings,
                           char *err, size_t errlen)
{
	int sv[2], sfd = -1;
	pid_t pid;

	if (settings && (sfd = settings_fd(settings, err, errlen)) < 0)
		return -1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		snprintf(err, errlen, "socketpair: %s", strerror(errno));
		if (sfd >= 0)
			close(sfd);
		return -1;
	}
	pid = fork();
	if (pid == 0) {
		/* out of the way of descriptors 3 and 4 first */
		if (sfd >= 0 && (sfd = fcntl(sfd, F_DUPFD_CLOEXEC, 10)) < 0)
			_exit(EXIT_FAILURE_FLAME);
		fd_limit_restore();
		give_fd(sv[1], 3);
		if (sfd >= 0)
			give_fd(sfd, RUNNER_PROC_SETTINGS_FD);
		execv(path, argv);
		_exit(EXIT_FAILURE_FLAME);
	}
	close(sv[1]);
	if (sfd >= 0)
		close(sfd);
	if (pid < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		close(sv[0]);
		return -1;
	}
	r->pid = pid;
	r->fd = sv[0];
	wire_conn_init(&r->conn, sv[0]);
	wire_conn_want_hello(&r->conn);
	/* the socket's buffer takes it whole: the child need not be reading */
	if (wire_send_hello(sv[0], "warmer") < 0) {
		snprintf(err, errlen, "cannot greet its process: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static int send_or_lose(struct runner *r, struct wbuf *w)
{
	int rc = wire_send(r->fd, w);
	wbuf_free(w);
	return rc;
}

int runner_proc_start_job(struct runner *r, uint32_t job_id, const struct job_request *job)
{
	struct wbuf w;
	wbuf_init(&w, W_JOB);
	wbuf_u32(&w, job_id);
	wbuf_raw(&w, job->frame, job->frame_len); /* as the caller built it */
	for (int i = 0; i < job->nfds; i++)
		wbuf_fd(&w, job->fds[i]);
	return send_or_lose(r, &w);
}

static void send_job_word(struct runner *r, enum wire_type t, uint32_t job_id, uint32_t arg)
{
	struct wbuf w;
	wbuf_init(&w, t);
	wbuf_u32(&w, job_id);
	wbuf_u32(&w, arg);
	(void)send_or_lose(r, &w);
}

void runner_proc_signal_job(struct runner *r, uint32_t job_id, int sig)
{
	send_job_word(r, W_JOB_SIGNAL, job_id, (uint32_t)sig);
}

void runner_proc_cancel_job(struct runner *r, uint32_t job_id)
{
	send_job_word(r, W_JOB_CANCEL, job_id, 0);
}

void runner_proc_stop(struct runner *r)
{
	struct wbuf w;
	wbuf_init(&w, W_AGENT_STOP);
	(void)send_or_lose(r, &w);
}

void runner_proc_park(struct runner *r)
{
	struct wbuf w;
	wbuf_init(&w, W_AGENT_PARK);
	(void)send_or_lose(r, &w);
}

void runner_proc_destroy(struct runner *r)
{
	if (r->pid > 0) {
		int st;
		kill(r->pid, SIGKILL);
		while (waitpid(r->pid, &st, 0) < 0 && errno == EINTR)
			;
		r->pid = 0;
	}
	if (r->fd >= 0) {
		wire_conn_free(&r->conn);
		close(r->fd);
		r->fd = -1;
	}
}

static void lose_to_other_protocol(struct runner *r)
{
	char why[512];
	if (!r->conn.peer.protocol)
		r->conn.peer.protocol = 1;
	wire_peer_refusal(
		&r->conn.peer, "its process",
		"reinstall flame so that flame and flame-link come from one build (make install), then "
		"'flame warmer stop'",
		why, sizeof why);
	warmer_on_lost(r, why);
}

static int on_runner_frame(void *ctx, uint8_t type, struct rbuf *p, int *fds, int nfds)
{
	struct runner *r = ctx;

	close_fds(fds, nfds);
	if (type == W_READY) {
		warmer_on_ready(r);
	} else if (type == W_JOB_DONE) {
		uint32_t id;
		int64_t status, flags;
		if (job_done_read(p, &id, &status, &flags) == 0)
			warmer_on_job_done(r, id, status, flags);
	} else if (type == W_CAPACITY) {
		uint32_t slots = rbuf_u32(p);
		if (!p->bad)
			warmer_on_capacity(r, (int)slots);
	} else if (type == W_RUNNER_INFO) {
		char *json = rbuf_str(p);
		if (!p->bad)
			warmer_on_info(r, json);
		free(json);
	} else if (type == W_ERROR) {
		char *why;
		rbuf_u32(p);
		why = rbuf_str(p);
		warmer_on_lost(r, why);
		free(why);
	}
	return 0;
}

void runner_proc_readable(struct runner *r)
{
	int rc = wire_conn_pump(&r->conn, on_runner_frame, r);

	if (rc == 0 && !wire_conn_hello_done(&r->conn))
		/* a flame from before the hello drops ours as corrupt and exits */
		lose_to_other_protocol(r);
	else if (rc < 0 && errno == EPROTO)
		lose_to_other_protocol(r);
	else if (rc < 0 && errno == EBADMSG)
		warmer_on_lost(r, "its process sent a corrupt message");
	else if (rc <= 0)
		warmer_on_lost(r, "its process exited");
}

static int is_our_agent(long pid, const char *runner_id)
{
	char buf[4096];
	ssize_t n = proc_cmdline((pid_t)pid, buf, sizeof buf);
	int found_agent = 0, found_id = 0;

	if (n <= 0)
		return 0;
	found_agent = strstr(buf, "flame") != NULL; /* argv[0]: flame or flame-link */
	for (char *p = buf; p < buf + n; p += strlen(p) + 1) {
		if (!strcmp(p, runner_id))
			found_id = 1;
	}
	return found_agent && found_id;
}

void runner_proc_reap_stray(const char *runner_id, long pid)
{
	/* A runner process dies with its warmer's socket; one still here is a
	 * stray that no new warmer can talk to. */
	if (pid > 1 && is_our_agent(pid, runner_id))
		kill((pid_t)pid, SIGKILL);
}

char *runner_proc_link_path(char *err, size_t errlen)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	char *p;
	if (n <= 0) {
		snprintf(err, errlen, "cannot find this program's own path");
		return NULL;
	}
	self[n] = 0;
	p = xasprintf("%s/flame-link", dirname(self));
	if (access(p, X_OK) < 0) {
		snprintf(err, errlen, "%s is missing; reinstall flame (make install puts it next to flame)",
		         p);
		free(p);
		return NULL;
	}
	return p;
}

void runner_proc_detach(const char *path, char *const *argv, const char *settings)
{
	char err[256];
	int sfd = settings ? settings_fd(settings, err, sizeof err) : -1;
	pid_t pid;
	int status;

	if (settings && sfd < 0) {
		warmer_log("cannot start %s: %s", argv[0], err);
		return;
	}
	pid = fork();
	if (pid == 0) {
		/* the grandchild is nobody's child here: no zombie to reap */
		setsid();
		if (fork() == 0) {
			fd_limit_restore();
			if (sfd >= 0)
				give_fd(sfd, RUNNER_PROC_SETTINGS_FD);
			execv(path, argv);
			_exit(EXIT_FAILURE_FLAME);
		}
		_exit(0);
	}
	if (sfd >= 0)
		close(sfd);
	while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
}
