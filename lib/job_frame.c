/* job_frame.c — see job_frame.h. */
#include "job_frame.h"
#include "util.h"

#include <string.h>

void job_frame_write(struct wbuf *w, const struct job_desc *j)
{
	wbuf_u32(w, (uint32_t)strv_len(j->put_names));
	wbuf_u32(w, j->getdir);
	wbuf_i64(w, j->timeout_ms);
	wbuf_strv(w, j->argv);
	wbuf_strv(w, j->env);
	wbuf_strv(w, j->put_names);
	wbuf_strv(w, j->get_patterns);
}

static int read_head(struct rbuf *r, struct job_layout *lay)
{
	lay->nput = rbuf_u32(r);
	lay->getdir = rbuf_u32(r);
	lay->timeout_ms = rbuf_i64(r);
	if (r->bad || lay->nput > JOB_MAX_PUTS || lay->timeout_ms < 0)
		return -1;
	lay->nfds = JOB_FD_FILES + (lay->getdir != 0) + (int)lay->nput;
	return 0;
}

/* Steps over one string vector of at most MAX strings; its count, or -1.
 * *first_empty is set when its first string is "". */
static long skip_strv(struct rbuf *r, uint32_t max, int *first_empty)
{
	uint32_t n = rbuf_u32(r);

	if (r->bad || n > max)
		return -1;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t len = rbuf_u32(r);
		if (r->bad || len > r->len - r->off)
			return -1;
		if (memchr(r->p + r->off, 0, len))
			return -1; /* a C string cannot hold it: rbuf_str would refuse it */
		if (i == 0 && first_empty)
			*first_empty = len == 0;
		r->off += len;
	}
	return (long)n;
}

int job_frame_check(const struct rbuf *r, struct job_layout *lay, size_t *len)
{
	struct rbuf c = *r;
	int empty = 1;
	long nargs, nputs;

	if (read_head(&c, lay) < 0)
		return -1;
	nargs = skip_strv(&c, JOB_MAX_ARGS, &empty);
	if (nargs < 1 || empty || skip_strv(&c, JOB_MAX_ENV, NULL) < 0)
		return -1;
	nputs = skip_strv(&c, JOB_MAX_PUTS, NULL);
	if (nputs != (long)lay->nput || skip_strv(&c, JOB_MAX_GETS, NULL) < 0)
		return -1;
	*len = c.off - r->off;
	return 0;
}

int job_frame_read(struct rbuf *r, struct job_frame *j)
{
	memset(j, 0, sizeof *j);
	if (read_head(r, &j->lay) < 0)
		return -1;
	j->argv = rbuf_strv(r, JOB_MAX_ARGS);
	j->env = rbuf_strv(r, JOB_MAX_ENV);
	j->put_names = rbuf_strv(r, JOB_MAX_PUTS);
	j->get_patterns = rbuf_strv(r, JOB_MAX_GETS);
	if (r->bad || !j->argv[0] || !j->argv[0][0] || strv_len(j->put_names) != j->lay.nput)
		return -1;
	return 0;
}

void job_frame_free(struct job_frame *j)
{
	strv_free(j->argv);
	strv_free(j->env);
	strv_free(j->put_names);
	strv_free(j->get_patterns);
	memset(j, 0, sizeof *j);
}

void job_done_write(struct wbuf *w, uint32_t id, int64_t status, int64_t flags)
{
	wbuf_init(w, W_JOB_DONE);
	wbuf_u32(w, id);
	wbuf_i64(w, status);
	wbuf_i64(w, flags);
}

int job_done_read(struct rbuf *r, uint32_t *id, int64_t *status, int64_t *flags)
{
	*id = rbuf_u32(r);
	*status = rbuf_i64(r);
	*flags = rbuf_i64(r);
	return r->bad ? -1 : 0;
}
