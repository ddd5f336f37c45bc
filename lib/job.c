/* job.c — see job.h. */
#include "job.h"
#include "files.h"
#include "paths.h"
#include "util.h"
#include "wire.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

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

static void env_set(char ***env, size_t *n, const char *assignment)
{
	size_t key = strcspn(assignment, "=");
	for (size_t i = 0; i < *n; i++)
		if (!strncmp((*env)[i], assignment, key) && (*env)[i][key] == '=') {
			free((*env)[i]);
			(*env)[i] = xstrdup(assignment);
			return;
		}
	*env = xrealloc(*env, (*n + 2) * sizeof **env);
	(*env)[(*n)++] = xstrdup(assignment);
	(*env)[*n] = NULL;
}

char **job_environment(char *const *assigned, const char *pool, const char *runner, uint32_t id)
{
	static const char *base[] = { "PATH", "HOME", "LANG", "LC_ALL", "TZ", "USER", "LOGNAME", "SHELL" };
	char **env = xcalloc(1, sizeof *env);
	size_t n = 0;
	char *s;

	for (size_t i = 0; i < sizeof base / sizeof base[0]; i++) {
		const char *v = getenv(base[i]);
		if (!v)
			continue;
		s = xasprintf("%s=%s", base[i], v);
		env_set(&env, &n, s);
		free(s);
	}
	s = xasprintf("FLAME_POOL=%s", pool);
	env_set(&env, &n, s);
	free(s);
	s = xasprintf("FLAME_RUNNER=%s", runner);
	env_set(&env, &n, s);
	free(s);
	s = xasprintf("FLAME_JOB=%u", id);
	env_set(&env, &n, s);
	free(s);
	for (size_t i = 0; assigned && assigned[i]; i++)
		if (strchr(assigned[i], '=') && assigned[i][0] != '=')
			env_set(&env, &n, assigned[i]);
	return env;
}

static void report_frame(int fd, enum wire_type t, int64_t a, int64_t b)
{
	struct wbuf w;
	wbuf_init(&w, t);
	wbuf_i64(&w, a);
	wbuf_i64(&w, b);
	(void)wire_send(fd, &w);
	wbuf_free(&w);
}

static void __attribute__((noreturn)) finish(const struct job_spec *s, int fd, int status, uint32_t flags)
{
	report_frame(fd, W_JOB_DONE, status, flags);
	(void)s;
	_exit(0);
}

static void __attribute__((noreturn)) exec_command(const struct job_spec *s)
{
	sigset_t none;
	const char *why;
	int code;

	setpgid(0, 0);
	for (int i = 0; i < 3; i++)
		if (s->stdio[i] != i && dup2(s->stdio[i], i) < 0)
			_exit(EXIT_FAILURE_FLAME);
	/* The runner reset every disposition when it started; these are the
	 * ones it (and this wrapper) changed since.  Handlers reset on exec by
	 * themselves; ignored signals would not. */
	signal(SIGPIPE, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGQUIT, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	environ = s->env;
	execvp(s->argv[0], s->argv);
	code = errno == ENOENT ? EXIT_NOTFOUND : EXIT_NOEXEC;
	why = errno == ENOENT ? "command not found" : strerror(errno);
	msg("%s: %s", s->argv[0], why);
	_exit(code);
}

static int copy_puts(const struct job_spec *s, int dir_fd)
{
	for (int i = 0; i < s->nput; i++) {
		struct stat st;
		if (fstat(s->put_fds[i], &st) < 0 ||
		    files_copy_in(s->put_fds[i], dir_fd, s->put_names[i], st.st_mode) < 0) {
			msg("--put %s: cannot copy into the job's directory: %s", s->put_names[i],
			    strerror(errno));
			return -1;
		}
	}
	return 0;
}

static int64_t remaining(int64_t deadline)
{
	int64_t r = deadline - now_ms();
	return r < 0 ? 0 : r;
}

/* Waits for pid to exit without reaping it, enforcing the timeout. */
static uint32_t wait_exit(pid_t pid, int64_t timeout_ms)
{
	int64_t deadline = timeout_ms ? now_ms() + timeout_ms : INT64_MAX;
	uint32_t flags = 0;
	sigset_t chld;

	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	for (;;) {
		siginfo_t si = { 0 };
		if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT | WNOHANG) == 0 && si.si_pid == pid)
			return flags;
		if (deadline != INT64_MAX && remaining(deadline) == 0) {
			kill(-pid, (flags & JOB_TIMED_OUT) ? SIGKILL : SIGTERM);
			if (!(flags & JOB_TIMED_OUT)) {
				flags |= JOB_TIMED_OUT;
				deadline = now_ms() + JOB_KILL_GRACE_MS;
			} else {
				deadline = INT64_MAX;
			}
			continue;
		}
		{
			int64_t r = deadline == INT64_MAX ? 1000 : remaining(deadline);
			struct timespec ts = { .tv_sec = r / 1000, .tv_nsec = (r % 1000) * 1000000 };
			sigtimedwait(&chld, NULL, &ts);
		}
	}
}

void job_reset_signals(void)
{
	for (int sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);
}

void job_run(const struct job_spec *s, int report_fd)
{
	sigset_t chld;
	pid_t pid;
	int status = 0, dir_fd;
	uint32_t flags;

	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, NULL);
	/* flame's own messages about this job go to the caller's stderr. */
	if (s->stdio[2] != 2)
		dup2(s->stdio[2], 2);
	if (mkdir(s->scratch, 0700) < 0 ||
	    (dir_fd = open(s->scratch, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		msg("cannot create the job's directory %s: %s", s->scratch, strerror(errno));
		finish(s, report_fd, 0, JOB_SETUP_FAILED);
	}
	if (copy_puts(s, dir_fd) < 0 || chdir(s->scratch) < 0) {
		paths_remove_tree(s->scratch);
		finish(s, report_fd, 0, JOB_SETUP_FAILED);
	}
	pid = fork();
	if (pid < 0) {
		msg("cannot start the command: %s", strerror(errno));
		paths_remove_tree(s->scratch);
		finish(s, report_fd, 0, JOB_SETUP_FAILED);
	}
	if (pid == 0)
		exec_command(s);
	setpgid(pid, pid);
	report_frame(report_fd, W_JOB_PGID, pid, 0);
	flags = wait_exit(pid, s->timeout_ms);
	/* Whatever the command left running in its group goes with it. */
	kill(-pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (s->get_patterns && s->get_patterns[0] && s->getdir_fd >= 0 &&
	    files_get(s->get_patterns, s->scratch, s->getdir_fd, s->stdio[2]) > 0)
		flags |= JOB_GET_FAILED;
	close(dir_fd);
	if (chdir("/") == 0 && paths_remove_tree(s->scratch) < 0)
		msg("could not remove the job's directory %s", s->scratch);
	finish(s, report_fd, status, flags);
}
