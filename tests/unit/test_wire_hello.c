/* test_wire_hello.c — the versioned hello that opens every connection
 * (lib/wire.h): built, read back, refused when it is another protocol's or
 * missing, and the one line that says so. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "wire.h"

#ifndef FLAME_VERSION /* the Makefile defines it for the library and this test alike */
#define FLAME_VERSION "0.0.0"
#endif

/* A hello as another flame would send it: PROTOCOL, VERSION, WHO. */
static unsigned char *foreign_hello(uint32_t protocol, const char *version, const char *who, size_t *len)
{
	struct wbuf w;
	unsigned char *out;

	wbuf_init(&w, W_HELLO);
	wbuf_u32(&w, protocol);
	wbuf_str(&w, version);
	wbuf_str(&w, who);
	wbuf_seal(&w);
	out = malloc(4 + w.len);
	assert_non_null(out);
	memcpy(out, WIRE_HELLO_MAGIC, 4);
	memcpy(out + 4, w.p, w.len);
	*len = 4 + w.len;
	wbuf_free(&w);
	return out;
}

static void test_own_hello_reads_back(void **state)
{
	size_t len, used;
	unsigned char *b = wire_hello_bytes("link", &len);
	struct wire_peer peer;

	(void)state;
	assert_memory_equal(b, WIRE_HELLO_MAGIC, 4);
	assert_int_equal(wire_hello_parse(b, len, &peer, &used), 1);
	assert_int_equal(used, len);
	assert_int_equal(peer.protocol, WIRE_PROTOCOL);
	assert_string_equal(peer.who, "link");
	assert_string_equal(peer.version, FLAME_VERSION);
	free(b);
}

static void test_every_prefix_asks_for_more(void **state)
{
	size_t len, used;
	unsigned char *b = wire_hello_bytes("slot", &len);
	struct wire_peer peer;

	(void)state;
	for (size_t n = 0; n < len; n++)
		assert_int_equal(wire_hello_parse(b, n, &peer, &used), 0);
	free(b);
}

static void test_a_frame_first_is_a_flame_before_the_hello(void **state)
{
	struct wbuf w;
	struct wire_peer peer;
	size_t used;

	(void)state;
	wbuf_init(&w, W_READY);
	wbuf_i64(&w, 1234);
	wbuf_seal(&w);
	assert_int_equal(wire_hello_parse(w.p, w.len, &peer, &used), -1);
	assert_int_equal(peer.protocol, 1);
	assert_string_equal(peer.version, "");
	/* refused as soon as the first byte differs */
	assert_int_equal(wire_hello_parse(w.p, 1, &peer, &used), -1);
	wbuf_free(&w);
}

static void test_magic_then_garbage_is_not_flame(void **state)
{
	unsigned char b[16] = "FLAM\x03\x00\x00\x00\x07zz";
	struct wire_peer peer;
	size_t used;

	(void)state;
	assert_int_equal(wire_hello_parse(b, 7, &peer, &used), 0);
	assert_int_equal(wire_hello_parse(b, sizeof b, &peer, &used), -1);
	assert_int_equal(peer.protocol, 0);
	/* a hello longer than a hello can be */
	memcpy(b, "FLAM\xff\xff\x00\x00", 8);
	assert_int_equal(wire_hello_parse(b, 8, &peer, &used), -1);
}

static void test_peer_strings_are_made_printable(void **state)
{
	size_t len, used;
	unsigned char *b = foreign_hello(3, "9.9\n\033[31m", "x", &len);
	struct wire_peer peer;

	(void)state;
	assert_int_equal(wire_hello_parse(b, len, &peer, &used), 1);
	assert_int_equal(peer.protocol, 3);
	assert_string_equal(peer.version, "9.9??[31m");
	free(b);
}

static void test_refusal_names_both_versions(void **state)
{
	struct wire_peer old = { .protocol = 1 }, other = { .protocol = 3, .version = "0.3.0" };
	char line[512], want[512];

	(void)state;
	wire_peer_refusal(&other, "runner host h1", "upgrade flame on h1", line, sizeof line);
	snprintf(
		want, sizeof want,
		"runner host h1 runs flame 0.3.0 (protocol 3), this flame %s speaks protocol %d: upgrade flame "
		"on h1",
		FLAME_VERSION, WIRE_PROTOCOL);
	assert_string_equal(line, want);
	wire_peer_refusal(&old, "the warmer", "stop it", line, sizeof line);
	assert_non_null(strstr(line, "the warmer runs an older flame (protocol 1"));
	assert_null(strchr(line, '\n'));
}

/* conn_with BYTES: a connection that wants a hello and has BYTES to read */
static void conn_with(struct wire_conn *c, int sv[2], const void *p, size_t n)
{
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(write(sv[0], p, n), (ssize_t)n);
	close(sv[0]);
	wire_conn_init(c, sv[1]);
	wire_conn_want_hello(c);
}

static void test_conn_takes_the_hello_silently(void **state)
{
	size_t len;
	unsigned char *b = wire_hello_bytes("warmer", &len), *all;
	struct wbuf w;
	struct wire_conn c;
	struct rbuf r;
	int sv[2], fds[WIRE_MAX_FDS], nfds;
	uint8_t type;

	(void)state;
	wbuf_init(&w, W_ACCEPTED);
	wbuf_seal(&w);
	all = malloc(len + w.len);
	assert_non_null(all);
	memcpy(all, b, len);
	memcpy(all + len, w.p, w.len);
	conn_with(&c, sv, all, len + w.len);
	assert_int_equal(wire_conn_recv(&c, &type, &r, fds, &nfds), 1);
	assert_int_equal(type, W_ACCEPTED);
	assert_true(wire_conn_hello_done(&c));
	assert_string_equal(c.peer.who, "warmer");
	assert_int_equal(wire_conn_recv(&c, &type, &r, fds, &nfds), 0);
	wire_conn_free(&c);
	close(sv[1]);
	wbuf_free(&w);
	free(all);
	free(b);
}

static void test_conn_refuses_other_protocol_and_no_hello(void **state)
{
	size_t len;
	unsigned char *b = foreign_hello(WIRE_PROTOCOL + 1, "9.9.9", "warmer", &len);
	struct wbuf w;
	struct wire_conn c;
	struct rbuf r;
	int sv[2], fds[WIRE_MAX_FDS], nfds;
	uint8_t type;

	(void)state;
	conn_with(&c, sv, b, len);
	errno = 0;
	assert_int_equal(wire_conn_recv(&c, &type, &r, fds, &nfds), -1);
	assert_int_equal(errno, EPROTO);
	assert_int_equal(c.peer.protocol, WIRE_PROTOCOL + 1);
	assert_false(wire_conn_hello_done(&c));
	wire_conn_free(&c);
	close(sv[1]);
	free(b);

	wbuf_init(&w, W_RUN);
	wbuf_str(&w, "default");
	wbuf_seal(&w);
	conn_with(&c, sv, w.p, w.len);
	errno = 0;
	assert_int_equal(wire_conn_recv(&c, &type, &r, fds, &nfds), -1);
	assert_int_equal(errno, EPROTO);
	assert_int_equal(c.peer.protocol, 1);
	wire_conn_free(&c);
	close(sv[1]);
	wbuf_free(&w);
}

static void test_conn_ending_before_the_hello(void **state)
{
	struct wire_conn c;
	struct rbuf r;
	int sv[2], fds[WIRE_MAX_FDS], nfds;
	uint8_t type;

	(void)state;
	conn_with(&c, sv, "FL", 2);
	assert_int_equal(wire_conn_recv(&c, &type, &r, fds, &nfds), 0);
	assert_false(wire_conn_hello_done(&c));
	wire_conn_free(&c);
	close(sv[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_own_hello_reads_back),
		cmocka_unit_test(test_every_prefix_asks_for_more),
		cmocka_unit_test(test_a_frame_first_is_a_flame_before_the_hello),
		cmocka_unit_test(test_magic_then_garbage_is_not_flame),
		cmocka_unit_test(test_peer_strings_are_made_printable),
		cmocka_unit_test(test_refusal_names_both_versions),
		cmocka_unit_test(test_conn_takes_the_hello_silently),
		cmocka_unit_test(test_conn_refuses_other_protocol_and_no_hello),
		cmocka_unit_test(test_conn_ending_before_the_hello),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
