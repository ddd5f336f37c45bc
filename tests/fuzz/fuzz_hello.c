/* fuzz_hello.c — a peer's first bytes read as its hello (wire.h): from any
 * bytes, wire_hello_parse() takes no more than it was given, says "more"
 * only for a prefix of a hello, and what it shows of the peer is printable;
 * a wire_conn that wants a hello hands out no frame before a good one. */
#include "fuzz.h"
#include "wire.h"

static int printable(const char *s)
{
	for (; *s; s++)
		if (*s < 0x20 || *s > 0x7e)
			return 0;
	return 1;
}

static void through_conn(const uint8_t *data, size_t size)
{
	struct wire_conn c;
	uint8_t type;
	struct rbuf r;
	int fds[WIRE_MAX_FDS], nfds, rc;

	wire_conn_init(&c, -1);
	wire_conn_want_hello(&c);
	c.buf = malloc(size ? size : 1);
	c.cap = size ? size : 1;
	if (size)
		memcpy(c.buf, data, size);
	c.len = size;
	while ((rc = wire_conn_next(&c, &type, &r, fds, &nfds)) == 1)
		FUZZ_CHECK(wire_conn_hello_done(&c) && c.peer.protocol == WIRE_PROTOCOL);
	wire_conn_free(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wire_peer peer;
	size_t used = 0;
	int rc = wire_hello_parse(data, size, &peer, &used);
	char line[512];

	FUZZ_CHECK(rc >= -1 && rc <= 1);
	FUZZ_CHECK(used <= size && (rc == 1) == (used > 0));
	FUZZ_CHECK(printable(peer.version) && printable(peer.who));
	if (rc == 0)
		FUZZ_CHECK(size < 4 || !memcmp(data, WIRE_HELLO_MAGIC, 4));
	wire_peer_refusal(&peer, "fuzz", "nothing", line, sizeof line);
	FUZZ_CHECK(fuzz_one_line(line));
	through_conn(data, size);
	return 0;
}
