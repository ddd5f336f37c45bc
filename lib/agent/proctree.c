/* proctree.c — see proctree.h. */
#include "proctree.h"
#include "util.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct proc {
	pid_t pid, ppid;
};

/* The parent of pid, from /proc/PID/stat ("pid (comm) state ppid ..."; comm
 * may hold spaces and parentheses, so parse after the last ')'); -1 if gone. */
static pid_t parent_of(pid_t pid)
{
	char buf[512], *close_paren;
	long ppid;

	if (proc_read(pid, "stat", buf, sizeof buf) <= 0)
		return -1;
	close_paren = strrchr(buf, ')');
	if (!close_paren || sscanf(close_paren + 1, " %*c %ld", &ppid) != 1)
		return -1;
	return (pid_t)ppid;
}

static struct proc *all_processes(size_t *count)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	struct proc *v = NULL;
	size_t n = 0, cap = 0;

	while (d && (e = readdir(d))) {
		long pid;
		pid_t ppid;
		if (parse_long(e->d_name, 1, 1L << 22, &pid) < 0 || (ppid = parent_of((pid_t)pid)) < 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			v = xrealloc(v, cap * sizeof *v);
		}
		v[n++] = (struct proc){ (pid_t)pid, ppid };
	}
	if (d)
		closedir(d);
	*count = n;
	return v;
}

int proctree_signal_descendants(pid_t root, int sig)
{
	size_t n, nfound = 0;
	struct proc *v = all_processes(&n);
	pid_t *found = xcalloc(n + 1, sizeof *found);
	int grew = 1;

	/* breadth by fixed point: small trees, so quadratic is fine */
	found[nfound++] = root;
	while (grew) {
		grew = 0;
		for (size_t i = 0; i < n; i++) {
			int parent_found = 0, already = 0;
			for (size_t k = 0; k < nfound; k++) {
				parent_found |= v[i].ppid == found[k];
				already |= v[i].pid == found[k];
			}
			if (parent_found && !already) {
				found[nfound++] = v[i].pid;
				grew = 1;
			}
		}
	}
	for (size_t k = 1; k < nfound; k++)
		kill(found[k], sig);
	free(found);
	free(v);
	return (int)nfound - 1;
}
