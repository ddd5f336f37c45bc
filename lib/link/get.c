/* get.c — receiving a job's --get files from the runner and writing
 * them where the caller asked, refusing what it did not ask for (see
 * internal.h). */
#include "internal.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* Drops the arriving file, telling the caller why in LINE. */
static void get_drop(struct link_slot *s, const char *line, size_t len)
{
	bar_end(&s->get.bar);
	files_dest_abort(&s->get.d);
	(void)slot_state_get_drop(&s->st);
	s->get.failed = 1;
	if (s->fds[2] >= 0)
		(void)write_all(s->fds[2], line, len);
}

/* This side could not write the arriving file: say so as the local backend
 * would, and drop it. */
static void get_failed(struct link_slot *s, int err)
{
	char line[1024];
	size_t n = files_get_io_problem(line, sizeof line, s->get.pattern, "write", s->get.path, err);
	get_drop(s, line, n);
}

/* Forgets the file arriving, dropping it if it is unfinished. */
void get_reset(struct link_slot *s)
{
	bar_end(&s->get.bar);
	files_dest_abort(&s->get.d);
	free(s->get.pattern);
	free(s->get.path);
	s->get.pattern = s->get.path = NULL;
}

/* The runner sent something this side refuses: say why, as one line,
 * and drop the file. */
static void get_refused(struct link_slot *s, const char *why)
{
	char line[1024];
	int n = snprintf(line, sizeof line,
	                 "flame: --get %.300s: the runner sent '%.300s', %s; not written\n",
	                 s->get.pattern ? s->get.pattern : "", s->get.path ? s->get.path : "", why);
	size_t len = n < 0 ? 0 : (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;

	for (size_t i = 0; len > 0 && i < len - 1; i++)
		if (line[i] == '\n' || (unsigned char)line[i] < ' ')
			line[i] = '?';
	if (len > 0)
		line[len - 1] = '\n';
	get_drop(s, line, len);
}

/* W_GET {job, pattern, path, mode, size}: the runner names the file, and
 * only one the caller asked for is written: the path must match one of the
 * caller's patterns (checked by slot_state.h, by the rules the runner
 * uses), and the mode be plain permission bits, which the caller's umask
 * then masks. */
void get_begin(struct link_slot *s, struct rbuf *r)
{
	int64_t size;
	enum slot_verdict v;

	get_reset(s);
	s->get.pattern = rbuf_str(r);
	s->get.path = rbuf_str(r);
	s->get.mode = rbuf_u32(r);
	size = rbuf_i64(r);
	v = slot_state_get_begin(&s->st, s->get_patterns, s->getdir >= 0, s->get.pattern, s->get.path,
	                         s->get.mode, r->bad ? -1 : size);
	if (v == SLOT_BAD_FRAME) {
		get_failed(s, EPROTO);
		return;
	}
	if (v == SLOT_NOT_ASKED) {
		get_refused(s, "which was not asked for");
		return;
	}
	if (v == SLOT_BAD_MODE) {
		get_refused(s, "with a mode that is more than permission bits");
		return;
	}
	if (v != SLOT_OK)
		return;
	if (files_dest_open(&s->get.d, s->getdir, s->get.path) < 0) {
		get_failed(s, errno);
		return;
	}
	s->get.d.umask = s->get_umask;
	bar_begin(&s->get.bar, s->fds[2], s->get.path, (uint64_t)size);
}

/* Counts n more bytes (data or hole) of the file arriving: 0, or -1 when
 * there is none (never announced, or dropped), or after refusing it when
 * the runner sends more than it announced. */
static int get_count(struct link_slot *s, uint64_t n)
{
	enum slot_verdict v = slot_state_get_bytes(&s->st, n);

	if (v == SLOT_TOO_LONG)
		get_refused(s, "with more bytes than it announced");
	return v == SLOT_OK ? 0 : -1;
}

void get_data(struct link_slot *s, struct rbuf *r)
{
	uint32_t n = rbuf_u32(r);
	if (r->bad || n > r->len - r->off || get_count(s, n) < 0)
		return;
	if (write_all(s->get.d.fd, r->p + r->off, n) < 0) {
		get_failed(s, errno);
		return;
	}
	bar_step(&s->get.bar, s->st.get_done);
}

/* W_GET_HOLE {job, length}: a run of zeros the runner's file does not
 * store; it is not stored here either. */
void get_hole(struct link_slot *s, struct rbuf *r)
{
	int64_t n = rbuf_i64(r);
	if (r->bad || n < 0 || get_count(s, (uint64_t)n) < 0)
		return;
	if (lseek(s->get.d.fd, (off_t)s->st.get_done, SEEK_SET) < 0) {
		get_failed(s, errno);
		return;
	}
	bar_step(&s->get.bar, s->st.get_done);
}

void get_end(struct link_slot *s, struct rbuf *r)
{
	uint32_t ok = rbuf_u32(r);
	bar_end(&s->get.bar);
	if (slot_state_get_end(&s->st) != SLOT_OK)
		return; /* none arriving */
	if (r->bad || !ok) {
		files_dest_abort(&s->get.d); /* the runner says why */
		return;
	}
	/* a hole at the end makes the file's length, not its blocks */
	if (ftruncate(s->get.d.fd, (off_t)s->st.get_done) < 0 ||
	    files_dest_commit(&s->get.d, s->get.mode) < 0)
		get_failed(s, errno);
}
