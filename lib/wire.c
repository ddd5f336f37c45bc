/* wire.c — see wire.h. */
#include "wire.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define HDR 6 /* u32 length, u8 type, u8 nfds */

enum { HELLO_NONE, HELLO_WANTED, HELLO_DONE };

static void reserve(struct wbuf *b, size_t n)
{
	if (b->len + n <= b->cap)
		return;
	while (b->len + n > b->cap)
		b->cap = b->cap ? b->cap * 2 : 256;
	b->p = xrealloc(b->p, b->cap);
}

void wbuf_init(struct wbuf *b, enum wire_type type)
{
	memset(b, 0, sizeof *b);
	reserve(b, HDR);
	memset(b->p, 0, HDR);
	b->p[4] = (unsigned char)type;
	b->len = HDR;
}

void wbuf_u32(struct wbuf *b, uint32_t v)
{
	reserve(b, 4);
	for (int i = 0; i < 4; i++)
		b->p[b->len++] = (unsigned char)(v >> (8 * i));
}

void wbuf_i64(struct wbuf *b, int64_t v)
{
	uint64_t u = (uint64_t)v;
	reserve(b, 8);
	for (int i = 0; i < 8; i++)
		b->p[b->len++] = (unsigned char)(u >> (8 * i));
}

void wbuf_bytes(struct wbuf *b, const void *p, size_t n)
{
	wbuf_u32(b, (uint32_t)n);
	wbuf_raw(b, p, n);
}

void wbuf_raw(struct wbuf *b, const void *p, size_t n)
{
	reserve(b, n);
	if (n)
		memcpy(b->p + b->len, p, n);
	b->len += n;
}

void wbuf_str(struct wbuf *b, const char *s)
{
	wbuf_bytes(b, s ? s : "", s ? strlen(s) : 0);
}

void wbuf_strv(struct wbuf *b, char *const *v)
{
	size_t n = strv_len(v);
	wbuf_u32(b, (uint32_t)n);
	for (size_t i = 0; i < n; i++)
		wbuf_str(b, v[i]);
}

void wbuf_fd(struct wbuf *b, int fd)
{
	if (b->nfds < WIRE_MAX_FDS)
		b->fds[b->nfds++] = fd;
}

void wbuf_free(struct wbuf *b)
{
	free(b->p);
	memset(b, 0, sizeof *b);
}

uint32_t rbuf_u32(struct rbuf *r)
{
	uint32_t v = 0;
	if (r->bad || r->len - r->off < 4) {
		r->bad = 1;
		return 0;
	}
	for (int i = 0; i < 4; i++)
		v |= (uint32_t)r->p[r->off++] << (8 * i);
	return v;
}

int64_t rbuf_i64(struct rbuf *r)
{
	uint64_t v = 0;
	if (r->bad || r->len - r->off < 8) {
		r->bad = 1;
		return 0;
	}
	for (int i = 0; i < 8; i++)
		v |= (uint64_t)r->p[r->off++] << (8 * i);
	return (int64_t)v;
}

char *rbuf_str(struct rbuf *r)
{
	uint32_t n = rbuf_u32(r);
	char *s;
	if (r->bad || r->len - r->off < n || memchr(r->p + r->off, 0, n)) {
		r->bad = 1;
		return xstrdup("");
	}
	s = xmalloc((size_t)n + 1);
	memcpy(s, r->p + r->off, n);
	s[n] = 0;
	r->off += n;
	return s;
}

char **rbuf_strv(struct rbuf *r, size_t max)
{
	uint32_t n = rbuf_u32(r);
	char **v;
	if (r->bad || n > max || n > r->len - r->off) {
		r->bad = 1;
		n = 0;
	}
	v = xcalloc((size_t)n + 1, sizeof *v);
	for (uint32_t i = 0; i < n; i++)
		v[i] = rbuf_str(r);
	return v;
}

static int send_chunk(int sock, const unsigned char *p, size_t n, const int *fds, int nfds)
{
	struct iovec iov = { .iov_base = (void *)p, .iov_len = n };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	union {
		char buf[CMSG_SPACE(sizeof(int) * WIRE_MAX_FDS)];
		struct cmsghdr align;
	} u;

	if (nfds > 0) {
		struct cmsghdr *c;
		memset(&u, 0, sizeof u);
		mh.msg_control = u.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	for (;;) {
		ssize_t w = sendmsg(sock, &mh, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		return (int)w;
	}
}

void wbuf_seal(struct wbuf *b)
{
	uint32_t len = (uint32_t)(b->len - 4);

	for (int i = 0; i < 4; i++)
		b->p[i] = (unsigned char)(len >> (8 * i));
	b->p[5] = (unsigned char)b->nfds;
}

int wire_send(int sock, struct wbuf *b)
{
	size_t off = 0;

	wbuf_seal(b);
	while (off < b->len) {
		int w = send_chunk(sock, b->p + off, b->len - off, off ? NULL : b->fds, off ? 0 : b->nfds);
		if (w < 0 && errno == ENOTSOCK && !b->nfds)
			w = (int)write(sock, b->p + off, b->len - off);
		if (w <= 0)
			return -1;
		off += (size_t)w;
	}
	return 0;
}

void wire_conn_init(struct wire_conn *c, int fd)
{
	memset(c, 0, sizeof *c);
	c->fd = fd;
}

void wire_conn_want_hello(struct wire_conn *c)
{
	c->hello = HELLO_WANTED;
}

int wire_conn_hello_done(const struct wire_conn *c)
{
	return c->hello == HELLO_DONE;
}

/* 1 when the peer's hello was taken (its bytes dropped on the next call),
 * 0 when more bytes are needed, -1 (EPROTO) when the peer will not do. */
static int take_hello(struct wire_conn *c)
{
	size_t used = 0;
	int rc = wire_hello_parse(c->buf, c->len, &c->peer, &used);

	if (rc == 0)
		return 0;
	if (rc < 0 || c->peer.protocol != WIRE_PROTOCOL) {
		errno = EPROTO;
		return -1;
	}
	c->drop = used;
	c->hello = HELLO_DONE;
	return 1;
}

static void take_fds(struct wire_conn *c, struct msghdr *mh)
{
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
		int n;
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		n = (int)((cm->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		for (int i = 0; i < n; i++) {
			int fd;
			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof fd);
			if (c->nfds < (int)(sizeof c->fds / sizeof c->fds[0]))
				c->fds[c->nfds++] = fd;
			else
				close(fd);
		}
	}
}

static size_t frame_limit(const struct wire_conn *c)
{
	return c->max_frame ? c->max_frame : WIRE_MAX_FRAME;
}

static uint32_t frame_len(const struct wire_conn *c)
{
	return (uint32_t)c->buf[0] | (uint32_t)c->buf[1] << 8 | (uint32_t)c->buf[2] << 16 |
	       (uint32_t)c->buf[3] << 24;
}

/* Room to read into.  A limited connection (the warmer's callers) starts
 * small and never holds much more than its limit: a peer that announces a
 * big frame and sends it slowly costs what it sent, up to the limit. */
static int make_room(struct wire_conn *c)
{
	size_t room = c->max_frame ? 4096 : 65536, cap;

	/* (the hello's magic is no length) */
	if (c->hello != HELLO_WANTED && c->len >= 4 && frame_len(c) > frame_limit(c)) {
		errno = EMSGSIZE;
		return -1;
	}
	if (c->cap - c->len >= room)
		return 0;
	cap = c->cap ? c->cap * 2 : room;
	if (c->max_frame && cap > c->max_frame + 4 + room)
		cap = c->max_frame + 4 + room;
	if (cap > c->cap) {
		c->buf = xrealloc(c->buf, cap);
		c->cap = cap;
	}
	return 0;
}

int wire_conn_fill(struct wire_conn *c)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * WIRE_MAX_FDS)];
		struct cmsghdr align;
	} u;
	struct iovec iov;
	struct msghdr mh;
	ssize_t r;

	if (make_room(c) < 0)
		return -1;
	iov.iov_base = c->buf + c->len;
	iov.iov_len = c->cap - c->len;
	memset(&mh, 0, sizeof mh);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = u.buf;
	mh.msg_controllen = sizeof u.buf;
	do {
		r = recvmsg(c->fd, &mh, MSG_CMSG_CLOEXEC);
	} while (r < 0 && errno == EINTR);
	if (r < 0 && errno == ENOTSOCK)
		r = read(c->fd, c->buf + c->len, c->cap - c->len);
	if (r < 0)
		return -1;
	if (mh.msg_controllen > 0)
		take_fds(c, &mh);
	c->len += (size_t)r;
	if (mh.msg_flags & MSG_CTRUNC) {
		/* descriptors were dropped (out of them): the frame is unusable */
		errno = EMFILE;
		return -1;
	}
	return (int)r;
}

int wire_conn_next(struct wire_conn *c, uint8_t *type, struct rbuf *payload, int *fds, int *nfds)
{
	uint32_t len;
	int want;

	if (c->drop) {
		memmove(c->buf, c->buf + c->drop, c->len - c->drop);
		c->len -= c->drop;
		c->drop = 0;
	}
	memset(payload, 0, sizeof *payload);
	*nfds = 0;
	if (c->hello == HELLO_WANTED) {
		int h = take_hello(c);
		if (h <= 0)
			return h;
		return wire_conn_next(c, type, payload, fds, nfds);
	}
	if (c->len < HDR)
		return 0;
	len = frame_len(c);
	if (len < 2 || len > frame_limit(c)) {
		errno = EBADMSG;
		return -1;
	}
	if (c->len < (size_t)len + 4) {
		if (!c->max_frame && c->cap < (size_t)len + 4) {
			c->cap = (size_t)len + 4;
			c->buf = xrealloc(c->buf, c->cap);
		}
		return 0;
	}
	want = c->buf[5];
	if (want > WIRE_MAX_FDS || want > c->nfds) {
		errno = EBADMSG;
		return -1;
	}
	*type = c->buf[4];
	memcpy(fds, c->fds, sizeof(int) * want);
	memmove(c->fds, c->fds + want, sizeof(int) * (c->nfds - want));
	c->nfds -= want;
	*nfds = want;
	payload->p = c->buf + HDR;
	payload->len = len - 2;
	c->drop = (size_t)len + 4;
	return 1;
}

int wire_conn_recv(struct wire_conn *c, uint8_t *type, struct rbuf *payload, int *fds, int *nfds)
{
	for (;;) {
		int r = wire_conn_next(c, type, payload, fds, nfds);
		if (r != 0)
			return r;
		r = wire_conn_fill(c);
		if (r == 0)
			return 0;
		if (r < 0)
			return -1;
	}
}

int wire_conn_pump(struct wire_conn *c, wire_frame_fn on_frame, void *ctx)
{
	uint8_t type;
	struct rbuf r;
	int fds[WIRE_MAX_FDS], nfds, rc = wire_conn_fill(c);

	if (rc == 0)
		return 0;
	if (rc < 0 && errno != EAGAIN && errno != EINTR)
		return -1;
	while ((rc = wire_conn_next(c, &type, &r, fds, &nfds)) == 1)
		if (on_frame(ctx, type, &r, fds, nfds))
			return 2;
	return rc < 0 ? -1 : 1;
}

void close_fds(int *fds, int n)
{
	for (int i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

void wire_conn_free(struct wire_conn *c)
{
	close_fds(c->fds, c->nfds);
	free(c->buf);
	memset(c, 0, sizeof *c);
	c->fd = -1;
}

size_t wire_conn_trim(struct wire_conn *c)
{
	if (c->len == c->drop) {
		free(c->buf);
		c->buf = NULL;
		c->len = c->cap = c->drop = 0;
	}
	return c->cap;
}
