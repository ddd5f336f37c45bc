/* run.c — `flame run`: hand one command to the pool's warmer and behave like
 * that command: same stdin, stdout, stderr (passed as descriptors, so bytes
 * never pass through flame), same exit status, signals passed on. */
#include "cmds.h"
#include "client.h"
#include "commands.h"
#include "config.h"
#include "duration.h"
#include "client_job.h"
#include "job.h"
#include "job_frame.h"
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
#include <time.h>
#include <unistd.h>

struct run_opts {
	const char *pool, *get_dir, *sh;
	char **puts;
	int nput;
	char **gets, **envs;
	size_t nget, nenv;
	int64_t timeout_ms, slot_ms;
	int verbose;
	char **argv;
};

/* wait_for_job: the connection ended before the warmer took the job */
#define NOT_HANDED_ON (-2)
/* the warmer speaks another protocol (said on stderr) */
#define OTHER_PROTOCOL (-3)
/* the connection ended before the warmer's hello (see closed_before_hello) */
#define CLOSED_BEFORE_HELLO (-4)
#define HAND_ON_TRIES 20

static int sigpipe_fds[2] = { -1, -1 };
static const int forwarded[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 };

static void on_signal(int sig)
{
	unsigned char b = (unsigned char)sig;
	int e = errno;
	(void)!write(sigpipe_fds[1], &b, 1);
	errno = e;
}

static int parse_run_opts(int argc, char **argv, struct run_opts *o)
{
	struct cmd_parser parser;
	int c;

	cmd_parser_init(&parser, "run");
	while ((c = cmd_parser_next(&parser, argc, argv)) != CMD_END) {
		switch (c) {
		case 'p': o->pool = optarg; break;
		case OPT_PUT: {
			size_t n = (size_t)o->nput;
			strv_push(&o->puts, &n, optarg);
			o->nput = (int)n;
			break;
		}
		case OPT_GET: strv_push(&o->gets, &o->nget, optarg); break;
		case OPT_GET_DIR: o->get_dir = optarg; break;
		case 'e': strv_push(&o->envs, &o->nenv, optarg); break;
		case 't':
			if (cmd_parse_duration("run", "--timeout", optarg, &o->timeout_ms) < 0)
				return EXIT_USAGE;
			break;
		case OPT_SLOT_TIMEOUT:
			if (cmd_parse_duration("run", "--slot-timeout", optarg, &o->slot_ms) < 0)
				return EXIT_USAGE;
			break;
		case OPT_SH: o->sh = optarg; break;
		case 'v': o->verbose = 1; break;
		case CMD_HELP: return -2;
		default: return EXIT_USAGE; /* CMD_BAD: said why */
		}
	}
	o->argv = argv + optind;
	if (o->sh && o->argv[0])
		return cmd_usage_error("run", "--sh takes the whole command; drop '%s' or --sh", o->argv[0]);
	if (!o->sh && !o->argv[0])
		return cmd_usage_error("run", "%s", "missing command: flame run [OPTIONS] -- CMD [ARG...]");
	return 0;
}

static int build_request(const struct run_opts *o, const struct pool_settings *ps, struct wbuf *w)
{
	char *sh_argv[] = { "/bin/sh", "-c", (char *)o->sh, NULL };
	char **env = client_job_env(o->envs, o->nenv, "run");
	struct client_job job = { .argv = o->sh ? sh_argv : o->argv,
		                  .env = env,
		                  .puts = o->puts,
		                  .nput = o->nput,
		                  .gets = o->gets,
		                  .nget = o->nget,
		                  .get_dir = o->get_dir,
		                  .timeout_ms = o->timeout_ms,
		                  .slot_ms = o->slot_ms,
		                  .flags = o->verbose ? RUN_WANT_STARTED : 0,
		                  .stdio = { 0, 1, 2 } };
	int rc;

	if (!env)
		return EXIT_USAGE;
	rc = client_job_request(&job, ps, "run", w);
	strv_free(env);
	return rc;
}

static void install_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };
	sigemptyset(&sa.sa_mask);
	signal(SIGPIPE, SIG_IGN);
	for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++)
		sigaction(forwarded[i], &sa, NULL);
}

static void send_signal(int sock, int sig)
{
	struct wbuf w;
	wbuf_init(&w, W_SIGNAL);
	wbuf_u32(&w, (uint32_t)sig);
	(void)wire_send(sock, &w);
	wbuf_free(&w);
}

static int on_frame(uint8_t type, struct rbuf *r, const struct run_opts *o, int *accepted)
{
	if (type != W_ACCEPTED && type != W_DONE && type != W_ERROR && type != W_STARTED)
		return -1;
	*accepted = 1;
	if (type == W_STARTED) {
		char *runner = rbuf_str(r);
		uint32_t job = rbuf_u32(r);
		int64_t waited = rbuf_i64(r);
		if (o->verbose)
			msg("job %u on runner %s (waited %lld ms for a slot)", job, runner,
			    (long long)waited);
		free(runner);
		return -1;
	}
	if (type == W_DONE) {
		int64_t status = rbuf_i64(r), flags = rbuf_i64(r);
		if (flags & JOB_TIMED_OUT) {
			char d[32];
			duration_format(o->timeout_ms, d, sizeof d);
			msg("timed out after %s; the job was killed", d);
		}
		return job_exit_code((int)status, (uint32_t)flags);
	}
	if (type == W_ERROR) {
		uint32_t code = rbuf_u32(r);
		char *text = rbuf_str(r);
		if (text[0]) /* empty: a signal ended a caller still waiting for a slot */
			msg("%s", text);
		free(text);
		return code ? (int)code : EXIT_FAILURE_FLAME;
	}
	return -1;
}

static void refuse_warmer(const struct wire_conn *conn)
{
	char err[512];
	client_refusal(conn, err, sizeof err);
	msg("%s", err);
}

struct waiting {
	const struct run_opts *o;
	int accepted, code;
};

static int take_job_frame(void *ctx, uint8_t type, struct rbuf *r, int *fds, int nfds)
{
	struct waiting *w = ctx;

	close_fds(fds, nfds);
	w->code = on_frame(type, r, w->o, &w->accepted);
	return w->code >= 0;
}

/* Signals always go to the warmer: it passes them to the job, or ends a
 * caller still waiting for a slot with 128+N.  A connection that ends before
 * W_ACCEPTED means the warmer did not take the job (wire.h): NOT_HANDED_ON,
 * unless a signal asked us to give up meanwhile (128+N then). */
static int wait_for_job(int sock, const struct run_opts *o)
{
	struct wire_conn conn;
	struct waiting w = { .o = o, .code = -1 };
	int last_sig = 0;

	client_conn_init(&conn, sock);
	while (w.code < 0) {
		struct pollfd pfd[2] = { { .fd = sock, .events = POLLIN },
			                 { .fd = sigpipe_fds[0], .events = POLLIN } };
		unsigned char sig;
		int rc, ended;

		if (poll(pfd, 2, -1) < 0 && errno != EINTR)
			break;
		if ((pfd[1].revents & POLLIN) && read(sigpipe_fds[0], &sig, 1) == 1) {
			send_signal(sock, sig);
			last_sig = sig;
		}
		if (!(pfd[0].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		rc = wire_conn_pump(&conn, take_job_frame, &w);
		/* EOF or a failed read (EPROTO, EBADMSG: what was read) */
		ended = rc == 0 || (rc < 0 && errno != EPROTO && errno != EBADMSG);
		if (ended && !w.accepted) {
			w.code = last_sig                      ? 128 + last_sig
			         : wire_conn_hello_done(&conn) ? NOT_HANDED_ON
			                                       : CLOSED_BEFORE_HELLO;
			break;
		}
		if (ended) {
			char *log = client_log_path();
			msg("lost the warmer before the job finished; see %s", log);
			free(log);
			w.code = EXIT_FAILURE_FLAME;
			break;
		}
		if (rc < 0 && errno == EPROTO) {
			refuse_warmer(&conn);
			w.code = OTHER_PROTOCOL; /* (< 0 like the codes that go on waiting) */
			break;
		}
	}
	wire_conn_free(&conn);
	return w.code;
}

static void ensure_std_fds(void)
{
	for (int i = 0; i < 3; i++)
		if (fcntl(i, F_GETFD) < 0) {
			int fd = open("/dev/null", i ? O_WRONLY : O_RDONLY);
			if (fd >= 0 && fd != i) {
				dup2(fd, i);
				close(fd);
			}
		}
}

/* A warmer that closes the connection before its hello is stopping (the
 * next connect reaches the next warmer), or is another flame build from
 * before the hello, which drops our hello as corrupt. */
static int closed_before_hello(int rc)
{
	struct wire_conn old = { .peer = { .protocol = 1 } };

	if (rc != CLOSED_BEFORE_HELLO)
		return rc;
	if (!client_warmer_is_other_build())
		return NOT_HANDED_ON;
	refuse_warmer(&old);
	return OTHER_PROTOCOL;
}

/* Sends the job to a warmer and waits for its end.  A warmer that goes away
 * before it took the job (stopping, restarting, out of descriptors) did not
 * lose it: it goes to the next warmer, which the connect starts. */
static int hand_on(struct wbuf *w, const struct run_opts *o)
{
	char err[1024];
	int rc = NOT_HANDED_ON, sock;

	for (int try = 0; rc == NOT_HANDED_ON && try < HAND_ON_TRIES; try++) {
		if (try)
			nanosleep(&(struct timespec){ .tv_nsec = 10000000L * try }, NULL);
		sock = client_connect(1, err, sizeof err);
		if (sock < 0) {
			msg("%s", err);
			return EXIT_FAILURE_FLAME;
		}
		/* a failed send is answered like a connection closed before the hello */
		rc = wire_send(sock, w) < 0 ? CLOSED_BEFORE_HELLO : wait_for_job(sock, o);
		close(sock);
		rc = closed_before_hello(rc);
	}
	if (rc == OTHER_PROTOCOL)
		return EXIT_FAILURE_FLAME;
	if (rc == NOT_HANDED_ON) {
		char *log = client_log_path();
		msg("the warmer closed the connection %d times before taking the job; see %s", HAND_ON_TRIES,
		    log);
		free(log);
		rc = EXIT_FAILURE_FLAME;
	}
	return rc;
}

int cmd_run(int argc, char **argv)
{
	struct run_opts o = { .pool = DEFAULT_POOL };
	struct pool_settings ps;
	struct wbuf w = { 0 };
	int rc;

	ensure_std_fds();
	rc = parse_run_opts(argc, argv, &o);
	if (rc == -2) { /* --help: printed; touch nothing */
		free(o.gets);
		free(o.puts);
		free(o.envs);
		return 0;
	}
	if (rc == 0)
		rc = client_find_pool(o.pool, &ps);
	if (rc == 0)
		rc = build_request(&o, &ps, &w);
	if (rc == 0 && pipe2(sigpipe_fds, O_CLOEXEC) < 0)
		rc = EXIT_FAILURE_FLAME;
	if (rc == 0) {
		install_signals();
		rc = hand_on(&w, &o);
	}
	client_job_close(&w);
	wbuf_free(&w);
	free(o.gets);
	free(o.puts);
	free(o.envs);
	return rc;
}
