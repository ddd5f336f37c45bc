/* fuzz_joblog.c — the --joblog reader (joblog_parse, joblog_read) on any
 * bytes: both agree, errors are one line, a --resume-failed set is within
 * the --resume one.  And the round trip: the bytes as a script of jobs,
 * written with joblog_line and cut anywhere (a crash), read back to the
 * Seqs of the whole lines, no more, no less. */
#include "fuzz.h"
#include "map/joblog.h"

#include <sys/mman.h>
#include <unistd.h>

#define MAX_JOBS 64

static void check_read(const uint8_t *data, size_t size, int failed)
{
	char err[256] = "", err2[256] = "";
	struct joblog_done *d = NULL, *d2 = NULL;
	struct joblog_info info, info2;
	int rc = joblog_parse((const char *)data, size, failed, &d, &info, err, sizeof err);
	int fd = memfd_create("joblog", 0), rc2;

	if (fd < 0 || (size && write(fd, data, size) != (ssize_t)size) || lseek(fd, 0, SEEK_SET) != 0)
		abort();
	rc2 = joblog_read(fd, failed, &d2, &info2, err2, sizeof err2);
	close(fd);
	FUZZ_CHECK(rc == rc2);
	if (rc != 0) {
		FUZZ_CHECK(!d && !d2);
		FUZZ_CHECK(strcmp(err, err2) == 0);
		FUZZ_CHECK(fuzz_one_line(err) && strncmp(err, "line ", 5) == 0);
		return;
	}
	FUZZ_CHECK(memcmp(&info, &info2, sizeof info) == 0);
	FUZZ_CHECK(joblog_done_count(d) == joblog_done_count(d2));
	FUZZ_CHECK(joblog_done_count(d) <= info.lines);
	FUZZ_CHECK(info.whole_len <= size && (info.whole_len == 0 || data[info.whole_len - 1] == '\n'));
	FUZZ_CHECK(info.header || (info.whole_len == 0 && info.lines == 0));
	for (unsigned long s = 0, n = 0; (s = joblog_done_next(d, s)) != 0; n++) {
		FUZZ_CHECK(joblog_done_has(d2, s) && s <= JOBLOG_MAX_SEQ);
		FUZZ_CHECK(n < joblog_done_count(d));
	}
	joblog_done_free(d);
	joblog_done_free(d2);
}

/* Takes n bytes from the script, zeros past its end. */
static unsigned take(const uint8_t **p, const uint8_t *end, int n)
{
	unsigned v = 0;
	for (int i = 0; i < n; i++)
		v = v << 8 | (*p < end ? *(*p)++ : 0);
	return v;
}

/* A string of up to max bytes from the script (a NUL ends it early). */
static char *take_text(const uint8_t **p, const uint8_t *end, unsigned max)
{
	unsigned n = take(p, end, 1) % (max + 1);
	char *s;
	if ((size_t)(end - *p) < n)
		n = (unsigned)(end - *p);
	s = fuzz_text(*p, n);
	*p += n;
	return s;
}

struct script_job {
	unsigned long seq;
	int ok;     /* Exitval 0 and Signal 0 */
	size_t end; /* the log's length after its line */
};

static void expect_set(const char *log, size_t cut, const struct script_job *jobs, int n, int failed)
{
	char err[256] = "";
	struct joblog_done *d = NULL, *want = NULL;
	struct joblog_info info;
	char *seqs;
	size_t len = 0;
	FILE *f = open_memstream(&seqs, &len);

	if (!f)
		abort();
	/* the set expected, as a log of its own read back */
	fputs(joblog_header(0), f);
	for (int i = 0; i < n && jobs[i].end <= cut; i++)
		if (!failed || jobs[i].ok)
			fprintf(f, "%lu\th\t0\t0\t0\t0\t0\t0\tc\n", jobs[i].seq);
	fclose(f);
	FUZZ_CHECK(joblog_parse(seqs, len, 0, &want, &info, err, sizeof err) == 0);
	if (joblog_parse(log, cut, failed, &d, &info, err, sizeof err) != 0) {
		fprintf(stderr, "a written log cut at %zu is refused: %s\n", cut, err);
		abort();
	}
	FUZZ_CHECK(joblog_done_count(d) == joblog_done_count(want));
	for (unsigned long s = 0; (s = joblog_done_next(want, s)) != 0;)
		FUZZ_CHECK(joblog_done_has(d, s));
	joblog_done_free(d);
	joblog_done_free(want);
	free(seqs);
}

static void round_trip(const uint8_t *data, size_t size)
{
	const uint8_t *p = data, *end = data + size;
	unsigned flags = take(&p, end, 1), cut = take(&p, end, 1);
	int extra = flags & 1, n = 0;
	struct script_job jobs[MAX_JOBS];
	size_t cap = 4096, len = strlen(joblog_header(extra));
	char *log = malloc(cap);

	if (!log)
		abort();
	memcpy(log, joblog_header(extra), len);
	while (p < end && n < MAX_JOBS) {
		unsigned raw = take(&p, end, 3);
		struct joblog_entry e = { 0 };
		char *line, *host, *pool, *cmd;
		size_t llen;

		e.seq = raw & 0x800000 ? JOBLOG_MAX_SEQ - (raw & 0xff) : 1 + raw;
		e.exitval = (int8_t)take(&p, end, 1);
		e.signal = (int)(take(&p, end, 1) % 70);
		e.start_ms = (int64_t)take(&p, end, 4) * 1000003 - 1000;
		e.runtime_ms = (int64_t)take(&p, end, 4) * 7919;
		e.send = (uint64_t)take(&p, end, 4) << 31;
		e.slot_wait_ms = take(&p, end, 2);
		host = take_text(&p, end, 12);
		pool = take_text(&p, end, 12);
		cmd = take_text(&p, end, 200);
		e.host = host;
		e.pool = pool;
		e.command = cmd;
		line = joblog_line(&e, extra, &llen);
		FUZZ_CHECK(llen > 0 && line[llen - 1] == '\n' && !memchr(line, '\n', llen - 1));
		if (len + llen > cap) {
			cap = 2 * (len + llen);
			log = realloc(log, cap);
			if (!log)
				abort();
		}
		memcpy(log + len, line, llen);
		len += llen;
		jobs[n].seq = e.seq;
		jobs[n].ok = e.exitval == 0 && e.signal == 0;
		jobs[n++].end = len;
		free(line);
		free(host);
		free(pool);
		free(cmd);
	}
	expect_set(log, len, jobs, n, 0);
	expect_set(log, len, jobs, n, 1);
	/* a crash leaves a prefix of what was written */
	if (cut)
		expect_set(log, len - cut * len / 256, jobs, n, flags >> 1 & 1);
	free(log);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_read(data, size, 0);
	check_read(data, size, 1);
	round_trip(data, size);
	return 0;
}
