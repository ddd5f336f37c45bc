/* slot_files.c — a job slot's files: the --put files that come in as
 * frames before the job starts, the --get files that go out as frames after
 * it exited (W_GET, W_GET_DATA, W_GET_HOLE, W_GET_END: wire.h), and the
 * job's end (see slot.h). */
#include "slot.h"
#include "files_put.h"
#include "files.h"
#include "job_exec.h"
#include "job_run.h"
#include "util.h"
#include "wire.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Reads the job's --put files (the frames right after W_JOB) into its new
 * scratch directory.  0 when all arrived; -1 when the job was cancelled or a
 * file could not be written (reported on the job's stderr); -2 if the link
 * is gone. */
int slot_receive_puts(struct slot *sl, struct job_spec *spec, const char *scratch)
{
	struct files_put *files = xcalloc((size_t)spec->nput, sizeof *files);
	int left = spec->nput, rc = 0, dir = -1;

	for (int i = 0; i < spec->nput; i++)
		files[i].fd = -1;
	if (mkdir(scratch, 0700) < 0 || (dir = open(scratch, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		rc = -1;
	while (left > 0 && rc != -2) {
		uint8_t type;
		struct rbuf r = { 0 };
		int pfds[WIRE_MAX_FDS], npfds;
		uint32_t job, idx;
		if (wire_conn_recv(&sl->in, &type, &r, pfds, &npfds) <= 0) {
			rc = -2;
			break;
		}
		close_fds(pfds, npfds);
		job = rbuf_u32(&r);
		if (job != spec->id)
			continue;
		if (type == W_JOB_CANCEL) {
			job_life_cancel(&sl->job.life);
			rc = -1;
			break;
		}
		idx = rbuf_u32(&r);
		if (r.bad || idx >= (uint32_t)spec->nput || (type != W_PUT && type != W_PUT_END))
			continue;
		if (rc == 0 && files[idx].fd < 0 &&
		    files_put_open(&files[idx], dir, spec->put_names[idx]) < 0)
			rc = -1;
		if (type == W_PUT) {
			uint32_t n = rbuf_u32(&r);
			if (rc == 0 &&
			    (r.bad || n > r.len - r.off || files_put_write(&files[idx], r.p + r.off, n) < 0))
				rc = -1;
		} else {
			uint32_t mode = rbuf_u32(&r);
			if (rc == 0 && files_put_commit(&files[idx], mode) < 0)
				rc = -1;
			left--;
		}
	}
	for (int i = 0; i < spec->nput; i++)
		files_put_abort(&files[i]);
	free(files);
	if (dir >= 0)
		close(dir);
	if (rc == -1) {
		char line[300];
		int n = snprintf(line, sizeof line,
		                 "flame: --put: cannot copy the files into the job's directory\n");
		slot_send_frame(sl->out, W_ERR, spec->id, line, (size_t)n);
		job_collect(scratch, NULL, -1, -1);
	}
	return rc;
}

/* The link is gone if a frame cannot be sent. */
static void send_or_gone(struct slot *sl, struct wbuf *w)
{
	if (!sl->gone && wire_send(sl->out, w) < 0)
		sl->gone = 1;
	wbuf_free(w);
}

/* Sends {job, bytes} likewise. */
static void send_bytes_or_gone(struct slot *sl, enum wire_type t, const void *p, size_t n)
{
	if (!sl->gone && slot_send_frame(sl->out, t, sl->job.id, p, n) < 0)
		sl->gone = 1;
}

static void get_report(void *ctx, const char *line, size_t len)
{
	send_bytes_or_gone(ctx, W_ERR, line, len);
}

/* Reads what the link has sent meanwhile: a caller that gives up (Ctrl-C,
 * or killed) stops a long --get, whose command has exited already. */
static void check_link(struct slot *sl)
{
	struct pollfd p = { .fd = 0, .events = POLLIN };
	if (!sl->gone && poll(&p, 1, 0) > 0 && slot_read_link(sl) < 0)
		sl->gone = 1;
}

/* Says that the n bytes at the current place are a hole (W_GET_HOLE). */
static void send_hole(struct slot *sl, int64_t n)
{
	struct wbuf w;
	wbuf_init(&w, W_GET_HOLE);
	wbuf_u32(&w, sl->job.id);
	wbuf_i64(&w, n);
	send_or_gone(sl, &w);
}

/* Streams bytes [off, end) of `in`; 0, 1 when the file ended sooner, or
 * errno when reading failed or the caller gave up (ECANCELED). */
static int send_range(struct slot *sl, int in, off_t off, off_t end)
{
	char buf[SLOT_CHUNK];
	while (off < end && !sl->gone) {
		ssize_t n;
		check_link(sl);
		if (sl->get_stop)
			return ECANCELED;
		n = pread(in, buf, end - off < (off_t)sizeof buf ? (size_t)(end - off) : sizeof buf, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno;
		if (n == 0)
			return 1; /* it shrank: what is there is the file */
		send_bytes_or_gone(sl, W_GET_DATA, buf, (size_t)n);
		off += n;
	}
	return 0;
}

/* Streams the bytes of `in`, as many as it had when sending began (a
 * process that escaped the job's group cannot make it endless), its holes
 * as W_GET_HOLE (SEEK_DATA/SEEK_HOLE), so a sparse file stays sparse; 0,
 * or errno when reading failed or the caller gave up (ECANCELED). */
static int send_get_data(struct slot *sl, int in, uint64_t size)
{
	off_t pos = 0, end = (off_t)size;
	while (pos < end && !sl->gone) {
		off_t data = lseek(in, pos, SEEK_DATA), hole;
		int rc;
		if (data < 0 && errno != ENXIO) {
			data = pos; /* holes unknown here: all of it is data */
			hole = end;
		} else {
			if (data < 0 || data > end)
				data = end; /* a hole up to the end */
			hole = data < end ? lseek(in, data, SEEK_HOLE) : end;
			if (hole < 0 || hole > end)
				hole = end;
		}
		if (data > pos)
			send_hole(sl, data - pos);
		rc = send_range(sl, in, data, hole);
		if (rc)
			return rc == 1 ? 0 : rc;
		pos = hole;
	}
	return 0;
}

/* Says once that the caller gave up, naming the file it stopped at; the
 * matches after it are not fetched. */
static int get_stopped(struct slot *sl, const char *pattern, const char *path)
{
	char line[1024];
	if (sl->get_stop == 1)
		get_report(sl, line,
		           files_get_io_problem(line, sizeof line, pattern, "read", path, ECANCELED));
	sl->get_stop = 2;
	return 1;
}

/* One accepted --get match, as W_GET, W_GET_DATA..., W_GET_END (wire.h). */
static int send_get(void *ctx, const char *pattern, const char *path, int in, const struct stat *st)
{
	struct slot *sl = ctx;
	struct wbuf w;
	char line[1024];
	int err;

	if (sl->get_stop)
		return get_stopped(sl, pattern, path);
	wbuf_init(&w, W_GET);
	wbuf_u32(&w, sl->job.id);
	wbuf_str(&w, pattern);
	wbuf_str(&w, path);
	wbuf_u32(&w, (uint32_t)(st->st_mode & 0777));
	wbuf_i64(&w, st->st_size);
	send_or_gone(sl, &w);
	err = send_get_data(sl, in, (uint64_t)st->st_size);
	wbuf_init(&w, W_GET_END);
	wbuf_u32(&w, sl->job.id);
	wbuf_u32(&w, err == 0);
	send_or_gone(sl, &w);
	if (err == ECANCELED)
		return get_stopped(sl, pattern, path);
	if (err)
		get_report(sl, line, files_get_io_problem(line, sizeof line, pattern, "read", path, err));
	return err || sl->gone; /* the link says its own problems */
}

/* The command is over and its group gone: send the --get files, remove the
 * scratch directory, then the exit status.  -1 if the link is gone. */
int slot_finish(struct slot *sl)
{
	struct slot_job *j = &sl->job;
	struct files_get_ops ops = { send_get, get_report, sl };
	unsigned flags = 0;

	if (j->gets && files_get_each(j->gets, j->scratch, &ops) > 0)
		flags |= JOB_GET_FAILED;
	if (rmdir(j->scratch) < 0 && errno != ENOENT)
		flags |= job_collect(j->scratch, NULL, -1, -1);
	sl->get_stop = 0;
	job_life_collected(&j->life, flags);
	if (sl->gone)
		return -1;
	return job_run_report(sl->out, j->id, &j->life);
}
