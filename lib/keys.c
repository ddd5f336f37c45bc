/* keys.c — see keys.h. */
#include "keys.h"
#include "paths.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char *read_line(const char *path)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	if (!f)
		return NULL;
	n = getline(&line, &cap, f);
	fclose(f);
	if (n <= 0) {
		free(line);
		return NULL;
	}
	line[strcspn(line, "\r\n")] = 0;
	return line;
}

static int keys_generate(const char *path, const char *comment, char *err, size_t errlen)
{
	pid_t pid = fork();
	int st;
	if (pid < 0) {
		snprintf(err, errlen, "cannot start ssh-keygen: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 1);
		}
		execlp("ssh-keygen", "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", path,
		       (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 127) {
		snprintf(err, errlen, "ssh-keygen is not installed; install openssh-client");
		return -1;
	}
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		snprintf(err, errlen, "ssh-keygen failed to make %s", path);
		return -1;
	}
	return 0;
}

static int make_key(const char *path, const char *pool, char *err, size_t errlen)
{
	char host[256] = "localhost";
	char *tmp = xasprintf("%s.tmp.%d", path, (int)getpid());
	char *tmp_pub = xasprintf("%s.pub", tmp), *pub = xasprintf("%s.pub", path);
	char *comment;
	int rc;

	gethostname(host, sizeof host - 1);
	comment = xasprintf("flame-pool-%s@%s", pool, host);
	unlink(tmp);
	unlink(tmp_pub);
	rc = keys_generate(tmp, comment, err, errlen);
	/* the public half first: a private key without its .pub is never seen */
	if (rc == 0 && (chmod(tmp, 0600) < 0 || rename(tmp_pub, pub) < 0 || rename(tmp, path) < 0)) {
		snprintf(err, errlen, "cannot store the key %s: %s", path, strerror(errno));
		rc = -1;
	}
	if (rc < 0) {
		unlink(tmp);
		unlink(tmp_pub);
	}
	free(comment);
	free(tmp);
	free(tmp_pub);
	free(pub);
	return rc;
}

char *keys_pool_key(const char *pool, char **pub, char *err, size_t errlen)
{
	char *state = paths_state_dir(err, errlen), *dir, *path = NULL, *lockpath, *pubpath;
	int lock;
	struct stat st;

	*pub = NULL;
	if (!state)
		return NULL;
	dir = xasprintf("%s/keys", state);
	free(state);
	if (paths_private_dir(dir, err, errlen) < 0) {
		free(dir);
		return NULL;
	}
	lockpath = xasprintf("%s/.lock", dir);
	lock = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	free(lockpath);
	if (lock < 0 || flock(lock, LOCK_EX) < 0) {
		snprintf(err, errlen, "cannot lock %s: %s", dir, strerror(errno));
		goto out;
	}
	path = xasprintf("%s/%s_ed25519", dir, pool);
	if (stat(path, &st) < 0 && make_key(path, pool, err, errlen) < 0) {
		free(path);
		path = NULL;
		goto out;
	}
	pubpath = xasprintf("%s.pub", path);
	*pub = read_line(pubpath);
	free(pubpath);
	if (!*pub) {
		snprintf(err, errlen,
		         "the public key %s.pub is missing or empty; remove %s to make a new key", path,
		         path);
		free(path);
		path = NULL;
	}
out:
	if (lock >= 0)
		close(lock);
	free(dir);
	return path;
}
