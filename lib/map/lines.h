/* lines.h — --line-buffer: a job's stdout or stderr read from a pipe as it
 * comes and passed on a whole line at a time (after the job's tag, with
 * --tag), so that lines of jobs running at once never mix; what is left
 * without a newline goes out when the job ends. */
#ifndef FLAME_MAP_LINES_H
#define FLAME_MAP_LINES_H

#include <stddef.h>
#include <stdint.h>

struct map_lines {
	int fd; /* the pipe's read end, -1 once closed */
	char *buf;
	size_t len, cap;
	uint64_t total; /* bytes read in all */
};

/* A pipe: l->fd is read here, *job_end goes to the job.  0, or -1 (errno). */
int map_lines_open(struct map_lines *l, int *job_end);

/* Reads what the pipe holds (never blocking) and writes each whole line to
 * to_fd after tag.  1 at the pipe's end, 0 otherwise, -1 when writing
 * failed (errno). */
int map_lines_read(struct map_lines *l, int to_fd, const char *tag, size_t taglen);

/* The rest (a last line without its newline), then the pipe closed. */
int map_lines_close(struct map_lines *l, int to_fd, const char *tag, size_t taglen);

#endif
