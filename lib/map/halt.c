/* halt.c — see halt.h. */
#include "halt.h"
#include "util.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#define EXAMPLE ", e.g. now,fail=1"
#define MAX_FAILED_STATUS 101 /* "more than 100 failed" */

/* "--halt 'S'", or "--halt" when S would not print as one short line. */
static void name_spec(const char *s, char *buf, size_t len)
{
	size_t n = s ? strlen(s) : 0;
	int printable = s && n <= 40;
	for (size_t i = 0; printable && i < n; i++)
		printable = s[i] >= ' ' && s[i] <= '~';
	if (printable)
		snprintf(buf, len, "--halt '%s'", s);
	else
		snprintf(buf, len, "--halt");
}

static int refuse(const char *s, const char *why, char *err, size_t errlen)
{
	char name[64];
	name_spec(s, name, sizeof name);
	snprintf(err, errlen, "%s: %s" EXAMPLE, name, why);
	return -1;
}

/* A whole number of digits only (no sign, no blank) in [min, max]. */
static int digits(const char *s, size_t n, long min, long max, long *out)
{
	char buf[24];
	if (n == 0 || n >= sizeof buf || strspn(s, "0123456789") < n)
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return parse_long(buf, min, max, out);
}

/* "N" or "N%" into spec. */
static int threshold(const char *s, struct halt_spec *spec)
{
	size_t n = strlen(s);
	long v;
	if (n > 0 && s[n - 1] == '%') {
		if (digits(s, n - 1, 1, 100, &v) != 0)
			return -1;
		spec->pct = (unsigned)v;
		spec->count = 0;
		return 0;
	}
	if (digits(s, n, 1, LONG_MAX, &v) != 0)
		return -1;
	spec->count = (unsigned long)v;
	spec->pct = 0;
	return 0;
}

/* parallel's shorthands; 0 if s is one. */
static int shorthand(const char *s, struct halt_spec *spec)
{
	static const struct {
		const char *word;
		struct halt_spec spec;
	} words[] = {
		{ "never", { HALT_NEVER, HALT_FAIL, 0, 0 } }, { "0", { HALT_NEVER, HALT_FAIL, 0, 0 } },
		{ "1", { HALT_SOON, HALT_FAIL, 1, 0 } },      { "2", { HALT_NOW, HALT_FAIL, 1, 0 } },
		{ "-1", { HALT_SOON, HALT_SUCCESS, 1, 0 } },  { "-2", { HALT_NOW, HALT_SUCCESS, 1, 0 } },
	};
	for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
		if (strcmp(s, words[i].word) == 0) {
			*spec = words[i].spec;
			return 0;
		}
	}
	return -1;
}

int halt_parse(const char *s, struct halt_spec *spec, char *err, size_t errlen)
{
	static const char *const whys[] = { "fail=", "success=", "done=" };
	struct halt_spec sp = { HALT_SOON, HALT_FAIL, 0, 0 };
	const char *rest;
	size_t i;

	if (!s)
		return refuse(s, "no spec", err, errlen);
	if (shorthand(s, spec) == 0)
		return 0;
	/* N% is soon,fail=N% */
	if (*s >= '0' && *s <= '9' && s[strlen(s) - 1] == '%') {
		if (threshold(s, &sp) != 0)
			return refuse(s, "the percentage is from 1% to 100%", err, errlen);
		*spec = sp;
		return 0;
	}
	if (strncmp(s, "soon,", 5) == 0) {
		rest = s + 5;
	} else if (strncmp(s, "now,", 4) == 0) {
		sp.when = HALT_NOW;
		rest = s + 4;
	} else {
		return refuse(s, "expected never, soon,WHY=N or now,WHY=N (or 0, 1, 2, -1, -2, N%)", err,
		              errlen);
	}
	for (i = 0; i < sizeof whys / sizeof whys[0]; i++)
		if (strncmp(rest, whys[i], strlen(whys[i])) == 0)
			break;
	if (i == sizeof whys / sizeof whys[0])
		return refuse(s, "WHY is fail=N, success=N or done=N", err, errlen);
	sp.why = (enum halt_why)i;
	if (threshold(rest + strlen(whys[i]), &sp) != 0)
		return refuse(s, "N is a count from 1 or a percentage from 1% to 100%", err, errlen);
	*spec = sp;
	return 0;
}

int halt_needs_total(const struct halt_spec *spec)
{
	return spec->when != HALT_NEVER && spec->pct != 0;
}

void halt_init(struct halt *h, const struct halt_spec *spec)
{
	memset(h, 0, sizeof *h);
	h->spec = *spec;
}

static enum halt_action action(const struct halt *h)
{
	return h->spec.when == HALT_NOW ? HALT_KILL_RUNNING : HALT_STOP_LAUNCHING;
}

/* ceil(part * 100 / whole) */
static int percent(unsigned long part, unsigned long whole)
{
	if (whole == 0)
		return 0;
	return (int)(((unsigned long long)part * 100 + whole - 1) / whole);
}

static int count_status(unsigned long failed)
{
	return failed > MAX_FAILED_STATUS ? MAX_FAILED_STATUS : (int)failed;
}

/* A job's status as a shell gives it: its exit value, or 128 + its
 * signal; never 0 for a job that failed. */
static int job_status(int exitval, int signal, int failed)
{
	int st = exitval != 0 ? exitval & 0xff : signal != 0 ? (128 + signal) & 0xff : 0;
	return st == 0 && failed ? 1 : st;
}

static int fired_status(const struct halt *h, int exitval, int signal, int failed, unsigned long total)
{
	if (h->spec.why == HALT_SUCCESS)
		return 0;
	if (h->spec.pct)
		return percent(h->failed, total);
	if (h->spec.count == 1)
		return job_status(exitval, signal, failed);
	return count_status(h->failed);
}

static int reached(const struct halt *h, unsigned long limit, unsigned long total)
{
	if (!h->spec.pct)
		return limit >= h->spec.count;
	if (total == HALT_TOTAL_UNKNOWN)
		return 0;
	return (unsigned long long)limit * 100 >= (unsigned long long)h->spec.pct * total;
}

enum halt_action halt_job_ended(struct halt *h, int exitval, int signal, int flame_failure,
                                unsigned long total)
{
	int failed = exitval != 0 || signal != 0 || flame_failure;
	unsigned long limit;

	h->done++;
	if (failed)
		h->failed++;
	if (flame_failure)
		h->flame_failed = 1;
	if (h->fired)
		return action(h);
	if (h->spec.when == HALT_NEVER)
		return HALT_CONTINUE;
	/* parallel looks at fail= only when a job failed and at success=
	 * only when one succeeded: the same, as only those move the counts,
	 * but for a total learnt late, which fires at once here */
	limit = h->spec.why == HALT_FAIL      ? h->failed
	        : h->spec.why == HALT_SUCCESS ? h->done - h->failed
	                                      : h->done;
	if (!reached(h, limit, total))
		return HALT_CONTINUE;
	h->fired = 1;
	h->status = fired_status(h, exitval, signal, failed, total);
	return action(h);
}

int halt_exit_status(const struct halt *h)
{
	if (h->flame_failed)
		return EXIT_FAILURE_FLAME;
	if (h->fired)
		return h->status;
	if (h->spec.when != HALT_NEVER && h->spec.pct)
		return percent(h->failed, h->done);
	return count_status(h->failed);
}
