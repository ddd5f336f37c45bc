/* pool_scale.c — `flame pool scale NAME [--min N] [--max N]
 * [--max-concurrency N] [--stopped-max N]`: change a live pool's limits without editing files.
 * Lowering max drains runners; no running job is killed. */
#include "cmds.h"
#include "client.h"
#include "commands.h"
#include "config.h"
#include "flame_limits.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static int limit(const char *opt, const char *arg, long min, long max, long *out)
{
	if (parse_long(arg, min, max, out) < 0) {
		msg("pool scale: %s must be a whole number from %ld to %ld (got '%.40s')", opt, min, max,
		    arg);
		return -1;
	}
	return 0;
}

static int send_scale(const struct pool_settings *ps, const long *limits)
{
	struct wbuf w;
	int rc;

	wbuf_init(&w, W_SCALE);
	client_put_settings(&w, ps);
	for (int i = 0; i < 4; i++)
		wbuf_i64(&w, limits[i]);
	rc = client_ask(&w);
	wbuf_free(&w);
	return rc;
}

int cmd_pool_scale(int argc, char **argv)
{
	struct cmd_parser parser;
	long min = -1, max = -1, mc = -1, stopped = -1;
	struct pool_settings ps;
	int c, rc;

	cmd_parser_init(&parser, "pool scale");
	while ((c = cmd_parser_next(&parser, argc, argv)) != CMD_END) {
		if (c == CMD_HELP || c == CMD_BAD)
			return cmd_exit_status(c);
		if ((c == OPT_MIN && limit("--min", optarg, 0, LIMIT_RUNNERS, &min) < 0) ||
		    (c == OPT_MAX && limit("--max", optarg, 1, LIMIT_RUNNERS, &max) < 0) ||
		    (c == OPT_MAX_CONCURRENCY &&
		     limit("--max-concurrency", optarg, 1, LIMIT_CONCURRENCY, &mc) < 0) ||
		    (c == OPT_STOPPED_MAX && limit("--stopped-max", optarg, 0, LIMIT_RUNNERS, &stopped) < 0))
			return EXIT_USAGE;
	}
	if (optind != argc - 1) {
		msg("pool scale: give exactly one pool name; see 'flame pool scale --help'");
		return EXIT_USAGE;
	}
	if (min < 0 && max < 0 && mc < 0 && stopped < 0) {
		msg("pool scale: nothing to change; give --min, --max, --max-concurrency or --stopped-max");
		return EXIT_USAGE;
	}
	if (min >= 0 && max >= 0 && min > max) {
		msg("pool scale: --min %ld is above --max %ld", min, max);
		return EXIT_USAGE;
	}
	rc = client_find_pool(argv[optind], &ps);
	if (rc)
		return rc;
	{
		long limits[] = { min, max, mc, stopped };
		return send_scale(&ps, limits);
	}
}
