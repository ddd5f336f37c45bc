/* wire.h — the framing flame's processes speak over Unix sockets and pipes.
 *
 * A frame is: u32 length (of everything after these 4 bytes, little endian),
 * u8 type, u8 number of file descriptors it carries, then a payload of u32,
 * i64 and length-prefixed byte strings.  Descriptors travel by SCM_RIGHTS with
 * the frame's first byte.  Strings are byte-exact: nothing is quoted, so an
 * argument vector arrives as it was sent.  Readers never trust a length: a
 * frame that overruns its payload marks the reader bad. */
#ifndef FLAME_WIRE_H
#define FLAME_WIRE_H

#include <stddef.h>
#include <stdint.h>

/* The protocol these frames make, and the hello that opens every connection
 * in each direction: the 4 bytes WIRE_HELLO_MAGIC, then a W_HELLO frame
 * {u32 protocol, str flame version, str who}.  Read as a frame's length by
 * a flame from before the hello (protocol 1), the magic is 1.3 GB: such a
 * peer drops the connection as corrupt instead of misreading what follows,
 * and its own first bytes, a frame, tell us it has no hello.  Raise
 * WIRE_PROTOCOL whenever a frame changes: peers of two protocols refuse
 * each other before any job is sent. */
#define WIRE_PROTOCOL 3
#define WIRE_HELLO_MAGIC "FLAM"

/* W_RUN's flags: the caller wants W_STARTED (where the job runs); the
 * connection stays open after W_DONE for the caller's next W_RUN (flame
 * map: one connection per job slot, not per job). */
#define RUN_WANT_STARTED 1u
#define RUN_KEEP_OPEN 2u

#define WIRE_MAX_FRAME (64u << 20)
#define WIRE_MAX_FDS 64
/* What a caller may send the warmer in one frame: a request is small (its
 * files travel as descriptors), so a stranger's half-sent frame costs little. */
#define WIRE_MAX_REQUEST (1u << 20)

enum wire_type {
	/* every process -> its peer, first (after WIRE_HELLO_MAGIC) */
	W_HELLO = 99,
	/* CLI -> warmer.  W_RUN {settings, i64 slot timeout, u32 RUN_* flags, the
	 * job frame (job_frame.h)} with the job's descriptors */
	W_RUN = 1,
	W_SIGNAL,
	W_LS,
	W_SCALE,
	W_STATUS,
	W_STOP,
	/* CLI -> warmer.  W_DRAIN {settings}: destroy the pool's stopped machines */
	W_DRAIN,
	/* warmer -> CLI.  W_STARTED {str runner, u32 job, i64 ms waited for a
	 * slot, i64 ms of that waited for a runner to boot} */
	W_STARTED = 20,
	W_DONE,
	W_ERROR,
	W_REPLY,
	/* the warmer has taken a W_RUN (queued it): from here on it answers; a
	 * connection that ends before this means the job was not taken, and the
	 * caller may send it to another warmer */
	W_ACCEPTED,
	/* warmer -> runner agent */
	W_JOB = 40,
	W_JOB_SIGNAL,
	W_JOB_CANCEL,
	W_AGENT_STOP,
	/* warmer -> link: as W_AGENT_STOP, but the runner's machine is stopped
	 * and kept for a later start (the stopped tier), not destroyed */
	W_AGENT_PARK,
	/* runner agent -> warmer */
	W_READY = 60,
	W_JOB_PGID,
	W_JOB_DONE,
	/* link -> warmer: facts about the runner to journal, as JSON text */
	W_RUNNER_INFO,
	/* link -> warmer: {slots u32}: how many job slots are open so far (a
	 * runner is ready with its first; the others open in the background) */
	W_CAPACITY,
	/* a job's streams where descriptors cannot travel (over SSH):
	 * link -> slot W_STDIN {job, bytes}, W_STDIN_EOF {job};
	 * slot -> link W_OUT {job, bytes}, W_ERR {job, bytes} */
	W_STDIN = 80,
	W_STDIN_EOF,
	W_OUT,
	W_ERR,
	/* slot -> link, every few seconds: "still here" (a dead link is noticed
	 * by silence, since libssh2 cannot say whether keepalives are answered) */
	W_PING,
	/* link -> slot, after W_JOB and before stdin: each --put file as
	 * W_PUT {job, index, bytes}... then W_PUT_END {job, index, mode} */
	W_PUT,
	W_PUT_END,
	/* slot -> link, after the command exited and before W_JOB_DONE: each
	 * accepted --get match as W_GET {job, pattern, path, mode, size}, its
	 * bytes in W_GET_DATA {job, bytes}..., then W_GET_END {job, ok} (ok 0:
	 * the runner could not read it all, drop it); the path is relative to
	 * the job's directory and the size is what the file had when sending
	 * began, which is all that is sent */
	W_GET,
	W_GET_DATA,
	W_GET_END,
	/* slot -> link, among a W_GET's W_GET_DATA: {job, length} zeros that
	 * the runner's file does not store (a hole), so a sparse file stays
	 * sparse; they count towards the announced size */
	W_GET_HOLE
};

/* Flags on a finished job (W_DONE, W_JOB_DONE). */
enum { JOB_TIMED_OUT = 1, JOB_GET_FAILED = 2, JOB_SETUP_FAILED = 4, JOB_RUNNER_LOST = 8 };

struct wbuf {
	unsigned char *p;
	size_t len, cap;
	int fds[WIRE_MAX_FDS];
	int nfds;
};

void wbuf_init(struct wbuf *b, enum wire_type type);
void wbuf_u32(struct wbuf *b, uint32_t v);
void wbuf_i64(struct wbuf *b, int64_t v);
void wbuf_bytes(struct wbuf *b, const void *p, size_t n);
void wbuf_str(struct wbuf *b, const char *s);           /* NULL is sent as "" */
void wbuf_strv(struct wbuf *b, char *const *v);         /* count, then each string */
void wbuf_fd(struct wbuf *b, int fd);                   /* attach a descriptor */
void wbuf_raw(struct wbuf *b, const void *p, size_t n); /* bytes as they are: no length */
void wbuf_free(struct wbuf *b);

struct rbuf {
	const unsigned char *p;
	size_t len, off;
	int bad;
};

uint32_t rbuf_u32(struct rbuf *r);
int64_t rbuf_i64(struct rbuf *r);
/* A malloc'd NUL-terminated copy; strings holding NUL bytes mark r bad. */
char *rbuf_str(struct rbuf *r);
/* A malloc'd NULL-terminated vector of at most max strings. */
char **rbuf_strv(struct rbuf *r, size_t max);

/* Fills in the header (length, number of descriptors): wire_send() does
 * it; tests and fuzzers that decode a frame without a socket call it. */
void wbuf_seal(struct wbuf *b);

/* Sends the frame and its descriptors; blocks until all is written.
 * 0 on success, -1 with errno on failure (EPIPE when the peer is gone). */
int wire_send(int sock, struct wbuf *b);

/* What the peer said in its hello.  protocol 1 and version "" when it sent
 * none: a flame from before the hello. */
struct wire_peer {
	uint32_t protocol;
	char version[32];
	char who[32];
};

/* Incremental reader for one socket: collects bytes and descriptors. */
struct wire_conn {
	int fd;
	unsigned char *buf;
	size_t len, cap;
	int fds[WIRE_MAX_FDS * 4];
	int nfds;
	size_t drop;      /* bytes of the frame handed out last, dropped on the next call */
	size_t max_frame; /* 0: WIRE_MAX_FRAME; a longer frame is corrupt */
	int hello;        /* where the peer's hello is: see wire_conn_want_hello */
	struct wire_peer peer;
};

void wire_conn_init(struct wire_conn *c, int fd);
/* The peer must open with its hello.  wire_conn_next() then checks it
 * before handing out any frame: a peer of another protocol, or one that
 * sends a frame without a hello, ends the stream (-1, errno EPROTO, c->peer
 * says what it was); a good hello is taken silently. */
void wire_conn_want_hello(struct wire_conn *c);
/* Whether the peer's hello has been taken (a connection that ends before it
 * came was a peer that would not speak to us: see wire_peer_refusal). */
int wire_conn_hello_done(const struct wire_conn *c);
/* Reads what is available (one recvmsg).  >0 bytes read, 0 on EOF, -1 on
 * error; errno EAGAIN when nothing was there, EMSGSIZE when the frame under
 * way is longer than max_frame, EMFILE when descriptors sent with it could
 * not be received. */
int wire_conn_fill(struct wire_conn *c);
/* Takes the next complete frame: 1 and type/payload/fds filled (payload valid
 * until the next call), 0 when incomplete, -1 when the stream is corrupt
 * (errno EBADMSG) or the peer's hello would not do (EPROTO). */
int wire_conn_next(struct wire_conn *c, uint8_t *type, struct rbuf *payload, int *fds, int *nfds);
/* Reads until one whole frame has arrived (blocking socket); same returns as
 * wire_conn_next, with 0 meaning EOF. */
int wire_conn_recv(struct wire_conn *c, uint8_t *type, struct rbuf *payload, int *fds, int *nfds);
/* Gets one whole frame from wire_conn_pump: its descriptors are the
 * handler's to keep or close.  0 to go on, nonzero to stop. */
typedef int (*wire_frame_fn)(void *ctx, uint8_t type, struct rbuf *payload, int *fds, int nfds);
/* The read-and-dispatch step of an event loop: reads what is there (one
 * wire_conn_fill), then hands each whole frame to on_frame in order.
 * 1 when every whole frame was handed out and the connection is still good;
 * 2 when on_frame stopped it (later frames stay for the next call); 0 at
 * end of stream, with no frame handed out; -1 on error, errno as
 * wire_conn_fill says (EAGAIN and EINTR are no error), or from the frames:
 * EPROTO (the peer's hello would not do) or EBADMSG (a corrupt stream),
 * which a read never gives. */
int wire_conn_pump(struct wire_conn *c, wire_frame_fn on_frame, void *ctx);
void wire_conn_free(struct wire_conn *c); /* closes undelivered descriptors, not c->fd */
/* Frees the buffer when no partial frame is held; returns the bytes the
 * connection still holds allocated (the warmer budgets them). */
size_t wire_conn_trim(struct wire_conn *c);

void close_fds(int *fds, int n);

/* This process's hello (WHO: "flame", "warmer", "link", "slot", ...): its
 * bytes, to write as they are before anything else.  *len is set. */
unsigned char *wire_hello_bytes(const char *who, size_t *len);
/* Writes it on a socket or pipe; 0, or -1 with errno. */
int wire_send_hello(int fd, const char *who);
/* Reads a hello from the first bytes of a stream (for readers that are not a
 * wire_conn): 1 and *peer filled (protocol checked by the caller), 0 when the
 * bytes so far are too few, -1 when they are not a hello; *used is set to
 * the bytes it took. */
int wire_hello_parse(const unsigned char *p, size_t len, struct wire_peer *peer, size_t *used);
/* One line for a peer that speaks another protocol: "WHERE runs flame 0.1.0
 * (protocol 1), this flame 0.2.0 speaks protocol 2: WHAT_TO_DO". */
void wire_peer_refusal(const struct wire_peer *peer, const char *where, const char *what_to_do, char *buf,
                       size_t len);

#endif
