/* fuzz_wire.c — the frame reader and the payload readers.
 *
 * Input starting with 'E': a script of values (u32, i64, strings, string
 * vectors) is encoded with wbuf_*, fed to a wire_conn in pieces and read
 * back with rbuf_*: every value must come back as it was.  Any other input:
 * bytes as they would arrive on a socket, fed in pieces, each frame's
 * payload read as the type byte says; nothing may read out of bounds. */
#include "fuzz.h"
#include "util.h"
#include "wire.h"

struct src {
	const uint8_t *p;
	size_t n;
};

static uint8_t take(struct src *s)
{
	uint8_t c = s->n ? *s->p : 0;
	if (s->n) {
		s->p++;
		s->n--;
	}
	return c;
}

/* Appends bytes as wire_conn_fill() would after a recvmsg. */
static void feed(struct wire_conn *c, const uint8_t *p, size_t n)
{
	if (c->cap - c->len < n) {
		c->cap = 2 * (c->len + n);
		c->buf = xrealloc(c->buf, c->cap);
	}
	if (n)
		memcpy(c->buf + c->len, p, n);
	c->len += n;
}

/* ---------------------------------------------------------- decoding ---- */

static void read_payload(uint8_t type, struct rbuf *r)
{
	/* the type picks the order of reads, so that every reader meets
	 * every kind of garbage */
	for (unsigned op = type; !r->bad && r->off < r->len; op = op * 5 + 1) {
		switch (op % 4) {
		case 0: (void)rbuf_u32(r); break;
		case 1: (void)rbuf_i64(r); break;
		case 2: free(rbuf_str(r)); break;
		default: strv_free(rbuf_strv(r, 64)); break;
		}
		FUZZ_CHECK(r->off <= r->len);
	}
}

static void decode(const uint8_t *data, size_t size)
{
	struct wire_conn c;
	struct rbuf r;
	uint8_t type;
	int fds[WIRE_MAX_FDS], nfds, rc = 0;
	size_t off = 0, piece = size ? (size_t)data[0] % 64 + 1 : 1;

	wire_conn_init(&c, -1);
	while (rc >= 0 && off < size) {
		size_t n = size - off < piece ? size - off : piece;
		feed(&c, data + off, n);
		off += n;
		while ((rc = wire_conn_next(&c, &type, &r, fds, &nfds)) == 1) {
			FUZZ_CHECK(nfds == 0);
			read_payload(type, &r);
		}
	}
	wire_conn_free(&c);
}

/* ------------------------------------------------------ the round trip ---- */

enum { V_U32, V_I64, V_STR, V_STRV };

/* A string from the script: up to 40 bytes, no NUL (strings carry none). */
static char *script_str(struct src *s)
{
	size_t n = take(s) % 41, i;
	char *str = xmalloc(n + 1);
	for (i = 0; i < n; i++)
		str[i] = (char)(take(s) | 1);
	str[n] = 0;
	return str;
}

static char **script_strv(struct src *s)
{
	size_t n = take(s) % 5;
	char **v = xcalloc(n + 1, sizeof *v);
	for (size_t i = 0; i < n; i++)
		v[i] = script_str(s);
	return v;
}

static uint64_t script_u64(struct src *s)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v |= (uint64_t)take(s) << (8 * i);
	return v;
}

/* Writes one value to w, or (w NULL) reads it from r and compares. */
static void value(struct src *s, int kind, struct wbuf *w, struct rbuf *r)
{
	uint64_t u = script_u64(s);
	char *str = kind == V_STR ? script_str(s) : NULL, *got;
	char **v = kind == V_STRV ? script_strv(s) : NULL, **gotv;

	switch (kind) {
	case V_U32:
		if (w)
			wbuf_u32(w, (uint32_t)u);
		else
			FUZZ_CHECK(rbuf_u32(r) == (uint32_t)u);
		break;
	case V_I64:
		if (w)
			wbuf_i64(w, (int64_t)u);
		else
			FUZZ_CHECK(rbuf_i64(r) == (int64_t)u);
		break;
	case V_STR:
		if (w) {
			wbuf_str(w, str);
			break;
		}
		got = rbuf_str(r);
		FUZZ_CHECK(!strcmp(got, str));
		free(got);
		break;
	default:
		if (w) {
			wbuf_strv(w, v);
			break;
		}
		gotv = rbuf_strv(r, 64);
		FUZZ_CHECK(strv_len(gotv) == strv_len(v));
		for (size_t i = 0; v[i]; i++)
			FUZZ_CHECK(!strcmp(gotv[i], v[i]));
		strv_free(gotv);
	}
	free(str);
	strv_free(v);
}

static void run_script(struct src s, struct wbuf *w, struct rbuf *r)
{
	for (int i = 0; s.n && i < 32; i++)
		value(&s, take(&s) % 4, w, r);
}

static void round_trip(const uint8_t *data, size_t size)
{
	struct src s = { data, size };
	struct wire_conn c;
	struct wbuf w;
	struct rbuf r;
	uint8_t type = 0, want = take(&s);
	size_t piece = take(&s) % 16 + 1, off = 0;
	int fds[WIRE_MAX_FDS], nfds, rc = 0, frames = 0;

	wbuf_init(&w, (enum wire_type)want);
	run_script(s, &w, NULL);
	wbuf_seal(&w);
	wire_conn_init(&c, -1);
	/* the frame twice, in pieces: the second starts where the first ends */
	while (off < 2 * w.len && rc == 0) {
		size_t at = off % w.len, n = w.len - at < piece ? w.len - at : piece;
		feed(&c, w.p + at, n);
		off += n;
		while ((rc = wire_conn_next(&c, &type, &r, fds, &nfds)) == 1) {
			FUZZ_CHECK(type == want && nfds == 0 && r.len == w.len - 6);
			run_script(s, NULL, &r);
			FUZZ_CHECK(!r.bad && r.off == r.len);
			frames++;
		}
		FUZZ_CHECK(rc == 0);
	}
	FUZZ_CHECK(frames == 2);
	wire_conn_free(&c);
	wbuf_free(&w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size && data[0] == 'E')
		round_trip(data + 1, size - 1);
	else
		decode(data, size);
	return 0;
}
