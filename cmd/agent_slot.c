/* agent_slot.c — `flame agent slot in|out|keep`: one job slot of a runner
 * reached over SSH, where descriptors cannot travel.  The subcommand's
 * entry only: the slot is lib/agent/slot.h, its keeper
 * lib/agent/slot_keeper.h. */
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
