/* test_job_life.c — one job's life on a runner (lib/agent/job_life.h): every
 * transition, the timeout's two steps, cancel in each state, done reported
 * exactly once, and the exit code that report makes. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <sys/wait.h>

#include "agent/job_life.h"
#include "util.h"
#include "wire.h"

/* Wait statuses as waitpid(2) encodes them on Linux. */
#define EXITED_WITH(code) ((code) << 8)
#define KILLED_BY(sig) (sig)

/* A job in the given phase, started at t=1000 with a timeout of 500 ms. */
static void life_in(struct job_life *l, enum job_phase phase)
{
	int status;
	uint32_t flags;

	job_life_init(l, 500);
	if (phase == JOB_READ)
		return;
	if (phase == JOB_CANCELLED) {
		job_life_cancel(l);
		return;
	}
	if (phase == JOB_FINISHED) {
		job_life_start_failed(l, EXITED_WITH(127), 0);
		return;
	}
	job_life_started(l, 1000);
	if (phase == JOB_RUNNING)
		return;
	job_life_exited(l, EXITED_WITH(3));
	if (phase == JOB_EXITED)
		return;
	job_life_group_gone(l);
	if (phase == JOB_COLLECTING)
		return;
	assert_int_equal(phase, JOB_REPORTED);
	job_life_collected(l, 0);
	assert_int_equal(job_life_report(l, &status, &flags), 1);
}

static void assert_reports(struct job_life *l, int status, uint32_t flags)
{
	int st = -1;
	uint32_t fl = 0xff;
	assert_int_equal(job_life_report(l, &st, &fl), 1);
	assert_int_equal(st, status);
	assert_int_equal(fl, flags);
	assert_int_equal(l->phase, JOB_REPORTED);
	/* exactly once */
	assert_int_equal(job_life_report(l, &st, &fl), 0);
	assert_int_equal(job_life_report(l, &st, &fl), 0);
}

static void assert_no_report(struct job_life *l)
{
	int st;
	uint32_t fl;
	enum job_phase before = l->phase;
	assert_int_equal(job_life_report(l, &st, &fl), 0);
	assert_int_equal(l->phase, before);
}

static void test_whole_life(void **state)
{
	struct job_life l;
	(void)state;
	job_life_init(&l, 0);
	assert_int_equal(l.phase, JOB_READ);
	assert_no_report(&l);
	job_life_started(&l, 1000);
	assert_int_equal(l.phase, JOB_RUNNING);
	assert_int_equal(l.deadline, 0); /* no timeout */
	assert_no_report(&l);
	job_life_exited(&l, EXITED_WITH(7));
	assert_int_equal(l.phase, JOB_EXITED);
	assert_no_report(&l);
	job_life_group_gone(&l);
	assert_int_equal(l.phase, JOB_COLLECTING);
	assert_no_report(&l);
	job_life_collected(&l, 0);
	assert_int_equal(l.phase, JOB_FINISHED);
	assert_int_equal(job_life_exit_code(&l), 7);
	assert_reports(&l, EXITED_WITH(7), 0);
}

static void test_start_failures(void **state)
{
	static const int codes[] = { EXIT_NOEXEC, EXIT_NOTFOUND, EXIT_FAILURE_FLAME };
	struct job_life l;
	(void)state;
	for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
		job_life_init(&l, 1000);
		job_life_start_failed(&l, EXITED_WITH(codes[i]), 0);
		assert_int_equal(l.phase, JOB_FINISHED);
		assert_int_equal(job_life_exit_code(&l), codes[i]);
		assert_reports(&l, EXITED_WITH(codes[i]), 0);
	}
	/* a setup problem the runner had (no pipes, no pidfd) */
	job_life_init(&l, 0);
	job_life_start_failed(&l, 0, JOB_SETUP_FAILED);
	assert_int_equal(job_life_exit_code(&l), EXIT_FAILURE_FLAME);
	assert_reports(&l, 0, JOB_SETUP_FAILED);
}

/* An event that does not fit the state changes nothing. */
static void test_events_out_of_order_ignored(void **state)
{
	struct job_life l;
	(void)state;
	job_life_init(&l, 0);
	job_life_exited(&l, EXITED_WITH(1));
	job_life_group_gone(&l);
	job_life_collected(&l, JOB_GET_FAILED);
	assert_int_equal(l.phase, JOB_READ);
	assert_int_equal(l.flags, 0);

	life_in(&l, JOB_RUNNING);
	job_life_started(&l, 5000);
	job_life_start_failed(&l, EXITED_WITH(127), JOB_SETUP_FAILED);
	job_life_group_gone(&l);
	job_life_collected(&l, JOB_GET_FAILED);
	assert_int_equal(l.phase, JOB_RUNNING);
	assert_int_equal(l.deadline, 1500);
	assert_int_equal(l.flags, 0);

	life_in(&l, JOB_EXITED);
	job_life_exited(&l, EXITED_WITH(9));
	job_life_collected(&l, JOB_GET_FAILED);
	assert_int_equal(l.phase, JOB_EXITED);
	assert_int_equal(l.status, EXITED_WITH(3));

	life_in(&l, JOB_REPORTED);
	job_life_collected(&l, JOB_GET_FAILED);
	assert_int_equal(l.phase, JOB_REPORTED);
	assert_no_report(&l);
}

static void test_timeout_two_steps(void **state)
{
	struct job_life l;
	(void)state;
	life_in(&l, JOB_RUNNING);
	assert_int_equal(l.deadline, 1500);
	assert_int_equal(job_life_timeout(&l, 1000), 0);
	assert_int_equal(job_life_timeout(&l, 1499), 0);
	assert_int_equal(l.flags, 0);
	/* at the deadline: TERM, and the job has timed out */
	assert_int_equal(job_life_timeout(&l, 1500), SIGTERM);
	assert_int_equal(l.flags, JOB_TIMED_OUT);
	assert_int_equal(l.deadline, 1500 + JOB_KILL_GRACE_MS);
	assert_int_equal(job_life_timeout(&l, 1500 + JOB_KILL_GRACE_MS - 1), 0);
	/* the grace later: KILL, then nothing more */
	assert_int_equal(job_life_timeout(&l, 1500 + JOB_KILL_GRACE_MS), SIGKILL);
	assert_int_equal(l.deadline, 0);
	assert_int_equal(job_life_timeout(&l, 99999), 0);
	assert_int_equal(l.flags, JOB_TIMED_OUT);
	/* it timed out whatever it exited with, and files fetched or not */
	job_life_exited(&l, KILLED_BY(SIGTERM));
	job_life_group_gone(&l);
	job_life_collected(&l, JOB_GET_FAILED);
	assert_int_equal(job_life_exit_code(&l), EXIT_TIMEOUT);
	assert_reports(&l, KILLED_BY(SIGTERM), JOB_TIMED_OUT | JOB_GET_FAILED);
}

/* A late poll that finds both steps due still sends TERM first. */
static void test_timeout_late_poll(void **state)
{
	struct job_life l;
	(void)state;
	life_in(&l, JOB_RUNNING);
	assert_int_equal(job_life_timeout(&l, 9000), SIGTERM);
	assert_int_equal(l.deadline, 9000 + JOB_KILL_GRACE_MS);
	assert_int_equal(job_life_timeout(&l, 9000 + JOB_KILL_GRACE_MS), SIGKILL);
}

/* The timeout acts only on a running command, never before or after. */
static void test_timeout_only_while_running(void **state)
{
	struct job_life l;
	(void)state;
	job_life_init(&l, 500);
	assert_int_equal(job_life_timeout(&l, 1 << 30), 0);
	life_in(&l, JOB_EXITED);
	assert_int_equal(l.deadline, 0);
	assert_int_equal(job_life_timeout(&l, 1 << 30), 0);
	assert_int_equal(l.flags, 0);
	/* a timeout far in the future does not overflow */
	job_life_init(&l, INT64_MAX);
	job_life_started(&l, 1000);
	assert_int_equal(l.deadline, INT64_MAX);
	assert_int_equal(job_life_timeout(&l, INT64_MAX - 1), 0);
}

static void test_signals_while_running(void **state)
{
	struct job_life l;
	(void)state;
	life_in(&l, JOB_RUNNING);
	assert_int_equal(job_life_signal(&l, SIGINT), SIGINT);
	assert_int_equal(job_life_signal(&l, SIGUSR1), SIGUSR1);
	assert_int_equal(job_life_signal(&l, 64), 64);
	assert_int_equal(job_life_signal(&l, 0), 0);
	assert_int_equal(job_life_signal(&l, 65), 0);
	assert_int_equal(job_life_signal(&l, -1), 0);
	assert_int_equal(l.phase, JOB_RUNNING);
	assert_int_equal(l.stop_sig, 0);
	/* before it started and after it was reported, nothing to signal */
	job_life_init(&l, 0);
	assert_int_equal(job_life_signal(&l, SIGINT), 0);
	life_in(&l, JOB_REPORTED);
	assert_int_equal(job_life_signal(&l, SIGINT), 0);
}

/* After the command exited, a signal that would have ended it stops the
 * fetching, once; the job ends as if killed by it. */
static void test_signal_stops_get(void **state)
{
	static const enum job_phase phases[] = { JOB_EXITED, JOB_COLLECTING };
	static const int stoppers[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGKILL };
	struct job_life l;
	(void)state;
	for (size_t i = 0; i < 2; i++) {
		life_in(&l, phases[i]);
		assert_int_equal(job_life_signal(&l, SIGUSR1), 0);
		assert_int_equal(job_life_signal(&l, SIGWINCH), 0);
		assert_int_equal(l.stop_sig, 0);
		assert_int_equal(job_life_signal(&l, SIGINT), JOB_STOP_GET);
		assert_int_equal(job_life_signal(&l, SIGTERM), 0); /* the first one counts */
		assert_int_equal(l.stop_sig, SIGINT);
		if (l.phase == JOB_EXITED)
			job_life_group_gone(&l);
		job_life_collected(&l, JOB_GET_FAILED);
		assert_int_equal(job_life_exit_code(&l), 128 + SIGINT);
		assert_reports(&l, KILLED_BY(SIGINT), JOB_GET_FAILED);
	}
	for (size_t i = 0; i < sizeof stoppers / sizeof stoppers[0]; i++) {
		life_in(&l, JOB_COLLECTING);
		assert_int_equal(job_life_signal(&l, stoppers[i]), JOB_STOP_GET);
	}
}

static void test_cancel_in_each_state(void **state)
{
	struct job_life l;
	(void)state;
	/* before it started (its files were coming in): cancelled, and said */
	job_life_init(&l, 0);
	assert_int_equal(job_life_cancel(&l), 0);
	assert_int_equal(l.phase, JOB_CANCELLED);
	job_life_started(&l, 1000); /* too late */
	assert_int_equal(l.phase, JOB_CANCELLED);
	assert_int_equal(job_life_cancel(&l), 0);
	assert_int_equal(job_life_exit_code(&l), EXIT_FAILURE_FLAME);
	assert_reports(&l, 0, JOB_SETUP_FAILED);

	/* running: its group is killed; it then ends as any job does */
	life_in(&l, JOB_RUNNING);
	assert_int_equal(job_life_cancel(&l), SIGKILL);
	assert_int_equal(job_life_cancel(&l), SIGKILL); /* each time asked */
	assert_int_equal(l.phase, JOB_RUNNING);
	job_life_exited(&l, KILLED_BY(SIGKILL));
	job_life_group_gone(&l);
	job_life_collected(&l, 0);
	assert_int_equal(job_life_exit_code(&l), 128 + SIGKILL);
	assert_reports(&l, KILLED_BY(SIGKILL), 0);

	/* exited or collecting: the fetching stops, as if killed */
	life_in(&l, JOB_EXITED);
	assert_int_equal(job_life_cancel(&l), JOB_STOP_GET);
	assert_int_equal(job_life_cancel(&l), 0);
	assert_int_equal(l.stop_sig, SIGKILL);
	life_in(&l, JOB_COLLECTING);
	assert_int_equal(job_life_cancel(&l), JOB_STOP_GET);
	job_life_collected(&l, 0);
	assert_int_equal(job_life_exit_code(&l), 128 + SIGKILL);
	assert_reports(&l, KILLED_BY(SIGKILL), 0);

	/* finished, not yet reported: too late to change anything */
	life_in(&l, JOB_FINISHED);
	assert_int_equal(job_life_cancel(&l), 0);
	assert_int_equal(l.phase, JOB_FINISHED);
	assert_reports(&l, EXITED_WITH(127), 0);

	/* reported: nothing */
	life_in(&l, JOB_REPORTED);
	assert_int_equal(job_life_cancel(&l), 0);
	assert_no_report(&l);
}

static void test_collected_flags(void **state)
{
	struct job_life l;
	(void)state;
	/* a failed --get fails a job that succeeded, not one that failed */
	life_in(&l, JOB_COLLECTING);
	l.status = EXITED_WITH(0);
	job_life_collected(&l, JOB_GET_FAILED);
	assert_int_equal(job_life_exit_code(&l), EXIT_FAILURE_FLAME);
	assert_reports(&l, EXITED_WITH(0), JOB_GET_FAILED);
	life_in(&l, JOB_COLLECTING);
	job_life_collected(&l, JOB_GET_FAILED);
	assert_int_equal(job_life_exit_code(&l), 3);
	/* only the collector's flag is taken from the collector */
	life_in(&l, JOB_COLLECTING);
	job_life_collected(&l, JOB_GET_FAILED | JOB_TIMED_OUT | JOB_RUNNER_LOST | 0x80);
	assert_reports(&l, EXITED_WITH(3), JOB_GET_FAILED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_whole_life),
		cmocka_unit_test(test_start_failures),
		cmocka_unit_test(test_events_out_of_order_ignored),
		cmocka_unit_test(test_timeout_two_steps),
		cmocka_unit_test(test_timeout_late_poll),
		cmocka_unit_test(test_timeout_only_while_running),
		cmocka_unit_test(test_signals_while_running),
		cmocka_unit_test(test_signal_stops_get),
		cmocka_unit_test(test_cancel_in_each_state),
		cmocka_unit_test(test_collected_flags),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
