/* pool.c — `flame pool ls|scale`: dispatch to the pool subcommands. */
#include "cmds.h"
#include "util.h"

#include <stdio.h>
#include <string.h>

int cmd_pool(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		/* usage on stdout when asked for, on stderr after a wrong call */
		fprintf(argc < 2 ? stderr : stdout,
		        "usage: flame pool ls [--json]\n"
		        "       flame pool scale NAME [--min N] [--max N] [--max-concurrency N]\n"
		        "       flame pool key NAME\n");
		return argc < 2 ? EXIT_USAGE : 0;
	}
	if (!strcmp(argv[1], "ls") || !strcmp(argv[1], "list"))
		return cmd_pool_ls(argc - 1, argv + 1);
	if (!strcmp(argv[1], "scale"))
		return cmd_pool_scale(argc - 1, argv + 1);
	if (!strcmp(argv[1], "key"))
		return cmd_pool_key(argc - 1, argv + 1);
	msg("pool: unknown subcommand '%.80s'; use 'flame pool ls', 'flame pool scale' or 'flame pool key'",
	    argv[1]);
	return EXIT_USAGE;
}
