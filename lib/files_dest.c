/* files_dest.c — the receiver half of --get (see files.h): one file written
 * safely under the --get-dir descriptor. */
#include "files.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Opens (creating) the directory chain of rel's parents under dest_fd without
 * following symlinks; returns a descriptor of the innermost one and sets *base. */
static int open_parent(int dest_fd, char *rel, const char **base)
{
	int dir = fcntl(dest_fd, F_DUPFD_CLOEXEC, 3);
	char *p = rel, *slash;

	while (dir >= 0 && (slash = strchr(p, '/'))) {
		int next;
		*slash = 0;
		if (*p && strcmp(p, ".")) {
			if (mkdirat(dir, p, 0777) < 0 && errno != EEXIST)
				next = -1;
			else
				next = openat(dir, p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			close(dir);
			dir = next;
		}
		*slash = '/';
		p = slash + 1;
	}
	*base = p;
	return dir;
}

static void dest_reset(struct files_dest *d)
{
	free(d->rel);
	d->rel = NULL;
	d->base = NULL;
	d->dir = d->fd = -1;
	d->tmp[0] = 0;
}

int files_dest_open(struct files_dest *d, int dest_fd, const char *rel)
{
	/* several slots of one ssh link may fetch the same name at once */
	static unsigned serial;
	unsigned n = __atomic_add_fetch(&serial, 1, __ATOMIC_RELAXED);
	const char *last = strrchr(rel, '/');
	int saved;

	*d = (struct files_dest){ .dir = -1, .fd = -1 };
	last = last ? last + 1 : rel;
	if (files_get_pattern_problem(rel) || !*last || !strcmp(last, ".")) {
		errno = EINVAL; /* not a file's path, or one that leaves */
		return -1;
	}
	d->rel = xstrdup(rel);
	d->dir = open_parent(dest_fd, d->rel, &d->base);
	if (d->dir < 0) {
		saved = errno;
		dest_reset(d);
		errno = saved;
		return -1;
	}
	snprintf(d->tmp, sizeof d->tmp, ".flame-get.%d.%u.%.200s", (int)getpid(), n, d->base);
	d->fd = openat(d->dir, d->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (d->fd < 0) {
		saved = errno;
		close(d->dir);
		dest_reset(d);
		errno = saved;
		return -1;
	}
	return 0;
}

void files_dest_abort(struct files_dest *d)
{
	if (d->fd >= 0) {
		close(d->fd);
		unlinkat(d->dir, d->tmp, 0);
	}
	if (d->dir >= 0)
		close(d->dir);
	dest_reset(d);
}

int files_dest_commit(struct files_dest *d, unsigned mode)
{
	int rc, saved;

	if (d->fd < 0) {
		errno = EBADF;
		return -1;
	}
	rc = fchmod(d->fd, mode & 0777 & ~d->umask);
	saved = errno;
	if (close(d->fd) < 0 && rc == 0) {
		rc = -1;
		saved = errno;
	}
	d->fd = -1;
	if (rc == 0 && renameat(d->dir, d->tmp, d->dir, d->base) < 0) {
		rc = -1;
		saved = errno;
	}
	if (rc < 0)
		unlinkat(d->dir, d->tmp, 0);
	files_dest_abort(d); /* the file is gone or in place: this closes the directory */
	errno = saved;
	return rc;
}
