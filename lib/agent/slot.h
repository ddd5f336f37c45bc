/* slot.h — one job slot of a runner reached over SSH, where descriptors
 * cannot travel: `flame agent slot in|out TOKEN` (cmd/agent_slot.c).
 *
 * The warmer's side holds two SSH sessions per slot, one per direction, so
 * that a blocking write one way can never wait on a read the other way.
 * sshd starts one process per channel: `slot out` hands its stdout (the
 * channel back to the warmer) to `slot in` over a Unix socket named by
 * TOKEN and then waits (slot_pair.c); `slot in` reads job requests, stdin and
 * signals from its stdin and runs one job at a time (slot.c): exact argv and
 * environment, own process group and scratch directory, stdout and stderr
 * relayed as frames, --put files arrive as frames before the job starts and
 * --get files leave as frames after it exited (slot_files.c), the exit
 * status in an explicit W_JOB_DONE (libssh2 1.10 cannot tell a missing exit
 * status from 0).  When its stdin closes (the warmer or the connection went
 * away) the running job's group is killed; when `slot in` itself dies, `slot
 * out` kills it, and so does the keeper `slot in` leaves behind
 * (slot_keeper.h) should both die. */
#ifndef FLAME_AGENT_SLOT_H
#define FLAME_AGENT_SLOT_H

#include "job.h"
#include "job_life.h"
#include "wire.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define SLOT_CHUNK 65536

struct slot_job {
	uint32_t id;
	pid_t pid;
	int pidfd, in_fd, out_fd, err_fd; /* our ends of the job's pipes */
	int stdin_eof;                    /* W_STDIN_EOF arrived */
	unsigned char *pending;           /* stdin not yet written to the job */
	size_t plen, pcap;
	struct job_life life;
	char *scratch;
	char **gets; /* --get patterns, fetched after the command */
};

struct slot {
	struct wire_conn in;
	int out, partner, keeper;
	int gone;     /* the link went away while files came in or went out */
	int get_stop; /* the caller gave up while --get files went out (2: said so) */
	int64_t last_sent;
	const char *root, *runner, *pool;
	struct slot_job job;
	int busy;
};

/* The two processes; each returns its exit status. */
int slot_in(const char *token);
int slot_out(const char *token);

/* slot_pair.c: `slot in` meets `slot out`; returns the channel back to the
 * warmer (-1 with a reason in err), *partner the socket to `slot out`. */
int slot_rendezvous(const char *token, int *partner, char *err, size_t errlen);

/* slot.c: sends {id, bytes} as a frame of type t; reads the frames the link
 * has (-1 when it is gone). */
int slot_send_frame(int fd, enum wire_type t, uint32_t id, const void *p, size_t n);
int slot_read_link(struct slot *sl);

/* slot_files.c: the job's --put files come in (0; -1: cancelled or not
 * written, said on the job's stderr; -2: the link is gone). */
int slot_receive_puts(struct slot *sl, struct job_spec *spec, const char *scratch);
/* slot_files.c: the command is over and its group gone: sends the --get
 * files, removes the scratch directory, then reports the job's end; -1 if
 * the link is gone. */
int slot_finish(struct slot *sl);

#endif
