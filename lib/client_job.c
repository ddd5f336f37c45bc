/* client_job.c — see client_job.h. */
#include "client_job.h"
#include "client.h"
#include "files.h"
#include "files_put.h"
#include "job_frame.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	return s && s[1] ? s + 1 : path;
}

static int open_get_dir(const struct client_job *j, const char *who, struct wbuf *w)
{
	const char *dir = j->get_dir ? j->get_dir : ".";
	int fd;

	for (size_t i = 0; i < j->nget; i++) {
		const char *why = files_get_pattern_problem(j->gets[i]);
		if (why) {
			msg("%s: --get '%.200s' %s", who, j->gets[i], why);
			return EXIT_USAGE;
		}
	}
	if (!j->nget)
		return 0;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		msg("%s: --get-dir '%.200s': %s; give an existing directory", who, dir, strerror(errno));
		return EXIT_USAGE;
	}
	wbuf_fd(w, fd);
	return 0;
}

static int open_put(const char *path, const char *who)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
		return fd;
	msg("%s: cannot read --put file '%.200s': %s", who, path,
	    fd < 0 ? strerror(errno) : "not a regular file");
	if (fd >= 0)
		close(fd);
	return -1;
}

/* The --put files' names in the job's directory: their base names, each
 * one a name and no two the same. */
static int put_names(const struct client_job *j, const char *who, char **names)
{
	for (int i = 0; i < j->nput; i++) {
		names[i] = (char *)base_name(j->puts[i]);
		if (files_put_name_problem(names[i])) {
			msg("%s: --put '%.200s' has no file name to give it in the job's directory", who,
			    j->puts[i]);
			return EXIT_USAGE;
		}
		for (int k = 0; k < i; k++)
			if (!strcmp(names[k], names[i])) {
				msg("%s: two --put files are both named '%.200s' in the job's directory", who,
				    names[i]);
				return EXIT_USAGE;
			}
	}
	names[j->nput] = NULL;
	return 0;
}

/* The fetched files' modes are masked by it, as if created here. */
static unsigned caller_umask(void)
{
	mode_t m = umask(077);
	umask(m);
	return (unsigned)m;
}

int client_job_request(const struct client_job *j, const struct pool_settings *ps, const char *who,
                       struct wbuf *w)
{
	char *names[JOB_MAX_PUTS + 1];
	int rc;

	if (j->nput > (int)JOB_MAX_PUTS) {
		msg("%s: too many --put files (at most %u)", who, JOB_MAX_PUTS);
		return EXIT_USAGE;
	}
	wbuf_init(w, W_RUN);
	for (int i = 0; i < 3; i++)
		wbuf_fd(w, j->stdio[i]);
	rc = put_names(j, who, names);
	if (!rc)
		rc = open_get_dir(j, who, w);
	for (int i = 0; !rc && i < j->nput; i++) {
		int fd = open_put(j->puts[i], who);
		if (fd < 0)
			rc = EXIT_USAGE;
		else
			wbuf_fd(w, fd);
	}
	if (rc) {
		client_job_close(w);
		wbuf_free(w);
		return rc;
	}
	client_put_settings(w, ps);
	wbuf_i64(w, j->slot_ms);
	wbuf_u32(w, j->flags);
	{
		/* the job, encoded once: every hop after this hands it on */
		struct job_desc job = { .argv = j->argv,
			                .env = j->env,
			                .put_names = names,
			                .get_patterns = j->gets,
			                .getdir = j->nget ? files_get_word(caller_umask()) : 0,
			                .timeout_ms = j->timeout_ms };
		job_frame_write(w, &job);
	}
	return 0;
}

void client_job_close(struct wbuf *w)
{
	for (int i = 3; i < w->nfds; i++)
		close(w->fds[i]);
	if (w->nfds > 3)
		w->nfds = 3;
}

char **client_job_env(char *const *specs, size_t n, const char *who)
{
	char **env = xcalloc(1, sizeof *env);
	size_t len = 0;

	for (size_t i = 0; i < n; i++) {
		const char *e = specs[i], *eq = strchr(e, '=');
		size_t namelen = eq ? (size_t)(eq - e) : strlen(e);
		if (namelen == 0) {
			msg("%s: --env '%.200s' has no name; use NAME or NAME=VALUE", who, e);
			strv_free(env);
			return NULL;
		}
		if (eq)
			strv_push(&env, &len, xstrdup(e));
		else if (getenv(e))
			strv_push(&env, &len, xasprintf("%s=%s", e, getenv(e)));
	}
	return env;
}
