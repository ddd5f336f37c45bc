/* agent_slot.c — `flame agent slot in|out TOKEN`: one job slot of a runner
 * reached over SSH, where descriptors cannot travel.
 *
 * The warmer's side holds two SSH sessions per slot, one per direction, so
 * that a blocking write one way can never wait on a read the other way.
 * sshd starts one process per channel: `slot out` hands its stdout (the
 * channel back to the warmer) to `slot in` over a Unix socket named by
 * TOKEN and then waits; `slot in` reads job requests, stdin and signals from
 * its stdin and runs one job at a time: exact argv and environment, own
 * process group and scratch directory, stdout and stderr relayed as frames,
 * --put files arrive as frames before the job starts and --get files leave
 * as frames after it exited, the exit status in an explicit W_JOB_DONE
 * (libssh2 1.10 cannot tell a missing exit status from 0).  When its stdin
 * closes (the warmer or the connection went away) the running job's group
 * is killed; when `slot in` itself dies, `slot out` kills it, and so does
 * the keeper `slot in` leaves behind (lib/agent/slot_keeper.h) should both die. */
#include "cmds.h"
#include "agent/slot.h"
#include "agent/slot_keeper.h"
#include "util.h"

#include <string.h>

int cmd_agent_slot(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "in"))
		return slot_in(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "out"))
		return slot_out(argv[2]);
	if (argc == 7 && !strcmp(argv[1], "keep"))
		return slot_keeper_main(argc - 1, argv + 1);
	msg("agent slot: usage: flame agent slot in|out TOKEN (started by the warmer over SSH)");
	return EXIT_USAGE;
}
