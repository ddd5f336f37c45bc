/* capture.h — what one job of `flame map` prints, kept whole until it is
 * shown, as GNU parallel groups output: the job's stdout and stderr go to
 * files of their own (unlinked, in flame's private scratch directory, so
 * a job's output costs disk, not memory), and are copied out when the job
 * ends, each line prefixed with the job's tag (--tag) if there is one.  A
 * capture is reused for the next job once shown. */
#ifndef FLAME_MAP_CAPTURE_H
#define FLAME_MAP_CAPTURE_H

#include <stddef.h>
#include <stdint.h>

struct map_capture {
	int out, err; /* the job's stdout and stderr */
};

/* Two new files in dir: 0, or -1 with err. */
int map_capture_open(struct map_capture *c, const char *dir, char *err, size_t errlen);

/* Copies what the job wrote to out_fd and err_fd (stdout first, then
 * stderr), each line after tag (taglen bytes) when tag is not NULL, and
 * empties the capture for its next job.  *out_bytes: what stdout held
 * (the joblog's Receive).  0, or -1 when writing failed (errno). */
int map_capture_show(struct map_capture *c, int out_fd, int err_fd, const char *tag, size_t taglen,
                     uint64_t *out_bytes);

/* Writes buf to fd, each line (the last one even without its newline)
 * after tag; *at_line_start carries over between calls on one stream. */
int map_write_tagged(int fd, const char *buf, size_t len, const char *tag, size_t taglen, int *at_line_start);

void map_capture_close(struct map_capture *c);

#endif
