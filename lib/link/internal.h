/* internal.h — private to lib/link: the state of one flame-link process
 * (struct link: the warmer's socket, the runner's address, its job slots)
 * and of each job slot (struct link_slot: two ssh sessions, the job it
 * runs, the --put files going and the --get file coming), and the functions
 * the files of lib/link share.  One file per job: conn.c (frames to the
 * warmer and on a slot's in channel, heartbeats, the watchdog, giving up),
 * slot.c (opening a slot, its two threads, pumping), put.c (--put files and
 * the progress bar), get.c (--get files), fly.c (a Fly machine's start and
 * the one-shot jobs), main.c (options, settings, the warmer's requests);
 * slot_state.c holds a slot's states and what is legal in each, pure. */
#ifndef FLAME_LINK_INTERNAL_H
#define FLAME_LINK_INTERNAL_H

#include "files.h"
#include "slot_state.h"
#include "flame_limits.h"
#include "fly/runner.h"
#include "ssh/transport.h"
#include "job_frame.h"
#include "wire.h"

#include <pthread.h>
#include <stdint.h>

#define MAX_SLOTS LIMIT_CONCURRENCY
#define SILENCE_MS 15000
#define HEARTBEAT_MS 2000
#define SESSION_TIMEOUT_MS 15000
/* a W_STDIN frame (14 bytes of header) fills one 32 KiB SSH packet:
 * libssh2 1.10 sends one packet per write */
#define CHUNK (32768 - 14)

/* A progress bar on the caller's terminal for one file (progress.h says
 * what it shows and when). */
struct link_bar {
	int fd; /* the caller's stderr if it is a terminal, else -1 */
	char *name;
	uint64_t total;
	int64_t started, drawn; /* drawn < 0: nothing on the screen */
};

/* The --get file arriving on a slot (W_GET, W_GET_DATA..., W_GET_END). */
struct link_get {
	struct files_dest d;  /* d.fd < 0: none, or dropped after a problem */
	char *pattern, *path; /* as the runner named them, for messages */
	uint32_t mode;
	int failed; /* a file could not be written here */
	struct link_bar bar;
};

struct link_slot {
	struct link *l;
	struct ssh_conn *cin, *cout;
	struct ssh_chan *in, *out;
	pthread_mutex_t inlock; /* writes on `in`: the pump, signals, cancels */
	pthread_mutex_t mu;     /* the fields below */
	pthread_cond_t cv;
	struct slot_state st; /* its phase and job, the input sent, the file arriving */
	int pumping, stop;
	int fds[3];
	int getdir;             /* --get-dir, or -1 */
	char **get_patterns;    /* what the caller asked for: all the runner may send */
	unsigned get_umask;     /* the caller's */
	int puts[WIRE_MAX_FDS]; /* the --put files, sent before stdin */
	char **put_names;
	int nputs;
	struct link_bar put_bar; /* the in thread's */
	struct link_get get;     /* the out thread's (counted in st) */
	int stop_pipe[2];
	int sigpipe_sent;
	int64_t last_rx;     /* when a frame last came (atomic): the watchdog's */
	struct wbuf request; /* the W_JOB frame, without descriptors */
	pthread_t tin, tout;
};

struct link {
	int warmer;
	pthread_mutex_t wlock;
	struct ssh_target t;
	char user[64], host[256];
	const char *runner, *pool, *command;
	int nslots; /* the runner's max_concurrency */
	int nopen;  /* slots open so far (atomic): slots[0..nopen) */
	struct link_slot slots[MAX_SLOTS];
	/* a runner that is a Fly Machine (--fly) */
	struct fly_runner_opts fly_opts;
	struct fly_runner fly;
	int is_fly;
	int park; /* W_AGENT_PARK: keep the machine stopped on the way out */
	int64_t boot_deadline;
	int leaving; /* (atomic) destroying the machine on the way out */
};

/* conn.c */
int open_slots(struct link *l);
void drop_arriving_files(struct link *l);
void lost(struct link *l, const char *why) __attribute__((noreturn));
void to_warmer(struct link *l, struct wbuf *w);
void seal(struct wbuf *w);
void slot_write(struct link_slot *s, struct wbuf *w);
void send_job_word(struct link_slot *s, enum wire_type t, uint32_t job, uint32_t arg);
void *watchdog(void *arg);

/* put.c */
void bar_begin(struct link_bar *b, int fd, const char *name, uint64_t total);
void bar_step(struct link_bar *b, uint64_t done);
void bar_end(struct link_bar *b);
void send_puts(struct link_slot *s);

/* get.c: the frames of a --get file, on a slot's out thread */
void get_reset(struct link_slot *s);
void get_begin(struct link_slot *s, struct rbuf *r);
void get_data(struct link_slot *s, struct rbuf *r);
void get_hole(struct link_slot *s, struct rbuf *r);
void get_end(struct link_slot *s, struct rbuf *r);

/* slot.c */
/* hello.c */
void check_flame(struct link *l);
void exchange_hellos(struct link_slot *s);
/* slot.c, for hello.c */
char *quoted(const char *s);
struct ssh_conn *connect_or_die(struct link *l);
/* conn.c: bytes as they are on the in channel (the hello) */
void slot_write_raw(struct link_slot *s, const void *p, size_t n);
void go_ready(struct link *l);

/* fly.c */
void report_fly(struct link *l, int released);
int fly_one_shot(int what, const struct fly_runner_opts *o, const char *state);
void fly_start(struct link *l);

#endif
