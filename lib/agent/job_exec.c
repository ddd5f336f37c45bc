/* job_exec.c — see job_exec.h. */
#include "job_exec.h"
#include "files.h"
#include "files_put.h"
#include "paths.h"
#include "util.h"
#include "wire.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

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

static void __attribute__((noreturn)) setup_failed(const char *what, const char *path)
{
	msg("%s %s: %s", what, path, strerror(errno));
	_exit(EXIT_FAILURE_FLAME);
}

static void copy_puts(const struct job_spec *s, int dir_fd)
{
	for (int i = 0; i < s->nput; i++) {
		struct stat st;
		if (fstat(s->put_fds[i], &st) < 0 ||
		    files_put_copy(s->put_fds[i], dir_fd, s->put_names[i], st.st_mode) < 0)
			setup_failed("--put: cannot copy into the job's directory:", s->put_names[i]);
		close(s->put_fds[i]);
	}
}

void job_exec_child(const struct job_spec *s)
{
	sigset_t none;
	const char *why;
	int code, dir_fd;

	setpgid(0, 0);
	for (int i = 0; i < 3; i++)
		if (s->stdio[i] != i && dup2(s->stdio[i], i) < 0)
			_exit(EXIT_FAILURE_FLAME);
	/* The runner reset every disposition when it started; these are the
	 * ones it changed since.  Handlers reset on exec by themselves;
	 * ignored signals would not. */
	signal(SIGPIPE, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (mkdir(s->scratch, 0700) < 0 ||
	    (dir_fd = open(s->scratch, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		setup_failed("cannot create the job's directory", s->scratch);
	copy_puts(s, dir_fd);
	if (fchdir(dir_fd) < 0)
		setup_failed("cannot enter the job's directory", s->scratch);
	close(dir_fd);
	environ = s->env;
	execvp(s->argv[0], s->argv);
	code = errno == ENOENT ? EXIT_NOTFOUND : EXIT_NOEXEC;
	why = errno == ENOENT ? "command not found" : strerror(errno);
	msg("%s: %s", s->argv[0], why);
	_exit(code);
}

unsigned job_collect(const char *scratch, char *const *get_patterns, int getdir_fd, int err_fd)
{
	return job_collect_masked(scratch, get_patterns, getdir_fd, err_fd, 022);
}

unsigned job_collect_masked(const char *scratch, char *const *get_patterns, int getdir_fd, int err_fd,
                            unsigned umask)
{
	unsigned flags = 0;
	if (getdir_fd >= 0 && files_get_masked(get_patterns, scratch, getdir_fd, err_fd, umask) > 0)
		flags |= JOB_GET_FAILED;
	if (chdir("/") < 0 || (paths_remove_tree(scratch) < 0 && errno != ENOENT)) {
		char line[512];
		int n = snprintf(line, sizeof line, "flame: could not remove the job's directory %s\n",
		                 scratch);
		(void)!write(err_fd, line, n > 0 && n < (int)sizeof line ? (size_t)n : 0);
	}
	return flags;
}

void job_reset_signals(void)
{
	for (int sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);
}

static const char *env_get(char *const *env, const char *name)
{
	size_t n = strlen(name);
	for (size_t i = 0; env && env[i]; i++)
		if (!strncmp(env[i], name, n) && env[i][n] == '=')
			return env[i] + n + 1;
	return NULL;
}

/* Is PATH (relative ones taken from DIR, the job's directory) runnable? */
static int runnable(const char *path, const char *dir, int *seen)
{
	char *full = path[0] == '/' ? xstrdup(path) : xasprintf("%s/%s", dir, path);
	struct stat st;
	int ok = 0;
	if (stat(full, &st) == 0) {
		*seen = 1; /* there but not runnable (a directory, no x bit): 126, as execvp says */
		ok = S_ISREG(st.st_mode) && access(full, X_OK) == 0;
	}
	free(full);
	return ok;
}

char *job_find_command(const char *cmd, char *const *env, const char *dir)
{
	const char *path = env_get(env, "PATH"), *p;
	int seen = 0;

	if (strchr(cmd, '/')) {
		if (runnable(cmd, dir, &seen))
			return xstrdup(cmd); /* relative ones resolve after the chdir */
		errno = seen ? EACCES : ENOENT;
		return NULL;
	}
	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	for (p = path;; p += strcspn(p, ":") + 1) {
		size_t n = strcspn(p, ":");
		char *full = n ? xasprintf("%.*s/%s", (int)n, p, cmd) : xasprintf("./%s", cmd);
		if (runnable(full, dir, &seen))
			return full;
		free(full);
		if (!p[n])
			break;
	}
	errno = seen ? EACCES : ENOENT;
	return NULL;
}

static void spawn_failed(const struct job_spec *s, int err, int *status)
{
	char line[600];
	int code = err == ENOENT ? EXIT_NOTFOUND : EXIT_NOEXEC;
	int n = snprintf(line, sizeof line, "flame: %.400s: %s\n", s->argv[0],
	                 err == ENOENT ? "command not found" : strerror(err));
	(void)!write(s->stdio[2], line, n > 0 && n < (int)sizeof line ? (size_t)n : 0);
	*status = code << 8; /* as if it had exited with code */
}

pid_t job_spawn(const struct job_spec *s, int *status)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t def, none;
	char *path;
	pid_t pid = -1;
	int rc;

	if (!s->scratch_made && mkdir(s->scratch, 0700) < 0) {
		char line[600];
		int n = snprintf(line, sizeof line, "flame: cannot create the job's directory %.400s: %s\n",
		                 s->scratch, strerror(errno));
		(void)!write(s->stdio[2], line, n > 0 && n < (int)sizeof line ? (size_t)n : 0);
		*status = EXIT_FAILURE_FLAME << 8;
		return -1;
	}
	path = job_find_command(s->argv[0], s->env, s->scratch);
	if (!path) {
		spawn_failed(s, errno, status);
		rmdir(s->scratch);
		return -1;
	}
	posix_spawn_file_actions_init(&fa);
	for (int i = 0; i < 3; i++)
		posix_spawn_file_actions_adddup2(&fa, s->stdio[i], i);
	posix_spawn_file_actions_addchdir_np(&fa, s->scratch);
	posix_spawnattr_init(&attr);
	/* the dispositions the runner changed; see job_exec_child() */
	sigemptyset(&def);
	sigaddset(&def, SIGPIPE);
	sigaddset(&def, SIGINT);
	sigaddset(&def, SIGHUP);
	sigaddset(&def, SIGTERM);
	sigaddset(&def, SIGCHLD);
	sigemptyset(&none);
	posix_spawnattr_setsigdefault(&attr, &def);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setflags(&attr,
	                         POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
	rc = posix_spawn(&pid, path, &fa, &attr, s->argv, s->env);
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	free(path);
	if (rc != 0) {
		spawn_failed(s, rc, status);
		rmdir(s->scratch);
		return -1;
	}
	return pid;
}
