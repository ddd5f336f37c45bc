/* slot.c — opening a job slot (both directions at once) and the two
 * threads that serve it: the in thread sends the job, its --put files and
 * stdin; the out thread reads the runner's frames (see internal.h). */
#include "internal.h"
#include "job.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

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
		send_job_word(s, W_JOB_SIGNAL, s->st.job, SIGPIPE);
	}
}

/* One event of the slot's state (slot_state.h) from its own threads, under
 * the slot's lock: the others read it. */
static enum slot_verdict slot_step(struct link_slot *s, enum slot_verdict (*step)(struct slot_state *))
{
	enum slot_verdict v;

	pthread_mutex_lock(&s->mu);
	v = step(&s->st);
	pthread_mutex_unlock(&s->mu);
	return v;
}

static void finish_job(struct link_slot *s, int64_t status, int64_t flags)
{
	struct wbuf w;
	uint32_t job = s->st.job;

	pthread_mutex_lock(&s->mu);
	(void)slot_state_job_done(&s->st, job);
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
	(void)slot_state_finished(&s->st);
	pthread_mutex_unlock(&s->mu);
	job_done_write(&w, job, status, flags);
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
		if (read_frame(s, &buf, &cap, &type, &len) < 0) {
			(void)slot_step(s, slot_state_lost);
			lost(s->l, "the runner closed the connection");
		}
		__atomic_store_n(&s->last_rx, now_ms(), __ATOMIC_RELAXED);
		r = (struct rbuf){ .p = buf, .len = len };
		if (type == W_PING)
			continue;
		if (type == W_JOB_DONE) {
			int64_t status, flags;
			if (job_done_read(&r, &job, &status, &flags) == 0 &&
			    slot_state_frame(&s->st, job) == SLOT_OK)
				finish_job(s, status, flags);
			continue;
		}
		job = rbuf_u32(&r);
		if (slot_state_frame(&s->st, job) != SLOT_OK)
			continue; /* not this slot's job (any more) */
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
		}
	}
	return NULL;
}

/* Sends the job, then the caller's stdin, until EOF or the job ends. */
static void pump(struct link_slot *s)
{
	unsigned char buf[CHUNK];
	int fd = s->fds[0];

	slot_write(s, &s->request);
	send_puts(s);
	(void)slot_step(s, slot_state_puts_sent);
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
			if (slot_step(s, slot_state_stdin_eof) != SLOT_OK)
				return;
			wbuf_init(&w, W_STDIN_EOF);
			wbuf_u32(&w, s->st.job);
			slot_write(s, &w);
			wbuf_free(&w);
			return;
		}
		wbuf_init(&w, W_STDIN);
		wbuf_u32(&w, s->st.job);
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

char *quoted(const char *s)
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
struct ssh_conn *connect_or_die(struct link *l)
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
	slot_state_init(&s->st);
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
	(void)slot_state_opened(&s->st);
	pthread_create(&s->tin, NULL, in_thread, s);
	pthread_create(&s->tout, NULL, out_thread, s);
}

/* The first slot opens now, the others in the background: the runner is
 * ready with one, and the warmer is told how many are open as they come. */
void go_ready(struct link *l)
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
