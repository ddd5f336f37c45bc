/* agent_local.c — `flame agent local`: a local runner's main process.
 *
 * It takes jobs from the warmer over the socket it was started with, starts
 * each command as its own child (lib/agent/job_exec.h), runs it through its
 * life (lib/agent/job_life.h), watches it through a pidfd,
 * passes signals on to the job's process group, enforces the timeout, and
 * reports each job's end.  It exits when the warmer asks, when the warmer goes
 * away (killing its jobs: nothing outlives its owner), or when it has been
 * idle for the failsafe period. */
#include "cmds.h"
#include "files.h"
#include "flame_limits.h"
#include "job_frame.h"
#include "agent/job_exec.h"
#include "agent/job_life.h"
#include "agent/job_run.h"
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
#include <sys/wait.h>
#include <unistd.h>

#define MAX_JOBS LIMIT_CONCURRENCY
#define STOP_GRACE_MS 10000

struct agent_job {
	uint32_t id;
	struct job_life life;
	pid_t pid; /* the command, then the collector */
	int pidfd;
	char *scratch;
	char **gets;
	int getdir_fd, err_fd; /* kept only while there is something to fetch */
	unsigned get_umask;    /* the caller's, for the fetched files' modes */
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

/* Says the job's end, once its life has one to say. */
static void report(struct agent *a, struct agent_job *j)
{
	(void)job_run_report(a->warmer.fd, j->id, &j->life);
}

static struct agent_job *find_job(struct agent *a, uint32_t id)
{
	for (int i = 0; i < a->njobs; i++)
		if (a->jobs[i]->id == id)
			return a->jobs[i];
	return NULL;
}

static int parse_job(struct rbuf *r, int *fds, int nfds, struct job_spec *s, unsigned *umask)
{
	int rc = job_spec_read(r, s), has_getdir = s->get_word != 0;

	*umask = files_get_word_umask(s->get_word);
	if (rc < 0 || nfds != s->nfds)
		return -1;
	memcpy(s->stdio, fds, sizeof s->stdio);
	s->getdir_fd = has_getdir ? fds[JOB_FD_FILES] : -1;
	s->put_fds = fds + JOB_FD_FILES + has_getdir;
	return 0;
}

static void free_job(struct agent_job *j)
{
	if (j->pidfd >= 0)
		close(j->pidfd);
	if (j->getdir_fd >= 0)
		close(j->getdir_fd);
	if (j->err_fd >= 0)
		close(j->err_fd);
	strv_free(j->gets);
	free(j->scratch);
	free(j);
}

static void start_job(struct agent *a, struct rbuf *r, int *fds, int nfds)
{
	struct job_spec spec;
	struct agent_job *j;
	unsigned umask;

	if (parse_job(r, fds, nfds, &spec, &umask) < 0 || a->njobs >= MAX_JOBS || a->stopping) {
		(void)job_run_refuse(a->warmer.fd, spec.id);
		job_spec_free(&spec);
		close_fds(fds, nfds);
		return;
	}
	job_run_environment(&spec, a->pool, a->runner);
	j = xcalloc(1, sizeof *j);
	j->id = spec.id;
	job_life_init(&j->life, spec.timeout_ms);
	j->pidfd = j->getdir_fd = j->err_fd = -1;
	j->scratch = xasprintf("%s/job-%u", a->root, spec.id);
	spec.scratch = j->scratch;
	if (spec.nput == 0) {
		/* The common case, and the fast one: nothing to copy first. */
		int status = 0;
		j->pid = job_spawn(&spec, &status);
		if (j->pid < 0) {
			job_life_start_failed(&j->life, status, 0);
			report(a, j);
			free_job(j);
			close_fds(fds, nfds);
			job_spec_free(&spec);
			return;
		}
	} else {
		j->pid = fork();
		if (j->pid == 0)
			job_exec_child(&spec);
	}
	if (j->pid > 0)
		j->pidfd = job_run_watch(j->pid);
	if (j->pid < 0 || j->pidfd < 0) {
		if (j->pid > 0)
			kill(-j->pid, SIGKILL);
		job_life_start_failed(&j->life, 0, JOB_SETUP_FAILED);
		report(a, j);
		free_job(j);
	} else {
		if (spec.get_patterns[0]) {
			/* keep what the collector needs */
			j->gets = spec.get_patterns;
			spec.get_patterns = NULL;
			j->getdir_fd = dup(spec.getdir_fd);
			j->get_umask = umask;
		}
		j->err_fd = fcntl(spec.stdio[2], F_DUPFD_CLOEXEC, 3);
		job_life_started(&j->life, now_ms());
		a->jobs[a->njobs++] = j;
	}
	close_fds(fds, nfds);
	job_spec_free(&spec);
}

/* Does what the job's life asks after a signal or a cancel: signal the
 * command's group, or, once the command has exited, stop its --get (the
 * caller pressed Ctrl-C, or went away).  The collector drops the file it is
 * writing, removes the job's directory and exits; the job then ends as if
 * killed by that signal. */
static void act_on(struct agent_job *j, int act)
{
	if (act > 0)
		kill(-j->pid, act);
	else if (act == JOB_STOP_GET)
		kill(j->pid, SIGTERM);
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
	if (type == W_JOB_SIGNAL)
		act_on(j, job_life_signal(&j->life, (int)rbuf_u32(r)));
	else if (type == W_JOB_CANCEL)
		act_on(j, job_life_cancel(&j->life));
}

static void kill_all(struct agent *a)
{
	for (int i = 0; i < a->njobs; i++)
		act_on(a->jobs[i], job_life_cancel(&a->jobs[i]->life));
}

static void remove_job(struct agent *a, int i)
{
	free_job(a->jobs[i]);
	a->jobs[i] = a->jobs[--a->njobs];
	if (a->njobs == 0)
		a->idle_since = now_ms();
}

static void reap(pid_t pid, int *status)
{
	while (waitpid(pid, status, 0) < 0 && errno == EINTR)
		;
}

static void on_collector_term(int sig)
{
	(void)sig;
	files_get_stop();
}

/* Forks the child that fetches the --get files and removes the job's
 * directory.  SIGTERM stops its fetching (stop_collecting); it is blocked
 * until the child's handler is in place, so none is lost. */
static pid_t collector(struct agent_job *j)
{
	sigset_t term, old;
	pid_t pid;

	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigprocmask(SIG_BLOCK, &term, &old);
	pid = fork();
	if (pid == 0) {
		signal(SIGTERM, on_collector_term);
		sigprocmask(SIG_SETMASK, &old, NULL);
		_exit((int)job_collect_masked(j->scratch, j->gets, j->getdir_fd, j->err_fd, j->get_umask));
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	return pid;
}

/* The command is over: fetch and clean up in a child when there is work. */
static int command_exited(struct agent *a, struct agent_job *j)
{
	/* Whatever the command left in its group goes with it. */
	job_run_end_group(&j->life, j->pid);
	close(j->pidfd);
	j->pidfd = -1;
	if (!j->gets && (rmdir(j->scratch) == 0 || errno == ENOENT)) {
		job_life_collected(&j->life, 0);
		report(a, j);
		return 1;
	}
	j->pid = collector(j);
	if (j->pid < 0 || (j->pidfd = job_run_pidfd(j->pid)) < 0) {
		job_life_collected(&j->life, JOB_GET_FAILED);
		report(a, j);
		return 1;
	}
	return 0;
}

static int collector_exited(struct agent *a, struct agent_job *j)
{
	int st = 0;
	reap(j->pid, &st);
	job_life_collected(&j->life, WIFEXITED(st) ? (uint32_t)WEXITSTATUS(st) : JOB_GET_FAILED);
	report(a, j);
	return 1;
}

static int take_warmer_frame(void *a, uint8_t type, struct rbuf *r, int *fds, int nfds)
{
	on_warmer_frame(a, type, r, fds, nfds);
	return 0;
}

static int on_warmer(struct agent *a)
{
	int rc = wire_conn_pump(&a->warmer, take_warmer_frame, a);

	if (rc < 0 && errno == EPROTO) {
		char why[512];
		wire_peer_refusal(&a->warmer.peer, "the warmer", "stop it ('flame warmer stop')", why,
		                  sizeof why);
		msg("agent %s: %s", a->runner, why);
	}
	return rc > 0 ? 0 : -1;
}

static int64_t poll_wait(struct agent *a, int64_t now)
{
	int64_t t = now + 1000;
	for (int i = 0; i < a->njobs; i++)
		if (a->jobs[i]->life.deadline && a->jobs[i]->life.deadline < t)
			t = a->jobs[i]->life.deadline;
	return t > now ? t - now : 0;
}

static int agent_loop(struct agent *a)
{
	struct pollfd pfd[MAX_JOBS + 1];

	for (;;) {
		int64_t now = now_ms();
		int n;
		if (got_term && !a->stopping) {
			a->stopping = 1;
			a->stop_deadline = now + STOP_GRACE_MS;
		}
		if (a->stopping && a->njobs == 0)
			return 0;
		if (a->stop_deadline && now >= a->stop_deadline)
			kill_all(a);
		if (a->njobs == 0 && now - a->idle_since >= a->idle_ms)
			return 0; /* failsafe: the warmer should have stopped us */
		for (int i = 0; i < a->njobs; i++)
			job_run_timeout(&a->jobs[i]->life, a->jobs[i]->pid, now);
		pfd[0].fd = a->warmer.fd;
		pfd[0].events = POLLIN;
		for (int i = 0; i < a->njobs; i++) {
			pfd[i + 1].fd = a->jobs[i]->pidfd;
			pfd[i + 1].events = POLLIN;
		}
		n = a->njobs;
		if (poll(pfd, (nfds_t)n + 1, (int)poll_wait(a, now)) < 0) {
			if (errno == EINTR)
				continue;
			return 1;
		}
		for (int i = n - 1; i >= 0; i--) {
			struct agent_job *j = a->jobs[i];
			int done;
			if (!pfd[i + 1].revents)
				continue;
			done = j->life.phase == JOB_RUNNING ? command_exited(a, j) : collector_exited(a, j);
			if (done)
				remove_job(a, i);
		}
		if (pfd[0].revents && on_warmer(a) < 0)
			return 0;
	}
}

static void shut_down(struct agent *a)
{
	kill_all(a);
	while (a->njobs > 0) {
		struct agent_job *j = a->jobs[a->njobs - 1];
		int st;
		reap(j->pid, &st);
		if (j->life.phase == JOB_RUNNING)
			paths_remove_tree(j->scratch);
		remove_job(a, a->njobs - 1);
	}
	wire_conn_free(&a->warmer);
	paths_remove_tree(a->root);
}

int cmd_agent_local(int argc, char **argv)
{
	/* one option a line: clang-format 14 would pack short rows */
	/* clang-format off */
	static const struct option opts[] = {
		{ "fd", required_argument, NULL, 'f' },
		{ "runner", required_argument, NULL, 'r' },
		{ "root", required_argument, NULL, 'd' },
		{ "idle-ms", required_argument, NULL, 'i' },
		{ "pool", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	/* clang-format on */
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
		if (c == 'i' && parse_long(optarg, 1, 1L << 40, &idle) == 0)
			continue;
		if (c == 'r')
			a.runner = optarg;
		else if (c == 'd')
			a.root = optarg;
		else if (c == 'p')
			a.pool = optarg;
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
	wire_conn_want_hello(&a.warmer);
	set_cloexec((int)fd);
	a.idle_ms = idle;
	a.idle_since = now_ms();
	if (paths_private_dir(a.root, err, sizeof err) < 0) {
		msg("agent %s: %s", a.runner, err);
		return EXIT_FAILURE_FLAME;
	}
	wbuf_init(&w, W_READY);
	wbuf_i64(&w, getpid());
	rc = wire_send_hello((int)fd, "agent local") < 0 ? -1 : wire_send((int)fd, &w);
	wbuf_free(&w);
	if (rc == 0)
		rc = agent_loop(&a);
	shut_down(&a);
	return rc;
}
