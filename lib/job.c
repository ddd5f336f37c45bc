/* job.c — see job.h. */
#include "job.h"
#include "job_frame.h"
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
	struct job_frame f;
	int rc;

	memset(s, 0, sizeof *s);
	s->getdir_fd = -1;
	s->id = rbuf_u32(r);
	rc = job_frame_read(r, &f);
	s->argv = f.argv;
	s->env = f.env;
	s->put_names = f.put_names;
	s->get_patterns = f.get_patterns;
	s->nput = (int)f.lay.nput;
	s->timeout_ms = f.lay.timeout_ms;
	s->get_word = f.lay.getdir;
	s->nfds = f.lay.nfds;
	return rc < 0 || r->bad ? -1 : 0;
}

void job_spec_free(struct job_spec *s)
{
	strv_free(s->argv);
	strv_free(s->env);
	strv_free(s->put_names);
	strv_free(s->get_patterns);
	s->argv = s->env = s->put_names = s->get_patterns = NULL;
}
