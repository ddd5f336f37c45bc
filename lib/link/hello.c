/* hello.c — what flame the runner runs: `COMMAND version` on an ssh host
 * before any slot opens, and the hellos each slot's two channels open with
 * (wire.h).  A runner of another protocol ends the link in one line that
 * names both versions and what to do, before any job is sent. */
#include "internal.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What `COMMAND version` says on the runner ("flame 0.2.0 (protocol 2)";
 * a flame from before the hello says "flame 0.1.0": protocol 1).  0 and
 * *peer filled, or -1 with *status when flame is not there. */
static int remote_flame(struct link *l, struct wire_peer *peer, int *status)
{
	struct ssh_conn *c = connect_or_die(l);
	char *q = quoted(l->command), *cmd = xasprintf("%s version", q), *out, *eout, err[1024];
	size_t ol, el;
	int rc = -1;
	unsigned p;

	*status = 0;
	if (ssh_run(c, cmd, NULL, 0, &out, &ol, &eout, &el, 4096, status, err, sizeof err) < 0)
		lost(l, err);
	memset(peer, 0, sizeof *peer);
	if (*status == 0 && out && !strncmp(out, "flame ", 6)) {
		char *v = out + 6;
		v[strcspn(v, " \n")] = 0;
		snprintf(peer->version, sizeof peer->version, "%s", v);
		peer->protocol = sscanf(v + strlen(v) + 1, "(protocol %u)", &p) == 1 ? p : 1;
		rc = 0;
	}
	free(out);
	free(eout);
	free(cmd);
	free(q);
	ssh_close(c);
	return rc;
}

/* The runner runs a flame of another protocol: say which, and what to do. */
static void __attribute__((noreturn)) other_protocol(struct link *l, const struct wire_peer *peer)
{
	char where[320], why[1024];

	if (l->is_fly) {
		snprintf(where, sizeof where, "Fly Machine %s", l->fly.id[0] ? l->fly.id : l->host);
		wire_peer_refusal(
			peer, where,
			"deploy an image with this flame (examples/fly/Dockerfile builds it) and set "
			"FLY_IMAGE_REF to it",
			why, sizeof why);
	} else {
		snprintf(where, sizeof where, "runner host %s", l->host);
		wire_peer_refusal(
			peer, where,
			"upgrade flame there, or point the pool's \"command\" at a flame of this version",
			why, sizeof why);
	}
	lost(l, why);
}

/* Is flame there, and of our protocol?  A clear message names the host
 * when it is not. */
void check_flame(struct link *l)
{
	struct wire_peer peer;
	int status;

	if (remote_flame(l, &peer, &status) < 0) {
		char why[512];
		snprintf(why, sizeof why,
		         "flame is not installed there ('%s version' exited %d); install it or set "
		         "\"command\" in the pool",
		         l->command, status);
		lost(l, why);
	}
	if (peer.protocol != WIRE_PROTOCOL)
		other_protocol(l, &peer);
}

/* Reads exactly n bytes from the slot's out channel; -1 if it ends. */
static int read_exact(struct link_slot *s, unsigned char *p, size_t n)
{
	size_t got = 0;
	while (got < n) {
		long r = ssh_chan_read(s->out, p + got, n - got);
		if (r == -2)
			continue;
		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

/* Our hello goes first on the in channel; the slot's comes first on the
 * out channel.  A slot of another protocol (or from before the hello, which
 * opens with W_READY) ends the link before any job is sent. */
void exchange_hellos(struct link_slot *s)
{
	unsigned char buf[8 + 512], *mine;
	size_t n, used;
	struct wire_peer peer;
	int rc = -1, status;

	mine = wire_hello_bytes("link", &n);
	slot_write_raw(s, mine, n);
	free(mine);
	if (read_exact(s, buf, 8) < 0)
		lost(s->l, "the runner's job slot did not start (see its sshd log)");
	rc = wire_hello_parse(buf, 8, &peer, &used);
	if (rc == 0) {
		uint32_t len = (uint32_t)buf[4] | (uint32_t)buf[5] << 8 | (uint32_t)buf[6] << 16 |
		               (uint32_t)buf[7] << 24;
		if (len <= 512 && read_exact(s, buf + 8, len) == 0)
			rc = wire_hello_parse(buf, 8 + len, &peer, &used);
	}
	if (rc == 1 && peer.protocol == WIRE_PROTOCOL)
		return;
	/* name the version it runs when it can say */
	if (peer.protocol == 1 && remote_flame(s->l, &peer, &status) < 0)
		peer.protocol = 1;
	other_protocol(s->l, &peer);
}
