/* files_put.c — see files_put.h. */
#include "files_put.h"
#include "files.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *files_put_name_problem(const char *name)
{
	if (!name[0])
		return "is empty";
	if (strchr(name, '/'))
		return "is not a plain file name";
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return "names a directory";
	return NULL;
}

int files_put_open(struct files_put *p, int dir_fd, const char *name)
{
	p->fd = -1;
	if (files_put_name_problem(name)) {
		errno = EINVAL;
		return -1;
	}
	p->fd = openat(dir_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	return p->fd < 0 ? -1 : 0;
}

int files_put_write(struct files_put *p, const void *buf, size_t n)
{
	return write_all(p->fd, buf, n);
}

int files_put_commit(struct files_put *p, unsigned mode)
{
	int rc = fchmod(p->fd, mode & 0777), saved = errno;

	if (close(p->fd) < 0 && rc == 0) {
		rc = -1;
		saved = errno;
	}
	p->fd = -1;
	errno = saved;
	return rc;
}

void files_put_abort(struct files_put *p)
{
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
}

int files_put_copy(int src_fd, int dir_fd, const char *name, unsigned mode)
{
	struct files_put p;
	int saved;

	if (files_put_open(&p, dir_fd, name) < 0)
		return -1;
	lseek(src_fd, 0, SEEK_SET);
	if (files_copy_fd(src_fd, p.fd) < 0) {
		saved = errno;
		files_put_abort(&p);
		errno = saved;
		return -1;
	}
	return files_put_commit(&p, mode);
}
