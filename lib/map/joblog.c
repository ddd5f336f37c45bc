/* joblog.c — see joblog.h. */
#include "joblog.h"
#include "util.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HEADER_BASE "Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\t"
#define HEADER_PLAIN HEADER_BASE "Command\n"
#define HEADER_EXTRA HEADER_BASE "Pool\tSlotWait\tBootWait\tCommand\n"
#define NCOLS_PLAIN 8 /* the fields before Command */
#define NCOLS_EXTRA 11

/* A line longer than this is not a job's: the file is not a joblog. */
#define MAX_LINE (16u << 20)
#define READ_CHUNK 65536

static const char *const col_names[NCOLS_EXTRA] = { "Seq",  "Host",     "Starttime", "JobRuntime",
	                                            "Send", "Receive",  "Exitval",   "Signal",
	                                            "Pool", "SlotWait", "BootWait" };

const char *joblog_header(int extra)
{
	return extra ? HEADER_EXTRA : HEADER_PLAIN;
}

/* ms as seconds with three decimals, right-aligned in width. */
static void seconds(char *buf, size_t len, int64_t ms, int width)
{
	char s[32];
	if (ms < 0)
		ms = 0;
	snprintf(s, sizeof s, "%" PRId64 ".%03d", ms / 1000, (int)(ms % 1000));
	snprintf(buf, len, "%*s", width, s);
}

/* A copy of s fit for a field: no tab or newline, and with blank_too no
 * blank at all (parallel's reader splits Host on them); empty as dflt. */
static char *field(const char *s, int blank_too, const char *dflt)
{
	char *f = xstrdup(s && *s ? s : dflt);
	for (char *p = f; *p; p++)
		if (*p == '\t' || *p == '\n' ||
		    (blank_too && (*p == ' ' || *p == '\r' || *p == '\v' || *p == '\f')))
			*p = '_';
	return f;
}

char *joblog_line(const struct joblog_entry *e, int extra, size_t *len)
{
	char start[32], run[32], slot[32], boot[32];
	char *host = field(e->host, 1, ":");
	char *pool = field(e->pool, 0, "");
	const char *cmd = e->command ? e->command : "";
	char *head, *line;
	size_t hlen, clen = strlen(cmd);

	seconds(start, sizeof start, e->start_ms, 0);
	seconds(run, sizeof run, e->runtime_ms, 10);
	seconds(slot, sizeof slot, e->slot_wait_ms, 0);
	seconds(boot, sizeof boot, e->boot_wait_ms, 0);
	head = xasprintf("%lu\t%s\t%s\t%s\t%" PRIu64 "\t%" PRIu64 "\t%d\t%d\t", e->seq, host, start, run,
	                 e->send, e->receive, e->exitval, e->signal);
	if (extra) {
		char *longer = xasprintf("%s%s\t%s\t%s\t", head, pool, slot, boot);
		free(head);
		head = longer;
	}
	hlen = strlen(head);
	line = xmalloc(hlen + clen + 2);
	memcpy(line, head, hlen);
	/* as parallel: a newline would end the line, a NUL cannot be in a command */
	for (size_t i = 0; i < clen; i++)
		line[hlen + i] = cmd[i] == '\n' ? '\0' : cmd[i];
	line[hlen + clen] = '\n';
	line[hlen + clen + 1] = '\0';
	*len = hlen + clen + 1;
	free(head);
	free(host);
	free(pool);
	return line;
}

int joblog_write(int fd, const struct joblog_entry *e, int extra)
{
	size_t len;
	char *line = joblog_line(e, extra, &len);
	int rc = write_all(fd, line, len);
	int saved = errno;
	free(line);
	errno = saved;
	return rc;
}

/* The reader. */

struct reader {
	int rerun_failed;
	unsigned long lineno;
	int ncols; /* fields before Command; 0 until the header is read */
	struct joblog_info info;
	struct joblog_done *done;
	char *err;
	size_t errlen;
};

struct span {
	const char *p;
	size_t n;
};

static int fail(struct reader *r, const char *what, const char *col)
{
	if (col)
		snprintf(r->err, r->errlen, "line %lu: %s %s", r->lineno, col, what);
	else
		snprintf(r->err, r->errlen, "line %lu: %s", r->lineno, what);
	return -1;
}

/* [-]digits[.digits], after any spaces (JobRuntime is right-aligned). */
static int is_decimal(struct span f)
{
	size_t i = 0, digits = 0;
	while (i < f.n && f.p[i] == ' ')
		i++;
	if (i < f.n && f.p[i] == '-')
		i++;
	for (; i < f.n && f.p[i] >= '0' && f.p[i] <= '9'; i++)
		digits++;
	if (i < f.n && f.p[i] == '.')
		for (i++; i < f.n && f.p[i] >= '0' && f.p[i] <= '9'; i++)
			digits++;
	return digits > 0 && i == f.n;
}

/* [-]digits within int's range. */
static int to_int(struct span f, int *out)
{
	size_t i = f.n > 0 && f.p[0] == '-';
	long long v = 0;
	if (i == f.n)
		return -1;
	for (; i < f.n; i++) {
		if (f.p[i] < '0' || f.p[i] > '9' || v > INT_MAX)
			return -1;
		v = v * 10 + (f.p[i] - '0');
	}
	if (f.p[0] == '-')
		v = -v;
	if (v < INT_MIN || v > INT_MAX)
		return -1;
	*out = (int)v;
	return 0;
}

static int to_seq(struct span f, unsigned long *out)
{
	unsigned long v = 0;
	if (f.n == 0)
		return -1;
	for (size_t i = 0; i < f.n; i++) {
		if (f.p[i] < '0' || f.p[i] > '9')
			return -1;
		if (v > (JOBLOG_MAX_SEQ - (unsigned long)(f.p[i] - '0')) / 10)
			return -1;
		v = v * 10 + (unsigned long)(f.p[i] - '0');
	}
	if (v == 0)
		return -1;
	*out = v;
	return 0;
}

static int read_header(struct reader *r, const char *line, size_t len)
{
	if (len + 1 == strlen(HEADER_PLAIN) && memcmp(line, HEADER_PLAIN, len) == 0) {
		r->ncols = NCOLS_PLAIN;
	} else if (len + 1 == strlen(HEADER_EXTRA) && memcmp(line, HEADER_EXTRA, len) == 0) {
		r->ncols = NCOLS_EXTRA;
		r->info.extra = 1;
	} else {
		return fail(
			r,
			"not a joblog: the first line is not GNU parallel's header (Seq, Host, Starttime, ...)",
			NULL);
	}
	r->info.header = 1;
	return 0;
}

/* A numeric field of a job line, checked. */
static int check_number(struct reader *r, int col, struct span f)
{
	if (col == 1 || col == 8 || is_decimal(f))
		return 0; /* Host and Pool are text */
	return fail(r, "is not a number", col_names[col]);
}

static int read_job(struct reader *r, const char *line, size_t len)
{
	struct span f[NCOLS_EXTRA];
	const char *p = line, *end = line + len;
	unsigned long seq;
	int exitval, signal;

	for (int i = 0; i < r->ncols; i++) {
		const char *tab = memchr(p, '\t', (size_t)(end - p));
		if (!tab)
			return fail(r,
			            r->ncols == NCOLS_PLAIN ? "has fewer than 9 tab-separated fields"
			                                    : "has fewer than 12 tab-separated fields",
			            NULL);
		f[i].p = p;
		f[i].n = (size_t)(tab - p);
		p = tab + 1;
	}
	if (to_seq(f[0], &seq) != 0)
		return fail(r, "is not a number from 1 to 4294967295", "Seq");
	for (int i = 1; i < r->ncols; i++)
		if (check_number(r, i, f[i]) != 0)
			return -1;
	if (to_int(f[6], &exitval) != 0)
		return fail(r, "is not a whole number", "Exitval");
	if (to_int(f[7], &signal) != 0)
		return fail(r, "is not a whole number", "Signal");
	r->info.lines++;
	if (!r->rerun_failed || (exitval == 0 && signal == 0))
		joblog_done_add(r->done, seq);
	return 0;
}

static int read_line(struct reader *r, const char *line, size_t len)
{
	r->lineno++;
	if (len > MAX_LINE)
		return fail(r, "longer than 16 MiB: not a joblog", NULL);
	if (r->ncols == 0)
		return read_header(r, line, len);
	return read_job(r, line, len);
}

/* Reads the whole lines in buf; *used is how many bytes they took. */
static int take_lines(struct reader *r, const char *buf, size_t len, size_t *used)
{
	size_t off = 0;
	const char *nl;
	while ((nl = memchr(buf + off, '\n', len - off))) {
		size_t n = (size_t)(nl - (buf + off));
		if (read_line(r, buf + off, n) != 0)
			return -1;
		off += n + 1;
		r->info.whole_len += n + 1;
	}
	*used = off;
	return 0;
}

/* The bytes after the last newline: a line cut short, ignored, unless the
 * file is nothing but the start of something that is not a header. */
static int finish(struct reader *r, const char *rest, size_t len)
{
	if (len > MAX_LINE) {
		r->lineno++;
		return fail(r, "longer than 16 MiB: not a joblog", NULL);
	}
	if (r->ncols != 0 || len == 0)
		return 0;
	if (len < strlen(HEADER_EXTRA) && memcmp(rest, HEADER_EXTRA, len) == 0)
		return 0;
	if (len < strlen(HEADER_PLAIN) && memcmp(rest, HEADER_PLAIN, len) == 0)
		return 0;
	r->lineno++;
	return fail(r,
	            "not a joblog: the first line is not GNU parallel's header (Seq, Host, Starttime, ...)",
	            NULL);
}

static void reader_init(struct reader *r, int rerun_failed, char *err, size_t errlen)
{
	memset(r, 0, sizeof *r);
	r->rerun_failed = rerun_failed;
	r->done = joblog_done_new();
	r->err = err;
	r->errlen = errlen;
}

static int reader_end(struct reader *r, int rc, struct joblog_done **done, struct joblog_info *info)
{
	if (rc != 0) {
		joblog_done_free(r->done);
		*done = NULL;
		return -1;
	}
	*done = r->done;
	*info = r->info;
	return 0;
}

int joblog_parse(const char *text, size_t len, int rerun_failed, struct joblog_done **done,
                 struct joblog_info *info, char *err, size_t errlen)
{
	struct reader r;
	size_t used;
	int rc;

	reader_init(&r, rerun_failed, err, errlen);
	rc = take_lines(&r, text, len, &used);
	if (rc == 0)
		rc = finish(&r, text + used, len - used);
	return reader_end(&r, rc, done, info);
}

/* Reads fd into buf after its have bytes, growing it for a long line:
 * the bytes read, 0 at the end, -1 on error (in r). */
static ssize_t fill(struct reader *r, int fd, char **buf, size_t *cap, size_t have)
{
	ssize_t n;
	if (*cap - have < READ_CHUNK) {
		if (have > MAX_LINE) {
			r->lineno++;
			return fail(r, "longer than 16 MiB: not a joblog", NULL);
		}
		*cap = *cap > READ_CHUNK ? 2 * *cap : 2 * READ_CHUNK;
		*buf = xrealloc(*buf, *cap);
	}
	do
		n = read(fd, *buf + have, *cap - have);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		snprintf(r->err, r->errlen, "read: %s", strerror(errno));
	return n;
}

int joblog_read(int fd, int rerun_failed, struct joblog_done **done, struct joblog_info *info, char *err,
                size_t errlen)
{
	struct reader r;
	char *buf = NULL;
	size_t cap = 0, have = 0, used;
	ssize_t n;
	int rc = 0;

	reader_init(&r, rerun_failed, err, errlen);
	while ((n = fill(&r, fd, &buf, &cap, have)) > 0) {
		have += (size_t)n;
		/* a long line is scanned once, not once a read */
		if (!memchr(buf + have - (size_t)n, '\n', (size_t)n))
			continue;
		rc = take_lines(&r, buf, have, &used);
		if (rc != 0)
			break;
		memmove(buf, buf + used, have - used);
		have -= used;
	}
	if (n < 0)
		rc = -1;
	if (rc == 0)
		rc = finish(&r, buf, have);
	free(buf);
	return reader_end(&r, rc, done, info);
}
