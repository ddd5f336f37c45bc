/* test_wire_conn.c — framing over sockets and pipes (lib/wire.h): sending,
 * receiving, descriptors, partial and corrupt streams. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wire.h"
#include "util.h"

static void socketpair_or_fail(int sv[2])
{
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
}

static void test_send_recv_socketpair(void **state)
{
	char *argv[] = { "a\tb", "", "\n", NULL };
	int sv[2], fds[WIRE_MAX_FDS], nfds = -1;
	struct wbuf b;
	struct wire_conn c;
	struct rbuf r;
	uint8_t type = 0;
	char *s;
	char **v;
	(void)state;
	socketpair_or_fail(sv);
	wbuf_init(&b, W_STARTED);
	wbuf_u32(&b, 99);
	wbuf_str(&b, "runner-1");
	wbuf_strv(&b, argv);
	wbuf_i64(&b, -42);
	assert_int_equal(wire_send(sv[0], &b), 0);
	wbuf_free(&b);

	wire_conn_init(&c, sv[1]);
	assert_int_equal(wire_conn_recv(&c, &type, &r, fds, &nfds), 1);
	assert_int_equal(type, W_STARTED);
	assert_int_equal(nfds, 0);
	assert_int_equal(rbuf_u32(&r), 99);
	s = rbuf_str(&r);
	assert_string_equal(s, "runner-1");
	free(s);
	v = rbuf_strv(&r, 10);
	assert_int_equal(strv_len(v), 3);
	assert_string_equal(v[0], "a\tb");
	assert_string_equal(v[1], "");
	assert_string_equal(v[2], "\n");
	strv_free(v);
	assert_true(rbuf_i64(&r) == -42);
	assert_false(r.bad);
	assert_int_equal(r.off, r.len);

	/* EOF */
	close(sv[0]);
	assert_int_equal(wire_conn_recv(&c, &type, &r, fds, &nfds), 0);
	wire_conn_free(&c);
	close(sv[1]);
}

static void same_file(int a, int b)
{
	struct stat sa, sb;
	assert_int_equal(fstat(a, &sa), 0);
	assert_int_equal(fstat(b, &sb), 0);
	assert_true(sa.st_dev == sb.st_dev);
	assert_true(sa.st_ino == sb.st_ino);
}

static void test_pass_two_fds(void **state)
{
	char tmpl[] = "/tmp/flame-test-wire-XXXXXX";
	int file = mkstemp(tmpl), pp[2], sv[2], fds[WIRE_MAX_FDS], nfds = -1;
	struct wbuf b;
	struct wire_conn c;
	struct rbuf r;
	uint8_t type = 0;
	char buf[16];
	(void)state;
	assert_true(file >= 0);
	unlink(tmpl);
	assert_int_equal(pipe(pp), 0);
	socketpair_or_fail(sv);

	wbuf_init(&b, W_RUN);
	wbuf_fd(&b, file);
	wbuf_fd(&b, pp[1]);
	wbuf_str(&b, "with fds");
	assert_int_equal(b.nfds, 2);
	assert_int_equal(wire_send(sv[0], &b), 0);
	wbuf_free(&b);

	wire_conn_init(&c, sv[1]);
	assert_int_equal(wire_conn_recv(&c, &type, &r, fds, &nfds), 1);
	assert_int_equal(type, W_RUN);
	assert_int_equal(nfds, 2);
	assert_true(fds[0] >= 0 && fds[0] != file);
	assert_true(fds[1] >= 0 && fds[1] != pp[1]);
	same_file(fds[0], file);
	same_file(fds[1], pp[1]);
	/* received descriptors are close-on-exec */
	assert_true(fcntl(fds[0], F_GETFD) & FD_CLOEXEC);
	/* and they work: write through the received ones, read at the originals */
	assert_int_equal(write(fds[0], "file!", 5), 5);
	assert_int_equal(pread(file, buf, 5, 0), 5);
	assert_memory_equal(buf, "file!", 5);
	assert_int_equal(write(fds[1], "pipe!", 5), 5);
	assert_int_equal(read(pp[0], buf, 5), 5);
	assert_memory_equal(buf, "pipe!", 5);
	{
		char *s = rbuf_str(&r);
		assert_string_equal(s, "with fds");
		free(s);
	}
	close_fds(fds, nfds);
	wire_conn_free(&c);
	close(file);
	close(pp[0]);
	close(pp[1]);
	close(sv[0]);
	close(sv[1]);
}

static void test_fds_go_with_their_frame(void **state)
{
	int sv[2], pp[2], fds[WIRE_MAX_FDS], nfds = -1;
	struct wbuf b;
	struct wire_conn c;
	struct rbuf r;
	uint8_t type = 0;
	(void)state;
	socketpair_or_fail(sv);
	assert_int_equal(pipe(pp), 0);
	/* frame 1 without descriptors, frame 2 with one, frame 3 without */
	wbuf_init(&b, W_LS);
	assert_int_equal(wire_send(sv[0], &b), 0);
	wbuf_free(&b);
	wbuf_init(&b, W_RUN);
	wbuf_fd(&b, pp[0]);
	assert_int_equal(wire_send(sv[0], &b), 0);
	wbuf_free(&b);
	wbuf_init(&b, W_STOP);
	wbuf_u32(&b, 3);
	assert_int_equal(wire_send(sv[0], &b), 0);
	wbuf_free(&b);

	wire_conn_init(&c, sv[1]);
	assert_int_equal(wire_conn_recv(&c, &type, &r, fds, &nfds), 1);
	assert_int_equal(type, W_LS);
	assert_int_equal(nfds, 0);
	assert_int_equal(r.len, 0);
	assert_int_equal(wire_conn_recv(&c, &type, &r, fds, &nfds), 1);
	assert_int_equal(type, W_RUN);
	assert_int_equal(nfds, 1);
	same_file(fds[0], pp[0]);
	close(fds[0]);
	assert_int_equal(wire_conn_recv(&c, &type, &r, fds, &nfds), 1);
	assert_int_equal(type, W_STOP);
	assert_int_equal(nfds, 0);
	assert_int_equal(rbuf_u32(&r), 3);
	wire_conn_free(&c);
	close(pp[0]);
	close(pp[1]);
	close(sv[0]);
	close(sv[1]);
}

/* A frame arriving a byte (or a few) at a time is assembled correctly. */
static void test_frames_split_across_reads(void **state)
{
	int sv[2], fds[WIRE_MAX_FDS], nfds = -1;
	struct wbuf b;
	struct wire_conn c;
	struct rbuf r;
	uint8_t type = 0;
	size_t step_sizes[] = { 1, 2, 3, 5, 7, 4096 };
	char *s;
	(void)state;

	for (size_t k = 0; k < sizeof step_sizes / sizeof step_sizes[0]; k++) {
		size_t step = step_sizes[k], off = 0;
		int got = 0;
		socketpair_or_fail(sv);
		wbuf_init(&b, W_REPLY);
		wbuf_str(&b, "split\tframe\n");
		wbuf_i64(&b, 123456789012345LL);
		/* two frames back to back in one byte stream */
		{
			struct wbuf b2;
			wbuf_init(&b2, W_DONE);
			wbuf_u32(&b2, 77);
			/* fill in headers the way wire_send does, by sending to a scratch pair */
			int tmp[2];
			unsigned char raw[512];
			ssize_t n1, n2;
			socketpair_or_fail(tmp);
			assert_int_equal(wire_send(tmp[0], &b), 0);
			assert_int_equal(wire_send(tmp[0], &b2), 0);
			close(tmp[0]);
			n1 = read(tmp[1], raw, sizeof raw);
			assert_true(n1 > 0);
			n2 = read(tmp[1], raw + n1, sizeof raw - (size_t)n1);
			if (n2 > 0)
				n1 += n2;
			close(tmp[1]);
			assert_int_equal((size_t)n1, b.len + b2.len);
			wbuf_free(&b2);

			wire_conn_init(&c, sv[1]);
			assert_int_equal(set_nonblock(sv[1], 1), 0);
			while (off < (size_t)n1) {
				size_t n = (size_t)n1 - off < step ? (size_t)n1 - off : step;
				int rc;
				assert_int_equal(write(sv[0], raw + off, n), (ssize_t)n);
				off += n;
				assert_true(wire_conn_fill(&c) > 0);
				while ((rc = wire_conn_next(&c, &type, &r, fds, &nfds)) == 1) {
					if (got == 0) {
						assert_int_equal(type, W_REPLY);
						s = rbuf_str(&r);
						assert_string_equal(s, "split\tframe\n");
						free(s);
						assert_true(rbuf_i64(&r) == 123456789012345LL);
						assert_false(r.bad);
					} else {
						assert_int_equal(type, W_DONE);
						assert_int_equal(rbuf_u32(&r), 77);
						assert_false(r.bad);
					}
					got++;
				}
				assert_int_equal(rc, 0);
				if (off < b.len)
					assert_int_equal(got, 0);
			}
		}
		assert_int_equal(got, 2);
		/* nothing more: a non-blocking fill says EAGAIN */
		assert_int_equal(wire_conn_fill(&c), -1);
		assert_int_equal(errno, EAGAIN);
		wbuf_free(&b);
		wire_conn_free(&c);
		close(sv[0]);
		close(sv[1]);
	}
}

static void test_over_a_pipe(void **state)
{
	int pp[2], fds[WIRE_MAX_FDS], nfds = -1;
	struct wbuf b;
	struct wire_conn c;
	struct rbuf r;
	uint8_t type = 0;
	(void)state;
	assert_int_equal(pipe(pp), 0);
	wbuf_init(&b, W_JOB_DONE);
	wbuf_i64(&b, 256);
	wbuf_i64(&b, JOB_TIMED_OUT);
	assert_int_equal(wire_send(pp[1], &b), 0);
	wbuf_free(&b);
	close(pp[1]);
	wire_conn_init(&c, pp[0]);
	assert_int_equal(wire_conn_recv(&c, &type, &r, fds, &nfds), 1);
	assert_int_equal(type, W_JOB_DONE);
	assert_true(rbuf_i64(&r) == 256);
	assert_true(rbuf_i64(&r) == JOB_TIMED_OUT);
	assert_int_equal(wire_conn_recv(&c, &type, &r, fds, &nfds), 0);
	wire_conn_free(&c);
	close(pp[0]);
}

static void test_send_to_gone_peer_is_epipe(void **state)
{
	int sv[2];
	struct wbuf b;
	(void)state;
	socketpair_or_fail(sv);
	close(sv[1]);
	wbuf_init(&b, W_STOP);
	errno = 0;
	/* must not raise SIGPIPE (the test would die) */
	assert_int_equal(wire_send(sv[0], &b), -1);
	assert_int_equal(errno, EPIPE);
	wbuf_free(&b);
	close(sv[0]);
}

static void raw_frame_is_corrupt(const unsigned char *raw, size_t n)
{
	int sv[2], fds[WIRE_MAX_FDS], nfds = -1;
	struct wire_conn c;
	struct rbuf r;
	uint8_t type = 0;
	socketpair_or_fail(sv);
	assert_int_equal(write(sv[0], raw, n), (ssize_t)n);
	wire_conn_init(&c, sv[1]);
	assert_true(wire_conn_fill(&c) > 0);
	assert_int_equal(wire_conn_next(&c, &type, &r, fds, &nfds), -1);
	wire_conn_free(&c);
	close(sv[0]);
	close(sv[1]);
}

static void test_corrupt_streams(void **state)
{
	/* length 1: shorter than type + nfds */
	static const unsigned char short_len[] = { 1, 0, 0, 0, 5, 0 };
	/* length beyond WIRE_MAX_FRAME */
	static const unsigned char huge[] = { 0xff, 0xff, 0xff, 0xff, 5, 0 };
	/* claims 2 descriptors, none arrived */
	static const unsigned char phantom_fds[] = { 2, 0, 0, 0, 5, 2 };
	/* claims more descriptors than a frame may carry */
	static const unsigned char too_many_fds[] = { 2, 0, 0, 0, 5, 200 };
	(void)state;
	raw_frame_is_corrupt(short_len, sizeof short_len);
	raw_frame_is_corrupt(huge, sizeof huge);
	raw_frame_is_corrupt(phantom_fds, sizeof phantom_fds);
	raw_frame_is_corrupt(too_many_fds, sizeof too_many_fds);
}

static void test_incomplete_header_waits(void **state)
{
	static const unsigned char part[] = { 10, 0, 0 };
	int sv[2], fds[WIRE_MAX_FDS], nfds = -1;
	struct wire_conn c;
	struct rbuf r;
	uint8_t type = 0;
	(void)state;
	socketpair_or_fail(sv);
	assert_int_equal(write(sv[0], part, sizeof part), 3);
	wire_conn_init(&c, sv[1]);
	assert_int_equal(wire_conn_fill(&c), 3);
	assert_int_equal(wire_conn_next(&c, &type, &r, fds, &nfds), 0);
	/* EOF mid-frame: recv reports EOF, not a frame */
	close(sv[0]);
	assert_int_equal(wire_conn_recv(&c, &type, &r, fds, &nfds), 0);
	wire_conn_free(&c);
	close(sv[1]);
}

static void test_conn_free_closes_undelivered_fds(void **state)
{
	int sv[2], pp[2];
	struct wbuf b;
	struct wire_conn c;
	int received;
	(void)state;
	socketpair_or_fail(sv);
	assert_int_equal(pipe(pp), 0);
	wbuf_init(&b, W_RUN);
	wbuf_fd(&b, pp[1]);
	assert_int_equal(wire_send(sv[0], &b), 0);
	wbuf_free(&b);
	close(pp[1]);
	wire_conn_init(&c, sv[1]);
	assert_true(wire_conn_fill(&c) > 0);
	assert_int_equal(c.nfds, 1);
	received = c.fds[0];
	wire_conn_free(&c);
	assert_int_equal(c.fd, -1);
	/* the only write end left was the undelivered one: now closed, so EOF */
	{
		char ch;
		assert_int_equal(read(pp[0], &ch, 1), 0);
	}
	assert_int_equal(fcntl(received, F_GETFD), -1);
	close(pp[0]);
	close(sv[0]);
	close(sv[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_send_recv_socketpair),
		cmocka_unit_test(test_pass_two_fds),
		cmocka_unit_test(test_fds_go_with_their_frame),
		cmocka_unit_test(test_frames_split_across_reads),
		cmocka_unit_test(test_over_a_pipe),
		cmocka_unit_test(test_send_to_gone_peer_is_epipe),
		cmocka_unit_test(test_corrupt_streams),
		cmocka_unit_test(test_incomplete_header_waits),
		cmocka_unit_test(test_conn_free_closes_undelivered_fds),
	};
	signal(SIGPIPE, SIG_DFL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
