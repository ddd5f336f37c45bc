/* halt.h — `flame map --halt WHEN,WHY=N` and flame map's exit status, as
 * GNU parallel's (20221122) --halt and EXIT STATUS.
 *
 * A spec is "never" (the default), or WHEN,WHY=N or WHEN,WHY=N% where WHEN
 * is "soon" (start no more jobs; those running finish) or "now" (kill those
 * running too), WHY is "fail", "success" or "done" (ended either way), and
 * N a count (1 or more) or a percentage (1% to 100%).  parallel's
 * shorthands: 0 = never, 1 = soon,fail=1, 2 = now,fail=1, -1 =
 * soon,success=1, -2 = now,success=1, N% = soon,fail=N%.
 *
 * A job fails when its Exitval or its Signal is not 0, or when flame failed
 * it (its runner lost, its retries spent): that counts as a failure too.
 *
 * A percentage is of all the jobs, which parallel counts before it starts
 * any (reading all its input first).  flame starts jobs while it reads, so
 * the caller passes the total once it knows it (from the start for :::
 * words, at the end of the input otherwise); until then a percentage does
 * not fire, and the first job to end after it is known fires it if the
 * jobs ended by then reach it.  (A ratio over the jobs ended so far would
 * fire on the first failures, where parallel waits for N% of all.)
 *
 * The exit status (halt_exit_status):
 *   255      a job ended in flame's own failure, whatever else happened
 *            (parallel has no such case; its 255 is "other error");
 *   0        every job succeeded, or a success= halt fired;
 *   1-100    the number of failed jobs, 101 for more than 100; with a
 *            percentage, the percentage of jobs that failed, rounded up;
 *   a fail=1 or done=1 halt gives the status of the job that fired it: its
 *   Exitval, or 128 + its Signal.
 * Once a halt fires its status is kept: jobs that end after it (under
 * "soon") do not change it.  Where parallel's own code strays from this
 * (done=N with no failure exits 101; a percentage is compared in floating
 * point), flame keeps to the rule above.  Pure; unit-tested. */
#ifndef FLAME_MAP_HALT_H
#define FLAME_MAP_HALT_H

#include <stddef.h>

enum halt_when { HALT_NEVER, HALT_SOON, HALT_NOW };
enum halt_why { HALT_FAIL, HALT_SUCCESS, HALT_DONE };

struct halt_spec {
	enum halt_when when;
	enum halt_why why;
	unsigned long count; /* N, or 0 with a percentage */
	unsigned pct;        /* 1..100 with N%, else 0 */
};

/* 0 with *spec; -1 with a one-line reason in err, naming the spec
 * ("--halt 'x': ..., e.g. now,fail=1"). */
int halt_parse(const char *s, struct halt_spec *spec, char *err, size_t errlen);

/* Whether the spec is a percentage, which needs the total. */
int halt_needs_total(const struct halt_spec *spec);

/* What the map loop does after a job ended. */
enum halt_action {
	HALT_CONTINUE,
	HALT_STOP_LAUNCHING, /* soon: start no new job, let the running ones end */
	HALT_KILL_RUNNING    /* now: kill the running jobs and end */
};

#define HALT_TOTAL_UNKNOWN 0UL

struct halt {
	struct halt_spec spec;
	unsigned long done, failed; /* jobs ended, and those of them that failed */
	int flame_failed;           /* a job ended in flame's own failure */
	int fired;                  /* the halt fired; status is kept */
	int status;
};

void halt_init(struct halt *h, const struct halt_spec *spec);

/* Counts a job that ended (exitval, signal as in the joblog; flame_failure
 * when flame failed it) and says what to do; total is the number of jobs,
 * or HALT_TOTAL_UNKNOWN.  Once a halt fired, its action is returned for
 * every job that ends after. */
enum halt_action halt_job_ended(struct halt *h, int exitval, int signal, int flame_failure,
                                unsigned long total);

/* flame map's exit status after the jobs that ended. */
int halt_exit_status(const struct halt *h);

#endif
