/* proctree.h — the processes below a process, from /proc.
 *
 * A runner's agent must leave nothing behind when it exits, but sshd's
 * children start sessions of their own and jobs may start process groups of
 * their own, so neither a group nor a session holds them all.  The agent is
 * a child subreaper, so everything it started stays below it; this walks
 * that tree. */
#ifndef FLAME_PROCTREE_H
#define FLAME_PROCTREE_H

#include <sys/types.h>

/* Sends sig to every descendant of root (not to root); returns how many. */
int proctree_signal_descendants(pid_t root, int sig);

#endif
