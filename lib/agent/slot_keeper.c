/* slot_keeper.c — see slot_keeper.h. */
#include "slot_keeper.h"
#include "paths.h"
#include "proctree.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#define GONE_MS 5000 /* how long a killed group may take to be reaped */

struct record {
	uint32_t job;
	int32_t pgid;
};

void slot_keeper_tell(int fd, uint32_t job, pid_t pgid)
{
	struct record r = { job, (int32_t)pgid };
	if (fd >= 0)
		(void)!write(fd, &r, sizeof r); /* atomic: smaller than PIPE_BUF */
}

/* Reaps every child that ended; 1 once the slot is among them. */
static int reap(pid_t slot, int *status)
{
	int st, gone = 0;
	pid_t p;
	while ((p = waitpid(-1, &st, WNOHANG)) > 0)
		if (p == slot) {
			*status = st;
			gone = 1;
		}
	return gone;
}

/* Reads what the slot said; -1 (fd closed) at end of file. */
static int read_records(int fd, struct record *cur)
{
	struct record r[64];
	ssize_t n;
	while ((n = read(fd, r, sizeof r)) > 0)
		if (n >= (ssize_t)sizeof r[0])
			*cur = r[(size_t)n / sizeof r[0] - 1];
	if (n == 0 || (errno != EAGAIN && errno != EINTR)) { /* n <= 0 here */
		close(fd);
		return -1;
	}
	return fd;
}

/* Kills the lost job's group (or, not told it yet, everything below us)
 * and waits, reaping, until nothing of it is left. */
static void end_group(pid_t pgid, pid_t slot)
{
	int64_t until = now_ms() + GONE_MS;
	int st;
	do {
		if (pgid > 0)
			kill(-pgid, SIGKILL);
		else
			proctree_signal_descendants(getpid(), SIGKILL);
		reap(slot, &st);
		if (pgid > 0 ? kill(-pgid, 0) < 0 : waitpid(-1, NULL, WNOHANG) < 0)
			return;
		usleep(5000);
	} while (now_ms() < until);
}

/* The slot's channels must close when the slot dies, not when we do: keep
 * nothing open but our end of the pipe (and /dev/null as stdio). */
static void close_all_but(int keep_fd)
{
	int fd;
	if (keep_fd > 3)
		close_range(3, (unsigned)keep_fd - 1, 0);
	close_range((unsigned)keep_fd + 1, ~0U, 0);
	fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	for (int i = 0; i < 3; i++)
		if (fd >= 0 && fd != i && i != keep_fd)
			dup2(fd, i);
	if (fd > 2 && fd != keep_fd)
		close(fd);
}

static int exit_code(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

static int keep(pid_t slot, int fd, const char *root, int rmdir_root)
{
	struct record cur = { 0, 0 };
	sigset_t chld;
	int sfd, status = 0, gone = 0;

	prctl(PR_SET_CHILD_SUBREAPER, 1); /* kept across exec; said again */
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
	set_nonblock(fd, 1);
	while (!gone) {
		struct pollfd p[2] = { { .fd = fd, .events = POLLIN }, { .fd = sfd, .events = POLLIN } };
		struct signalfd_siginfo si;
		poll(p, 2, sfd < 0 ? 50 : -1);
		if (fd >= 0 && p[0].revents)
			fd = read_records(fd, &cur);
		while (sfd >= 0 && read(sfd, &si, sizeof si) > 0)
			;
		gone = reap(slot, &status);
	}
	if (fd >= 0) /* what the slot said just before it went */
		read_records(fd, &cur);
	if (cur.job) {
		char *dir = xasprintf("%s/job-%u", root, cur.job);
		end_group(cur.pgid, slot);
		paths_remove_tree(dir);
		free(dir);
		if (rmdir_root)
			rmdir(root);
	}
	return exit_code(status);
}

/* Nothing but the slot's end stops the keeper: what is sent to the session
 * reaches the slot too, and it is the slot's to act on.  The mask is kept
 * across exec. */
static void block_signals(void)
{
	sigset_t all;
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
}

static void __attribute__((noreturn))
become_keeper(const char *token, pid_t slot, int fd, const char *root, int rmdir_root)
{
	char fds[16], pids[16];
	char *argv[] = { program_invocation_name, "agent",      "slot", "keep", (char *)token, fds, pids,
		         rmdir_root ? "1" : "0",  (char *)root, NULL };

	block_signals();
	close_all_but(fd);
	snprintf(fds, sizeof fds, "%d", fd);
	snprintf(pids, sizeof pids, "%d", (int)slot);
	if (fcntl(fd, F_SETFD, 0) == 0)
		execv("/proc/self/exe", argv);
	_exit(keep(slot, fd, root, rmdir_root)); /* no exec: keep watch all the same */
}

int slot_keeper_main(int argc, char **argv)
{
	int fd;
	pid_t slot;
	if (argc != 6)
		return EXIT_USAGE;
	fd = atoi(argv[2]);
	slot = (pid_t)atoi(argv[3]);
	if (fd < 3 || slot <= 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
		return EXIT_USAGE;
	block_signals();
	return keep(slot, fd, argv[5], !strcmp(argv[4], "1"));
}

int slot_keeper_start(const char *token, const char *root, int rmdir_root, int *fd)
{
	int p[2];
	pid_t slot;

	*fd = -1;
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	/* before the fork: the slot's orphans must find us from its first instant */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	slot = fork();
	if (slot < 0) {
		prctl(PR_SET_CHILD_SUBREAPER, 0);
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (slot == 0) {
		close(p[0]);
		set_nonblock(p[1], 1);
		*fd = p[1];
		return 0;
	}
	close(p[1]);
	become_keeper(token, slot, p[0], root, rmdir_root);
}
