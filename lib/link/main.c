/* main.c — flame-link's options and settings, and the loop that serves
 * the warmer's requests (see link.h). */
#include "internal.h"
#include "link.h"
#include "job.h"
#include "login.h"
#include "util.h"

#include <cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The files of a job; r is the whole W_JOB payload, from its job id on. */
struct job_files {
	char **put_names;    /* the --put files' */
	char **get_patterns; /* --get's */
	int has_getdir;
	unsigned get_umask; /* the caller's */
};

/* How many --put files the job carries, and the rest of f. */
static int job_files(struct rbuf r, struct job_files *f)
{
	struct job_spec spec;
	int rc = job_spec_read(&r, &spec), nput = spec.nput;

	f->has_getdir = spec.get_word != 0;
	f->get_umask = files_get_word_umask(spec.get_word);
	f->put_names = spec.put_names;
	f->get_patterns = spec.get_patterns;
	spec.put_names = spec.get_patterns = NULL;
	job_spec_free(&spec);
	return rc < 0 || r.bad ? -1 : nput;
}

static void refuse_job(struct link *l, uint32_t id, int *fds, int nfds)
{
	struct wbuf w;
	close_fds(fds, nfds);
	job_done_write(&w, id, 0, JOB_SETUP_FAILED);
	to_warmer(l, &w);
}

static void take_job(struct link *l, struct rbuf *r, int *fds, int nfds)
{
	struct link_slot *s = NULL;
	struct job_files f;
	int nput = job_files(*r, &f), has_getdir = f.has_getdir;
	uint32_t id = rbuf_u32(r);
	size_t rest = r->len - r->off;

	for (int i = 0, n = open_slots(l); i < n && !s; i++)
		if (slot_state_free(&l->slots[i].st))
			s = &l->slots[i];
	if (!s || r->bad || nput < 0 || nfds != 3 + has_getdir + nput) {
		strv_free(f.put_names);
		strv_free(f.get_patterns);
		refuse_job(l, id, fds, nfds);
		return;
	}
	pthread_mutex_lock(&s->mu);
	(void)slot_state_take(&s->st, id);
	s->stop = 0;
	/* the descriptors: stdin, stdout, stderr, --get-dir if any, the --put files */
	s->getdir = has_getdir ? fds[3] : -1;
	s->nputs = nput;
	s->put_names = f.put_names;
	s->get_patterns = f.get_patterns;
	s->get_umask = f.get_umask;
	memcpy(s->puts, fds + 3 + has_getdir, sizeof(int) * (size_t)nput);
	s->sigpipe_sent = 0;
	memcpy(s->fds, fds, sizeof s->fds);
	wbuf_init(&s->request, W_JOB);
	wbuf_u32(&s->request, id);
	wbuf_raw(&s->request, r->p + r->off, rest); /* the job spec, as the slot reads it */
	s->pumping = 1;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

static int any_busy(struct link *l)
{
	for (int i = 0, n = open_slots(l); i < n; i++)
		if (slot_state_busy(&l->slots[i].st))
			return 1;
	return 0;
}

/* Stopped by the warmer with no job left: a machine is destroyed now, or
 * stopped and kept when the warmer parks the runner. */
static void __attribute__((noreturn)) leave(struct link *l)
{
	/* released: the warmer need not make sure; otherwise it does */
	__atomic_store_n(&l->leaving, 1, __ATOMIC_RELEASE);
	if (l->is_fly && l->park && fly_runner_park(&l->fly) == 0)
		report_fly(l, 0); /* "parked": the warmer keeps it */
	else if (l->is_fly && fly_runner_release(&l->fly) == 0)
		report_fly(l, 1);
	_exit(0);
}

struct serving {
	struct link *l;
	int stopping;
};

static int take_warmer_frame(void *ctx, uint8_t type, struct rbuf *r, int *fds, int nfds)
{
	struct serving *s = ctx;
	struct link *l = s->l;

	if (type == W_JOB) {
		take_job(l, r, fds, nfds);
		return 0;
	}
	close_fds(fds, nfds);
	if (type == W_AGENT_STOP || type == W_AGENT_PARK) {
		s->stopping = 1;
		l->park = type == W_AGENT_PARK;
	} else if (type == W_JOB_SIGNAL || type == W_JOB_CANCEL) {
		uint32_t id = rbuf_u32(r), sig = rbuf_u32(r);
		for (int i = 0, n = open_slots(l); i < n; i++)
			if (slot_state_signal(&l->slots[i].st, id) == SLOT_OK)
				send_job_word(&l->slots[i], type, id, sig);
	}
	return 0;
}

static void serve(struct link *l)
{
	struct wire_conn c;
	struct serving s = { .l = l };

	wire_conn_init(&c, l->warmer);
	wire_conn_want_hello(&c);
	for (;;) {
		int rc;
		struct pollfd p = { .fd = l->warmer, .events = POLLIN };

		if (s.stopping && !any_busy(l))
			leave(l);
		if (poll(&p, 1, 200) <= 0)
			continue;
		rc = wire_conn_pump(&c, take_warmer_frame, &s);
		if (rc < 0 && errno == EPROTO) {
			char why[512];
			wire_peer_refusal(&c.peer, "the warmer", "stop it ('flame warmer stop')", why,
			                  sizeof why);
			lost(l, why);
		}
		if (rc == 0 || (rc < 0 && errno != EBADMSG)) {
			drop_arriving_files(l);
			_exit(0); /* the warmer is gone: closing the sessions ends the runner's jobs */
		}
	}
}

/* The link's settings from descriptor FD (never the command line: ps shows
 * that to everyone, runner_proc.h): an ssh host's "login", "host_key" or
 * "known_hosts" and "command"; a Fly runner's pool settings ("fly", whose
 * env may hold secrets) and API "token".  They live as long as the
 * process.  0, or -1 if unreadable. */
static int read_settings(struct link *l, const char *arg, char *err, size_t errlen)
{
	static cJSON *doc;
	long fd;
	size_t len = 0, cap = 4096;
	char *text;
	cJSON *tok;
	const char *login;

	if (doc || parse_long(arg, 3, 1 << 20, &fd) < 0)
		return -1;
	text = xmalloc(cap);
	for (;;) {
		ssize_t n;
		if (len + 1 == cap && cap >= (16u << 20))
			break;
		if (len + 1 == cap)
			text = xrealloc(text, cap *= 2);
		n = read((int)fd, text + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close((int)fd);
	doc = cJSON_ParseWithLength(text, len);
	explicit_bzero(text, len);
	free(text);
	if (!cJSON_IsObject(doc))
		return -1;
	if (cJSON_GetObjectItemCaseSensitive(doc, "fly"))
		l->fly_opts.conf_json = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(doc, "fly"));
	tok = cJSON_GetObjectItemCaseSensitive(doc, "token");
	if (cJSON_IsString(tok))
		l->fly_opts.token = tok->valuestring;
	l->t.host_key = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(doc, "host_key"));
	l->t.known_hosts = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(doc, "known_hosts"));
	if (cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(doc, "command")))
		l->command = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(doc, "command"));
	login = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(doc, "login"));
	if (login &&
	    login_parse(login, l->user, sizeof l->user, l->host, sizeof l->host, &l->t.port, err, errlen) < 0)
		return -1;
	return 0;
}

/* The options of a Fly runner and of the warmer's one-shot jobs: 1 if c
 * was one of them (taken), 0 otherwise (a bad number counts as not taken). */
static int fly_option(struct fly_runner_opts *o, int c, const char *arg, const char **state, int *one_shot)
{
	long ms;

	if (c == 'I' || c == 'B') {
		if (parse_long(arg, 1, 86400000L * 30, &ms) < 0)
			return 0;
		*(c == 'I' ? &o->idle_ms : &o->boot_ms) = ms;
	} else if (c == 'L') {
		o->launch_id = arg;
	} else if (c == 'P') {
		o->parent = arg;
	} else if (c == 'A') {
		o->host_key = arg;
	} else if (c == 'M') {
		o->machine = arg;
	} else if (c == 'S') {
		*state = arg;
	} else if (c == 'K') {
		o->keep = 1;
	} else if (c == 'T') {
		o->start = 1;
	} else if (c == 'D' || c == 'W') {
		*one_shot = c;
	} else {
		return 0;
	}
	return 1;
}

int link_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "fd", required_argument, NULL, 'f' },
		{ "runner", required_argument, NULL, 'r' },
		{ "pool", required_argument, NULL, 'p' },
		{ "key", required_argument, NULL, 'k' },
		{ "slots", required_argument, NULL, 's' },
		{ "settings-fd", required_argument, NULL, 'F' },
		{ "launch", required_argument, NULL, 'L' },
		{ "parent", required_argument, NULL, 'P' },
		{ "idle-ms", required_argument, NULL, 'I' },
		{ "boot-ms", required_argument, NULL, 'B' },
		{ "adopt-host-key", required_argument, NULL, 'A' },
		{ "machine", required_argument, NULL, 'M' },
		{ "state", required_argument, NULL, 'S' },
		{ "keep", no_argument, NULL, 'K' },
		{ "start", no_argument, NULL, 'T' },
		{ "fly-destroy", no_argument, NULL, 'D' },
		{ "fly-sweep", no_argument, NULL, 'W' },
		{ NULL, 0, NULL, 0 },
	};
	const char *state = NULL;
	int one_shot = 0;
	static struct link l;
	char err[512];
	long fd = -1, slots = 1;
	int c;

	strcpy(l.user, "root");
	l.t.port = 22;
	l.command = "flame";
	l.t.timeout_ms = SESSION_TIMEOUT_MS;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'f' && parse_long(optarg, 3, 1 << 20, &fd) == 0)
			continue;
		if (c == 's' && parse_long(optarg, 1, MAX_SLOTS, &slots) == 0)
			continue;
		err[0] = '\0';
		if (c == 'F' && read_settings(&l, optarg, err, sizeof err) == 0)
			continue;
		if (c == 'F') {
			msg("flame-link: unreadable settings%s%s", err[0] ? ": " : "", err);
			return EXIT_USAGE;
		}
		if (fly_option(&l.fly_opts, c, optarg, &state, &one_shot))
			continue;
		if (c == 'r')
			l.runner = optarg;
		else if (c == 'p')
			l.pool = optarg;
		else if (c == 'k')
			l.t.key_path = optarg;
		else {
			msg("flame-link: bad arguments; it is started by the warmer");
			return EXIT_USAGE;
		}
	}
	if (one_shot)
		return fly_one_shot(one_shot, &l.fly_opts, state);
	if (l.fly_opts.conf_json)
		l.host[0] = '?'; /* the machine's address comes from the API (fly_start) */
	if (fd < 0 || !l.runner || !l.pool || !l.host[0] || !l.t.key_path) {
		msg("flame-link: --fd, --runner, --pool, --key and --settings-fd (with a login) are required");
		return EXIT_USAGE;
	}
	signal(SIGPIPE, SIG_IGN);
	l.warmer = (int)fd;
	if (wire_send_hello(l.warmer, "link") < 0)
		return EXIT_FAILURE_FLAME; /* the warmer is gone */
	l.t.host = l.host;
	l.t.user = l.user;
	l.nslots = (int)slots;
	pthread_mutex_init(&l.wlock, NULL);
	if (l.fly_opts.conf_json)
		fly_start(&l);
	if (!l.is_fly)
		check_flame(&l); /* a Fly runner's main process is flame itself */
	go_ready(&l);
	serve(&l);
	return 0;
}
