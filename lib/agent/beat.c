/* agent_beat.c — see agent_beat.h. */
#include "beat.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *state_dir(void)
{
	const char *s = getenv("FLAME_AGENT_STATE");
	return s && s[0] == '/' ? s : NULL;
}

static void touch(const char *dir, const char *name)
{
	char *p = xasprintf("%s/%s", dir, name);
	int fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd >= 0) {
		(void)futimens(fd, NULL);
		close(fd);
	}
	free(p);
}

void agent_beat_heard(void)
{
	static int64_t last;
	const char *dir = state_dir();
	int64_t now = now_ms();

	if (!dir || (last && now - last < 1000))
		return;
	last = now;
	touch(dir, "heartbeat");
}

void agent_beat_job(pid_t pgid)
{
	const char *dir = state_dir();
	char *p;

	if (!dir)
		return;
	p = xasprintf("%s/jobs/%ld", dir, (long)getpid());
	if (pgid > 0) {
		char *tmp = xasprintf("%s.tmp", p);
		char line[32];
		int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		int n = snprintf(line, sizeof line, "%ld\n", (long)pgid);
		if (fd >= 0) {
			if (write_all(fd, line, (size_t)n) == 0 && close(fd) == 0)
				(void)rename(tmp, p);
			else
				unlink(tmp);
		}
		free(tmp);
	} else {
		unlink(p);
		touch(dir, "last_job");
	}
	free(p);
}

int agent_beat_init(const char *state)
{
	char *jobs = xasprintf("%s/jobs", state);
	int rc = mkdir(jobs, 0700) < 0 && errno != EEXIST ? -1 : 0;
	free(jobs);
	return rc;
}

static int64_t mtime_ms(const char *dir, const char *name)
{
	struct stat st;
	char *p = xasprintf("%s/%s", dir, name);
	int rc = stat(p, &st);
	free(p);
	if (rc < 0)
		return 0;
	return (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
}

/* Calls fn(slot pid, job pgid) for each live jobs/ entry; removes stale ones. */
static int each_job(const char *state, void (*fn)(pid_t, pid_t, void *), void *arg)
{
	char *jobs = xasprintf("%s/jobs", state);
	DIR *d = opendir(jobs);
	struct dirent *e;
	int n = 0;

	while (d && (e = readdir(d))) {
		long pid, pgid = 0;
		char *p, line[32] = "";
		int fd;
		if (parse_long(e->d_name, 1, 1L << 22, &pid) < 0)
			continue;
		p = xasprintf("%s/%s", jobs, e->d_name);
		if (kill((pid_t)pid, 0) < 0 && errno == ESRCH) {
			unlink(p);
			free(p);
			continue;
		}
		fd = open(p, O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			ssize_t r = read(fd, line, sizeof line - 1);
			line[r > 0 ? r : 0] = '\0';
			line[strcspn(line, "\n")] = '\0';
			close(fd);
		}
		free(p);
		if (parse_long(line, 1, 1L << 22, &pgid) < 0)
			pgid = 0;
		n++;
		if (fn)
			fn((pid_t)pid, (pid_t)pgid, arg);
	}
	if (d)
		closedir(d);
	free(jobs);
	return n;
}

void agent_beat_scan(const char *state, struct agent_beat *b)
{
	b->busy = each_job(state, NULL, NULL);
	b->heard_ms = mtime_ms(state, "heartbeat");
	b->last_job_ms = mtime_ms(state, "last_job");
}

static void signal_job(pid_t slot, pid_t pgid, void *arg)
{
	(void)slot;
	if (pgid > 1)
		kill(-pgid, *(int *)arg);
}

int agent_beat_signal_jobs(const char *state, int sig)
{
	return each_job(state, signal_job, &sig);
}
