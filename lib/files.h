/* files.h — the file side of --put and --get, shared by every backend.
 *
 * --get has two halves, which run on different machines on the ssh backend:
 *  - the sender (files.c), in the job's directory on the runner:
 *    files_get_each() expands the patterns and applies the rules — a pattern
 *    is relative and stays inside; a match that is, or passes through, a
 *    symlink pointing outside the job's directory, or that is not a regular
 *    file, is refused; a pattern that matches nothing is a problem — and
 *    hands each accepted match to a fetch callback;
 *  - the receiver (files_dest.c), next to the caller: struct files_dest
 *    writes one file under the --get-dir descriptor.  Nothing is written
 *    outside it; paths are walked with openat and O_NOFOLLOW, so a symlink
 *    in the destination is never followed; a file appears under its final
 *    name only when complete (written to a temporary name, then renamed).
 * The local backend joins the two halves in files_get(); the ssh backend
 * puts W_GET frames between them.  Problems are one line each, "flame: --get
 * PATTERN: ...", the same on both backends. */
#ifndef FLAME_FILES_H
#define FLAME_FILES_H

#include <limits.h>
#include <stddef.h>
#include <sys/stat.h>

/* NULL if PATTERN is acceptable for --get, else why not (a static string). */
const char *files_get_pattern_problem(const char *pattern);

/* The word of a job request that says whether --get is wanted also carries
 * the caller's umask, which the receiver applies to every mode: 0 (no
 * --get), or FILES_GET_WANTED | umask.  Any other non-zero word (an older
 * caller's 1) means the umask 022. */
#define FILES_GET_WANTED 0x10000u
unsigned files_get_word(unsigned umask);
unsigned files_get_word_umask(unsigned word);

/* The receiver's check of a file the sender names: 1 when PATTERN is one of
 * PATTERNS and PATH, relative and without '..', matches it by glob(3)'s rules
 * (fnmatch with FNM_PATHNAME | FNM_PERIOD), else 0.  On the ssh backend the
 * runner names the files: it gets only what the caller asked for. */
int files_get_wanted(char *const *patterns, const char *pattern, const char *path);

/* Asks a --get in progress in this process to stop (async-signal-safe): the
 * file being copied is dropped and no further match is fetched. */
void files_get_stop(void);
int files_get_stopped(void);

/* Copies the bytes IN had when copying began to OUT, data extents only, so a
 * sparse file stays sparse (and a trailing hole too).  0, or -1 with errno. */
int files_copy_fd(int in, int out);

/* ---- the sender ---- */

struct files_get_ops {
	/* Fetches one accepted match: `in` is open on it (read-only) and st is
	 * its status.  0 when fetched; -1 with errno when it could not be
	 * written (reported as "cannot write"); 1 when it failed and the
	 * callback reported why itself. */
	int (*fetch)(void *ctx, const char *pattern, const char *path, int in, const struct stat *st);
	/* Says one problem: a whole line, newline included. */
	void (*report)(void *ctx, const char *line, size_t len);
	void *ctx;
};

/* Expands each pattern in the job's directory `root` (working there, then
 * returning to the current directory) and fetches every acceptable match.
 * Returns the number of problems. */
int files_get_each(char *const *patterns, const char *root, const struct files_get_ops *ops);

/* The problem line for a file that could not be read or written ("read" or
 * "write"), as both halves say it.  Returns its length (< cap). */
size_t files_get_io_problem(char *line, size_t cap, const char *pattern, const char *verb, const char *path,
                            int err);

/* The local backend: fetches the matches into dest_fd, reporting on err_fd,
 * their modes masked by umask; holes stay holes.  Returns the number of
 * problems.  files_get() is files_get_masked() with umask 0. */
int files_get(char *const *patterns, const char *root, int dest_fd, int err_fd);
int files_get_masked(char *const *patterns, const char *root, int dest_fd, int err_fd, unsigned umask);

/* ---- the receiver ---- */

struct files_dest {
	int dir;                /* the file's directory under --get-dir, or -1 */
	int fd;                 /* the temporary file, or -1 */
	char tmp[NAME_MAX + 1]; /* its name in dir */
	char *rel;              /* a copy of the relative path */
	const char *base;       /* in rel: the final name */
	unsigned umask;         /* mode bits commit clears (0 after open) */
};

/* Starts writing REL (relative, without '..'; checked again here, since on
 * the ssh backend it comes from the runner) under dest_fd: makes its missing
 * directories, never through a symlink, and a temporary file beside its
 * final name, to write to through d->fd.  0, or -1 with errno and nothing
 * left open. */
int files_dest_open(struct files_dest *d, int dest_fd, const char *rel);

/* Gives the file its permission bits (mode & 0777 & ~d->umask: never
 * setuid, setgid or sticky) and its final name (replacing what was
 * there, a symlink itself rather than its target).  0, or -1 with errno and
 * the temporary file removed.  Either way d is finished. */
int files_dest_commit(struct files_dest *d, unsigned mode);

/* Drops a file that did not arrive whole.  Harmless on a finished d. */
void files_dest_abort(struct files_dest *d);

#endif
