/* slot.c — a job slot's `slot in`: the loop that reads the warmer's frames
 * and runs one job at a time, its pipes relayed as frames, its timeout,
 * heartbeats (see slot.h). */
#include "slot.h"
#include "files_put.h"
#include "beat.h"
#include "flame_limits.h"
#include "job_exec.h"
#include "job_run.h"
#include "paths.h"
#include "slot_keeper.h"
#include "util.h"
#include "wire.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define STDIN_CAP (8u << 20) /* read-ahead, so signals get past unread stdin */
#define PING_MS 4000         /* the link gives up after 15 s of silence */

int slot_send_frame(int fd, enum wire_type t, uint32_t id, const void *p, size_t n)
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
		job_life_start_failed(&j->life, 0, JOB_SETUP_FAILED);
		job_run_report(out, spec->id, &j->life);
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
	if (j->pid > 0)
		j->pidfd = job_run_watch(j->pid);
	if (j->pid < 0 || j->pidfd < 0) {
		char buf[4096];
		ssize_t n;
		if (j->pid > 0)
			kill(-j->pid, SIGKILL);
		/* job_spawn wrote why on the job's stderr: pass it on */
		set_nonblock(j->err_fd, 1);
		while ((n = read(j->err_fd, buf, sizeof buf)) > 0)
			slot_send_frame(out, W_ERR, j->id, buf, (size_t)n);
		job_life_start_failed(&j->life, status, j->pid < 0 ? 0 : JOB_SETUP_FAILED);
		job_run_report(out, j->id, &j->life);
		return -1;
	}
	job_life_started(&j->life, now_ms());
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
		j->pcap = j->plen + n + SLOT_CHUNK;
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
	char buf[SLOT_CHUNK];
	ssize_t n = read(*fd, buf, sizeof buf);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 1;
	if (n <= 0) {
		close_fd(fd);
		return 0;
	}
	return slot_send_frame(out, t, id, buf, (size_t)n) < 0 ? -1 : 1;
}

static void enforce_timeout(struct slot_job *j)
{
	job_run_timeout(&j->life, j->pid, now_ms());
}

/* The leader is gone: kill the rest of its group (the id cannot be reused
 * before the leader is reaped), then let the pipes drain. */
static void leader_exited(struct slot_job *j)
{
	job_run_end_group(&j->life, j->pid);
	close_fd(&j->pidfd);
	close_fd(&j->in_fd);
}

/* --put files come as frames before the job starts. */
static int parse_job(struct rbuf *r, struct job_spec *s)
{
	if (job_spec_read(r, s) < 0)
		return -1;
	for (int i = 0; i < s->nput; i++)
		if (files_put_name_problem(s->put_names[i]))
			return -1;
	return 0;
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

/* A W_JOB: refused when busy; else its --put files come in, then it starts. */
static void take_job(struct slot *sl, struct rbuf *r)
{
	struct slot_job *j = &sl->job;
	struct job_spec spec;

	/* read even when busy: the refusal names the job it refuses */
	if (parse_job(r, &spec) < 0 || sl->busy) {
		job_run_refuse(sl->out, spec.id);
		job_spec_free(&spec);
		return;
	}
	job_run_environment(&spec, sl->pool, sl->runner);
	job_life_init(&j->life, spec.timeout_ms);
	/* before its directory is made: the keeper removes it if we die */
	slot_keeper_tell(sl->keeper, spec.id, 0);
	if (spec.nput > 0) {
		char *scratch = xasprintf("%s/job-%u", sl->root, spec.id);
		int rc = slot_receive_puts(sl, &spec, scratch);
		if (rc == -2) /* the link went away while files came in */
			job_collect(scratch, NULL, -1, -1);
		free(scratch);
		if (rc < 0) {
			/* a write failed, or the job was cancelled (job_life_cancel) */
			job_life_start_failed(&j->life, 0, JOB_SETUP_FAILED);
			if (rc == -1)
				job_run_report(sl->out, spec.id, &j->life);
			else
				sl->gone = 1;
			slot_keeper_tell(sl->keeper, 0, 0);
			free_job(j);
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
			j->gets = spec.get_patterns; /* kept for slot_finish() */
			spec.get_patterns = NULL;
		}
	}
	job_spec_free(&spec);
}

static void on_frame(struct slot *sl, uint8_t type, struct rbuf *r)
{
	struct slot_job *j = &sl->job;
	uint32_t id;

	if (type == W_JOB) {
		take_job(sl, r);
		return;
	}
	id = rbuf_u32(r);
	if (!sl->busy || id != j->id || r->bad)
		return; /* late frames of a finished job */
	if (type == W_STDIN)
		queue_stdin(j, r);
	else if (type == W_STDIN_EOF)
		j->stdin_eof = 1;
	else if (type == W_JOB_SIGNAL || type == W_JOB_CANCEL) {
		int act = type == W_JOB_CANCEL ? job_life_cancel(&j->life)
		                               : job_life_signal(&j->life, (int)rbuf_u32(r));
		if (act > 0)
			kill(-j->pid, act);
		else if (act == JOB_STOP_GET && !sl->get_stop)
			sl->get_stop = 1; /* what would have ended the command ends its --get */
	}
}

static int take_link_frame(void *ctx, uint8_t type, struct rbuf *r, int *fds, int nfds)
{
	struct slot *sl = ctx;

	close_fds(fds, nfds);
	agent_beat_heard();
	on_frame(sl, type, r);
	return sl->gone;
}

/* Reads frames from the link; -1 when it is gone. */
int slot_read_link(struct slot *sl)
{
	int rc = wire_conn_pump(&sl->in, take_link_frame, sl);

	if (rc < 0 && errno == EPROTO) {
		char why[512];
		wire_peer_refusal(&sl->in.peer, "the link", "use one flame version on both ends", why,
		                  sizeof why);
		msg("agent slot in: %s", why);
	}
	return rc == 1 ? 0 : -1;
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
			if (j->life.phase != JOB_RUNNING && j->out_fd < 0 && j->err_fd < 0) {
				if (slot_finish(sl) < 0)
					return 0;
				free_job(j);
				sl->busy = 0;
				tell_partner(sl, 0);
				continue;
			}
			if (j->life.deadline)
				wait = j->life.deadline - now_ms() > 0 ? j->life.deadline - now_ms() : 0;
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
		if (i_in >= 0 && p[i_in].revents && slot_read_link(sl) < 0)
			return 0; /* the link is gone */
	}
}

int slot_in(const char *token)
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
	sl.out = slot_rendezvous(token, &sl.partner, err, sizeof err);
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
		if (sl.job.life.phase == JOB_RUNNING)
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
