/* ssh_transport.c — see ssh_transport.h. */
#include "transport.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <libssh2.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct ssh_conn {
	int sock;
	LIBSSH2_SESSION *s;
	char label[300]; /* user@host:port, for messages */
	char host[256];
	int port;
	int setting_up; /* (atomic) until its first channel runs: acks go at once */
};

struct ssh_chan {
	struct ssh_conn *c;
	LIBSSH2_CHANNEL *ch;
};

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void init_libssh2(void)
{
	libssh2_init(0);
}

static void b64_nopad(const unsigned char *in, size_t n, char *out, size_t outlen)
{
	unsigned char buf[128];
	int len;
	if (n > 64 || outlen < 90) {
		snprintf(out, outlen, "?");
		return;
	}
	len = EVP_EncodeBlock(buf, in, (int)n);
	while (len > 0 && buf[len - 1] == '=')
		len--;
	snprintf(out, outlen, "%.*s", len, (char *)buf);
}

static void fingerprint(const unsigned char *blob, size_t n, char *fp, size_t fplen)
{
	unsigned char d[SHA256_DIGEST_LENGTH];
	char b[96];
	SHA256(blob, n, d);
	b64_nopad(d, sizeof d, b, sizeof b);
	snprintf(fp, fplen, "SHA256:%s", b);
}

/* Decodes the base64 field of a public key line into blob. */
static int key_blob(const char *line, unsigned char *blob, size_t cap, size_t *n)
{
	const char *b = strchr(line, ' ');
	size_t len;
	int got, pad = 0;
	if (!b)
		return -1;
	b++;
	len = strcspn(b, " \t\r\n");
	if (len == 0 || len % 4 || len / 4 * 3 > cap)
		return -1;
	got = EVP_DecodeBlock(blob, (const unsigned char *)b, (int)len);
	if (got < 0)
		return -1;
	if (b[len - 1] == '=')
		pad++;
	if (b[len - 2] == '=')
		pad++;
	*n = (size_t)got - (size_t)pad;
	return 0;
}

int ssh_fingerprint_of_line(const char *line, char *fp, size_t fplen)
{
	unsigned char blob[1024];
	size_t n;
	if (key_blob(line, blob, sizeof blob, &n) < 0)
		return -1;
	fingerprint(blob, n, fp, fplen);
	return 0;
}

static int wait_fd(int fd, short events, int64_t deadline)
{
	for (;;) {
		struct pollfd p = { .fd = fd, .events = events };
		int64_t left = deadline - now_ms();
		int r;
		if (left <= 0)
			return 0;
		r = poll(&p, 1, (int)left);
		if (r > 0 || (r < 0 && errno != EINTR))
			return r;
	}
}

static int tcp_connect(const struct ssh_target *t, char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res, *ai;
	char port[16], host[256];
	int64_t deadline = now_ms() + t->timeout_ms;
	int fd = -1, rc, one = 1;
	size_t hl = strlen(t->host);

	if (t->host[0] == '[' && hl > 2 && t->host[hl - 1] == ']')
		snprintf(host, sizeof host, "%.*s", (int)hl - 2, t->host + 1);
	else
		snprintf(host, sizeof host, "%s", t->host);
	snprintf(port, sizeof port, "%d", t->port);
	rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0) {
		snprintf(err, errlen, "cannot resolve %s: %s", host, gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai && fd < 0; ai = ai->ai_next) {
		int soerr = 0;
		socklen_t sl = sizeof soerr;
		fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (fd < 0)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS) {
			snprintf(err, errlen, "cannot connect to %s port %d: %s", host, t->port,
			         strerror(errno));
			close(fd);
			fd = -1;
			continue;
		}
		if (wait_fd(fd, POLLOUT, deadline) <= 0) {
			snprintf(err, errlen, "no answer from %s port %d within %d ms", host, t->port,
			         t->timeout_ms);
			close(fd);
			fd = -1;
			continue;
		}
		getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
		if (soerr) {
			snprintf(err, errlen, "cannot connect to %s port %d: %s", host, t->port,
			         strerror(soerr));
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(res);
	if (fd >= 0) {
		set_nonblock(fd, 0);
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	}
	return fd;
}

/* sshd does not disable Nagle's algorithm for exec sessions, so a second
 * small packet of its waits for our ACK of the first, which the kernel
 * delays by up to 40 ms: acknowledging at once saves that on every
 * handshake step.  The kernel leaves quick-ACK mode by itself, so it is set
 * again before each step. */
static void quick_ack(int fd)
{
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
}

/* libssh2's reads, with TCP_QUICKACK armed again after each while the
 * session is being set up.  sshd keeps Nagle on for exec sessions and
 * writes two small packets after authentication (a hostkeys notice, then
 * the channel's confirmation); the second waits for our ACK of the first,
 * which Linux delays up to 40 ms after we sent a request, and QUICKACK lasts
 * only until we send.  Once a channel runs, acks are left to the kernel. */
static LIBSSH2_RECV_FUNC(recv_quick)
{
	struct ssh_conn *c = *abstract;
	ssize_t n = recv(socket, buffer, length, flags);

	if (n < 0)
		return -errno;
	if (__atomic_load_n(&c->setting_up, __ATOMIC_RELAXED))
		quick_ack(socket);
	return n;
}

static const char *ssh_error(LIBSSH2_SESSION *s)
{
	char *m = NULL;
	libssh2_session_last_error(s, &m, NULL, 0);
	return m && *m ? m : "unknown error";
}

static int check_known_hosts(struct ssh_conn *c, const char *file, const char *key, size_t n, const char *got,
                             char *err, size_t errlen)
{
	LIBSSH2_KNOWNHOSTS *kh = libssh2_knownhost_init(c->s);
	struct libssh2_knownhost *found = NULL;
	int rc;

	if (!kh || libssh2_knownhost_readfile(kh, file, LIBSSH2_KNOWNHOST_FILE_OPENSSH) < 0) {
		snprintf(err, errlen, "cannot read known hosts %s to check %s (it offers %s)", file, c->label,
		         got);
		if (kh)
			libssh2_knownhost_free(kh);
		return -1;
	}
	rc = libssh2_knownhost_checkp(kh, c->host, c->port, key, n,
	                              LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW, &found);
	libssh2_knownhost_free(kh);
	if (rc == LIBSSH2_KNOWNHOST_CHECK_MATCH)
		return 0;
	if (rc == LIBSSH2_KNOWNHOST_CHECK_MISMATCH)
		snprintf(err, errlen,
		         "host key mismatch for %s: %s pins another key, got %s; refusing to connect",
		         c->label, file, got);
	else
		snprintf(err, errlen,
		         "no pinned host key for %s in %s (it offers %s); verify that fingerprint and "
		         "add its key, or set host_key",
		         c->label, file, got);
	return -1;
}

static int check_host_key(struct ssh_conn *c, const char *pinned, const char *known, char *err, size_t errlen)
{
	size_t n, pn;
	int type;
	const char *key = libssh2_session_hostkey(c->s, &n, &type);
	unsigned char blob[1024];
	char got[128], want[128];

	if (!key) {
		snprintf(err, errlen, "%s sent no host key", c->label);
		return -1;
	}
	fingerprint((const unsigned char *)key, n, got, sizeof got);
	if (!pinned && known)
		return check_known_hosts(c, known, key, n, got, err, errlen);
	if (!pinned || key_blob(pinned, blob, sizeof blob, &pn) < 0) {
		snprintf(err, errlen,
		         "no valid pinned host key for %s (it offers %s); refusing to trust on first use",
		         c->label, got);
		return -1;
	}
	if (pn != n || memcmp(blob, key, n) != 0) {
		fingerprint(blob, pn, want, sizeof want);
		snprintf(err, errlen, "host key mismatch for %s: expected %s, got %s; refusing to connect",
		         c->label, want, got);
		return -1;
	}
	return 0;
}

static int set_methods(LIBSSH2_SESSION *s)
{
	return libssh2_session_method_pref(s, LIBSSH2_METHOD_KEX,
	                                   "curve25519-sha256,curve25519-sha256@libssh.org") ||
	       libssh2_session_method_pref(s, LIBSSH2_METHOD_HOSTKEY, "ssh-ed25519") ||
	       libssh2_session_method_pref(s, LIBSSH2_METHOD_CRYPT_CS, "aes128-ctr") ||
	       libssh2_session_method_pref(s, LIBSSH2_METHOD_CRYPT_SC, "aes128-ctr") ||
	       libssh2_session_method_pref(s, LIBSSH2_METHOD_MAC_CS, "hmac-sha2-256") ||
	       libssh2_session_method_pref(s, LIBSSH2_METHOD_MAC_SC, "hmac-sha2-256");
}

struct ssh_conn *ssh_connect(const struct ssh_target *t, char *err, size_t errlen)
{
	struct ssh_conn *c = xcalloc(1, sizeof *c);

	pthread_once(&init_once, init_libssh2);
	snprintf(c->label, sizeof c->label, "%s@%s:%d", t->user, t->host, t->port);
	snprintf(c->host, sizeof c->host, "%s", t->host);
	c->port = t->port;
	c->sock = tcp_connect(t, err, errlen);
	if (c->sock < 0)
		goto fail;
	c->setting_up = 1;
	c->s = libssh2_session_init_ex(NULL, NULL, NULL, c);
	if (c->s)
		libssh2_session_callback_set(c->s, LIBSSH2_CALLBACK_RECV, (void *)recv_quick);
	if (!c->s || set_methods(c->s)) {
		snprintf(err, errlen, "cannot set up an SSH session for %s", c->label);
		goto fail;
	}
	libssh2_session_set_blocking(c->s, 1);
	libssh2_session_set_timeout(c->s, t->timeout_ms);
	quick_ack(c->sock);
	if (libssh2_session_handshake(c->s, c->sock) != 0) {
		snprintf(err, errlen, "SSH handshake with %s failed: %s", c->label, ssh_error(c->s));
		goto fail;
	}
	if (check_host_key(c, t->host_key, t->known_hosts, err, errlen) < 0)
		goto fail;
	quick_ack(c->sock);
	if (libssh2_userauth_publickey_fromfile_ex(c->s, t->user, (unsigned)strlen(t->user), NULL,
	                                           t->key_path, NULL) != 0) {
		snprintf(err, errlen,
		         "%s refused key %s: %s (the key must be ed25519 and in its authorized_keys)",
		         c->label, t->key_path, ssh_error(c->s));
		goto fail;
	}
	return c;
fail:
	ssh_close(c);
	return NULL;
}

void ssh_close(struct ssh_conn *c)
{
	if (!c)
		return;
	if (c->s) {
		libssh2_session_disconnect(c->s, "bye");
		libssh2_session_free(c->s);
	}
	if (c->sock >= 0)
		close(c->sock);
	free(c);
}

static void append(char **buf, size_t *len, size_t cap, const char *p, size_t n)
{
	size_t take = *len + n > cap ? cap - *len : n;
	if (!take)
		return;
	*buf = xrealloc(*buf, *len + take + 1);
	memcpy(*buf + *len, p, take);
	*len += take;
	(*buf)[*len] = 0;
}

/* SSH names signals without "SIG" (RFC 4254 6.10). */
static int signal_number(const char *name)
{
	static const struct {
		const char *name;
		int num;
	} map[] = {
		{ "HUP", 1 },   { "INT", 2 },   { "QUIT", 3 },  { "ILL", 4 },   { "ABRT", 6 },
		{ "FPE", 8 },   { "KILL", 9 },  { "USR1", 10 }, { "SEGV", 11 }, { "USR2", 12 },
		{ "PIPE", 13 }, { "ALRM", 14 }, { "TERM", 15 },
	};
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
		if (!strcmp(map[i].name, name))
			return map[i].num;
	return 127; /* unknown: 255 overall, like ssh */
}

static int drain(LIBSSH2_CHANNEL *ch, int stream, char **buf, size_t *len, size_t cap)
{
	char tmp[16384]; /* small reads are faster with libssh2 1.10 (baseline.md §5.3) */
	for (;;) {
		ssize_t n = libssh2_channel_read_ex(ch, stream, tmp, sizeof tmp);
		if (n < 0)
			return -1;
		if (n == 0)
			return 0;
		append(buf, len, cap, tmp, (size_t)n);
	}
}

int ssh_run(struct ssh_conn *c, const char *command, const void *in, size_t inlen, char **out, size_t *outlen,
            char **errout, size_t *errlen_out, size_t cap, int *exit_status, char *err, size_t errlen)
{
	LIBSSH2_CHANNEL *ch;
	char *sig = NULL;
	int rc = -1;

	quick_ack(c->sock);
	ch = libssh2_channel_open_session(c->s);

	*out = *errout = NULL;
	*outlen = *errlen_out = 0;
	if (!ch) {
		snprintf(err, errlen, "%s: cannot open a channel: %s", c->label, ssh_error(c->s));
		return -1;
	}
	if (libssh2_channel_exec(ch, command) != 0) {
		snprintf(err, errlen, "%s: cannot run a command: %s", c->label, ssh_error(c->s));
		goto out;
	}
	for (size_t off = 0; off < inlen;) {
		ssize_t w = libssh2_channel_write(ch, (const char *)in + off, inlen - off);
		if (w < 0) {
			snprintf(err, errlen, "%s: writing stdin failed: %s", c->label, ssh_error(c->s));
			goto out;
		}
		off += (size_t)w;
	}
	libssh2_channel_send_eof(ch);
	if (drain(ch, 0, out, outlen, cap) < 0 ||
	    drain(ch, SSH_EXTENDED_DATA_STDERR, errout, errlen_out, cap) < 0) {
		snprintf(err, errlen, "%s: reading the command's output failed: %s", c->label,
		         ssh_error(c->s));
		goto out;
	}
	libssh2_channel_close(ch);
	libssh2_channel_wait_closed(ch);
	*exit_status = libssh2_channel_get_exit_status(ch);
	libssh2_channel_get_exit_signal(ch, &sig, NULL, NULL, NULL, NULL, NULL);
	if (sig) {
		*exit_status = 128 + signal_number(sig);
		free(sig);
	}
	rc = 0;
out:
	libssh2_channel_free(ch);
	return rc;
}

const char *ssh_label(const struct ssh_conn *c)
{
	return c->label;
}

struct ssh_chan *ssh_chan_exec(struct ssh_conn *c, const char *command, char *err, size_t errlen)
{
	struct ssh_chan *ch = xcalloc(1, sizeof *ch);
	ch->c = c;
	quick_ack(c->sock);
	ch->ch = libssh2_channel_open_session(c->s);
	if (ch->ch)
		quick_ack(c->sock);
	if (!ch->ch || libssh2_channel_exec(ch->ch, command) != 0) {
		snprintf(err, errlen, "%s: cannot run a command: %s", c->label, ssh_error(c->s));
		ssh_chan_close(ch);
		return NULL;
	}
	__atomic_store_n(&c->setting_up, 0, __ATOMIC_RELAXED);
	return ch;
}

int ssh_chan_write(struct ssh_chan *ch, const void *p, size_t n)
{
	const char *b = p;
	while (n > 0) {
		ssize_t w = libssh2_channel_write(ch->ch, b, n);
		if (w == LIBSSH2_ERROR_TIMEOUT)
			continue; /* the window stays shut while the runner is busy: keep waiting */
		if (w < 0)
			return -1;
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

long ssh_chan_read(struct ssh_chan *ch, void *p, size_t n)
{
	for (;;) {
		ssize_t r = libssh2_channel_read(ch->ch, p, n);
		if (r == LIBSSH2_ERROR_TIMEOUT)
			return -2;
		if (r < 0)
			return -1;
		/* libssh2 1.10 also returns 0 after a packet that carried no data
		 * for us (a window adjust, say): only EOF ends the stream */
		if (r > 0 || libssh2_channel_eof(ch->ch))
			return (long)r;
	}
}

void ssh_chan_close(struct ssh_chan *ch)
{
	if (!ch)
		return;
	if (ch->ch) {
		libssh2_channel_close(ch->ch);
		libssh2_channel_free(ch->ch);
	}
	free(ch);
}
