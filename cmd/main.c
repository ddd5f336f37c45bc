/* main.c — flame's entry point: the table of commands (commands.h) says
 * which handler runs. */
#include "cmds.h"
#include "commands.h"
#include "wire.h"

#include <stdio.h>

#ifndef FLAME_VERSION
#define FLAME_VERSION "0.0.0"
#endif

int cmd_version(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("flame %s (protocol %d)\n", FLAME_VERSION, WIRE_PROTOCOL);
	return 0;
}

int main(int argc, char **argv)
{
	return cmd_dispatch(argc, argv);
}
