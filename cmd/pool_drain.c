/* pool_drain.c — `flame pool drain NAME`: destroy the pool's stopped
 * machines now (they would be destroyed at stopped_ttl).  Its runners are
 * not touched: `flame pool scale NAME --min 0` and idle time do that. */
#include "cmds.h"
#include "client.h"
#include "commands.h"
#include "config.h"
#include "util.h"

#include <unistd.h>

int cmd_pool_drain(int argc, char **argv)
{
	struct cmd_parser parser;
	struct pool_settings ps;
	struct wbuf w;
	int c, rc;

	cmd_parser_init(&parser, "pool drain");
	while ((c = cmd_parser_next(&parser, argc, argv)) != CMD_END)
		if (c == CMD_HELP || c == CMD_BAD)
			return cmd_exit_status(c);
	if (optind != argc - 1) {
		msg("pool drain: give exactly one pool name; see 'flame pool drain --help'");
		return EXIT_USAGE;
	}
	rc = client_find_pool(argv[optind], &ps);
	if (rc)
		return rc;
	wbuf_init(&w, W_DRAIN);
	client_put_settings(&w, &ps);
	rc = client_ask(&w);
	wbuf_free(&w);
	return rc;
}
