/* pool_key.c — `flame pool key NAME`: print the public half of the pool's
 * client key (made on first use), to add to the authorized_keys of the
 * hosts the pool runs on. */
#include "cmds.h"
#include "config.h"
#include "keys.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cmd_pool_key(int argc, char **argv)
{
	struct pool_settings ps;
	char err[1024];
	char *path, *pub;

	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		printf("usage: flame pool key NAME\n");
		return 0;
	}
	if (argc != 2 || argv[1][0] == '-') {
		msg("pool key: give exactly one pool name; usage: flame pool key NAME");
		return EXIT_USAGE;
	}
	if (config_lookup(argv[1], &ps, err, sizeof err) < 0) {
		msg("%s", err);
		return EXIT_USAGE;
	}
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
