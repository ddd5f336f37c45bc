/* agent_slot.c — `flame agent slot in|out TOKEN`: one job slot of a runner
 * reached over SSH, where descriptors cannot travel.
 *
 * The warmer's side holds two SSH sessions per slot, one per direction, so
 * that a blocking write one way can never wait on a read the other way.
 * sshd starts one process per channel: `slot out` hands its stdout (the
 * channel back to the warmer) to `slot in` over a Unix socket named by
 * TOKEN and then waits; `slot in` reads job requests, stdin and signals from
 * its stdin and runs one job at a time: exact argv and environment, own
 * process group and scratch directory, stdout and stderr relayed as frames,
 * --put files arrive as frames before the job starts and --get files leave
 * as frames after it exited, the exit status in an explicit W_JOB_DONE
 * (libssh2 1.10 cannot tell a missing exit status from 0).  When its stdin
 * closes (the warmer or the connection went away) the running job's group
 * is killed; when `slot in` itself dies, `slot out` kills it, and so does
 * the keeper `slot in` leaves behind (lib/agent/slot_keeper.h) should both die. */
#include "agent/beat.h"
#include "cmds.h"
#include "files.h"
#include "flame_limits.h"
#include "job.h"
#include "paths.h"
#include "agent/slot_keeper.h"
#include "util.h"
#include "wire.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define RENDEZVOUS_MS 15000
#define STDIN_CAP (8u << 20) /* read-ahead, so signals get past unread stdin */
#define CHUNK 65536
#define PING_MS 4000 /* the link gives up after 15 s of silence */

struct slot_job {
	uint32_t id;
	pid_t pid;
	int pidfd, in_fd, out_fd, err_fd; /* our ends of the job's pipes */
	int stdin_eof;                    /* W_STDIN_EOF arrived */
	unsigned char *pending;           /* stdin not yet written to the job */
	size_t plen, pcap;
	uint32_t flags;
	int64_t deadline;
	char *scratch;
	char **gets; /* --get patterns, fetched after the command */
	int exited, status;
};

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
static int watch_partner(int sock)
{
	struct wire_conn c;
	pid_t pgid = 0;
	char b[256];
	int in = 0;

	wire_conn_init(&c, sock);
	for (;;) {
		struct pollfd p[2] = { { .fd = in, .events = POLLIN }, { .fd = sock, .events = POLLIN } };
		uint8_t type;
		struct rbuf r = { 0 };
		int fds[WIRE_MAX_FDS], nfds, rc;

		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		if (in >= 0 && p[0].revents && read(0, b, sizeof b) <= 0)
			in = -1; /* the warmer's side closed the channel */
		if (!p[1].revents)
			continue;
		rc = wire_conn_fill(&c);
		if (rc <= 0 && !(rc < 0 && (errno == EAGAIN || errno == EINTR))) {
			if (pgid > 0)
				kill(-pgid, SIGKILL);
			break;
		}
		while (wire_conn_next(&c, &type, &r, fds, &nfds) == 1) {
			close_fds(fds, nfds);
			if (type == W_JOB_PGID)
				pgid = (pid_t)rbuf_i64(&r);
		}
	}
	wire_conn_free(&c);
	close(sock);
	return 0;
}

static int slot_out(const char *token)
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

static int rendezvous(const char *token, int *partner, char *err, size_t errlen)
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

static int pidfd_of(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

static int send_frame(int fd, enum wire_type t, uint32_t id, const void *p, size_t n)
{
	struct wbuf w;
	int rc;
	wbuf_init(&w, t);
	wbuf_u32(&w, id);
	wbuf_bytes(&w, p, n);
	rc = wire_send(fd, &w);
	wbuf_free(&w);
	return rc;
}

static int send_done(int fd, uint32_t id, int64_t status, int64_t flags)
{
	struct wbuf w;
	int rc;
	wbuf_init(&w, W_JOB_DONE);
	wbuf_u32(&w, id);
	wbuf_i64(&w, status);
	wbuf_i64(&w, flags);
	rc = wire_send(fd, &w);
	wbuf_free(&w);
	return rc;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Starts the job with pipes for its streams; 0, or -1 after W_JOB_DONE. */
static int start(struct slot_job *j, struct job_spec *spec, const char *root, int out)
{
	int in[2], so[2], se[2], status = 0;

	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(so, O_CLOEXEC) < 0 || pipe2(se, O_CLOEXEC) < 0) {
		send_done(out, spec->id, 0, JOB_SETUP_FAILED);
		return -1;
	}
	fcntl(in[1], F_SETPIPE_SZ, 1 << 20);
	fcntl(so[0], F_SETPIPE_SZ, 1 << 20);
	spec->stdio[0] = in[0];
	spec->stdio[1] = so[1];
	spec->stdio[2] = se[1];
	j->scratch = xasprintf("%s/job-%u", root, spec->id);
	spec->scratch = j->scratch;
	j->id = spec->id;
	j->pid = job_spawn(spec, &status);
	close(in[0]);
	close(so[1]);
	close(se[1]);
	j->in_fd = in[1];
	j->out_fd = so[0];
	j->err_fd = se[0];
	set_nonblock(j->in_fd, 1);
	if (j->pid > 0) {
		setpgid(j->pid, j->pid);
		j->pidfd = pidfd_of(j->pid);
	}
	if (j->pid < 0 || j->pidfd < 0) {
		char buf[4096];
		ssize_t n;
		if (j->pid > 0)
			kill(-j->pid, SIGKILL);
		/* job_spawn wrote why on the job's stderr: pass it on */
		set_nonblock(j->err_fd, 1);
		while ((n = read(j->err_fd, buf, sizeof buf)) > 0)
			send_frame(out, W_ERR, j->id, buf, (size_t)n);
		send_done(out, j->id, status, j->pid < 0 ? 0 : JOB_SETUP_FAILED);
		return -1;
	}
	j->deadline = spec->timeout_ms > 0 ? limit_deadline(now_ms(), spec->timeout_ms) : 0;
	return 0;
}

static void free_job(struct slot_job *j)
{
	close_fd(&j->pidfd);
	close_fd(&j->in_fd);
	close_fd(&j->out_fd);
	close_fd(&j->err_fd);
	free(j->pending);
	free(j->scratch);
	strv_free(j->gets);
	memset(j, 0, sizeof *j);
	j->pidfd = j->in_fd = j->out_fd = j->err_fd = -1;
}

static void queue_stdin(struct slot_job *j, struct rbuf *r)
{
	uint32_t n = rbuf_u32(r);
	if (r->bad || n > r->len - r->off)
		return;
	if (j->in_fd < 0) { /* the job closed its stdin: drop, as a pipe would */
		r->off += n;
		return;
	}
	if (j->plen + n > j->pcap) {
		j->pcap = j->plen + n + CHUNK;
		j->pending = xrealloc(j->pending, j->pcap);
	}
	memcpy(j->pending + j->plen, r->p + r->off, n);
	j->plen += n;
	r->off += n;
}

static void flush_stdin(struct slot_job *j)
{
	while (j->in_fd >= 0 && j->plen > 0) {
		ssize_t w = write(j->in_fd, j->pending, j->plen);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN)
			return;
		if (w < 0) { /* EPIPE: the job stopped reading; drop what it will never see */
			j->plen = 0;
			close_fd(&j->in_fd);
			return;
		}
		memmove(j->pending, j->pending + w, j->plen - (size_t)w);
		j->plen -= (size_t)w;
	}
	if (j->stdin_eof && j->plen == 0)
		close_fd(&j->in_fd);
}

/* Relays what the pipe has; 0 at EOF, 1 while open, -1 if the link is gone. */
static int relay(int *fd, enum wire_type t, uint32_t id, int out)
{
	char buf[CHUNK];
	ssize_t n = read(*fd, buf, sizeof buf);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 1;
	if (n <= 0) {
		close_fd(fd);
		return 0;
	}
	return send_frame(out, t, id, buf, (size_t)n) < 0 ? -1 : 1;
}

static void enforce_timeout(struct slot_job *j)
{
	if (!j->exited)
		job_timeout_step(j->pid, &j->flags, &j->deadline, now_ms());
}

/* The leader is gone: kill the rest of its group (the id cannot be reused
 * before the leader is reaped), then let the pipes drain. */
static void leader_exited(struct slot_job *j)
{
	kill(-j->pid, SIGKILL);
	while (waitpid(j->pid, &j->status, 0) < 0 && errno == EINTR)
		;
	close_fd(&j->pidfd);
	close_fd(&j->in_fd);
	j->exited = 1;
}

/* --put files come as frames before the job starts. */
static int parse_job(struct rbuf *r, struct job_spec *s)
{
	if (job_spec_read(r, s) < 0)
		return -1;
	for (int i = 0; i < s->nput; i++) {
		const char *n = s->put_names[i];
		if (!n[0] || strchr(n, '/') || !strcmp(n, ".") || !strcmp(n, ".."))
			return -1;
	}
	return 0;
}

struct slot {
	struct wire_conn in;
	int out, partner, keeper;
	int gone;     /* the link went away while files came in or went out */
	int get_stop; /* the caller gave up while --get files went out (2: said so) */
	int stop_sig; /* the signal that stopped them: the job ends as if killed by it */
	int64_t last_sent;
	const char *root, *runner, *pool;
	struct slot_job job;
	int busy;
};

/* Reads the job's --put files (the frames right after W_JOB) into its new
 * scratch directory.  0 when all arrived; -1 when the job was cancelled or a
 * file could not be written (reported on the job's stderr); -2 if the link
 * is gone. */
static int receive_puts(struct slot *sl, struct job_spec *spec, const char *scratch)
{
	int *fds = xcalloc((size_t)spec->nput, sizeof *fds), left = spec->nput, rc = 0;
	for (int i = 0; i < spec->nput; i++)
		fds[i] = -1;
	if (mkdir(scratch, 0700) < 0)
		rc = -1;
	while (left > 0 && rc != -2) {
		uint8_t type;
		struct rbuf r = { 0 };
		int pfds[WIRE_MAX_FDS], npfds;
		uint32_t job, idx;
		if (wire_conn_recv(&sl->in, &type, &r, pfds, &npfds) <= 0) {
			rc = -2;
			break;
		}
		close_fds(pfds, npfds);
		job = rbuf_u32(&r);
		if (job != spec->id)
			continue;
		if (type == W_JOB_CANCEL) {
			rc = -1;
			break;
		}
		idx = rbuf_u32(&r);
		if (r.bad || idx >= (uint32_t)spec->nput || (type != W_PUT && type != W_PUT_END))
			continue;
		if (rc == 0 && fds[idx] < 0) {
			char *path = xasprintf("%s/%s", scratch, spec->put_names[idx]);
			fds[idx] = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
			free(path);
			if (fds[idx] < 0)
				rc = -1;
		}
		if (type == W_PUT) {
			uint32_t n = rbuf_u32(&r);
			if (rc == 0 &&
			    (r.bad || n > r.len - r.off || write_all(fds[idx], r.p + r.off, n) < 0))
				rc = -1;
		} else {
			uint32_t mode = rbuf_u32(&r);
			if (rc == 0 && fchmod(fds[idx], mode & 0777) < 0)
				rc = -1;
			left--;
		}
	}
	for (int i = 0; i < spec->nput; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(fds);
	if (rc == -1) {
		char line[300];
		int n = snprintf(line, sizeof line,
		                 "flame: --put: cannot copy the files into the job's directory\n");
		send_frame(sl->out, W_ERR, spec->id, line, (size_t)n);
		job_collect(scratch, NULL, -1, -1);
	}
	return rc;
}

static void tell_partner(struct slot *sl, pid_t pgid)
{
	struct wbuf w;
	slot_keeper_tell(sl->keeper, pgid ? sl->job.id : 0, pgid);
	agent_beat_job(pgid);
	wbuf_init(&w, W_JOB_PGID);
	wbuf_i64(&w, pgid);
	(void)wire_send(sl->partner, &w);
	wbuf_free(&w);
}

static void on_frame(struct slot *sl, uint8_t type, struct rbuf *r)
{
	struct slot_job *j = &sl->job;
	uint32_t id;

	if (type == W_JOB) {
		struct job_spec spec;
		char **env;
		/* read even when busy: the refusal names the job it refuses */
		if (parse_job(r, &spec) < 0 || sl->busy) {
			send_done(sl->out, spec.id, 0, JOB_SETUP_FAILED);
			job_spec_free(&spec);
			return;
		}
		env = job_environment(spec.env, sl->pool, sl->runner, spec.id);
		strv_free(spec.env);
		spec.env = env;
		/* before its directory is made: the keeper removes it if we die */
		slot_keeper_tell(sl->keeper, spec.id, 0);
		if (spec.nput > 0) {
			char *scratch = xasprintf("%s/job-%u", sl->root, spec.id);
			int rc = receive_puts(sl, &spec, scratch);
			if (rc == -2) /* the link went away while files came in */
				job_collect(scratch, NULL, -1, -1);
			free(scratch);
			if (rc < 0) {
				if (rc == -1)
					send_done(sl->out, spec.id, 0, JOB_SETUP_FAILED);
				else
					sl->gone = 1;
				slot_keeper_tell(sl->keeper, 0, 0);
				job_spec_free(&spec);
				return;
			}
			spec.scratch_made = 1;
		}
		sl->busy = start(j, &spec, sl->root, sl->out) == 0;
		if (!sl->busy) {
			slot_keeper_tell(sl->keeper, 0, 0);
			free_job(j);
		} else {
			tell_partner(sl, j->pid);
			if (spec.get_patterns[0]) {
				j->gets = spec.get_patterns; /* kept for finish() */
				spec.get_patterns = NULL;
			}
		}
		job_spec_free(&spec);
		return;
	}
	id = rbuf_u32(r);
	if (!sl->busy || id != j->id || r->bad)
		return; /* late frames of a finished job */
	if (type == W_STDIN)
		queue_stdin(j, r);
	else if (type == W_STDIN_EOF)
		j->stdin_eof = 1;
	else if (type == W_JOB_SIGNAL && !j->exited) {
		uint32_t sig = rbuf_u32(r);
		if (sig > 0 && sig < 65)
			kill(-j->pid, (int)sig);
	} else if (type == W_JOB_CANCEL && !j->exited) {
		kill(-j->pid, SIGKILL);
	} else if (j->exited && (type == W_JOB_CANCEL || type == W_JOB_SIGNAL)) {
		/* what would have ended the command ends its --get */
		uint32_t sig = type == W_JOB_CANCEL ? SIGKILL : rbuf_u32(r);
		if ((sig == SIGINT || sig == SIGTERM || sig == SIGHUP || sig == SIGQUIT || sig == SIGKILL) &&
		    !sl->get_stop) {
			sl->get_stop = 1;
			sl->stop_sig = (int)sig;
		}
	}
}

/* Reads frames from the link; -1 when it is gone. */
static int read_link(struct slot *sl)
{
	uint8_t type;
	struct rbuf r = { 0 };
	int fds[WIRE_MAX_FDS], nfds, rc = wire_conn_fill(&sl->in);

	if (rc == 0 || (rc < 0 && errno != EAGAIN && errno != EINTR))
		return -1;
	while ((rc = wire_conn_next(&sl->in, &type, &r, fds, &nfds)) == 1) {
		close_fds(fds, nfds);
		agent_beat_heard();
		on_frame(sl, type, &r);
		if (sl->gone)
			return -1;
	}
	if (rc < 0 && errno == EPROTO) {
		char why[512];
		wire_peer_refusal(&sl->in.peer, "the link", "use one flame version on both ends", why,
		                  sizeof why);
		msg("agent slot in: %s", why);
	}
	return rc < 0 ? -1 : 0;
}

/* The link is gone if a frame cannot be sent. */
static void send_or_gone(struct slot *sl, struct wbuf *w)
{
	if (!sl->gone && wire_send(sl->out, w) < 0)
		sl->gone = 1;
	wbuf_free(w);
}

/* Sends {job, bytes} likewise. */
static void send_bytes_or_gone(struct slot *sl, enum wire_type t, const void *p, size_t n)
{
	if (!sl->gone && send_frame(sl->out, t, sl->job.id, p, n) < 0)
		sl->gone = 1;
}

static void get_report(void *ctx, const char *line, size_t len)
{
	send_bytes_or_gone(ctx, W_ERR, line, len);
}

/* Reads what the link has sent meanwhile: a caller that gives up (Ctrl-C,
 * or killed) stops a long --get, whose command has exited already. */
static void check_link(struct slot *sl)
{
	struct pollfd p = { .fd = 0, .events = POLLIN };
	if (!sl->gone && poll(&p, 1, 0) > 0 && read_link(sl) < 0)
		sl->gone = 1;
}

/* Says that the n bytes at the current place are a hole (W_GET_HOLE). */
static void send_hole(struct slot *sl, int64_t n)
{
	struct wbuf w;
	wbuf_init(&w, W_GET_HOLE);
	wbuf_u32(&w, sl->job.id);
	wbuf_i64(&w, n);
	send_or_gone(sl, &w);
}

/* Streams bytes [off, end) of `in`; 0, 1 when the file ended sooner, or
 * errno when reading failed or the caller gave up (ECANCELED). */
static int send_range(struct slot *sl, int in, off_t off, off_t end)
{
	char buf[CHUNK];
	while (off < end && !sl->gone) {
		ssize_t n;
		check_link(sl);
		if (sl->get_stop)
			return ECANCELED;
		n = pread(in, buf, end - off < (off_t)sizeof buf ? (size_t)(end - off) : sizeof buf, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno;
		if (n == 0)
			return 1; /* it shrank: what is there is the file */
		send_bytes_or_gone(sl, W_GET_DATA, buf, (size_t)n);
		off += n;
	}
	return 0;
}

/* Streams the bytes of `in`, as many as it had when sending began (a
 * process that escaped the job's group cannot make it endless), its holes
 * as W_GET_HOLE (SEEK_DATA/SEEK_HOLE), so a sparse file stays sparse; 0,
 * or errno when reading failed or the caller gave up (ECANCELED). */
static int send_get_data(struct slot *sl, int in, uint64_t size)
{
	off_t pos = 0, end = (off_t)size;
	while (pos < end && !sl->gone) {
		off_t data = lseek(in, pos, SEEK_DATA), hole;
		int rc;
		if (data < 0 && errno != ENXIO) {
			data = pos; /* holes unknown here: all of it is data */
			hole = end;
		} else {
			if (data < 0 || data > end)
				data = end; /* a hole up to the end */
			hole = data < end ? lseek(in, data, SEEK_HOLE) : end;
			if (hole < 0 || hole > end)
				hole = end;
		}
		if (data > pos)
			send_hole(sl, data - pos);
		rc = send_range(sl, in, data, hole);
		if (rc)
			return rc == 1 ? 0 : rc;
		pos = hole;
	}
	return 0;
}

/* Says once that the caller gave up, naming the file it stopped at; the
 * matches after it are not fetched. */
static int get_stopped(struct slot *sl, const char *pattern, const char *path)
{
	char line[1024];
	if (sl->get_stop == 1)
		get_report(sl, line,
		           files_get_io_problem(line, sizeof line, pattern, "read", path, ECANCELED));
	sl->get_stop = 2;
	return 1;
}

/* One accepted --get match, as W_GET, W_GET_DATA..., W_GET_END (wire.h). */
static int send_get(void *ctx, const char *pattern, const char *path, int in, const struct stat *st)
{
	struct slot *sl = ctx;
	struct wbuf w;
	char line[1024];
	int err;

	if (sl->get_stop)
		return get_stopped(sl, pattern, path);
	wbuf_init(&w, W_GET);
	wbuf_u32(&w, sl->job.id);
	wbuf_str(&w, pattern);
	wbuf_str(&w, path);
	wbuf_u32(&w, (uint32_t)(st->st_mode & 0777));
	wbuf_i64(&w, st->st_size);
	send_or_gone(sl, &w);
	err = send_get_data(sl, in, (uint64_t)st->st_size);
	wbuf_init(&w, W_GET_END);
	wbuf_u32(&w, sl->job.id);
	wbuf_u32(&w, err == 0);
	send_or_gone(sl, &w);
	if (err == ECANCELED)
		return get_stopped(sl, pattern, path);
	if (err)
		get_report(sl, line, files_get_io_problem(line, sizeof line, pattern, "read", path, err));
	return err || sl->gone; /* the link says its own problems */
}

/* The command is over and its group gone: send the --get files, remove the
 * scratch directory, then the exit status.  -1 if the link is gone. */
static int finish(struct slot *sl)
{
	struct slot_job *j = &sl->job;
	struct files_get_ops ops = { send_get, get_report, sl };
	unsigned flags = j->flags;

	int status = j->status;

	if (j->gets && files_get_each(j->gets, j->scratch, &ops) > 0)
		flags |= JOB_GET_FAILED;
	if (rmdir(j->scratch) < 0 && errno != ENOENT)
		flags |= job_collect(j->scratch, NULL, -1, -1);
	if (sl->get_stop)
		status = sl->stop_sig; /* a wait status: killed by it */
	sl->get_stop = sl->stop_sig = 0;
	if (sl->gone)
		return -1;
	return send_done(sl->out, j->id, status, flags);
}

static int slot_loop(struct slot *sl)
{
	struct slot_job *j = &sl->job;

	for (;;) {
		struct pollfd p[5];
		int n = 0, i_in = -1, i_w = -1, i_o = -1, i_e = -1, i_p = -1;
		int64_t wait = 1000;

		if (now_ms() - sl->last_sent >= PING_MS) {
			struct wbuf w;
			wbuf_init(&w, W_PING);
			if (wire_send(sl->out, &w) < 0) {
				wbuf_free(&w);
				return 0;
			}
			wbuf_free(&w);
			sl->last_sent = now_ms();
		}

		if (sl->busy) {
			flush_stdin(j);
			enforce_timeout(j);
			if (j->exited && j->out_fd < 0 && j->err_fd < 0) {
				if (finish(sl) < 0)
					return 0;
				free_job(j);
				sl->busy = 0;
				tell_partner(sl, 0);
				continue;
			}
			if (j->deadline)
				wait = j->deadline - now_ms() > 0 ? j->deadline - now_ms() : 0;
		}
		if (!sl->busy || j->plen < STDIN_CAP) {
			p[n] = (struct pollfd){ .fd = 0, .events = POLLIN };
			i_in = n++;
		}
		if (sl->busy) {
			if (j->in_fd >= 0 && j->plen) {
				p[n] = (struct pollfd){ .fd = j->in_fd, .events = POLLOUT };
				i_w = n++;
			}
			if (j->out_fd >= 0) {
				p[n] = (struct pollfd){ .fd = j->out_fd, .events = POLLIN };
				i_o = n++;
			}
			if (j->err_fd >= 0) {
				p[n] = (struct pollfd){ .fd = j->err_fd, .events = POLLIN };
				i_e = n++;
			}
			if (j->pidfd >= 0) {
				p[n] = (struct pollfd){ .fd = j->pidfd, .events = POLLIN };
				i_p = n++;
			}
		}
		if (poll(p, (nfds_t)n, (int)wait) < 0) {
			if (errno == EINTR)
				continue;
			return 1;
		}
		if (i_o >= 0 && p[i_o].revents && relay(&j->out_fd, W_OUT, j->id, sl->out) < 0)
			return 0;
		if (i_e >= 0 && p[i_e].revents && relay(&j->err_fd, W_ERR, j->id, sl->out) < 0)
			return 0;
		if (i_p >= 0 && p[i_p].revents)
			leader_exited(j);
		(void)i_w;
		if (i_in >= 0 && p[i_in].revents && read_link(sl) < 0)
			return 0; /* the link is gone */
	}
}

static int slot_in(const char *token)
{
	struct slot sl;
	char err[512], *scratch = NULL;
	struct wbuf w;
	int rc;

	memset(&sl, 0, sizeof sl);
	sl.partner = sl.keeper = -1;
	sl.job.pidfd = sl.job.in_fd = sl.job.out_fd = sl.job.err_fd = -1;
	sl.root = getenv("FLAME_SLOT_ROOT");
	/* set by the warmer's side on the command line it runs */
	sl.runner = getenv("FLAME_RUNNER_ID");
	sl.pool = getenv("FLAME_POOL");
	if (!sl.runner)
		sl.runner = "ssh";
	if (!sl.pool)
		sl.pool = "ssh";
	job_reset_signals();
	signal(SIGPIPE, SIG_IGN);
	sl.out = rendezvous(token, &sl.partner, err, sizeof err);
	if (sl.out < 0) {
		msg("agent slot in: %s", err);
		return EXIT_FAILURE_FLAME;
	}
	if (!sl.root) {
		/* per runner, like the local agent's: job ids restart per runner */
		char *top = paths_scratch_root(err, sizeof err);
		scratch = top ? xasprintf("%s/%s", top, sl.runner) : NULL;
		free(top);
		if (!scratch || paths_private_dir(scratch, err, sizeof err) < 0) {
			msg("agent slot in: %s", err);
			free(scratch);
			close(sl.out);
			return EXIT_FAILURE_FLAME;
		}
		sl.root = scratch;
	}
	/* from here on, this is the keeper's child; without one (no fork), a
	 * slot killed with its partner would leave its job running */
	slot_keeper_start(token, sl.root, scratch != NULL, &sl.keeper);
	wire_conn_init(&sl.in, 0);
	wire_conn_want_hello(&sl.in);
	wbuf_init(&w, W_READY);
	wbuf_i64(&w, getpid());
	rc = wire_send_hello(sl.out, "slot") < 0 ? -1 : wire_send(sl.out, &w);
	wbuf_free(&w);
	if (rc == 0)
		rc = slot_loop(&sl);
	if (sl.busy) {
		/* the link is gone: the job ends here (leader_exited kills the
		 * group), and ends for `slot out` and the agent as any job does */
		if (!sl.job.exited)
			leader_exited(&sl.job);
		job_collect(sl.job.scratch, NULL, -1, -1);
		free_job(&sl.job);
		tell_partner(&sl, 0);
	}
	wire_conn_free(&sl.in);
	close(sl.out);
	if (sl.partner >= 0)
		close(sl.partner);
	if (sl.keeper >= 0)
		close(sl.keeper);
	if (scratch)
		rmdir(scratch); /* the runner's directory, once its last slot is gone */
	free(scratch);
	return rc;
}

int cmd_agent_slot(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "in"))
		return slot_in(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "out"))
		return slot_out(argv[2]);
	if (argc == 7 && !strcmp(argv[1], "keep"))
		return slot_keeper_main(argc - 1, argv + 1);
	msg("agent slot: usage: flame agent slot in|out TOKEN (started by the warmer over SSH)");
	return EXIT_USAGE;
}
