/* link.h — `flame-link`: the warmer's side of one ssh runner.
 *
 * The warmer starts one link per remote runner and speaks to it exactly as
 * it speaks to a local agent (W_JOB with the caller's descriptors,
 * W_JOB_SIGNAL, W_JOB_CANCEL, W_AGENT_STOP; W_READY and W_JOB_DONE back), so
 * the ssh backend is the local one with another program at the end of the
 * socket.  The link keeps authenticated libssh2 sessions open: per job slot
 * one session for each direction, each driven by its own thread in blocking
 * mode (libssh2 1.10's non-blocking mode corrupts data, and one blocking
 * thread cannot wait on both directions), and pumps the caller's
 * descriptors to and from `flame agent slot in|out` on the runner.  It is a
 * separate program because libssh2 costs every process that loads it. */
#ifndef FLAME_LINK_H
#define FLAME_LINK_H

int link_main(int argc, char **argv);

#endif
