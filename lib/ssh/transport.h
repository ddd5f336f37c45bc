/* ssh_transport.h — one authenticated SSH session to a runner (libssh2 1.10,
 * blocking mode: driven by one thread at a time).
 *
 * Promises:
 *  - IPv4 and IPv6 ("::1", "[fd00::1]" and plain names all work);
 *  - curve25519 key exchange, an ed25519 host key, aes128-ctr with
 *    hmac-sha2-256 (the fastest pair Debian's libssh2 1.10 has);
 *  - the host key must equal the pinned one: a mismatch is refused and the
 *    message shows both SHA256 fingerprints; nothing is trusted on first use;
 *  - ed25519 public-key authentication only;
 *  - every blocking step has a deadline, so nothing hangs forever.
 * Liveness is not left to SSH keepalives (libssh2 cannot say whether one was
 * answered): the runner side pings, and the link gives a silent runner up.
 * Linked only into the programs that need it: libssh2 costs every process
 * that loads it ~1.4 ms and ~2 MiB at start-up (bench/README.md). */
#ifndef FLAME_SSH_TRANSPORT_H
#define FLAME_SSH_TRANSPORT_H

#include <stddef.h>

struct ssh_target {
	const char *host; /* name, IPv4, IPv6, or [IPv6] */
	int port;
	const char *user;
	const char *key_path;    /* OpenSSH-format ed25519 private key */
	const char *host_key;    /* pinned: "ssh-ed25519 BASE64 [comment]", or NULL */
	const char *known_hosts; /* else: an OpenSSH known_hosts file that pins it */
	int timeout_ms;          /* for each blocking step */
};

struct ssh_conn;

struct ssh_conn *ssh_connect(const struct ssh_target *t, char *err, size_t errlen);
void ssh_close(struct ssh_conn *c);

/* Runs COMMAND in an exec channel: writes in (if any) then EOF, collects
 * stdout and stderr (each up to cap bytes; the rest is read and dropped) and
 * the exit status (128+N for a signal).  0 on success; -1 with err when the
 * channel failed.  Beware: libssh2 1.10 reports status 0 when none arrived;
 * jobs therefore carry their own exit trailer (flame agent exec). */
int ssh_run(struct ssh_conn *c, const char *command, const void *in, size_t inlen, char **out, size_t *outlen,
            char **errout, size_t *errlen_out, size_t cap, int *exit_status, char *err, size_t errlen);

/* An exec channel on a session: raw stdin/stdout byte streams. */
struct ssh_chan;
struct ssh_chan *ssh_chan_exec(struct ssh_conn *c, const char *command, char *err, size_t errlen);
/* Writes all n bytes; -1 when the channel or session failed. */
int ssh_chan_write(struct ssh_chan *ch, const void *p, size_t n);
/* >0 bytes, 0 at EOF, -1 on failure, -2 when the session's timeout passed
 * with nothing to read (try again). */
long ssh_chan_read(struct ssh_chan *ch, void *p, size_t n);
void ssh_chan_close(struct ssh_chan *ch);
const char *ssh_label(const struct ssh_conn *c);

/* "SHA256:..." of an OpenSSH public key line, as ssh-keygen -l prints it;
 * -1 if the line is not a key. */
int ssh_fingerprint_of_line(const char *line, char *fp, size_t fplen);

#endif
