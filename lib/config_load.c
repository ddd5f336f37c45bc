/* config_load.c — config_load() and config_lookup(): finding the
 * configuration files, deciding whether to trust them, reading them
 * (see config.h).  config.c parses their text. */
#include "config.h"
#include "paths.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Where a file came from decides how far it is trusted: one flame found by
 * walking up must belong to you or root (as git's safe.directory), one you
 * named (FLAME_CONFIG, the user config) may belong to anyone you chose; none
 * may be writable by others, who could rewrite it between runs. */
enum source { SRC_NAMED, SRC_FOUND };

#define TRUST_HINT "if you trust it, name it: FLAME_CONFIG=%s"

static int owner_ok(const struct stat *st)
{
	return st->st_uid == geteuid() || st->st_uid == 0;
}

/* Others can plant or replace files in a directory they can write, unless
 * the sticky bit keeps them to their own (as in /tmp). */
static int dir_open_to_others(const struct stat *st)
{
	return (st->st_mode & 022) && !(st->st_mode & S_ISVTX);
}

static int check_file(const char *path, const struct stat *st, enum source src, char *err, size_t errlen)
{
	if (!S_ISREG(st->st_mode)) {
		snprintf(err, errlen,
		         "config %s is not a regular file; replace it with one or unset FLAME_CONFIG", path);
		return -1;
	}
	if (src == SRC_FOUND && !owner_ok(st)) {
		snprintf(err, errlen,
		         "refusing project file %s: it belongs to uid %u, not you or root; " TRUST_HINT, path,
		         (unsigned)st->st_uid, path);
		return -1;
	}
	if (st->st_mode & 022) {
		snprintf(err, errlen, "refusing config %s: others can write it (mode %04o); chmod go-w it",
		         path, (unsigned)(st->st_mode & 07777));
		return -1;
	}
	return 0;
}

/* The directory holding a named file: others must not be able to swap it. */
static int check_named_dir(const char *path, char *err, size_t errlen)
{
	char *dir = xstrdup(path), *slash = strrchr(dir, '/');
	struct stat st;
	int rc = 0;

	if (!slash)
		strcpy(dir, ".");
	else
		slash[slash == dir] = 0;
	if (stat(dir, &st) == 0 && dir_open_to_others(&st)) {
		snprintf(err, errlen,
		         "refusing config %s: others can write its directory %s; move it to a private one",
		         path, dir);
		rc = -1;
	}
	free(dir);
	return rc;
}

/* Reads a config file: never blocks (a FIFO is refused, not waited on). */
static char *read_config(const char *path, enum source src, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	char *text;

	if (fd < 0) {
		snprintf(err, errlen, "cannot read config %s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) < 0 || check_file(path, &st, src, err, errlen) < 0) {
		close(fd);
		return NULL;
	}
	if (st.st_size > 4 * 1024 * 1024) {
		close(fd);
		snprintf(err, errlen, "config %s is not a readable file under 4 MiB", path);
		return NULL;
	}
	text = xmalloc((size_t)st.st_size + 1);
	if (read_all(fd, text, (size_t)st.st_size) < 0) {
		snprintf(err, errlen, "cannot read config %s: it changed or failed while read", path);
		close(fd);
		free(text);
		return NULL;
	}
	close(fd);
	text[st.st_size] = 0;
	return text;
}

static int load_file(struct config *cfg, const char *path, enum source src, char *err, size_t errlen)
{
	char *text;
	int rc;

	if (src == SRC_NAMED && check_named_dir(path, err, errlen) < 0)
		return -1;
	text = read_config(path, src, err, errlen);
	if (!text)
		return -1;
	rc = config_parse(cfg, text, path, err, errlen);
	free(text);
	return rc;
}

/* dir's flame.json: 1 found (in *out), 0 none here, -1 refused. */
static int project_in(const char *dir, char **out, int *stop, char *err, size_t errlen)
{
	char *p = xasprintf("%s/flame.json", strcmp(dir, "/") ? dir : "");
	struct stat dst = { 0 }, st;

	*stop = stat(dir, &dst) < 0 || !owner_ok(&dst) || dir_open_to_others(&dst);
	if (lstat(p, &st) < 0) {
		free(p);
		return 0;
	}
	if (*stop) {
		snprintf(err, errlen, "refusing project file %s: %s; " TRUST_HINT, p,
		         owner_ok(&dst) ? "others can write its directory"
		                        : "its directory belongs to another user",
		         p);
		free(p);
		return -1;
	}
	*out = p;
	return 1;
}

/* Walks up from the working directory; stops at the first directory that
 * someone other than you or root could have planted a file in. */
static int find_project_file(char **out, char *err, size_t errlen)
{
	char dir[PATH_MAX];

	*out = NULL;
	if (!getcwd(dir, sizeof dir))
		return 0;
	for (;;) {
		char *slash;
		int stop, rc = project_in(dir, out, &stop, err, errlen);
		if (rc != 0 || stop || !strcmp(dir, "/"))
			return rc < 0 ? -1 : 0;
		slash = strrchr(dir, '/');
		slash[slash == dir] = 0;
	}
}

int config_load(struct config *cfg, char *err, size_t errlen)
{
	const char *env = getenv("FLAME_CONFIG");
	struct stat st;

	memset(cfg, 0, sizeof *cfg);
	cfg->user_path = paths_user_config();
	if (lstat(cfg->user_path, &st) == 0 && load_file(cfg, cfg->user_path, SRC_NAMED, err, errlen) < 0)
		return -1;
	if (env && *env) {
		cfg->project_path = xstrdup(env);
		return load_file(cfg, cfg->project_path, SRC_NAMED, err, errlen);
	}
	if (find_project_file(&cfg->project_path, err, errlen) < 0)
		return -1;
	if (cfg->project_path && load_file(cfg, cfg->project_path, SRC_FOUND, err, errlen) < 0)
		return -1;
	return 0;
}

int config_lookup(const char *name, struct pool_settings *ps, char *err, size_t errlen)
{
	struct config cfg;
	const struct pool_settings *found;
	int rc = 0;

	if (config_load(&cfg, err, errlen) < 0) {
		config_free(&cfg);
		return -1;
	}
	found = config_find(&cfg, name);
	if (found) {
		*ps = *found;
	} else if (!strcmp(name, DEFAULT_POOL)) {
		pool_settings_default(ps, DEFAULT_POOL);
	} else {
		char *names = config_pool_names(&cfg);
		snprintf(err, errlen, "unknown pool '%.80s'; known pools: %s (declare it in flame.json)",
		         name, names);
		free(names);
		rc = -1;
	}
	config_free(&cfg);
	return rc;
}
