/* fuzz_job.c — a W_JOB payload read as the runners read it (job_spec_read,
 * then the --get-dir word).  What is accepted, written again the way the
 * warmer writes it (backends/runner_proc.c), gives back the bytes it came from. */
#include "fuzz.h"
#include "job.h"
#include "util.h"
#include "wire.h"

static void same_bytes(const struct job_spec *s, uint32_t has_getdir, const uint8_t *data, size_t n)
{
	struct wbuf w;

	wbuf_init(&w, W_JOB);
	wbuf_u32(&w, s->id);
	wbuf_i64(&w, s->timeout_ms);
	wbuf_strv(&w, s->argv);
	wbuf_strv(&w, s->env);
	wbuf_strv(&w, s->put_names);
	wbuf_strv(&w, s->get_patterns);
	wbuf_u32(&w, has_getdir);
	FUZZ_CHECK(w.len - 6 == n && !memcmp(w.p + 6, data, n));
	wbuf_free(&w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rbuf r = { data, size, 0, 0 };
	struct job_spec s;
	int rc = job_spec_read(&r, &s);
	uint32_t has_getdir = rbuf_u32(&r);

	FUZZ_CHECK(s.argv && s.env && s.put_names && s.get_patterns && s.getdir_fd == -1);
	if (rc == 0 && !r.bad) {
		FUZZ_CHECK(s.argv[0] && s.argv[0][0]);
		FUZZ_CHECK(s.nput >= 0 && s.nput <= WIRE_MAX_FDS && (size_t)s.nput == strv_len(s.put_names));
		same_bytes(&s, has_getdir, data, r.off);
	}
	job_spec_free(&s);
	return 0;
}
