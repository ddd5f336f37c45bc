/* files_put.h — the file side of --put, in two halves like --get's
 * (files.h):
 *  - the sender, next to the caller: `flame run` opens each file (its
 *    descriptor travels with the job) and names it by its basename, which
 *    files_put_name_problem() accepts or refuses; on the ssh backend the
 *    link streams the bytes as W_PUT frames and ends each with W_PUT_END
 *    {mode};
 *  - the receiver, in the job's directory on the runner, the one writer of
 *    put files on every runner kind (the local agent copies from the
 *    descriptor with files_put_copy(), a slot writes the frames it gets):
 *    it creates the file with O_EXCL | O_NOFOLLOW (never over or through
 *    anything already there), mode 0600 while it is written, and gives it
 *    its mode (mode & 0777: never setuid, setgid or sticky) at the end.
 * The receiver checks the name again: on the ssh backend it comes from the
 * other side. */
#ifndef FLAME_FILES_PUT_H
#define FLAME_FILES_PUT_H

#include <stddef.h>

/* NULL if NAME may name a --put file in the job's directory (a basename:
 * not empty, no '/', not "." or ".."), else why not (a static string). */
const char *files_put_name_problem(const char *name);

struct files_put {
	int fd; /* the file being written, or -1 */
};

/* Creates NAME in dir_fd for writing.  0, or -1 with errno (EINVAL for a
 * name files_put_name_problem refuses). */
int files_put_open(struct files_put *p, int dir_fd, const char *name);
/* Appends N bytes.  0, or -1 with errno. */
int files_put_write(struct files_put *p, const void *buf, size_t n);
/* Gives the file its mode and closes it.  0, or -1 with errno; p is
 * finished either way. */
int files_put_commit(struct files_put *p, unsigned mode);
/* Closes a file that did not arrive whole (the job's directory, removed
 * with the job, takes it away).  Harmless on a finished p. */
void files_put_abort(struct files_put *p);

/* The local agent's receiver: copies SRC_FD (as many bytes as it had when
 * copying began; holes stay holes) into NAME in dir_fd with MODE. */
int files_put_copy(int src_fd, int dir_fd, const char *name, unsigned mode);

#endif
