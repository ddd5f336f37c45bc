/* warmer.h — the per-user warmer: it owns every pool, its runners and the
 * FIFO queue of callers waiting for a slot.  Backends see runners through
 * this model and report back through the warmer_on_* callbacks. */
#ifndef FLAME_WARMER_H
#define FLAME_WARMER_H

#include "budget.h"
#include "config.h"
#include "wire.h"

#include <stdint.h>
#include <sys/types.h>

enum runner_state { R_BOOTING, R_READY, R_DRAINING, R_STOPPING };

struct pool;
struct backend;

struct runner {
	struct pool *pool;
	const struct backend *be;
	char id[96];
	char where[320]; /* backend's place for it: "" (local), a login (ssh) */
	enum runner_state state;
	int busy;
	int64_t created_wall;
	int64_t idle_since;             /* monotonic ms; valid when busy == 0 */
	int64_t boot_deadline;          /* monotonic ms while booting */
	int64_t boot_started, ready_at; /* monotonic ms: its boot, and its end */
	int64_t stop_deadline;          /* monotonic ms while stopping */
	uint32_t next_job;
	uint32_t conf_hash; /* of the backend settings it was booted with */
	int adopted;        /* taken back from a previous warmer's journal or
	                     * started from a kept machine: its loss while booting
	                     * is no boot failure, a new runner boots instead */
	int keepable;       /* info's "keep": its machine may be kept stopped */
	int parking;        /* asked to stop and keep its machine (tier.c) */
	int parked;         /* info's "parked": the machine is stopped and kept */
	uint32_t tier_hash; /* the settings a kept machine must match (tier.c) */
	int capacity;       /* job slots open so far; 0: max_concurrency */
	char info[1024];    /* backend's facts to journal, as JSON ("" if none) */
	/* backend-owned */
	int fd;
	pid_t pid;
	struct wire_conn conn;
	struct runner *next;
};

enum caller_state { C_CONNECTED, C_QUEUED, C_RUNNING, C_ORPHANED };

/* A caller's job as the warmer holds it: the job frame `flame run` built
 * (job_frame.h), checked and kept as bytes to hand on as they are, and the
 * descriptors its head declares. */
struct job_request {
	unsigned char *frame;
	size_t frame_len;
	int want_started;      /* the caller wants W_STARTED (flame run -v) */
	int keep_open;         /* after W_DONE the caller sends its next job */
	int fds[WIRE_MAX_FDS]; /* in the job frame's order (job_frame.h) */
	int nfds;
};

struct caller {
	int fd; /* -1 once the caller has gone */
	struct wire_conn conn;
	enum caller_state state;
	struct pool *pool;
	struct runner *runner;
	uint32_t job_id;
	int64_t queued_at, deadline;
	int64_t accepted_at; /* a connection that sends nothing is dropped at the cap */
	int spoke;           /* a whole frame has come */
	struct job_request job;
	struct caller *next;  /* all callers */
	struct caller *qnext; /* the pool's queue */
};

/* A runner's machine kept stopped, to be started again instead of a new
 * one being created (the fly backend's stopped tier). */
struct stopped_machine {
	char id[96];          /* the runner id it had: its launch id */
	char info[1024];      /* its backend's journaled facts */
	uint32_t tier_hash;   /* the settings it was booted with */
	int64_t stopped_wall; /* wall ms */
	struct stopped_machine *next;
};

struct pool {
	struct pool_settings declared; /* as the config file said */
	struct pool_settings live;     /* what runs now (pool scale changes it) */
	struct runner *runners;
	struct caller *qhead, *qtail;
	int waiting;
	unsigned seq;                    /* for runner ids */
	int64_t boot_blocked_until;      /* debounce after a failed boot */
	struct stopped_machine *stopped; /* newest first */
	struct usage usage;              /* machine-seconds of runners that ended */
	int budget_said;                 /* the budget stopped a boot: logged once */
	struct pool *next;
};

/* Backends call these. */
void warmer_on_ready(struct runner *r);
void warmer_on_job_done(struct runner *r, uint32_t job, int64_t status, int64_t flags);
void warmer_on_lost(struct runner *r, const char *why);
void warmer_on_info(struct runner *r, const char *json);
void warmer_on_capacity(struct runner *r, int slots);
void warmer_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A new runner of pool p, journaled, for a backend adopting one after a
 * warmer restart (id: the journaled one); the backend then starts it. */
struct runner *warmer_add_runner(struct pool *p, const char *id);
/* What the warmer's journal is called (the fly backend's sweep reads it). */
const char *warmer_state_path(void);
/* The Fly API token the warmer was started with, or NULL (lib/fly_token.h). */
const char *warmer_fly_token(void);
uint32_t warmer_conf_hash(const char *text);

/* Runs the warmer in this process until it decides to exit; returns the exit status. */
/* Finds the backend a pool names (NULL: none of that name): the program
 * running the warmer passes its table (backends/registry.c). */
typedef const struct backend *(*backend_lookup)(const char *name);
int warmer_main(backend_lookup find_backend);

const char *runner_state_name(enum runner_state s);

#endif
