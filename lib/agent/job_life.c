/* job_life.c — see job_life.h. */
#include "job_life.h"
#include "flame_limits.h"
#include "job.h"
#include "wire.h"

#include <signal.h>
#include <string.h>

void job_life_init(struct job_life *l, int64_t timeout_ms)
{
	memset(l, 0, sizeof *l);
	l->phase = JOB_READ;
	l->timeout_ms = timeout_ms > 0 ? timeout_ms : 0;
}

void job_life_started(struct job_life *l, int64_t now)
{
	if (l->phase != JOB_READ)
		return;
	l->phase = JOB_RUNNING;
	l->deadline = l->timeout_ms ? limit_deadline(now, l->timeout_ms) : 0;
}

void job_life_start_failed(struct job_life *l, int status, uint32_t flags)
{
	if (l->phase != JOB_READ)
		return;
	l->phase = JOB_FINISHED;
	l->status = status;
	l->flags |= flags;
}

/* The command has exited and its files may still be on their way. */
static int after_command(const struct job_life *l)
{
	return l->phase == JOB_EXITED || l->phase == JOB_COLLECTING;
}

static int ends_a_command(int sig)
{
	return sig == SIGINT || sig == SIGTERM || sig == SIGHUP || sig == SIGQUIT || sig == SIGKILL;
}

int job_life_signal(struct job_life *l, int sig)
{
	if (l->phase == JOB_RUNNING)
		return sig > 0 && sig < 65 ? sig : 0;
	if (!after_command(l) || !ends_a_command(sig) || l->stop_sig)
		return 0;
	l->stop_sig = sig;
	return JOB_STOP_GET;
}

int job_life_cancel(struct job_life *l)
{
	if (l->phase == JOB_READ) {
		l->phase = JOB_CANCELLED;
		l->flags |= JOB_SETUP_FAILED;
		return 0;
	}
	if (l->phase == JOB_RUNNING)
		return SIGKILL;
	return job_life_signal(l, SIGKILL);
}

int job_life_timeout(struct job_life *l, int64_t now)
{
	if (l->phase != JOB_RUNNING || !l->deadline || now < l->deadline)
		return 0;
	if (!(l->flags & JOB_TIMED_OUT)) {
		l->flags |= JOB_TIMED_OUT;
		l->deadline = limit_deadline(now, JOB_KILL_GRACE_MS);
		return SIGTERM;
	}
	l->deadline = 0;
	return SIGKILL;
}

void job_life_exited(struct job_life *l, int wait_status)
{
	if (l->phase != JOB_RUNNING)
		return;
	l->phase = JOB_EXITED;
	l->status = wait_status;
	l->deadline = 0;
}

void job_life_group_gone(struct job_life *l)
{
	if (l->phase == JOB_EXITED)
		l->phase = JOB_COLLECTING;
}

void job_life_collected(struct job_life *l, uint32_t flags)
{
	if (l->phase != JOB_COLLECTING)
		return;
	l->phase = JOB_FINISHED;
	l->flags |= flags & JOB_GET_FAILED;
}

/* A stopped fetch ends the job as if the command had been killed by the
 * signal that stopped it. */
static int final_status(const struct job_life *l)
{
	return l->stop_sig ? l->stop_sig : l->status;
}

int job_life_report(struct job_life *l, int *status, uint32_t *flags)
{
	if (l->phase != JOB_FINISHED && l->phase != JOB_CANCELLED)
		return 0;
	l->phase = JOB_REPORTED;
	*status = final_status(l);
	*flags = l->flags;
	return 1;
}

int job_life_exit_code(const struct job_life *l)
{
	return job_exit_code(final_status(l), l->flags);
}
