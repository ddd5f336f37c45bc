/* agent.c — `flame agent local`: a local runner's main process.
 *
 * It takes jobs from the warmer over the socket it was started with, runs
 * each in a wrapper process (lib/job.c), passes signals on to the job's
 * process group, and reports each job's end.  It exits when the warmer asks,
 * when the warmer goes away (killing its jobs: nothing outlives its owner), or
 * when it has been idle for the failsafe period. */
#include "cmds.h"
#include "job.h"
#include "paths.h"
#include "util.h"
#include "wire.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_JOBS 1024

struct agent_job {
	uint32_t id;
	pid_t wrapper;
	pid_t pgid;
	int pending_sig;
	int done_sent;
	struct wire_conn report;
};

struct agent {
	struct wire_conn warmer;
	char *runner, *root, *pool;
	int64_t idle_ms, idle_since;
	int stopping;
	int64_t stop_deadline;
	struct agent_job *jobs[MAX_JOBS];
	int njobs;
};

static volatile sig_atomic_t got_term;

static void on_term(int sig)
{
	(void)sig;
	got_term = 1;
}

static void send_done(struct agent *a, struct agent_job *j, int64_t status, int64_t flags)
{
	struct wbuf w;
	if (j->done_sent)
		return;
	j->done_sent = 1;
	wbuf_init(&w, W_JOB_DONE);
	wbuf_u32(&w, j->id);
	wbuf_i64(&w, status);
	wbuf_i64(&w, flags);
	(void)wire_send(a->warmer.fd, &w);
	wbuf_free(&w);
}

static struct agent_job *find_job(struct agent *a, uint32_t id)
{
	for (int i = 0; i < a->njobs; i++)
		if (a->jobs[i]->id == id)
			return a->jobs[i];
	return NULL;
}

static void signal_job(struct agent_job *j, int sig)
{
	if (j->pgid > 0)
		kill(-j->pgid, sig);
	else
		j->pending_sig = sig;
}

static void __attribute__((noreturn)) run_wrapper(struct agent *a, struct job_spec *spec, int report_fd)
{
	close(a->warmer.fd);
	for (int i = 0; i < a->njobs; i++)
		close(a->jobs[i]->report.fd);
	signal(SIGTERM, SIG_DFL);
	job_run(spec, report_fd);
}

static int parse_job(struct rbuf *r, int *fds, int nfds, struct job_spec *s)
{
	uint32_t has_getdir;
	int need;

	memset(s, 0, sizeof *s);
	s->id = rbuf_u32(r);
	s->timeout_ms = rbuf_i64(r);
	s->argv = rbuf_strv(r, 1 << 20);
	s->env = rbuf_strv(r, 1 << 16);
	s->put_names = rbuf_strv(r, WIRE_MAX_FDS);
	s->get_patterns = rbuf_strv(r, 4096);
	has_getdir = rbuf_u32(r);
	s->nput = (int)strv_len(s->put_names);
	need = 3 + (has_getdir ? 1 : 0) + s->nput;
	if (r->bad || !s->argv[0] || !s->argv[0][0] || nfds != need)
		return -1;
	memcpy(s->stdio, fds, sizeof s->stdio);
	s->getdir_fd = has_getdir ? fds[3] : -1;
	s->put_fds = fds + 3 + (has_getdir ? 1 : 0);
	return 0;
}

static void free_spec(struct job_spec *s)
{
	strv_free(s->argv);
	strv_free(s->env);
	strv_free(s->put_names);
	strv_free(s->get_patterns);
}

static void start_job(struct agent *a, struct rbuf *r, int *fds, int nfds)
{
	struct job_spec spec;
	struct agent_job *j;
	int pipefd[2];
	char *scratch;

	if (parse_job(r, fds, nfds, &spec) < 0 || a->njobs >= MAX_JOBS || a->stopping) {
		struct agent_job bad = { .id = spec.id };
		send_done(a, &bad, 0, JOB_SETUP_FAILED);
		free_spec(&spec);
		close_fds(fds, nfds);
		return;
	}
	{
		char **env = job_environment(spec.env, a->pool, a->runner, spec.id);
		strv_free(spec.env);
		spec.env = env;
	}
	scratch = xasprintf("%s/job-%u", a->root, spec.id);
	spec.scratch = scratch;
	j = xcalloc(1, sizeof *j);
	j->id = spec.id;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pipefd) < 0 ||
	    (j->wrapper = fork()) < 0) {
		send_done(a, j, 0, JOB_SETUP_FAILED);
		free(j);
	} else if (j->wrapper == 0) {
		close(pipefd[0]);
		run_wrapper(a, &spec, pipefd[1]);
	} else {
		close(pipefd[1]);
		wire_conn_init(&j->report, pipefd[0]);
		a->jobs[a->njobs++] = j;
	}
	close_fds(fds, nfds);
	free(scratch);
	free_spec(&spec);
}

static void on_warmer_frame(struct agent *a, uint8_t type, struct rbuf *r, int *fds, int nfds)
{
	struct agent_job *j;
	uint32_t id;

	if (type == W_JOB) {
		start_job(a, r, fds, nfds);
		return;
	}
	close_fds(fds, nfds);
	if (type == W_AGENT_STOP) {
		a->stopping = 1;
		return;
	}
	id = rbuf_u32(r);
	j = find_job(a, id);
	if (!j || r->bad)
		return;
	if (type == W_JOB_SIGNAL) {
		uint32_t sig = rbuf_u32(r);
		if (sig > 0 && sig < 65)
			signal_job(j, (int)sig);
	} else if (type == W_JOB_CANCEL) {
		signal_job(j, SIGKILL);
	}
}

static void kill_all(struct agent *a)
{
	for (int i = 0; i < a->njobs; i++)
		if (a->jobs[i]->pgid > 0)
			kill(-a->jobs[i]->pgid, SIGKILL);
}

static void drop_job(struct agent *a, int i)
{
	struct agent_job *j = a->jobs[i];
	int st;
	send_done(a, j, 0, JOB_SETUP_FAILED);
	close(j->report.fd);
	wire_conn_free(&j->report);
	while (waitpid(j->wrapper, &st, 0) < 0 && errno == EINTR)
		;
	free(j);
	a->jobs[i] = a->jobs[--a->njobs];
	if (a->njobs == 0)
		a->idle_since = now_ms();
}

/* Returns 1 when the job's report stream has ended. */
static int on_report(struct agent *a, struct agent_job *j)
{
	uint8_t type;
	struct rbuf r = { 0 };
	int fds[WIRE_MAX_FDS], nfds, rc = wire_conn_fill(&j->report);

	if (rc == 0 || (rc < 0 && errno != EAGAIN))
		return 1;
	while ((rc = wire_conn_next(&j->report, &type, &r, fds, &nfds)) == 1) {
		int64_t x = rbuf_i64(&r), y = rbuf_i64(&r);
		close_fds(fds, nfds);
		if (type == W_JOB_PGID) {
			j->pgid = (pid_t)x;
			if (j->pending_sig)
				kill(-j->pgid, j->pending_sig);
		} else if (type == W_JOB_DONE) {
			j->pgid = 0;
			send_done(a, j, x, y);
		}
	}
	return rc < 0;
}

static int on_warmer(struct agent *a)
{
	uint8_t type;
	struct rbuf r = { 0 };
	int fds[WIRE_MAX_FDS], nfds, rc = wire_conn_fill(&a->warmer);

	if (rc == 0 || (rc < 0 && errno != EAGAIN))
		return -1;
	while ((rc = wire_conn_next(&a->warmer, &type, &r, fds, &nfds)) == 1)
		on_warmer_frame(a, type, &r, fds, nfds);
	return rc < 0 ? -1 : 0;
}

static int agent_loop(struct agent *a)
{
	struct pollfd pfd[MAX_JOBS + 1];

	for (;;) {
		int64_t now = now_ms(), wait = 1000;
		if (got_term && !a->stopping) {
			a->stopping = 1;
			a->stop_deadline = now + 10000;
		}
		if (a->stopping && a->njobs == 0)
			return 0;
		if (a->stop_deadline && now >= a->stop_deadline)
			kill_all(a);
		if (a->njobs == 0 && now - a->idle_since >= a->idle_ms)
			return 0; /* failsafe: the warmer should have stopped us */
		pfd[0].fd = a->warmer.fd;
		pfd[0].events = POLLIN;
		for (int i = 0; i < a->njobs; i++) {
			pfd[i + 1].fd = a->jobs[i]->report.fd;
			pfd[i + 1].events = POLLIN;
		}
		if (poll(pfd, (nfds_t)a->njobs + 1, (int)wait) < 0) {
			if (errno == EINTR)
				continue;
			return 1;
		}
		if (pfd[0].revents && on_warmer(a) < 0) {
			kill_all(a);
			return 0;
		}
		for (int i = a->njobs - 1; i >= 0; i--)
			if (pfd[i + 1].revents && pfd[i + 1].fd == a->jobs[i]->report.fd &&
			    on_report(a, a->jobs[i]))
				drop_job(a, i);
	}
}

static int agent_local(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "fd", required_argument, NULL, 'f' },
		{ "runner", required_argument, NULL, 'r' },
		{ "root", required_argument, NULL, 'd' },
		{ "idle-ms", required_argument, NULL, 'i' },
		{ "pool", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 }
	};
	struct agent a;
	long fd = -1, idle = 60000;
	int c, rc;
	struct wbuf w;
	char err[512];

	memset(&a, 0, sizeof a);
	optind = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'f' && parse_long(optarg, 3, 1 << 20, &fd) == 0)
			continue;
		if (c == 'r')
			a.runner = optarg;
		else if (c == 'd')
			a.root = optarg;
		else if (c == 'p')
			a.pool = optarg;
		else if (c == 'i' && parse_long(optarg, 1, 1L << 40, &idle) == 0)
			continue;
		else {
			msg("agent: bad arguments; the agent is started by the warmer, not by hand");
			return EXIT_USAGE;
		}
	}
	if (fd < 0 || !a.runner || !a.root || !a.pool) {
		msg("agent: --fd, --runner, --root and --pool are required; the agent is started by the warmer");
		return EXIT_USAGE;
	}
	job_reset_signals();
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, on_term);
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	wire_conn_init(&a.warmer, (int)fd);
	set_cloexec((int)fd);
	a.idle_ms = idle;
	a.idle_since = now_ms();
	if (paths_private_dir(a.root, err, sizeof err) < 0) {
		msg("agent %s: %s", a.runner, err);
		return EXIT_FAILURE_FLAME;
	}
	wbuf_init(&w, W_READY);
	wbuf_i64(&w, getpid());
	rc = wire_send((int)fd, &w);
	wbuf_free(&w);
	if (rc == 0)
		rc = agent_loop(&a);
	kill_all(&a);
	while (a.njobs > 0)
		drop_job(&a, a.njobs - 1);
	wire_conn_free(&a.warmer);
	paths_remove_tree(a.root);
	return rc;
}

int cmd_agent(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "local"))
		return agent_local(argc - 1, argv + 1);
	msg("agent: unknown mode; the agent is internal and started by the warmer");
	return EXIT_USAGE;
}
