/* test_wire_pump.c — wire_conn_pump (lib/wire.h): the read-and-dispatch step
 * every process's event loop takes on a connection. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wire.h"
#include "util.h"
#include "backends/backend.h"

/* lib/warmer.o refers to backend_find (backends/local.c), which unit tests do
 * not link: a weak stub, overridden if the real one is ever linked in. */
__attribute__((weak)) const struct backend *backend_find(const char *name)
{
	(void)name;
	return NULL;
}

/* What the handler saw, and when it stops. */
struct seen {
	int n;
	uint8_t types[16];
	uint32_t values[16];
	int fds[16];
	int stop_at; /* stop after this many frames; 0: never */
};

static int record(void *ctx, uint8_t type, struct rbuf *r, int *fds, int nfds)
{
	struct seen *s = ctx;

	assert_true(s->n < 16);
	s->types[s->n] = type;
	s->values[s->n] = rbuf_u32(r);
	assert_false(r->bad);
	s->fds[s->n] = nfds == 1 ? fds[0] : -1;
	assert_true(nfds <= 1);
	s->n++;
	return s->stop_at && s->n == s->stop_at;
}

static void send_u32(int fd, enum wire_type type, uint32_t v, int with_fd)
{
	struct wbuf b;

	wbuf_init(&b, type);
	wbuf_u32(&b, v);
	if (with_fd >= 0)
		wbuf_fd(&b, with_fd);
	assert_int_equal(wire_send(fd, &b), 0);
	wbuf_free(&b);
}

/* A nonblocking socket pair: the test writes to peer, the pump reads c. */
struct fixture {
	int peer;
	struct wire_conn c;
	struct seen s;
};

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof *f);
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv), 0);
	f->peer = sv[0];
	wire_conn_init(&f->c, sv[1]);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	close(f->c.fd);
	wire_conn_free(&f->c);
	if (f->peer >= 0)
		close(f->peer);
	free(f);
	return 0;
}

static int pump(struct fixture *f)
{
	return wire_conn_pump(&f->c, record, &f->s);
}

static void test_frames_in_order(void **state)
{
	struct fixture *f = *state;

	send_u32(f->peer, W_READY, 1, -1);
	send_u32(f->peer, W_CAPACITY, 2, -1);
	send_u32(f->peer, W_PING, 3, -1);
	assert_int_equal(pump(f), 1);
	assert_int_equal(f->s.n, 3);
	assert_int_equal(f->s.types[0], W_READY);
	assert_int_equal(f->s.types[1], W_CAPACITY);
	assert_int_equal(f->s.types[2], W_PING);
	assert_int_equal(f->s.values[0], 1);
	assert_int_equal(f->s.values[2], 3);
}

/* Nothing to read is no error; half a frame waits for the rest. */
static void test_nothing_and_partial(void **state)
{
	struct fixture *f = *state;
	struct wbuf b;

	assert_int_equal(pump(f), 1);
	assert_int_equal(f->s.n, 0);
	wbuf_init(&b, W_PING);
	wbuf_u32(&b, 7);
	wbuf_seal(&b);
	assert_int_equal(write(f->peer, b.p, 5), 5);
	assert_int_equal(pump(f), 1);
	assert_int_equal(f->s.n, 0);
	assert_int_equal(write(f->peer, b.p + 5, b.len - 5), (ssize_t)(b.len - 5));
	assert_int_equal(pump(f), 1);
	assert_int_equal(f->s.n, 1);
	assert_int_equal(f->s.values[0], 7);
	wbuf_free(&b);
}

/* A handler that stops leaves the rest for the next call. */
static void test_early_stop(void **state)
{
	struct fixture *f = *state;

	send_u32(f->peer, W_READY, 1, -1);
	send_u32(f->peer, W_PING, 2, -1);
	f->s.stop_at = 1;
	assert_int_equal(pump(f), 2);
	assert_int_equal(f->s.n, 1);
	f->s.stop_at = 0;
	assert_int_equal(pump(f), 1);
	assert_int_equal(f->s.n, 2);
	assert_int_equal(f->s.types[1], W_PING);
	assert_int_equal(f->s.values[1], 2);
}

/* The end of the stream is 0, after the frames before it were handed out,
 * and hands out nothing. */
static void test_eof(void **state)
{
	struct fixture *f = *state;

	send_u32(f->peer, W_READY, 1, -1);
	close(f->peer);
	f->peer = -1;
	assert_int_equal(pump(f), 1);
	assert_int_equal(f->s.n, 1);
	assert_int_equal(pump(f), 0);
	assert_int_equal(f->s.n, 1);
}

/* A pipe is read too (the agents' stdin). */
static void test_pipe(void **state)
{
	struct fixture *f = *state;
	int p[2];

	assert_int_equal(pipe(p), 0);
	send_u32(p[1], W_JOB_PGID, 42, -1);
	close(p[1]);
	close(f->c.fd);
	f->c.fd = p[0];
	assert_int_equal(pump(f), 1);
	assert_int_equal(f->s.n, 1);
	assert_int_equal(f->s.values[0], 42);
	assert_int_equal(pump(f), 0);
}

/* A frame where a hello should be is a peer of another protocol. */
static void test_no_hello_is_eproto(void **state)
{
	struct fixture *f = *state;

	send_u32(f->peer, W_READY, 1, -1);
	wire_conn_want_hello(&f->c);
	errno = 0;
	assert_int_equal(pump(f), -1);
	assert_int_equal(errno, EPROTO);
	assert_int_equal(f->s.n, 0);
	assert_false(wire_conn_hello_done(&f->c));
}

/* A good hello is taken silently; the frames after it are handed out. */
static void test_hello_taken(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(wire_send_hello(f->peer, "warmer"), 0);
	send_u32(f->peer, W_READY, 5, -1);
	wire_conn_want_hello(&f->c);
	assert_int_equal(pump(f), 1);
	assert_true(wire_conn_hello_done(&f->c));
	assert_string_equal(f->c.peer.who, "warmer");
	assert_int_equal(f->s.n, 1);
	assert_int_equal(f->s.types[0], W_READY);
	assert_int_equal(f->s.values[0], 5);
}

/* A corrupt frame (a length too short to hold a header) is EBADMSG, after
 * the good frames before it. */
static void test_corrupt(void **state)
{
	static const unsigned char bad[] = { 1, 0, 0, 0, W_PING, 0 };
	struct fixture *f = *state;

	send_u32(f->peer, W_READY, 1, -1);
	assert_int_equal(write(f->peer, bad, sizeof bad), (ssize_t)sizeof bad);
	errno = EPROTO; /* a stale errno is not the answer */
	assert_int_equal(pump(f), -1);
	assert_int_equal(errno, EBADMSG);
	assert_int_equal(f->s.n, 1);
}

/* A frame over the connection's limit is a corrupt stream. */
static void test_too_long(void **state)
{
	struct fixture *f = *state;
	char big[8192];
	struct wbuf b;

	memset(big, 'x', sizeof big);
	wbuf_init(&b, W_RUN);
	wbuf_bytes(&b, big, sizeof big);
	assert_int_equal(wire_send(f->peer, &b), 0);
	wbuf_free(&b);
	f->c.max_frame = 1024;
	assert_int_equal(pump(f), -1);
	assert_int_equal(errno, EBADMSG);
	assert_int_equal(f->s.n, 0);
}

/* A length over the limit that came alone is refused by the next read. */
static void test_length_alone_too_long(void **state)
{
	static const unsigned char len[] = { 0, 0x20, 0, 0 };
	struct fixture *f = *state;

	assert_int_equal(write(f->peer, len, sizeof len), (ssize_t)sizeof len);
	f->c.max_frame = 1024;
	assert_int_equal(pump(f), 1);
	assert_int_equal(pump(f), -1);
	assert_int_equal(errno, EMSGSIZE);
	assert_int_equal(f->s.n, 0);
}

/* Descriptors go with their frame to the handler, which owns them. */
static void test_descriptors(void **state)
{
	struct fixture *f = *state;
	struct stat a, b;
	int p[2];

	assert_int_equal(pipe(p), 0);
	send_u32(f->peer, W_PING, 1, -1);
	send_u32(f->peer, W_READY, 2, p[1]);
	assert_int_equal(pump(f), 1);
	assert_int_equal(f->s.n, 2);
	assert_int_equal(f->s.fds[0], -1);
	assert_true(f->s.fds[1] >= 0);
	assert_int_equal(fstat(f->s.fds[1], &a), 0);
	assert_int_equal(fstat(p[1], &b), 0);
	assert_true(a.st_ino == b.st_ino && a.st_dev == b.st_dev);
	assert_int_equal(fcntl(f->s.fds[1], F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	close(f->s.fds[1]);
	close(p[0]);
	close(p[1]);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_frames_in_order),
		T(test_nothing_and_partial),
		T(test_early_stop),
		T(test_eof),
		T(test_pipe),
		T(test_no_hello_is_eproto),
		T(test_hello_taken),
		T(test_corrupt),
		T(test_too_long),
		T(test_length_alone_too_long),
		T(test_descriptors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
