/* fly_token.c — see fly_token.h. */
#include "fly_token.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TOKEN_MAX (64 * 1024) /* a pipe's buffer: written before anyone reads */
#define FD_VAR "FLAME_FLY_TOKEN_FD"

void fly_token_hand_over(void)
{
	const char *t = getenv("FLY_API_TOKEN");
	size_t len = t ? strlen(t) : 0;
	int p[2];

	if (!t)
		return;
	if (len < TOKEN_MAX && pipe(p) == 0) {
		/* fits in the pipe's buffer: the write cannot block */
		if (write(p[1], t, len) == (ssize_t)len && dup2(p[0], FLY_TOKEN_FD) == FLY_TOKEN_FD)
			setenv(FD_VAR, "3", 1);
		close(p[1]);
		if (p[0] != FLY_TOKEN_FD)
			close(p[0]);
	}
	unsetenv("FLY_API_TOKEN");
}

static char *read_pipe(int fd)
{
	char *buf = xmalloc(TOKEN_MAX + 1);
	size_t len = 0;

	while (len < TOKEN_MAX) {
		ssize_t n = read(fd, buf + len, TOKEN_MAX - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = 0;
	if (len)
		return buf;
	free(buf);
	return NULL;
}

/* Descriptor FLY_TOKEN_FD is the pipe a starting `flame` left there. */
static int handed_over(void)
{
	const char *fd = getenv(FD_VAR);
	struct stat st;
	return fd && !strcmp(fd, "3") && fstat(FLY_TOKEN_FD, &st) == 0 && S_ISFIFO(st.st_mode);
}

char *fly_token_take(void)
{
	char *t = NULL, *env = getenv("FLY_API_TOKEN");

	if (handed_over())
		t = read_pipe(FLY_TOKEN_FD);
	else if (env)
		t = xstrdup(env);
	if (env) /* the bytes /proc/PID/environ shows: gone with the variable */
		explicit_bzero(env, strlen(env));
	unsetenv("FLY_API_TOKEN");
	unsetenv(FD_VAR);
	return t;
}
