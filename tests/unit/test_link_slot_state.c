/* test_link_slot_state.c — a job slot's states and legal events in
 * flame-link (lib/link/slot_state.h): every legal transition, and every
 * refusal of what a hostile runner may send. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

/* The pure module of the link (lib/link.a, linked into the unit tests). */
#include "link/slot_state.h"

static char *patterns[] = { "out/*.txt", "log", NULL };

/* A slot opened and busy with job 7. */
static struct slot_state busy(void)
{
	struct slot_state st;
	slot_state_init(&st);
	assert_int_equal(slot_state_opened(&st), SLOT_OK);
	assert_int_equal(slot_state_take(&st, 7), SLOT_OK);
	return st;
}

/* ...and receiving out/a.txt, 10 bytes. */
static struct slot_state arriving(void)
{
	struct slot_state st = busy();
	assert_int_equal(slot_state_get_begin(&st, patterns, 1, "out/*.txt", "out/a.txt", 0644, 10), SLOT_OK);
	assert_int_equal(st.get, SLOT_GET_ARRIVING);
	return st;
}

static void test_opening_then_idle(void **state)
{
	struct slot_state st;
	(void)state;
	slot_state_init(&st);
	assert_int_equal(st.phase, SLOT_OPENING);
	assert_false(slot_state_free(&st));
	assert_false(slot_state_busy(&st));
	assert_int_equal(slot_state_take(&st, 1), SLOT_WRONG_STATE);
	assert_int_equal(slot_state_opened(&st), SLOT_OK);
	assert_int_equal(st.phase, SLOT_IDLE);
	assert_true(slot_state_free(&st));
	assert_int_equal(slot_state_opened(&st), SLOT_WRONG_STATE);
}

static void test_idle_refuses_job_events(void **state)
{
	struct slot_state st;
	(void)state;
	slot_state_init(&st);
	slot_state_opened(&st);
	assert_int_equal(slot_state_frame(&st, 0), SLOT_WRONG_STATE);
	assert_int_equal(slot_state_signal(&st, 0), SLOT_WRONG_STATE);
	assert_int_equal(slot_state_job_done(&st, 0), SLOT_WRONG_STATE);
	assert_int_equal(slot_state_finished(&st), SLOT_WRONG_STATE);
	assert_int_equal(slot_state_puts_sent(&st), SLOT_WRONG_STATE);
	assert_int_equal(slot_state_stdin_eof(&st), SLOT_WRONG_STATE);
	assert_int_equal(slot_state_get_begin(&st, patterns, 1, "log", "log", 0644, 1), SLOT_WRONG_STATE);
	assert_int_equal(slot_state_get_bytes(&st, 1), SLOT_NOT_ANNOUNCED);
	assert_int_equal(slot_state_get_end(&st), SLOT_NOT_ANNOUNCED);
	assert_int_equal(st.phase, SLOT_IDLE);
}

static void test_take_job(void **state)
{
	struct slot_state st = busy();
	(void)state;
	assert_int_equal(st.phase, SLOT_BUSY);
	assert_int_equal(st.input, SLOT_INPUT_PUTS);
	assert_int_equal(st.get, SLOT_GET_NONE);
	assert_int_equal(st.job, 7);
	assert_true(slot_state_busy(&st));
	assert_false(slot_state_free(&st));
	assert_int_equal(slot_state_take(&st, 8), SLOT_WRONG_STATE);
	assert_int_equal(st.job, 7);
}

static void test_input_puts_then_stdin_then_eof(void **state)
{
	struct slot_state st = busy();
	(void)state;
	assert_int_equal(slot_state_stdin_eof(&st), SLOT_WRONG_STATE); /* puts first */
	assert_int_equal(slot_state_puts_sent(&st), SLOT_OK);
	assert_int_equal(st.input, SLOT_INPUT_STDIN);
	assert_int_equal(slot_state_puts_sent(&st), SLOT_WRONG_STATE);
	assert_int_equal(slot_state_stdin_eof(&st), SLOT_OK);
	assert_int_equal(st.input, SLOT_INPUT_DONE);
	assert_int_equal(slot_state_stdin_eof(&st), SLOT_WRONG_STATE); /* one EOF */
	assert_int_equal(st.phase, SLOT_BUSY);
}

/* The job may end while the in thread still sends: it finishes its step. */
static void test_input_while_finishing(void **state)
{
	struct slot_state st = busy();
	(void)state;
	assert_int_equal(slot_state_job_done(&st, 7), SLOT_OK);
	assert_int_equal(slot_state_puts_sent(&st), SLOT_OK);
	assert_int_equal(slot_state_stdin_eof(&st), SLOT_OK);
	assert_int_equal(slot_state_finished(&st), SLOT_OK);
	assert_int_equal(st.input, SLOT_INPUT_NONE);
}

static void test_frames_only_for_the_slots_job(void **state)
{
	struct slot_state st = busy();
	(void)state;
	assert_int_equal(slot_state_frame(&st, 7), SLOT_OK);
	assert_int_equal(slot_state_frame(&st, 8), SLOT_NOT_THE_JOB);
	assert_int_equal(slot_state_frame(&st, 0), SLOT_NOT_THE_JOB);
	assert_int_equal(slot_state_signal(&st, 7), SLOT_OK);
	assert_int_equal(slot_state_signal(&st, 6), SLOT_NOT_THE_JOB);
	assert_int_equal(slot_state_job_done(&st, 9), SLOT_NOT_THE_JOB);
	assert_int_equal(st.phase, SLOT_BUSY);
}

static void test_job_done_then_finished(void **state)
{
	struct slot_state st = arriving();
	(void)state;
	assert_int_equal(slot_state_job_done(&st, 7), SLOT_OK);
	assert_int_equal(st.phase, SLOT_FINISHING);
	assert_true(slot_state_busy(&st));
	assert_false(slot_state_free(&st));
	/* nothing more of the job is taken, and it is done once */
	assert_int_equal(slot_state_frame(&st, 7), SLOT_WRONG_STATE);
	assert_int_equal(slot_state_signal(&st, 7), SLOT_WRONG_STATE);
	assert_int_equal(slot_state_job_done(&st, 7), SLOT_WRONG_STATE);
	assert_int_equal(slot_state_take(&st, 8), SLOT_WRONG_STATE);
	assert_int_equal(slot_state_get_begin(&st, patterns, 1, "log", "log", 0644, 1), SLOT_WRONG_STATE);
	assert_int_equal(slot_state_finished(&st), SLOT_OK);
	assert_int_equal(st.phase, SLOT_IDLE);
	assert_int_equal(st.get, SLOT_GET_NONE);
	assert_int_equal(slot_state_finished(&st), SLOT_WRONG_STATE);
	/* the next job starts clean */
	assert_int_equal(slot_state_take(&st, 8), SLOT_OK);
	assert_int_equal(slot_state_frame(&st, 7), SLOT_NOT_THE_JOB);
	assert_int_equal(slot_state_get_bytes(&st, 1), SLOT_NOT_ANNOUNCED);
}

static void test_get_whole_file(void **state)
{
	struct slot_state st = arriving();
	(void)state;
	assert_int_equal(slot_state_get_bytes(&st, 4), SLOT_OK);
	assert_int_equal(slot_state_get_bytes(&st, 0), SLOT_OK);
	assert_int_equal(slot_state_get_bytes(&st, 6), SLOT_OK); /* a hole, say */
	assert_int_equal(st.get_done, 10);
	assert_int_equal(slot_state_get_end(&st), SLOT_OK);
	assert_int_equal(st.get, SLOT_GET_NONE);
	assert_int_equal(slot_state_get_end(&st), SLOT_NOT_ANNOUNCED);
	/* the next file */
	assert_int_equal(slot_state_get_begin(&st, patterns, 1, "log", "log", 0600, 0), SLOT_OK);
	assert_int_equal(st.get_done, 0);
	assert_int_equal(slot_state_get_end(&st), SLOT_OK);
}

static void test_get_data_never_announced(void **state)
{
	struct slot_state st = busy();
	(void)state;
	assert_int_equal(slot_state_get_bytes(&st, 1), SLOT_NOT_ANNOUNCED);
	assert_int_equal(slot_state_get_bytes(&st, 0), SLOT_NOT_ANNOUNCED);
	assert_int_equal(slot_state_get_end(&st), SLOT_NOT_ANNOUNCED);
	assert_int_equal(st.get, SLOT_GET_NONE);
}

static void test_get_more_than_announced(void **state)
{
	struct slot_state st = arriving();
	(void)state;
	assert_int_equal(slot_state_get_bytes(&st, 8), SLOT_OK);
	assert_int_equal(slot_state_get_bytes(&st, 3), SLOT_TOO_LONG);
	assert_int_equal(st.get, SLOT_GET_DROPPED);
	assert_int_equal(st.get_done, 8);
	/* the rest of the dropped file is ignored, its end too */
	assert_int_equal(slot_state_get_bytes(&st, 1), SLOT_IGNORE);
	assert_int_equal(slot_state_get_end(&st), SLOT_IGNORE);
	assert_int_equal(st.get, SLOT_GET_NONE);
	/* a size that wraps is refused as well */
	st = arriving();
	assert_int_equal(slot_state_get_bytes(&st, UINT64_MAX), SLOT_TOO_LONG);
}

static void test_get_not_asked_for(void **state)
{
	struct slot_state st = busy();
	(void)state;
	/* no --get-dir */
	assert_int_equal(slot_state_get_begin(&st, patterns, 0, "log", "log", 0644, 1), SLOT_NOT_ASKED);
	assert_int_equal(st.get, SLOT_GET_DROPPED);
	assert_int_equal(slot_state_get_bytes(&st, 1), SLOT_IGNORE);
	/* no patterns */
	assert_int_equal(slot_state_get_begin(&st, NULL, 1, "log", "log", 0644, 1), SLOT_NOT_ASKED);
	/* a pattern the caller never gave */
	assert_int_equal(slot_state_get_begin(&st, patterns, 1, "*", "log", 0644, 1), SLOT_NOT_ASKED);
	/* a path its pattern does not match, or that climbs out */
	assert_int_equal(slot_state_get_begin(&st, patterns, 1, "out/*.txt", "out/a.sh", 0644, 1),
	                 SLOT_NOT_ASKED);
	assert_int_equal(slot_state_get_begin(&st, patterns, 1, "out/*.txt", "../a.txt", 0644, 1),
	                 SLOT_NOT_ASKED);
	assert_int_equal(slot_state_get_begin(&st, patterns, 1, "log", "/etc/passwd", 0644, 1),
	                 SLOT_NOT_ASKED);
	assert_int_equal(st.get, SLOT_GET_DROPPED);
	assert_int_equal(slot_state_get_end(&st), SLOT_IGNORE);
}

static void test_get_bad_mode_and_size(void **state)
{
	struct slot_state st = busy();
	(void)state;
	assert_int_equal(slot_state_get_begin(&st, patterns, 1, "log", "log", 04755, 1), SLOT_BAD_MODE);
	assert_int_equal(st.get, SLOT_GET_DROPPED);
	assert_int_equal(slot_state_get_begin(&st, patterns, 1, "log", "log", 0777, 1), SLOT_OK);
	assert_int_equal(slot_state_get_begin(&st, patterns, 1, "log", "log", 0644, -1), SLOT_BAD_FRAME);
	assert_int_equal(st.get, SLOT_GET_DROPPED);
	assert_int_equal(st.get_size, 0);
}

/* A second W_GET before the first's end: the first is given up. */
static void test_get_begin_replaces(void **state)
{
	struct slot_state st = arriving();
	(void)state;
	assert_int_equal(slot_state_get_bytes(&st, 5), SLOT_OK);
	assert_int_equal(slot_state_get_begin(&st, patterns, 1, "log", "log", 0644, 3), SLOT_OK);
	assert_int_equal(st.get_done, 0);
	assert_int_equal(st.get_size, 3);
	assert_int_equal(slot_state_get_bytes(&st, 4), SLOT_TOO_LONG);
}

/* This side cannot write the file: it is dropped, once. */
static void test_get_drop(void **state)
{
	struct slot_state st = arriving();
	(void)state;
	assert_int_equal(slot_state_get_drop(&st), SLOT_OK);
	assert_int_equal(st.get, SLOT_GET_DROPPED);
	assert_int_equal(slot_state_get_drop(&st), SLOT_WRONG_STATE);
	assert_int_equal(slot_state_get_bytes(&st, 1), SLOT_IGNORE);
	assert_int_equal(slot_state_get_end(&st), SLOT_IGNORE);
	assert_int_equal(slot_state_get_drop(&st), SLOT_WRONG_STATE); /* none arriving */
}

static void test_lost_from_any_state(void **state)
{
	struct slot_state st;
	(void)state;
	slot_state_init(&st);
	assert_int_equal(slot_state_lost(&st), SLOT_OK);
	assert_int_equal(st.phase, SLOT_LOST);
	assert_int_equal(slot_state_lost(&st), SLOT_WRONG_STATE);
	assert_int_equal(slot_state_opened(&st), SLOT_WRONG_STATE);
	st = arriving();
	assert_int_equal(slot_state_lost(&st), SLOT_OK);
	assert_false(slot_state_busy(&st));
	assert_false(slot_state_free(&st));
	assert_int_equal(slot_state_take(&st, 1), SLOT_WRONG_STATE);
	assert_int_equal(slot_state_frame(&st, 7), SLOT_WRONG_STATE);
	assert_int_equal(slot_state_signal(&st, 7), SLOT_WRONG_STATE);
	assert_int_equal(slot_state_job_done(&st, 7), SLOT_WRONG_STATE);
	assert_int_equal(slot_state_finished(&st), SLOT_WRONG_STATE);
	assert_int_equal(slot_state_puts_sent(&st), SLOT_WRONG_STATE);
	assert_int_equal(slot_state_get_begin(&st, patterns, 1, "log", "log", 0644, 1), SLOT_WRONG_STATE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_opening_then_idle),
		cmocka_unit_test(test_idle_refuses_job_events),
		cmocka_unit_test(test_take_job),
		cmocka_unit_test(test_input_puts_then_stdin_then_eof),
		cmocka_unit_test(test_input_while_finishing),
		cmocka_unit_test(test_frames_only_for_the_slots_job),
		cmocka_unit_test(test_job_done_then_finished),
		cmocka_unit_test(test_get_whole_file),
		cmocka_unit_test(test_get_data_never_announced),
		cmocka_unit_test(test_get_more_than_announced),
		cmocka_unit_test(test_get_not_asked_for),
		cmocka_unit_test(test_get_bad_mode_and_size),
		cmocka_unit_test(test_get_begin_replaces),
		cmocka_unit_test(test_get_drop),
		cmocka_unit_test(test_lost_from_any_state),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
