/* wire_hello.c — the hello that opens every connection (wire.h). */
#include "util.h"
#include "wire.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef FLAME_VERSION
#define FLAME_VERSION "0.0.0"
#endif

#define MAGIC_LEN 4
/* a hello is a few dozen bytes; anything longer is not one */
#define HELLO_MAX_FRAME 512

unsigned char *wire_hello_bytes(const char *who, size_t *len)
{
	struct wbuf w;
	unsigned char *out;

	wbuf_init(&w, W_HELLO);
	wbuf_u32(&w, WIRE_PROTOCOL);
	wbuf_str(&w, FLAME_VERSION);
	wbuf_str(&w, who);
	wbuf_seal(&w);
	out = xmalloc(MAGIC_LEN + w.len);
	memcpy(out, WIRE_HELLO_MAGIC, MAGIC_LEN);
	memcpy(out + MAGIC_LEN, w.p, w.len);
	*len = MAGIC_LEN + w.len;
	wbuf_free(&w);
	return out;
}

int wire_send_hello(int fd, const char *who)
{
	size_t len, off = 0;
	unsigned char *b = wire_hello_bytes(who, &len);

	while (off < len) {
		ssize_t n = send(fd, b + off, len - off, MSG_NOSIGNAL);
		if (n < 0 && errno == ENOTSOCK)
			n = write(fd, b + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			free(b);
			return -1;
		}
		off += (size_t)n;
	}
	free(b);
	return 0;
}

/* A string from the peer, for messages: printable ASCII, truncated. */
static void copy_shown(char *dst, size_t cap, const char *src)
{
	size_t i = 0;
	for (; src && src[i] && i + 1 < cap; i++)
		dst[i] = src[i] >= 0x20 && src[i] < 0x7f ? src[i] : '?';
	dst[i] = 0;
}

static int read_hello_frame(const unsigned char *p, size_t n, struct wire_peer *peer)
{
	struct rbuf r = { .p = p + 2, .len = n - 2 };
	char *version, *who;

	if (p[0] != W_HELLO || p[1] != 0)
		return -1;
	peer->protocol = rbuf_u32(&r);
	version = rbuf_str(&r);
	who = rbuf_str(&r);
	copy_shown(peer->version, sizeof peer->version, version);
	copy_shown(peer->who, sizeof peer->who, who);
	free(version);
	free(who);
	return r.bad || peer->protocol < 2 ? -1 : 1;
}

int wire_hello_parse(const unsigned char *p, size_t len, struct wire_peer *peer, size_t *used)
{
	uint32_t n;

	*used = 0;
	memset(peer, 0, sizeof *peer);
	if (len == 0)
		return 0;
	/* no magic: a flame from before the hello, which opens with a frame */
	if (memcmp(p, WIRE_HELLO_MAGIC, len < MAGIC_LEN ? len : MAGIC_LEN)) {
		peer->protocol = 1;
		return -1;
	}
	if (len < MAGIC_LEN + 4)
		return 0;
	n = (uint32_t)p[4] | (uint32_t)p[5] << 8 | (uint32_t)p[6] << 16 | (uint32_t)p[7] << 24;
	if (n < 2 || n > HELLO_MAX_FRAME)
		return -1;
	if (len < MAGIC_LEN + 4 + (size_t)n)
		return 0;
	if (read_hello_frame(p + MAGIC_LEN + 4, n, peer) < 0) {
		peer->protocol = 0;
		return -1;
	}
	*used = MAGIC_LEN + 4 + (size_t)n;
	return 1;
}

void wire_peer_refusal(const struct wire_peer *peer, const char *where, const char *what_to_do, char *buf,
                       size_t len)
{
	char theirs[96];

	if (peer->protocol == 1 && !peer->version[0])
		snprintf(theirs, sizeof theirs, "an older flame (protocol 1, before the protocol hello)");
	else if (peer->protocol == 0)
		snprintf(theirs, sizeof theirs,
		         "something that is not flame (its first bytes are no flame hello)");
	else
		snprintf(theirs, sizeof theirs, "flame %s (protocol %u)",
		         peer->version[0] ? peer->version : "?", (unsigned)peer->protocol);
	snprintf(buf, len, "%s runs %s, this flame %s speaks protocol %d: %s", where, theirs, FLAME_VERSION,
	         WIRE_PROTOCOL, what_to_do);
}
