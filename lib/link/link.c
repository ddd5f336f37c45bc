/* link.c — see link.h. */
#include "link.h"
#include "fly/runner.h"
#include "files.h"
#include "flame_limits.h"
#include "job.h"
#include "login.h"
#include "progress.h"
#include "ssh/transport.h"
#include "util.h"
#include "wire.h"

#include <cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#define MAX_SLOTS LIMIT_CONCURRENCY
#define SILENCE_MS 15000
#define HEARTBEAT_MS 2000
#define SESSION_TIMEOUT_MS 15000
/* a W_STDIN frame (14 bytes of header) fills one 32 KiB SSH packet:
 * libssh2 1.10 sends one packet per write */
#define CHUNK (32768 - 14)

/* A progress bar on the caller's terminal for one file (progress.h says
 * what it shows and when). */
struct link_bar {
	int fd; /* the caller's stderr if it is a terminal, else -1 */
	char *name;
	uint64_t total;
	int64_t started, drawn; /* drawn < 0: nothing on the screen */
};

/* The --get file arriving on a slot (W_GET, W_GET_DATA..., W_GET_END). */
struct link_get {
	struct files_dest d;  /* d.fd < 0: none, or dropped after a problem */
	char *pattern, *path; /* as the runner named them, for messages */
	uint32_t mode;
	uint64_t done, size; /* size: what the runner announced, never exceeded */
	int failed;          /* a file could not be written here */
	struct link_bar bar;
};

struct link_slot {
	struct link *l;
	struct ssh_conn *cin, *cout;
	struct ssh_chan *in, *out;
	pthread_mutex_t inlock; /* writes on `in`: the pump, signals, cancels */
	pthread_mutex_t mu;     /* the fields below */
	pthread_cond_t cv;
	int busy, pumping, stop;
	uint32_t job;
	int fds[3];
	int getdir;             /* --get-dir, or -1 */
	char **get_patterns;    /* what the caller asked for: all the runner may send */
	unsigned get_umask;     /* the caller's */
	int puts[WIRE_MAX_FDS]; /* the --put files, sent before stdin */
	char **put_names;
	int nputs;
	struct link_bar put_bar; /* the in thread's */
	struct link_get get;     /* the out thread's */
	int stop_pipe[2];
	int sigpipe_sent;
	int64_t last_rx;     /* when a frame last came (atomic): the watchdog's */
	struct wbuf request; /* the W_JOB frame, without descriptors */
	pthread_t tin, tout;
};

struct link {
	int warmer;
	pthread_mutex_t wlock;
	struct ssh_target t;
	char user[64], host[256];
	const char *runner, *pool, *command;
	int nslots; /* the runner's max_concurrency */
	int nopen;  /* slots open so far (atomic): slots[0..nopen) */
	struct link_slot slots[MAX_SLOTS];
	/* a runner that is a Fly Machine (--fly) */
	struct fly_runner_opts fly_opts;
	struct fly_runner fly;
	int is_fly;
	int64_t boot_deadline;
	int leaving; /* (atomic) destroying the machine on the way out */
};

/* Slots open in order, the first before the runner is reported ready and
 * the others in the background (each costs two SSH handshakes). */
static int open_slots(struct link *l)
{
	return __atomic_load_n(&l->nopen, __ATOMIC_ACQUIRE);
}

/* On the way out: no --get file half-written under a temporary name stays
 * behind (racing the out threads is harmless: the names are unique). */
static void drop_arriving_files(struct link *l)
{
	for (int i = 0, n = open_slots(l); i < n; i++) {
		struct files_dest *d = &l->slots[i].get.d;
		if (d->fd >= 0 && d->tmp[0])
			unlinkat(d->dir, d->tmp, 0);
	}
}

static void __attribute__((noreturn)) lost(struct link *l, const char *why)
{
	/* Tell the warmer why (it reports the runner lost to its callers), log
	 * it, and go: the socket closing is the signal. */
	struct wbuf w;
	if (__atomic_load_n(&l->leaving, __ATOMIC_ACQUIRE))
		for (;;)
			pause(); /* our own destroy closed the connections: leave() exits */
	wbuf_init(&w, W_ERROR);
	wbuf_u32(&w, EXIT_FAILURE_FLAME);
	wbuf_str(&w, why);
	(void)wire_send(l->warmer, &w); /* no lock: nothing else matters now */
	drop_arriving_files(l);
	if (l->is_fly && !l->host[0])
		msg("fly link %s (machine %s, port %d): %s", l->runner,
		    l->fly.id[0] ? l->fly.id : "not created", l->fly.port, why);
	else
		msg("%s link %s (%s@%s:%d): %s", l->is_fly ? "fly" : "ssh", l->runner, l->user, l->host,
		    l->t.port, why);
	_exit(EXIT_FAILURE_FLAME);
}

static void to_warmer(struct link *l, struct wbuf *w)
{
	pthread_mutex_lock(&l->wlock);
	if (wire_send(l->warmer, w) < 0) {
		pthread_mutex_unlock(&l->wlock);
		_exit(0); /* the warmer is gone: so are we */
	}
	pthread_mutex_unlock(&l->wlock);
	wbuf_free(w);
}

/* Fills in a frame's length; frames on a channel carry no descriptors. */
static void seal(struct wbuf *w)
{
	uint32_t len = (uint32_t)(w->len - 4);
	for (int i = 0; i < 4; i++)
		w->p[i] = (unsigned char)(len >> (8 * i));
	w->p[5] = 0;
}

/* Writes a sealed frame on the in channel, whose lock the caller holds;
 * releases it. */
static void write_held(struct link_slot *s, struct wbuf *w)
{
	if (ssh_chan_write(s->in, w->p, w->len) < 0) {
		pthread_mutex_unlock(&s->inlock);
		lost(s->l, "the connection to the runner failed while sending");
	}
	pthread_mutex_unlock(&s->inlock);
}

static void slot_write(struct link_slot *s, struct wbuf *w)
{
	seal(w);
	pthread_mutex_lock(&s->inlock);
	write_held(s, w);
}

static void send_job_word(struct link_slot *s, enum wire_type t, uint32_t job, uint32_t arg)
{
	struct wbuf w;
	wbuf_init(&w, t);
	wbuf_u32(&w, job);
	wbuf_u32(&w, arg);
	slot_write(s, &w);
	wbuf_free(&w);
}

/* Reads one frame from the slot's out channel into *buf (type, payload). */
static int read_frame(struct link_slot *s, unsigned char **buf, size_t *cap, uint8_t *type, size_t *len)
{
	unsigned char hdr[6];
	size_t got = 0, need = sizeof hdr;
	unsigned char *dst = hdr;
	int stage = 0;

	for (;;) {
		long r = ssh_chan_read(s->out, dst + got, need - got);
		if (r == -2)
			continue; /* silence is the watchdog's business */
		if (r <= 0)
			return -1;
		got += (size_t)r;
		if (got < need)
			continue;
		if (stage == 1)
			return 0;
		{
			uint32_t n = (uint32_t)hdr[0] | (uint32_t)hdr[1] << 8 | (uint32_t)hdr[2] << 16 |
			             (uint32_t)hdr[3] << 24;
			if (n < 2 || n > WIRE_MAX_FRAME)
				return -1;
			*type = hdr[4];
			*len = n - 2;
		}
		if (*len > *cap) {
			*cap = *len;
			*buf = xrealloc(*buf, *cap);
		}
		if (*len == 0)
			return 0;
		dst = *buf;
		got = 0;
		need = *len;
		stage = 1;
	}
}

static void write_stream(struct link_slot *s, int fd, const unsigned char *p, size_t n)
{
	if (fd >= 0 && write_all(fd, p, n) < 0 && errno == EPIPE && !s->sigpipe_sent) {
		/* the reader went away: the job learns it as it would locally */
		s->sigpipe_sent = 1;
		send_job_word(s, W_JOB_SIGNAL, s->job, SIGPIPE);
	}
}

static void bar_begin(struct link_bar *b, int fd, const char *name, uint64_t total)
{
	b->fd = fd >= 0 && isatty(fd) ? fd : -1;
	b->name = b->fd >= 0 ? xstrdup(name) : NULL;
	b->total = total;
	b->started = now_ms();
	b->drawn = -1;
}

static void bar_step(struct link_bar *b, uint64_t done)
{
	char line[1024];
	struct winsize ws;
	int64_t now = now_ms();
	int width;
	size_t n;

	if (b->fd < 0 || !progress_due(b->started, b->drawn, now))
		return;
	width = ioctl(b->fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 ? ws.ws_col : 80;
	/* "\r", the line, then erase what a longer previous line left */
	line[0] = '\r';
	n = 1 + progress_line(line + 1, sizeof line - 4, b->name, done, b->total, now - b->started, width);
	memcpy(line + n, "\033[K", 3);
	(void)!write(b->fd, line, n + 3);
	b->drawn = now;
}

static void bar_end(struct link_bar *b)
{
	if (b->fd >= 0 && b->drawn >= 0)
		(void)!write(b->fd, "\r\033[K", 4);
	free(b->name);
	b->name = NULL;
	b->fd = -1;
	b->drawn = -1;
}

/* This side could not write the arriving file: say so as the local backend
 * would, and drop it. */
static void get_failed(struct link_slot *s, int err)
{
	char line[1024];
	size_t n = files_get_io_problem(line, sizeof line, s->get.pattern, "write", s->get.path, err);
	bar_end(&s->get.bar);
	files_dest_abort(&s->get.d);
	s->get.failed = 1;
	if (s->fds[2] >= 0)
		(void)write_all(s->fds[2], line, n);
}

/* Forgets the file arriving, dropping it if it is unfinished. */
static void get_reset(struct link_slot *s)
{
	bar_end(&s->get.bar);
	files_dest_abort(&s->get.d);
	free(s->get.pattern);
	free(s->get.path);
	s->get.pattern = s->get.path = NULL;
}

/* The runner sent something this side refuses: say why, as one line,
 * and drop the file. */
static void get_refused(struct link_slot *s, const char *why)
{
	char line[1024];
	int n = snprintf(line, sizeof line,
	                 "flame: --get %.300s: the runner sent '%.300s', %s; not written\n",
	                 s->get.pattern ? s->get.pattern : "", s->get.path ? s->get.path : "", why);
	size_t len = n < 0 ? 0 : (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;

	for (size_t i = 0; len > 0 && i < len - 1; i++)
		if (line[i] == '\n' || (unsigned char)line[i] < ' ')
			line[i] = '?';
	if (len > 0)
		line[len - 1] = '\n';
	bar_end(&s->get.bar);
	files_dest_abort(&s->get.d);
	s->get.failed = 1;
	if (s->fds[2] >= 0)
		(void)write_all(s->fds[2], line, len);
}

/* W_GET {job, pattern, path, mode, size}: the runner names the file, and
 * only one the caller asked for is written: the path must match one of the
 * caller's patterns (checked here, by the rules the runner uses), and the
 * mode be plain permission bits, which the caller's umask then masks. */
static void get_begin(struct link_slot *s, struct rbuf *r)
{
	int64_t size;

	get_reset(s);
	s->get.pattern = rbuf_str(r);
	s->get.path = rbuf_str(r);
	s->get.mode = rbuf_u32(r);
	size = rbuf_i64(r);
	s->get.done = 0;
	s->get.size = size < 0 ? 0 : (uint64_t)size;
	if (r->bad || size < 0) {
		get_failed(s, EPROTO);
		return;
	}
	if (s->getdir < 0 || !files_get_wanted(s->get_patterns, s->get.pattern, s->get.path)) {
		get_refused(s, "which was not asked for");
		return;
	}
	if (s->get.mode & ~0777u) {
		get_refused(s, "with a mode that is more than permission bits");
		return;
	}
	if (files_dest_open(&s->get.d, s->getdir, s->get.path) < 0) {
		get_failed(s, errno);
		return;
	}
	s->get.d.umask = s->get_umask;
	bar_begin(&s->get.bar, s->fds[2], s->get.path, (uint64_t)size);
}

/* Counts n more bytes (data or hole) of the file arriving: 0, or -1 after
 * refusing it when the runner sends more than it announced. */
static int get_count(struct link_slot *s, uint64_t n)
{
	if (n > s->get.size - s->get.done) {
		get_refused(s, "with more bytes than it announced");
		return -1;
	}
	s->get.done += n;
	return 0;
}

static void get_data(struct link_slot *s, struct rbuf *r)
{
	uint32_t n = rbuf_u32(r);
	if (s->get.d.fd < 0 || r->bad || n > r->len - r->off || get_count(s, n) < 0)
		return;
	if (write_all(s->get.d.fd, r->p + r->off, n) < 0) {
		get_failed(s, errno);
		return;
	}
	bar_step(&s->get.bar, s->get.done);
}

/* W_GET_HOLE {job, length}: a run of zeros the runner's file does not
 * store; it is not stored here either. */
static void get_hole(struct link_slot *s, struct rbuf *r)
{
	int64_t n = rbuf_i64(r);
	if (s->get.d.fd < 0 || r->bad || n < 0 || get_count(s, (uint64_t)n) < 0)
		return;
	if (lseek(s->get.d.fd, (off_t)s->get.done, SEEK_SET) < 0) {
		get_failed(s, errno);
		return;
	}
	bar_step(&s->get.bar, s->get.done);
}

static void get_end(struct link_slot *s, struct rbuf *r)
{
	uint32_t ok = rbuf_u32(r);
	bar_end(&s->get.bar);
	if (s->get.d.fd < 0)
		return;
	if (r->bad || !ok) {
		files_dest_abort(&s->get.d); /* the runner says why */
		return;
	}
	/* a hole at the end makes the file's length, not its blocks */
	if (ftruncate(s->get.d.fd, (off_t)s->get.done) < 0 || files_dest_commit(&s->get.d, s->get.mode) < 0)
		get_failed(s, errno);
}

static void finish_job(struct link_slot *s, int64_t status, int64_t flags)
{
	struct wbuf w;
	uint32_t job = s->job;

	pthread_mutex_lock(&s->mu);
	s->stop = 1;
	(void)!write(s->stop_pipe[1], "x", 1);
	pthread_cond_broadcast(&s->cv);
	while (s->pumping)
		pthread_cond_wait(&s->cv, &s->mu);
	get_reset(s);
	if (s->get.failed)
		flags |= JOB_GET_FAILED;
	s->get.failed = 0;
	close_fds(s->fds, 3);
	s->fds[0] = s->fds[1] = s->fds[2] = -1;
	if (s->getdir >= 0)
		close(s->getdir);
	s->getdir = -1;
	strv_free(s->get_patterns);
	s->get_patterns = NULL;
	strv_free(s->put_names);
	s->put_names = NULL;
	s->busy = 0;
	pthread_mutex_unlock(&s->mu);
	wbuf_init(&w, W_JOB_DONE);
	wbuf_u32(&w, job);
	wbuf_i64(&w, status);
	wbuf_i64(&w, flags);
	to_warmer(s->l, &w);
}

static void *out_thread(void *arg)
{
	struct link_slot *s = arg;
	unsigned char *buf = NULL;
	size_t cap = 0, len;
	uint8_t type;

	for (;;) {
		struct rbuf r;
		uint32_t job;
		if (read_frame(s, &buf, &cap, &type, &len) < 0)
			lost(s->l, "the runner closed the connection");
		__atomic_store_n(&s->last_rx, now_ms(), __ATOMIC_RELAXED);
		r = (struct rbuf){ .p = buf, .len = len };
		if (type == W_PING)
			continue;
		job = rbuf_u32(&r);
		if (!s->busy || job != s->job)
			continue;
		if (type == W_OUT || type == W_ERR) {
			uint32_t n = rbuf_u32(&r);
			if (!r.bad && n <= r.len - r.off)
				write_stream(s, s->fds[type == W_OUT ? 1 : 2], r.p + r.off, n);
		} else if (type == W_GET) {
			get_begin(s, &r);
		} else if (type == W_GET_DATA) {
			get_data(s, &r);
		} else if (type == W_GET_HOLE) {
			get_hole(s, &r);
		} else if (type == W_GET_END) {
			get_end(s, &r);
		} else if (type == W_JOB_DONE) {
			int64_t status = rbuf_i64(&r), flags = rbuf_i64(&r);
			finish_job(s, status, flags);
		}
	}
	return NULL;
}

/* One --put file in frames that fill an SSH packet, then its mode. */
static void send_put(struct link_slot *s, int i)
{
	unsigned char buf[CHUNK];
	struct stat st;
	struct wbuf w;
	uint64_t done = 0;
	ssize_t n;
	int known = fstat(s->puts[i], &st) == 0;

	bar_begin(&s->put_bar, s->fds[2], s->put_names[i], known ? (uint64_t)st.st_size : 0);
	lseek(s->puts[i], 0, SEEK_SET);
	while ((n = read(s->puts[i], buf, sizeof buf - 4)) > 0) {
		wbuf_init(&w, W_PUT);
		wbuf_u32(&w, s->job);
		wbuf_u32(&w, (uint32_t)i);
		wbuf_bytes(&w, buf, (size_t)n);
		slot_write(s, &w);
		wbuf_free(&w);
		done += (uint64_t)n;
		bar_step(&s->put_bar, done);
	}
	bar_end(&s->put_bar);
	wbuf_init(&w, W_PUT_END);
	wbuf_u32(&w, s->job);
	wbuf_u32(&w, (uint32_t)i);
	wbuf_u32(&w, known ? (uint32_t)(st.st_mode & 0777) : 0600);
	slot_write(s, &w);
	wbuf_free(&w);
}

/* The --put files, in order. */
static void send_puts(struct link_slot *s)
{
	for (int i = 0; i < s->nputs; i++) {
		send_put(s, i);
		close(s->puts[i]);
		s->puts[i] = -1;
	}
	s->nputs = 0;
}

/* Sends the job, then the caller's stdin, until EOF or the job ends. */
static void pump(struct link_slot *s)
{
	unsigned char buf[CHUNK];
	int fd = s->fds[0];

	slot_write(s, &s->request);
	send_puts(s);
	for (;;) {
		struct pollfd p[2] = { { .fd = fd, .events = POLLIN },
			               { .fd = s->stop_pipe[0], .events = POLLIN } };
		ssize_t n;
		struct wbuf w;
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			return;
		if (p[1].revents)
			return;
		if (!p[0].revents)
			continue;
		n = read(fd, buf, sizeof buf);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0) {
			wbuf_init(&w, W_STDIN_EOF);
			wbuf_u32(&w, s->job);
			slot_write(s, &w);
			wbuf_free(&w);
			return;
		}
		wbuf_init(&w, W_STDIN);
		wbuf_u32(&w, s->job);
		wbuf_bytes(&w, buf, (size_t)n);
		slot_write(s, &w);
		wbuf_free(&w);
	}
}

static void *in_thread(void *arg)
{
	struct link_slot *s = arg;
	char c;
	for (;;) {
		pthread_mutex_lock(&s->mu);
		while (!s->pumping)
			pthread_cond_wait(&s->cv, &s->mu);
		pthread_mutex_unlock(&s->mu);
		pump(s);
		pthread_mutex_lock(&s->mu);
		while (!s->stop)
			pthread_cond_wait(&s->cv, &s->mu);
		while (read(s->stop_pipe[0], &c, 1) == 1)
			;
		s->pumping = 0;
		wbuf_free(&s->request);
		pthread_cond_broadcast(&s->cv);
		pthread_mutex_unlock(&s->mu);
	}
	return NULL;
}

static char *quoted(const char *s)
{
	size_t n = 3;
	char *q, *p;
	for (const char *c = s; *c; c++)
		n += *c == '\'' ? 4 : 1;
	q = p = xmalloc(n);
	*p++ = '\'';
	for (const char *c = s; *c; c++) {
		if (*c == '\'') {
			memcpy(p, "'\\''", 4);
			p += 4;
		} else {
			*p++ = *c;
		}
	}
	*p++ = '\'';
	*p = 0;
	return q;
}

static void token(char *buf)
{
	unsigned char r[16];
	if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r)
		abort(); /* the kernel always has randomness for 16 bytes */
	for (int i = 0; i < 16; i++)
		sprintf(buf + 2 * i, "%02x", r[i]);
}

/* A machine that has just started may not listen yet (its agent is
 * starting sshd): refused connections are tried again until the boot
 * deadline. */
static struct ssh_conn *connect_or_die(struct link *l)
{
	char err[1024];
	for (;;) {
		struct ssh_conn *c = ssh_connect(&l->t, err, sizeof err);
		if (c)
			return c;
		if (!l->is_fly || now_ms() >= l->boot_deadline || !strstr(err, "Connection refused"))
			lost(l, err);
		usleep(10000);
	}
}

/* What `COMMAND version` says on the runner ("flame 0.2.0 (protocol 2)";
 * a flame from before the hello says "flame 0.1.0": protocol 1).  0 and
 * *peer filled, or -1 with *status when flame is not there. */
static int remote_flame(struct link *l, struct wire_peer *peer, int *status)
{
	struct ssh_conn *c = connect_or_die(l);
	char *q = quoted(l->command), *cmd = xasprintf("%s version", q), *out, *eout, err[1024];
	size_t ol, el;
	int rc = -1;
	unsigned p;

	*status = 0;
	if (ssh_run(c, cmd, NULL, 0, &out, &ol, &eout, &el, 4096, status, err, sizeof err) < 0)
		lost(l, err);
	memset(peer, 0, sizeof *peer);
	if (*status == 0 && out && !strncmp(out, "flame ", 6)) {
		char *v = out + 6;
		v[strcspn(v, " \n")] = 0;
		snprintf(peer->version, sizeof peer->version, "%s", v);
		peer->protocol = sscanf(v + strlen(v) + 1, "(protocol %u)", &p) == 1 ? p : 1;
		rc = 0;
	}
	free(out);
	free(eout);
	free(cmd);
	free(q);
	ssh_close(c);
	return rc;
}

/* The runner runs a flame of another protocol: say which, and what to do. */
static void __attribute__((noreturn)) other_protocol(struct link *l, const struct wire_peer *peer)
{
	char where[320], why[1024];

	if (l->is_fly) {
		snprintf(where, sizeof where, "Fly Machine %s", l->fly.id[0] ? l->fly.id : l->host);
		wire_peer_refusal(
			peer, where,
			"deploy an image with this flame (examples/fly/Dockerfile builds it) and set "
			"FLY_IMAGE_REF to it",
			why, sizeof why);
	} else {
		snprintf(where, sizeof where, "runner host %s", l->host);
		wire_peer_refusal(
			peer, where,
			"upgrade flame there, or point the pool's \"command\" at a flame of this version",
			why, sizeof why);
	}
	lost(l, why);
}

/* Is flame there, and of our protocol?  A clear message names the host
 * when it is not. */
static void check_flame(struct link *l)
{
	struct wire_peer peer;
	int status;

	if (remote_flame(l, &peer, &status) < 0) {
		char why[512];
		snprintf(why, sizeof why,
		         "flame is not installed there ('%s version' exited %d); install it or set "
		         "\"command\" in the pool",
		         l->command, status);
		lost(l, why);
	}
	if (peer.protocol != WIRE_PROTOCOL)
		other_protocol(l, &peer);
}

/* Reads exactly n bytes from the slot's out channel; -1 if it ends. */
static int read_exact(struct link_slot *s, unsigned char *p, size_t n)
{
	size_t got = 0;
	while (got < n) {
		long r = ssh_chan_read(s->out, p + got, n - got);
		if (r == -2)
			continue;
		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

/* Our hello goes first on the in channel; the slot's comes first on the
 * out channel.  A slot of another protocol (or from before the hello, which
 * opens with W_READY) ends the link before any job is sent. */
static void exchange_hellos(struct link_slot *s)
{
	unsigned char buf[8 + 512], *mine;
	size_t n, used;
	struct wire_peer peer;
	int rc = -1, status;

	mine = wire_hello_bytes("link", &n);
	pthread_mutex_lock(&s->inlock);
	{
		struct wbuf w = { .p = mine, .len = n };
		write_held(s, &w);
	}
	free(mine);
	if (read_exact(s, buf, 8) < 0)
		lost(s->l, "the runner's job slot did not start (see its sshd log)");
	rc = wire_hello_parse(buf, 8, &peer, &used);
	if (rc == 0) {
		uint32_t len = (uint32_t)buf[4] | (uint32_t)buf[5] << 8 | (uint32_t)buf[6] << 16 |
		               (uint32_t)buf[7] << 24;
		if (len <= 512 && read_exact(s, buf + 8, len) == 0)
			rc = wire_hello_parse(buf, 8 + len, &peer, &used);
	}
	if (rc == 1 && peer.protocol == WIRE_PROTOCOL)
		return;
	/* name the version it runs when it can say */
	if (peer.protocol == 1 && remote_flame(s->l, &peer, &status) < 0)
		peer.protocol = 1;
	other_protocol(s->l, &peer);
}

/* One direction of a slot: its session and the channel running CMD. */
struct opening {
	struct link_slot *s;
	struct ssh_conn **conn;
	struct ssh_chan **chan;
	const char *cmd;
};

static void *open_direction(void *arg)
{
	struct opening *o = arg;
	char err[1024];

	*o->conn = connect_or_die(o->s->l);
	*o->chan = ssh_chan_exec(*o->conn, o->cmd, err, sizeof err);
	if (!*o->chan)
		lost(o->s->l, err);
	return NULL;
}

static void tell_capacity(struct link *l, int slots)
{
	struct wbuf w;
	wbuf_init(&w, W_CAPACITY);
	wbuf_u32(&w, (uint32_t)slots);
	to_warmer(l, &w);
}

static void open_slot(struct link *l, struct link_slot *s);

/* Opens slots 1.. while the runner already serves jobs on the first. */
static void *open_the_rest(void *arg)
{
	struct link *l = arg;
	for (int i = 1; i < l->nslots; i++) {
		open_slot(l, &l->slots[i]);
		__atomic_store_n(&l->nopen, i + 1, __ATOMIC_RELEASE);
		tell_capacity(l, i + 1);
	}
	return NULL;
}

static void open_slot(struct link *l, struct link_slot *s)
{
	char tok[33], *q = quoted(l->command), *cin, *cout;
	unsigned char *buf = NULL;
	size_t cap = 0, len;
	uint8_t type;

	token(tok);
	s->l = l;
	s->fds[0] = s->fds[1] = s->fds[2] = -1;
	s->getdir = -1;
	s->put_bar.fd = s->get.bar.fd = -1;
	s->get.d.fd = s->get.d.dir = -1;
	pthread_mutex_init(&s->inlock, NULL);
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	if (pipe2(s->stop_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
		lost(l, "pipe");
	cin = xasprintf("FLAME_POOL=%s FLAME_RUNNER_ID=%s exec %s agent slot in %s", l->pool, l->runner, q,
	                tok);
	cout = xasprintf("exec %s agent slot out %s", q, tok);
	{
		/* both directions at once: a cold start waits for one, not two */
		struct opening in = { s, &s->cin, &s->in, cin }, out = { s, &s->cout, &s->out, cout };
		pthread_t t;
		pthread_create(&t, NULL, open_direction, &out);
		open_direction(&in);
		pthread_join(t, NULL);
	}
	exchange_hellos(s);
	if (read_frame(s, &buf, &cap, &type, &len) < 0 || type != W_READY)
		lost(l, "the runner's job slot did not start (see its sshd log)");
	free(buf);
	free(cin);
	free(cout);
	free(q);
	s->last_rx = now_ms();
	pthread_create(&s->tin, NULL, in_thread, s);
	pthread_create(&s->tout, NULL, out_thread, s);
}

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
	wbuf_init(&w, W_JOB_DONE);
	wbuf_u32(&w, id);
	wbuf_i64(&w, 0);
	wbuf_i64(&w, 4 /* JOB_SETUP_FAILED */);
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
		if (!l->slots[i].busy)
			s = &l->slots[i];
	if (!s || r->bad || nput < 0 || nfds != 3 + has_getdir + nput) {
		strv_free(f.put_names);
		strv_free(f.get_patterns);
		refuse_job(l, id, fds, nfds);
		return;
	}
	pthread_mutex_lock(&s->mu);
	s->busy = 1;
	s->job = id;
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

/* The runner's agent exits after its failsafe period without word from us
 * (lib/agent/beat.h): each slot's in channel carries a ping every few
 * seconds.  A slot whose channel is taken (a job's stdin is flowing, or a
 * write waits on the runner) needs none, and must not be waited for. */
static void heartbeat(struct link *l)
{
	for (int i = 0, n = open_slots(l); i < n; i++) {
		struct link_slot *s = &l->slots[i];
		struct wbuf w;
		if (pthread_mutex_trylock(&s->inlock) != 0)
			continue;
		wbuf_init(&w, W_PING);
		seal(&w);
		write_held(s, &w);
		wbuf_free(&w);
	}
}

/* The runner side pings every 4 s; 15 s of silence on any slot means the
 * host, its sshd or the network is gone (libssh2 cannot tell us whether
 * keepalives are answered, and a blocked read cannot be asked). */
static void *watchdog(void *arg)
{
	struct link *l = arg;
	int64_t last_beat = now_ms();
	for (;;) {
		int64_t now = now_ms();
		sleep(1);
		for (int i = 0, n = open_slots(l); i < n; i++)
			if (now - __atomic_load_n(&l->slots[i].last_rx, __ATOMIC_RELAXED) > SILENCE_MS)
				lost(l, "no word from the runner for 15 s (it pings every 4 s)");
		if (now - last_beat >= HEARTBEAT_MS) {
			heartbeat(l);
			last_beat = now;
		}
	}
	return NULL;
}

static int any_busy(struct link *l)
{
	for (int i = 0, n = open_slots(l); i < n; i++)
		if (l->slots[i].busy)
			return 1;
	return 0;
}

/* Tells the warmer what to journal about a Fly runner. */
static void report_fly(struct link *l, int released)
{
	char *info = fly_runner_info(&l->fly, l->fly_opts.launch_id, released);
	struct wbuf w;

	wbuf_init(&w, W_RUNNER_INFO);
	wbuf_str(&w, info);
	to_warmer(l, &w);
	free(info);
}

/* Stopped by the warmer with no job left: a machine is destroyed now. */
static void __attribute__((noreturn)) leave(struct link *l)
{
	/* released: the warmer need not make sure; otherwise it does */
	__atomic_store_n(&l->leaving, 1, __ATOMIC_RELEASE);
	if (l->is_fly && fly_runner_release(&l->fly) == 0)
		report_fly(l, 1);
	_exit(0);
}

static void serve(struct link *l)
{
	struct wire_conn c;
	int stopping = 0;

	wire_conn_init(&c, l->warmer);
	wire_conn_want_hello(&c);
	for (;;) {
		uint8_t type;
		struct rbuf r = { 0 };
		int fds[WIRE_MAX_FDS], nfds, rc;
		struct pollfd p = { .fd = l->warmer, .events = POLLIN };

		if (stopping && !any_busy(l))
			leave(l);
		if (poll(&p, 1, 200) <= 0)
			continue;
		rc = wire_conn_fill(&c);
		if (rc == 0 || (rc < 0 && errno != EAGAIN && errno != EINTR)) {
			drop_arriving_files(l);
			_exit(0); /* the warmer is gone: closing the sessions ends the runner's jobs */
		}
		while ((rc = wire_conn_next(&c, &type, &r, fds, &nfds)) == 1) {
			if (type == W_JOB) {
				take_job(l, &r, fds, nfds);
				continue;
			}
			close_fds(fds, nfds);
			if (type == W_AGENT_STOP) {
				stopping = 1;
			} else if (type == W_JOB_SIGNAL || type == W_JOB_CANCEL) {
				uint32_t id = rbuf_u32(&r), sig = rbuf_u32(&r);
				for (int i = 0, n = open_slots(l); i < n; i++)
					if (l->slots[i].busy && l->slots[i].job == id)
						send_job_word(&l->slots[i], type, id, sig);
			}
		}
		if (rc < 0 && errno == EPROTO) {
			char why[512];
			wire_peer_refusal(&c.peer, "the warmer", "stop it ('flame warmer stop')", why,
			                  sizeof why);
			lost(l, why);
		}
	}
}

/* --fly-destroy and --fly-sweep: the warmer's one-shot jobs. */
static int fly_one_shot(int what, const struct fly_runner_opts *o, const char *state)
{
	char err[1024];
	int rc;

	if (!o->conf_json || (what == 'D' && !o->launch_id) || (what == 'W' && (!o->parent || !state))) {
		msg("flame-link: --fly-destroy needs --settings-fd and --launch; --fly-sweep --settings-fd, --parent and "
		    "--state");
		return EXIT_USAGE;
	}
	rc = what == 'D' ? fly_destroy_launch(o->conf_json, o->token, o->launch_id, err, sizeof err)
	                 : fly_sweep(o->conf_json, o->token, o->parent, state, err, sizeof err);
	if (rc < 0)
		msg("%s", err);
	return rc < 0 ? EXIT_FAILURE_FLAME : 0;
}

/* A Fly runner: its host key is journaled first, then the machine is
 * created (or adopted) and started, and from then on it is an ssh host at
 * its private address. */
static void fly_start(struct link *l)
{
	char err[1024];

	l->is_fly = 1;
	l->host[0] = '\0'; /* the machine's address comes from the API */
	l->boot_deadline = now_ms() + l->fly_opts.boot_ms;
	l->fly_opts.pool = l->pool;
	l->fly_opts.client_key = l->t.key_path;
	l->fly_opts.slots = l->nslots;
	if (!l->fly_opts.launch_id || !l->fly_opts.parent || !l->fly_opts.boot_ms || !l->fly_opts.idle_ms)
		lost(l, "flame-link: a Fly runner needs --launch, --parent, --boot-ms and --idle-ms");
	if (fly_runner_prepare(&l->fly, &l->fly_opts, err, sizeof err) < 0)
		lost(l, err);
	report_fly(l, 0);
	if (fly_runner_boot(&l->fly, &l->fly_opts, err, sizeof err) < 0)
		lost(l, err);
	report_fly(l, 0); /* its machine id: journaled, and named in errors */
	if (fly_runner_started(&l->fly, &l->fly_opts, l->boot_deadline, err, sizeof err) < 0) {
		if (l->fly.released)
			report_fly(l, 1); /* the warmer need not destroy it again */
		lost(l, err);
	}
	report_fly(l, 0);
	snprintf(l->host, sizeof l->host, "%s", l->fly.ip);
	l->t.port = l->fly.port;
	l->t.host_key = l->fly.host_key;
	l->t.known_hosts = NULL;
	l->command = fly_runner_command(l->fly_opts.conf_json); /* flame's path in the image */
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
	} else if (c == 'D' || c == 'W') {
		*one_shot = c;
	} else {
		return 0;
	}
	return 1;
}

/* The first slot opens now, the others in the background: the runner is
 * ready with one, and the warmer is told how many are open as they come. */
static void go_ready(struct link *l)
{
	pthread_t wd, rest;
	struct wbuf w;

	open_slot(l, &l->slots[0]);
	__atomic_store_n(&l->nopen, 1, __ATOMIC_RELEASE);
	pthread_create(&wd, NULL, watchdog, l);
	if (l->nslots > 1) {
		tell_capacity(l, 1);
		pthread_create(&rest, NULL, open_the_rest, l);
	}
	wbuf_init(&w, W_READY);
	wbuf_i64(&w, getpid());
	to_warmer(l, &w);
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
