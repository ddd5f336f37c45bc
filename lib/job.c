/* job.c — see job.h. */
#include "job.h"
#include "util.h"
#include "wire.h"

#include <string.h>
#include <sys/wait.h>

int job_exit_code(int wait_status, uint32_t flags)
{
	int code;
	if (flags & JOB_TIMED_OUT)
		return EXIT_TIMEOUT;
	if (flags & (JOB_SETUP_FAILED | JOB_RUNNER_LOST))
		return EXIT_FAILURE_FLAME;
	if (WIFSIGNALED(wait_status))
		code = 128 + WTERMSIG(wait_status);
	else if (WIFEXITED(wait_status))
		code = WEXITSTATUS(wait_status);
	else
		code = EXIT_FAILURE_FLAME;
	if (code == 0 && (flags & JOB_GET_FAILED))
		return EXIT_FAILURE_FLAME;
	return code;
}

int job_spec_read(struct rbuf *r, struct job_spec *s)
{
	memset(s, 0, sizeof *s);
	s->id = rbuf_u32(r);
	s->timeout_ms = rbuf_i64(r);
	s->argv = rbuf_strv(r, 1 << 20);
	s->env = rbuf_strv(r, 1 << 16);
	s->put_names = rbuf_strv(r, WIRE_MAX_FDS);
	s->get_patterns = rbuf_strv(r, 4096);
	s->nput = (int)strv_len(s->put_names);
	s->getdir_fd = -1;
	return r->bad || !s->argv[0] || !s->argv[0][0] ? -1 : 0;
}

void job_spec_free(struct job_spec *s)
{
	strv_free(s->argv);
	strv_free(s->env);
	strv_free(s->put_names);
	strv_free(s->get_patterns);
	s->argv = s->env = s->put_names = s->get_patterns = NULL;
}
