/* fuzz_job.c — a W_JOB payload read as the runners read it (job_spec_read:
 * the job id, then the job frame).  What is accepted, written again with the
 * one encoder (job_frame_write), gives back the bytes it came from; and the
 * warmer's check without copying (job_frame_check) accepts exactly what the
 * reader accepts, with the same length. */
#include "fuzz.h"
#include "job.h"
#include "job_frame.h"
#include "util.h"
#include "wire.h"

static void same_bytes(const struct job_spec *s, const uint8_t *data, size_t n)
{
	struct job_desc d = { s->argv, s->env, s->put_names, s->get_patterns, s->get_word, s->timeout_ms };
	struct wbuf w;

	wbuf_init(&w, W_JOB);
	wbuf_u32(&w, s->id);
	job_frame_write(&w, &d);
	FUZZ_CHECK(w.len - 6 == n && !memcmp(w.p + 6, data, n));
	wbuf_free(&w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rbuf r = { data, size, 0, 0 }, c = { data, size, 0, 0 };
	struct job_spec s;
	struct job_layout lay;
	size_t len = 0;
	int rc = job_spec_read(&r, &s), checked;

	rbuf_u32(&c); /* the job id */
	checked = c.bad ? -1 : job_frame_check(&c, &lay, &len);
	FUZZ_CHECK(s.getdir_fd == -1);
	FUZZ_CHECK((rc == 0) == (checked == 0));
	if (rc == 0) {
		FUZZ_CHECK(s.argv[0] && s.argv[0][0]);
		FUZZ_CHECK(s.nput >= 0 && s.nput <= WIRE_MAX_FDS && (size_t)s.nput == strv_len(s.put_names));
		FUZZ_CHECK(len == r.off - 4 && lay.nfds == s.nfds);
		same_bytes(&s, data, r.off);
	}
	job_spec_free(&s);
	return 0;
}
