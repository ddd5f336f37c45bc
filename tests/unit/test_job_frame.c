/* test_job_frame.c — the one encoding of a job (lib/job_frame.h): what
 * `flame run` writes, the warmer checks without copying and the runner
 * reads back, byte for byte; W_JOB_DONE likewise. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "job_frame.h"
#include "util.h"

static char *argv_[] = { "printf", "%s|", "", "a b", "$(id)", "\xff\xfe", NULL };
static char *env_[] = { "PATH=/bin", "X=a\nb", NULL };
static char *puts_[] = { "in.mp4", "notes.txt", NULL };
static char *gets_[] = { "*.png", NULL };
static char *none_[] = { NULL };

static struct rbuf payload(const struct wbuf *w)
{
	struct rbuf r = { .p = w->p + 6, .len = w->len - 6 };
	return r;
}

static void write_job(struct wbuf *w, char **argv, char **puts, uint32_t getdir)
{
	struct job_desc d = { argv, env_, puts, gets_, getdir, 1500 };
	wbuf_init(w, W_JOB);
	job_frame_write(w, &d);
}

static void test_round_trip_byte_for_byte(void **state)
{
	struct wbuf w;
	struct rbuf r;
	struct job_layout lay;
	struct job_frame j;
	size_t len;

	(void)state;
	write_job(&w, argv_, puts_, 0x10022);
	r = payload(&w);
	assert_int_equal(job_frame_check(&r, &lay, &len), 0);
	assert_int_equal(r.off, 0); /* checking moves nothing */
	assert_int_equal(len, r.len);
	assert_int_equal(lay.nput, 2);
	assert_int_equal(lay.getdir, 0x10022);
	assert_int_equal(lay.nfds, 3 + 1 + 2);
	assert_int_equal(job_frame_read(&r, &j), 0);
	assert_int_equal(r.off, r.len);
	assert_int_equal(j.lay.timeout_ms, 1500);
	for (int i = 0; argv_[i]; i++)
		assert_string_equal(j.argv[i], argv_[i]);
	assert_null(j.argv[6]);
	assert_string_equal(j.env[1], "X=a\nb");
	assert_string_equal(j.put_names[1], "notes.txt");
	assert_string_equal(j.get_patterns[0], "*.png");
	job_frame_free(&j);
	wbuf_free(&w);
}

static void test_layout_without_files(void **state)
{
	struct wbuf w;
	struct rbuf r;
	struct job_layout lay;
	size_t len;

	(void)state;
	write_job(&w, argv_, none_, 0);
	r = payload(&w);
	assert_int_equal(job_frame_check(&r, &lay, &len), 0);
	assert_int_equal(lay.nfds, 3);
	wbuf_free(&w);
}

static void test_check_stops_at_the_frame_end(void **state)
{
	struct wbuf w;
	struct rbuf r;
	struct job_layout lay;
	size_t len, whole;

	(void)state;
	write_job(&w, argv_, puts_, 0);
	whole = w.len - 6;
	wbuf_u32(&w, 0xdeadbeef); /* what follows the frame is not its business */
	r = payload(&w);
	assert_int_equal(job_frame_check(&r, &lay, &len), 0);
	assert_int_equal(len, whole);
	wbuf_free(&w);
}

static void test_every_truncation_is_refused(void **state)
{
	struct wbuf w;
	struct job_layout lay;
	struct job_frame j;
	size_t len;

	(void)state;
	write_job(&w, argv_, puts_, 0);
	for (size_t n = 0; n < w.len - 6; n++) {
		struct rbuf r = { .p = w.p + 6, .len = n };
		assert_int_equal(job_frame_check(&r, &lay, &len), -1);
		assert_int_equal(job_frame_read(&r, &j), -1);
		job_frame_free(&j);
	}
	wbuf_free(&w);
}

static void test_refused_frames(void **state)
{
	char *empty_cmd[] = { "", NULL };
	struct wbuf w;
	struct rbuf r;
	struct job_layout lay;
	struct job_frame j;
	size_t len;

	(void)state;
	/* no command, an empty command */
	write_job(&w, none_, none_, 0);
	r = payload(&w);
	assert_int_equal(job_frame_check(&r, &lay, &len), -1);
	assert_int_equal(job_frame_read(&r, &j), -1);
	job_frame_free(&j);
	wbuf_free(&w);
	write_job(&w, empty_cmd, none_, 0);
	r = payload(&w);
	assert_int_equal(job_frame_check(&r, &lay, &len), -1);
	wbuf_free(&w);
	/* a head that declares more --put files than the frame names */
	write_job(&w, argv_, puts_, 0);
	w.p[6] = 3;
	r = payload(&w);
	assert_int_equal(job_frame_check(&r, &lay, &len), -1);
	assert_int_equal(job_frame_read(&r, &j), -1);
	job_frame_free(&j);
	wbuf_free(&w);
	/* a negative timeout */
	write_job(&w, argv_, none_, 0);
	memset(w.p + 6 + 8, 0xff, 8);
	r = payload(&w);
	assert_int_equal(job_frame_check(&r, &lay, &len), -1);
	wbuf_free(&w);
}

static void test_nul_inside_a_string_is_refused_by_both(void **state)
{
	struct wbuf w;
	struct rbuf r;
	struct job_layout lay;
	struct job_frame j;
	size_t len;

	(void)state;
	wbuf_init(&w, W_JOB);
	wbuf_u32(&w, 0);
	wbuf_u32(&w, 0);
	wbuf_i64(&w, 0);
	wbuf_u32(&w, 1);
	wbuf_bytes(&w, "a\0b", 3);
	wbuf_u32(&w, 0);
	wbuf_u32(&w, 0);
	wbuf_u32(&w, 0);
	r = payload(&w);
	assert_int_equal(job_frame_check(&r, &lay, &len), -1);
	assert_int_equal(job_frame_read(&r, &j), -1);
	job_frame_free(&j);
	wbuf_free(&w);
}

static void test_done_round_trip(void **state)
{
	struct wbuf w;
	struct rbuf r;
	uint32_t id;
	int64_t status, flags;

	(void)state;
	job_done_write(&w, 7, 137 << 8, JOB_TIMED_OUT | JOB_GET_FAILED);
	assert_int_equal(w.p[4], W_JOB_DONE);
	r = payload(&w);
	assert_int_equal(job_done_read(&r, &id, &status, &flags), 0);
	assert_int_equal(id, 7);
	assert_int_equal(status, 137 << 8);
	assert_int_equal(flags, JOB_TIMED_OUT | JOB_GET_FAILED);
	r.len = 10;
	r.off = 0;
	assert_int_equal(job_done_read(&r, &id, &status, &flags), -1);
	wbuf_free(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_byte_for_byte),
		cmocka_unit_test(test_layout_without_files),
		cmocka_unit_test(test_check_stops_at_the_frame_end),
		cmocka_unit_test(test_every_truncation_is_refused),
		cmocka_unit_test(test_refused_frames),
		cmocka_unit_test(test_nul_inside_a_string_is_refused_by_both),
		cmocka_unit_test(test_done_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
