/* slot_keeper.h — what stays behind when a job slot's process dies.
 *
 * `flame agent slot in` (slot.h) runs each job as its child, in
 * the job's own process group.  If the slot dies of a signal (SIGKILL, the
 * OOM killer) while its `slot out` partner is gone or stopped too, nothing
 * of it runs to kill that group or remove the job's scratch directory: the
 * job would run on as an orphan.  So the process sshd started forks before
 * the first job: the child is the slot, the parent stays behind as its
 * keeper and execs itself as `flame agent slot keep TOKEN ...`, so that
 * whoever looks for (or kills) the slot's processes by name tells the two
 * apart.
 *
 * The keeper is a child subreaper: a job whose slot died becomes its child,
 * whatever the timing.  The slot tells it on a pipe which job runs (before
 * the job's directory is made) and the job's process group (once it is
 * spawned).  When the slot ends with a job still on record, the keeper kills
 * that group (every process below it, if the group was not told yet), waits
 * until it is gone, removes the job's directory, and exits as the slot did.
 *
 * Why this and not the alternatives: PR_SET_PDEATHSIG on the job kills its
 * leader only, never the rest of its group; a holder process inside the
 * job's group would change the group the job sees (its id, an extra member,
 * a leader that leaves it with setsid); a cgroup needs a delegation most
 * hosts do not give, and someone alive to kill it all the same. */
#ifndef FLAME_SLOT_KEEPER_H
#define FLAME_SLOT_KEEPER_H

#include <stdint.h>
#include <sys/types.h>

/* Forks.  Returns in the child, the slot, with the pipe's (non-blocking)
 * write end in *fd: 0; -1 if there is no keeper (the slot runs without one).
 * The parent never returns.  Job directories are root/job-ID; after a lost
 * job the keeper also removes root if rmdir_root and it is empty. */
int slot_keeper_start(const char *token, const char *root, int rmdir_root, int *fd);

/* The keeper after its exec: `flame agent slot keep TOKEN FD SLOT_PID
 * RMDIR_ROOT ROOT` (argv[0] is "keep"); returns the slot's exit status. */
int slot_keeper_main(int argc, char **argv);

/* Slot side: job (0: none runs) and its process group (0: not spawned). */
void slot_keeper_tell(int fd, uint32_t job, pid_t pgid);

#endif
