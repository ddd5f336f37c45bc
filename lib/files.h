/* files.h — the file side of --put and --get.
 *
 * Promises: nothing is written outside the destination directory; paths are
 * walked with openat and O_NOFOLLOW, so a symlink in the destination is never
 * followed; a fetched file appears under its final name only when complete
 * (written to a temporary name, then renamed); a source that is, or passes
 * through, a symlink pointing outside the job's directory is refused. */
#ifndef FLAME_FILES_H
#define FLAME_FILES_H

#include <stddef.h>

/* NULL if PATTERN is acceptable for --get, else why not (a static string). */
const char *files_get_pattern_problem(const char *pattern);

/* Copies everything readable from src_fd into a new file NAME (a basename) in
 * dir_fd with the given mode.  0 on success, -1 with errno. */
int files_copy_in(int src_fd, int dir_fd, const char *name, unsigned mode);

/* Fetches the files matching each pattern (relative to the current working
 * directory, which must be the job's directory `root`) into dest_fd, keeping
 * their relative paths.  Problems are reported on err_fd as one line each
 * ("flame: --get PATTERN: ...").  Returns the number of problems. */
int files_get(char *const *patterns, const char *root, int dest_fd, int err_fd);

#endif
