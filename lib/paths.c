/* paths.c — see paths.h. */
#define _XOPEN_SOURCE 700
#include "paths.h"
#include "util.h"

#include <errno.h>
#include <ftw.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int mkdir_parents(char *path)
{
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(path, 0755) < 0 && errno != EEXIST) {
			*p = '/';
			return -1;
		}
		*p = '/';
	}
	return 0;
}

int paths_private_dir(const char *path, char *err, size_t errlen)
{
	char *copy = xstrdup(path);
	struct stat st;
	int rc = -1;

	if (mkdir_parents(copy) < 0 || (mkdir(path, 0700) < 0 && errno != EEXIST)) {
		snprintf(err, errlen, "cannot create directory %s: %s", path, strerror(errno));
		goto out;
	}
	if (lstat(path, &st) < 0 || !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s is not a directory; remove it and retry", path);
		goto out;
	}
	if (st.st_uid != geteuid()) {
		snprintf(err, errlen, "%s belongs to another user; remove it or set TMPDIR/XDG dirs", path);
		goto out;
	}
	if ((st.st_mode & 077) && chmod(path, 0700) < 0) {
		snprintf(err, errlen, "cannot make %s private: %s", path, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	free(copy);
	return rc;
}

static char *xdg_dir(const char *var, const char *home_suffix)
{
	const char *v = getenv(var);
	const char *home = getenv("HOME");
	if (v && v[0] == '/')
		return xasprintf("%s/flame", v);
	if (!home || !*home)
		home = "/";
	return xasprintf("%s/%s/flame", home, home_suffix);
}

static char *made_private(char *path, char *err, size_t errlen)
{
	if (paths_private_dir(path, err, errlen) < 0) {
		free(path);
		return NULL;
	}
	return path;
}

/* A directory at a fixed name in a shared one (/tmp) is ours to use when it
 * is absent or already ours; anyone could have made it first. */
static int shared_name_free(const char *path)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return errno == ENOENT;
	return S_ISDIR(st.st_mode) && st.st_uid == geteuid();
}

static char *runtime_path(void)
{
	const char *v = getenv("XDG_RUNTIME_DIR");
	char *p, *state;
	if (v && v[0] == '/')
		return xasprintf("%s/flame", v);
	p = xasprintf("/tmp/flame-%u", (unsigned)geteuid());
	if (shared_name_free(p))
		return p;
	/* taken by someone else: the state dir is ours and every flame process
	 * finds it again, as the socket's rendezvous must */
	free(p);
	state = xdg_dir("XDG_STATE_HOME", ".local/state");
	p = xasprintf("%s/run", state);
	free(state);
	return p;
}

char *paths_runtime_dir(char *err, size_t errlen)
{
	return made_private(runtime_path(), err, errlen);
}

char *paths_runtime_socket(void)
{
	char *dir = runtime_path(), *p = xasprintf("%s/warmer.sock", dir);
	free(dir);
	return p;
}

char *paths_state_dir(char *err, size_t errlen)
{
	return made_private(xdg_dir("XDG_STATE_HOME", ".local/state"), err, errlen);
}

/* One of ours from an earlier fallback (base/flame-UID.*, a private
 * directory of ours), else a fresh one: never a name another user made. */
static char *private_fallback(const char *base, char *err, size_t errlen)
{
	char *pat = xasprintf("%s/flame-%u.*", base, (unsigned)geteuid()), *p = NULL;
	glob_t g;
	struct stat st;

	if (glob(pat, GLOB_NOSORT, NULL, &g) == 0) {
		for (size_t i = 0; i < g.gl_pathc && !p; i++)
			if (lstat(g.gl_pathv[i], &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == geteuid() &&
			    !(st.st_mode & 077))
				p = xstrdup(g.gl_pathv[i]);
		globfree(&g);
	}
	free(pat);
	if (p)
		return p;
	p = xasprintf("%s/flame-%u.XXXXXX", base, (unsigned)geteuid());
	if (!mkdtemp(p)) {
		snprintf(err, errlen, "cannot create a private directory in %s: %s", base, strerror(errno));
		free(p);
		return NULL;
	}
	return p;
}

/* $TMPDIR/flame-UID when TMPDIR is set (the user chose where big files go),
 * else under the runtime dir when XDG_RUNTIME_DIR is set, else
 * /tmp/flame-UID; a shared name someone else took gives way to a private
 * directory beside it. */
char *paths_scratch_root(char *err, size_t errlen)
{
	const char *t = getenv("TMPDIR"), *run = getenv("XDG_RUNTIME_DIR");
	char *top, *p;

	if ((!t || t[0] != '/') && run && run[0] == '/') {
		top = paths_runtime_dir(err, errlen);
	} else {
		if (!t || t[0] != '/')
			t = "/tmp";
		top = xasprintf("%s/flame-%u", t, (unsigned)geteuid());
		if (!shared_name_free(top)) {
			free(top);
			top = private_fallback(t, err, errlen);
		}
		if (top && paths_private_dir(top, err, errlen) < 0) {
			free(top);
			top = NULL;
		}
	}
	if (!top)
		return NULL;
	p = xasprintf("%s/jobs", top);
	free(top);
	return made_private(p, err, errlen);
}

char *paths_user_config(void)
{
	const char *v = getenv("XDG_CONFIG_HOME");
	const char *home = getenv("HOME");
	if (v && v[0] == '/')
		return xasprintf("%s/flame/config.json", v);
	return xasprintf("%s/.config/flame/config.json", home && *home ? home : "");
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (type == FTW_DP)
		return rmdir(path) < 0 && errno != ENOENT ? -1 : 0;
	return unlink(path) < 0 && errno != ENOENT ? -1 : 0;
}

int paths_remove_tree(const char *path)
{
	/* FTW_PHYS: a symlink the job left is removed, never followed. */
	return nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}
