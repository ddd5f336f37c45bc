/* test_wire.c — framing over sockets and pipes (lib/wire.h). */
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
#include "backends/backend.h"

/* lib/warmer.o refers to backend_find (backends/local.c), which unit tests do
 * not link: a weak stub, overridden if the real one is ever linked in. */
__attribute__((weak)) const struct backend *backend_find(const char *name)
{
	(void)name;
	return NULL;
}

/* The payload of a built wbuf, as a reader sees it. */
static struct rbuf payload_of(const struct wbuf *b)
{
	struct rbuf r = { b->p + 6, b->len - 6, 0, 0 };
	return r;
}

static void test_round_trip_numbers(void **state)
{
	struct wbuf b;
	struct rbuf r;
	(void)state;
	wbuf_init(&b, W_RUN);
	wbuf_u32(&b, 0);
	wbuf_u32(&b, 1);
	wbuf_u32(&b, 0xdeadbeefu);
	wbuf_u32(&b, UINT32_MAX);
	wbuf_i64(&b, 0);
	wbuf_i64(&b, -1);
	wbuf_i64(&b, INT64_MIN);
	wbuf_i64(&b, INT64_MAX);
	wbuf_i64(&b, 0x0102030405060708LL);
	r = payload_of(&b);
	assert_int_equal(rbuf_u32(&r), 0);
	assert_int_equal(rbuf_u32(&r), 1);
	assert_int_equal(rbuf_u32(&r), 0xdeadbeefu);
	assert_int_equal(rbuf_u32(&r), UINT32_MAX);
	assert_true(rbuf_i64(&r) == 0);
	assert_true(rbuf_i64(&r) == -1);
	assert_true(rbuf_i64(&r) == INT64_MIN);
	assert_true(rbuf_i64(&r) == INT64_MAX);
	assert_true(rbuf_i64(&r) == 0x0102030405060708LL);
	assert_false(r.bad);
	assert_int_equal(r.off, r.len);
	/* little endian on the wire */
	assert_int_equal(b.p[6 + 8], 0xef);
	assert_int_equal(b.p[6 + 11], 0xde);
	/* reading past the end marks the reader bad */
	assert_int_equal(rbuf_u32(&r), 0);
	assert_true(r.bad);
	wbuf_free(&b);
}

static void test_round_trip_strings(void **state)
{
	static const char *strs[] = {
		"",
		"plain",
		"tab\there",
		"new\nline\r\n",
		"\xff\xfe\x80 not utf-8 \xc3",
		"quotes ' \" `$(rm -rf /)` \\",
		" leading and trailing ",
		"-",
	};
	size_t n = sizeof strs / sizeof strs[0];
	struct wbuf b;
	struct rbuf r;
	char *s;
	(void)state;
	wbuf_init(&b, W_RUN);
	for (size_t i = 0; i < n; i++)
		wbuf_str(&b, strs[i]);
	wbuf_str(&b, NULL); /* sent as "" */
	r = payload_of(&b);
	for (size_t i = 0; i < n; i++) {
		s = rbuf_str(&r);
		assert_non_null(s);
		assert_int_equal(strlen(s), strlen(strs[i]));
		assert_memory_equal(s, strs[i], strlen(strs[i]) + 1);
		free(s);
	}
	s = rbuf_str(&r);
	assert_string_equal(s, "");
	free(s);
	assert_false(r.bad);
	assert_int_equal(r.off, r.len);
	wbuf_free(&b);
}

static void test_round_trip_big_string(void **state)
{
	size_t n = 1 << 20;
	char *big = malloc(n + 1), *s;
	struct wbuf b;
	struct rbuf r;
	(void)state;
	for (size_t i = 0; i < n; i++)
		big[i] = (char)(1 + i % 255);
	big[n] = 0;
	wbuf_init(&b, W_RUN);
	wbuf_str(&b, big);
	wbuf_u32(&b, 42);
	r = payload_of(&b);
	s = rbuf_str(&r);
	assert_int_equal(strlen(s), n);
	assert_memory_equal(s, big, n);
	assert_int_equal(rbuf_u32(&r), 42);
	assert_false(r.bad);
	free(s);
	free(big);
	wbuf_free(&b);
}

static void test_round_trip_strv(void **state)
{
	char *argv[] = { "printf", "%s\\n", "a b", "", "\t", "x\ny", "\xff", NULL };
	char *empty[] = { NULL };
	struct wbuf b;
	struct rbuf r;
	char **v;
	(void)state;
	wbuf_init(&b, W_RUN);
	wbuf_strv(&b, argv);
	wbuf_strv(&b, empty);
	wbuf_strv(&b, NULL);
	wbuf_u32(&b, 7);
	r = payload_of(&b);
	v = rbuf_strv(&r, 100);
	assert_non_null(v);
	assert_int_equal(strv_len(v), 7);
	for (size_t i = 0; i < 7; i++)
		assert_string_equal(v[i], argv[i]);
	assert_null(v[7]);
	strv_free(v);
	v = rbuf_strv(&r, 100);
	assert_non_null(v);
	assert_null(v[0]);
	strv_free(v);
	v = rbuf_strv(&r, 100);
	assert_non_null(v);
	assert_null(v[0]);
	strv_free(v);
	assert_int_equal(rbuf_u32(&r), 7);
	assert_false(r.bad);
	wbuf_free(&b);
}

static void test_strv_over_max_is_bad(void **state)
{
	char *argv[] = { "a", "b", "c", NULL };
	struct wbuf b;
	struct rbuf r;
	char **v;
	(void)state;
	wbuf_init(&b, W_RUN);
	wbuf_strv(&b, argv);
	r = payload_of(&b);
	v = rbuf_strv(&r, 2);
	assert_non_null(v);
	assert_null(v[0]);
	assert_true(r.bad);
	strv_free(v);
	wbuf_free(&b);
}

static void test_strv_huge_count_is_bad(void **state)
{
	struct wbuf b;
	struct rbuf r;
	char **v;
	(void)state;
	wbuf_init(&b, W_RUN);
	wbuf_u32(&b, 0xffffffffu); /* claims 4 billion strings */
	wbuf_u32(&b, 0);
	r = payload_of(&b);
	v = rbuf_strv(&r, UINT32_MAX);
	assert_non_null(v);
	assert_true(r.bad);
	strv_free(v);
	wbuf_free(&b);
}

static void test_truncated_payload_marks_bad(void **state)
{
	char *argv[] = { "one", "two", "three", NULL };
	struct wbuf b;
	struct rbuf full;
	(void)state;
	wbuf_init(&b, W_RUN);
	wbuf_u32(&b, 5);
	wbuf_str(&b, "hello world");
	wbuf_strv(&b, argv);
	wbuf_i64(&b, -5);
	full = payload_of(&b);
	/* every strict prefix of the payload must read as bad, never crash */
	for (size_t cut = 0; cut < full.len; cut++) {
		struct rbuf r = { full.p, cut, 0, 0 };
		char *s;
		char **v;
		(void)rbuf_u32(&r);
		s = rbuf_str(&r);
		assert_non_null(s);
		free(s);
		v = rbuf_strv(&r, 16);
		assert_non_null(v);
		strv_free(v);
		(void)rbuf_i64(&r);
		if (!r.bad)
			print_error("prefix of %zu/%zu bytes not marked bad\n", cut, full.len);
		assert_true(r.bad);
		assert_true(r.off <= r.len);
	}
	{
		struct rbuf r = full;
		char *s;
		char **v;
		assert_int_equal(rbuf_u32(&r), 5);
		s = rbuf_str(&r);
		assert_string_equal(s, "hello world");
		free(s);
		v = rbuf_strv(&r, 16);
		assert_string_equal(v[2], "three");
		strv_free(v);
		assert_true(rbuf_i64(&r) == -5);
		assert_false(r.bad);
	}
	wbuf_free(&b);
}

static void test_string_length_overrun_is_bad(void **state)
{
	struct wbuf b;
	struct rbuf r;
	char *s;
	(void)state;
	wbuf_init(&b, W_RUN);
	wbuf_u32(&b, 0xfffffff0u); /* a length far past the payload */
	wbuf_bytes(&b, "abc", 0);
	r = payload_of(&b);
	s = rbuf_str(&r);
	assert_non_null(s);
	assert_true(r.bad);
	free(s);
	/* once bad, everything after reads as zero / empty */
	assert_int_equal(rbuf_u32(&r), 0);
	assert_true(rbuf_i64(&r) == 0);
	s = rbuf_str(&r);
	assert_string_equal(s, "");
	free(s);
	wbuf_free(&b);
}

static void test_string_with_nul_refused(void **state)
{
	struct wbuf b;
	struct rbuf r;
	char *s;
	(void)state;
	wbuf_init(&b, W_RUN);
	wbuf_bytes(&b, "ab\0cd", 5);
	r = payload_of(&b);
	s = rbuf_str(&r);
	assert_true(r.bad);
	assert_non_null(s);
	assert_string_equal(s, ""); /* never a silently shortened "ab" */
	free(s);
	wbuf_free(&b);

	wbuf_init(&b, W_RUN);
	wbuf_bytes(&b, "\0", 1);
	r = payload_of(&b);
	s = rbuf_str(&r);
	assert_true(r.bad);
	free(s);
	wbuf_free(&b);
}

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

/* A sealed frame decodes without a socket, as the fuzzer feeds it. */
static void test_sealed_frame_decodes_without_socket(void **state)
{
	struct wbuf w;
	struct wire_conn c;
	struct rbuf r;
	uint8_t type = 0;
	int fds[WIRE_MAX_FDS], nfds = -1;
	char *s;
	(void)state;
	wbuf_init(&w, W_OUT);
	wbuf_u32(&w, 7);
	wbuf_str(&w, "hello");
	wbuf_seal(&w);
	assert_int_equal(w.p[0] | w.p[1] << 8 | w.p[2] << 16 | w.p[3] << 24, (int)w.len - 4);
	assert_int_equal(w.p[5], 0);
	wire_conn_init(&c, -1);
	c.buf = xmalloc(w.len);
	c.cap = c.len = w.len;
	memcpy(c.buf, w.p, w.len);
	assert_int_equal(wire_conn_next(&c, &type, &r, fds, &nfds), 1);
	assert_int_equal(type, W_OUT);
	assert_int_equal(nfds, 0);
	assert_int_equal(rbuf_u32(&r), 7);
	s = rbuf_str(&r);
	assert_string_equal(s, "hello");
	assert_false(r.bad);
	assert_int_equal(r.off, r.len);
	free(s);
	wire_conn_free(&c);
	wbuf_free(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_numbers),
		cmocka_unit_test(test_round_trip_strings),
		cmocka_unit_test(test_round_trip_big_string),
		cmocka_unit_test(test_round_trip_strv),
		cmocka_unit_test(test_strv_over_max_is_bad),
		cmocka_unit_test(test_strv_huge_count_is_bad),
		cmocka_unit_test(test_truncated_payload_marks_bad),
		cmocka_unit_test(test_string_length_overrun_is_bad),
		cmocka_unit_test(test_string_with_nul_refused),
		cmocka_unit_test(test_send_recv_socketpair),
		cmocka_unit_test(test_pass_two_fds),
		cmocka_unit_test(test_fds_go_with_their_frame),
		cmocka_unit_test(test_frames_split_across_reads),
		cmocka_unit_test(test_over_a_pipe),
		cmocka_unit_test(test_send_to_gone_peer_is_epipe),
		cmocka_unit_test(test_corrupt_streams),
		cmocka_unit_test(test_incomplete_header_waits),
		cmocka_unit_test(test_conn_free_closes_undelivered_fds),
		cmocka_unit_test(test_sealed_frame_decodes_without_socket),
	};
	signal(SIGPIPE, SIG_DFL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
