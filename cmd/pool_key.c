/* pool_key.c — `flame pool key NAME`: print the public half of the pool's
 * client key (made on first use), to add to the authorized_keys of the
 * hosts the pool runs on. */
#include "cmds.h"
#include "client.h"
#include "commands.h"
#include "config.h"
#include "keys.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>

int cmd_pool_key(int argc, char **argv)
{
	struct cmd_parser parser;
	struct pool_settings ps;
	char err[1024];
	char *path, *pub;
	int c;

	cmd_parser_init(&parser, "pool key");
	while ((c = cmd_parser_next(&parser, argc, argv)) != CMD_END)
		if (c == CMD_HELP || c == CMD_BAD)
			return cmd_exit_status(c);
	if (optind != argc - 1) {
		msg("pool key: give exactly one pool name; see 'flame pool key --help'");
		return EXIT_USAGE;
	}
	if (client_find_pool(argv[optind], &ps))
		return EXIT_USAGE;
	path = keys_pool_key(ps.name, &pub, err, sizeof err);
	if (!path) {
		msg("pool key: %s", err);
		return EXIT_FAILURE_FLAME;
	}
	printf("%s\n", pub);
	free(pub);
	free(path);
	return fflush(stdout) == 0 ? 0 : EXIT_FAILURE_FLAME;
}
