/* slot_state.h — the states one job slot of flame-link goes through, and
 * which events are legal in each: a pure module (no I/O, no threads), so
 * that every rule the link holds a runner to is in one place and tested.
 *
 * A slot opens, then serves one job at a time: idle, busy (the in thread
 * sends the --put files, then stdin until EOF; meanwhile the out thread
 * receives --get files, one at a time), finishing (the runner said the job
 * is done; the link tidies up), idle again.  A slot whose connection failed
 * is lost for good.
 *
 * Promises: an event that is not legal in the slot's state changes nothing
 * and is answered with why (enum slot_verdict); the runner is distrusted:
 * a frame for a job that is not the slot's, a --get file the caller did not
 * ask for (no --get-dir, a pattern not among the caller's, a path the
 * pattern does not match, a mode beyond permission bits), data for a file
 * never announced, and more bytes than announced are all refused.  The
 * caller serialises access (the slot's lock, or one thread owning the part
 * it changes: the input by the in thread, the --get file by the out
 * thread). */
#ifndef FLAME_LINK_SLOT_STATE_H
#define FLAME_LINK_SLOT_STATE_H

#include <stdint.h>

enum slot_phase {
	SLOT_OPENING,   /* its sessions are being opened */
	SLOT_IDLE,      /* ready for a job */
	SLOT_BUSY,      /* running the job */
	SLOT_FINISHING, /* the runner said the job is done; tidying up */
	SLOT_LOST,      /* the connection failed: no more events */
};

/* What the in thread sends while the slot is busy, in this order. */
enum slot_input {
	SLOT_INPUT_NONE,  /* no job */
	SLOT_INPUT_PUTS,  /* the --put files */
	SLOT_INPUT_STDIN, /* the caller's stdin */
	SLOT_INPUT_DONE,  /* stdin's EOF is sent */
};

/* The --get file arriving, if any. */
enum slot_get {
	SLOT_GET_NONE,     /* none announced (or the last one ended) */
	SLOT_GET_ARRIVING, /* announced and being written */
	SLOT_GET_DROPPED,  /* announced but dropped: its data is ignored */
};

enum slot_verdict {
	SLOT_OK,            /* legal: act on it */
	SLOT_IGNORE,        /* legal, nothing to do (data of a dropped file) */
	SLOT_WRONG_STATE,   /* not legal in the slot's state */
	SLOT_NOT_THE_JOB,   /* names a job that is not the slot's */
	SLOT_BAD_FRAME,     /* malformed (a negative size) */
	SLOT_NOT_ASKED,     /* a --get file the caller did not ask for */
	SLOT_BAD_MODE,      /* a --get mode beyond permission bits */
	SLOT_NOT_ANNOUNCED, /* --get data, hole or end with no file announced */
	SLOT_TOO_LONG,      /* more bytes than the file's announced size */
};

struct slot_state {
	enum slot_phase phase;
	enum slot_input input;
	enum slot_get get;
	uint32_t job;                /* while busy or finishing */
	uint64_t get_size, get_done; /* the arriving file's announced and counted bytes */
};

void slot_state_init(struct slot_state *st); /* opening */
/* The slot's sessions are open and the runner's agent ready: idle. */
enum slot_verdict slot_state_opened(struct slot_state *st);
/* Whether the slot may take a job (idle); whether it runs one (busy or
 * finishing: the link does not leave before it ends). */
int slot_state_free(const struct slot_state *st);
int slot_state_busy(const struct slot_state *st);
/* Idle to busy with job JOB; its --put files go first. */
enum slot_verdict slot_state_take(struct slot_state *st, uint32_t job);
/* The in thread: the --put files are sent (stdin follows), and stdin's EOF. */
enum slot_verdict slot_state_puts_sent(struct slot_state *st);
enum slot_verdict slot_state_stdin_eof(struct slot_state *st);
/* A frame from the runner for job JOB (W_OUT, W_ERR, W_GET..., W_JOB_DONE):
 * OK only while busy with that job. */
enum slot_verdict slot_state_frame(const struct slot_state *st, uint32_t job);
/* The caller's signal or cancel for job JOB: forwarded only while busy with it. */
enum slot_verdict slot_state_signal(const struct slot_state *st, uint32_t job);
/* W_GET: the runner announces PATH (matched by PATTERN), MODE and SIZE
 * (negative: a malformed frame).  The caller asked for PATTERNS (a NULL-
 * ended vector) into a --get-dir if HAS_DIR.  A file still arriving is
 * dropped first (the caller aborts it).  On any refusal the new file is
 * dropped. */
enum slot_verdict slot_state_get_begin(struct slot_state *st, char *const *patterns, int has_dir,
                                       const char *pattern, const char *path, uint32_t mode, int64_t size);
/* This side drops the arriving file (it could not be written). */
enum slot_verdict slot_state_get_drop(struct slot_state *st);
/* W_GET_DATA or W_GET_HOLE: N more bytes of the arriving file.  TOO_LONG
 * drops it. */
enum slot_verdict slot_state_get_bytes(struct slot_state *st, uint64_t n);
/* W_GET_END: OK when the arriving file is complete to commit (the runner's
 * word decides whether it is), IGNORE for a dropped one; none arrives after. */
enum slot_verdict slot_state_get_end(struct slot_state *st);
/* W_JOB_DONE for job JOB: busy to finishing. */
enum slot_verdict slot_state_job_done(struct slot_state *st, uint32_t job);
/* The job is tidied up: finishing to idle, with no input or file. */
enum slot_verdict slot_state_finished(struct slot_state *st);
/* The connection failed, in any state (once). */
enum slot_verdict slot_state_lost(struct slot_state *st);

#endif
