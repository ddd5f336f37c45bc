/* job_run.c — see job_run.h. */
#include "job_run.h"
#include "job_frame.h"
#include "job_exec.h"
#include "util.h"
#include "wire.h"

#include <errno.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

void job_run_environment(struct job_spec *spec, const char *pool, const char *runner)
{
	char **env = job_environment(spec->env, pool, runner, spec->id);
	strv_free(spec->env);
	spec->env = env;
}

int job_run_pidfd(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

int job_run_watch(pid_t pid)
{
	setpgid(pid, pid);
	return job_run_pidfd(pid);
}

void job_run_end_group(struct job_life *l, pid_t pid)
{
	int status = 0;
	kill(-pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	job_life_exited(l, status);
	job_life_group_gone(l);
}

void job_run_timeout(struct job_life *l, pid_t pid, int64_t now)
{
	int sig = job_life_timeout(l, now);
	if (sig)
		kill(-pid, sig);
}

int job_run_report(int fd, uint32_t id, struct job_life *l)
{
	struct wbuf w;
	int status, rc;
	uint32_t flags;

	if (!job_life_report(l, &status, &flags))
		return 0;
	job_done_write(&w, id, status, flags);
	rc = wire_send(fd, &w);
	wbuf_free(&w);
	return rc;
}

int job_run_refuse(int fd, uint32_t id)
{
	struct job_life l;
	job_life_init(&l, 0);
	job_life_start_failed(&l, 0, JOB_SETUP_FAILED);
	return job_run_report(fd, id, &l);
}
