/* joblog.h — `flame map --joblog FILE`, in GNU parallel's format, written
 * one whole line per job and read back for --resume and --resume-failed.
 *
 * The format (GNU parallel 20221122): a header line, then one line per job,
 * fields separated by tabs:
 *
 *   Seq Host Starttime JobRuntime Send Receive Exitval Signal Command
 *
 * Starttime is epoch seconds ("%.3f"), JobRuntime seconds ("%10.3f"), Send
 * and Receive bytes (flame: the --put bytes, the stdout bytes), Exitval -1
 * for a job that was killed (a timeout) and 0 for one ended by a signal,
 * whose number is in Signal.  Command is last and keeps its tabs, as in
 * parallel; its newlines are written as NUL bytes, as parallel does.  Host
 * is the runner's id, with blanks made '_' (parallel's reader splits on
 * them) and ":" for an empty one.
 *
 * With --joblog-extra, flame's own columns come before Command, which may
 * hold tabs and so must stay last: ... Signal Pool SlotWait BootWait
 * Command (the waits in seconds, "%.3f").  parallel --resume and
 * --resume-failed read such a log too.
 *
 * The reader takes a log written by parallel or by flame, with or without
 * the extra columns (the header says which), ignores a last line without
 * its newline (a log cut by a crash: that job runs again), and refuses
 * anything else with one line that says where and what is wrong.  Pure:
 * nothing is printed; the only I/O is on descriptors the caller passes. */
#ifndef FLAME_MAP_JOBLOG_H
#define FLAME_MAP_JOBLOG_H

#include <stddef.h>
#include <stdint.h>

/* The largest Seq a log may hold (the reader refuses more). */
#define JOBLOG_MAX_SEQ 4294967295UL

struct joblog_entry {
	unsigned long seq; /* 1, 2, ...: the input's position */
	const char *host;  /* the runner's id */
	int64_t start_ms;  /* wall clock, ms since the epoch */
	int64_t runtime_ms;
	uint64_t send, receive;
	int exitval, signal;
	const char *command; /* the job's display command */
	/* with extra columns only */
	const char *pool;
	int64_t slot_wait_ms, boot_wait_ms;
};

/* The header line, newline included. */
const char *joblog_header(int extra);

/* ENTRY's line, newline included (malloc'd; *len is its length: it may hold
 * NUL bytes, for the command's newlines). */
char *joblog_line(const struct joblog_entry *e, int extra, size_t *len);

/* Writes ENTRY's line to fd in one write(2), so that on an O_APPEND
 * descriptor lines never mix and an interrupted run leaves whole lines:
 * 0, or -1 with errno set. */
int joblog_write(int fd, const struct joblog_entry *e, int extra);

/* The jobs a log says need not run again: a set of Seqs. */
struct joblog_done;

/* What the reader learnt about the file besides the set. */
struct joblog_info {
	int header;          /* the file has its header line (else it is empty) */
	int extra;           /* its lines carry flame's extra columns */
	unsigned long lines; /* job lines read (a Seq may have several) */
	uint64_t whole_len;  /* bytes up to the end of the last whole line: a
	                      * caller that appends truncates the file to this */
};

/* Reads the log on fd from its offset to its end.  Without rerun_failed
 * (--resume) every Seq in it is done; with it (--resume-failed) only the
 * Seqs of a line with Exitval 0 and Signal 0.  0 with *done (free with
 * joblog_done_free) and *info; -1 with a one-line reason in err ("line 3:
 * ...", or the read error), *done NULL. */
int joblog_read(int fd, int rerun_failed, struct joblog_done **done, struct joblog_info *info, char *err,
                size_t errlen);
/* The same on the len bytes at text. */
int joblog_parse(const char *text, size_t len, int rerun_failed, struct joblog_done **done,
                 struct joblog_info *info, char *err, size_t errlen);

/* An empty set, and a Seq (1 to JOBLOG_MAX_SEQ) added to one. */
struct joblog_done *joblog_done_new(void);
void joblog_done_add(struct joblog_done *d, unsigned long seq);
/* D may be NULL, the empty set, in these. */
int joblog_done_has(const struct joblog_done *d, unsigned long seq);
/* How many Seqs the set holds. */
unsigned long joblog_done_count(const struct joblog_done *d);
/* The smallest Seq in the set above after, or 0 when there is none. */
unsigned long joblog_done_next(const struct joblog_done *d, unsigned long after);
void joblog_done_free(struct joblog_done *d);

#endif
