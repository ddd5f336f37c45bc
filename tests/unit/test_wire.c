/* test_wire.c — payloads: building and reading frames' contents (lib/wire.h). */
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
		cmocka_unit_test(test_sealed_frame_decodes_without_socket),
	};
	signal(SIGPIPE, SIG_DFL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
