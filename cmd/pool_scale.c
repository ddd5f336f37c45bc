/* pool_scale.c — `flame pool scale NAME [--min N] [--max N]
 * [--max-concurrency N]`: change a live pool's limits without editing files.
 * Lowering max drains runners; no running job is killed. */
#include "cmds.h"
#include "client.h"
#include "config.h"
#include "flame_limits.h"
#include "util.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SCALE_USAGE "usage: flame pool scale NAME [--min N] [--max N] [--max-concurrency N]"

static int limit(const char *opt, const char *arg, long min, long max, long *out)
{
	if (parse_long(arg, min, max, out) < 0) {
		msg("pool scale: %s must be a whole number from %ld to %ld (got '%.40s')", opt, min, max,
		    arg);
		return -1;
	}
	return 0;
}

static int find_pool(const char *name, struct pool_settings *ps)
{
	char err[1024];
	if (config_lookup(name, ps, err, sizeof err) < 0) {
		msg("%s", err);
		return EXIT_USAGE;
	}
	return 0;
}

static int send_scale(const struct pool_settings *ps, long min, long max, long mc)
{
	char err[1024];
	struct wire_conn conn;
	struct wbuf w;
	struct rbuf r = { 0 };
	int sock = client_connect(1, err, sizeof err), type, rc;

	if (sock < 0) {
		msg("%s", err);
		return EXIT_FAILURE_FLAME;
	}
	client_conn_init(&conn, sock);
	wbuf_init(&w, W_SCALE);
	client_put_settings(&w, ps);
	wbuf_i64(&w, min);
	wbuf_i64(&w, max);
	wbuf_i64(&w, mc);
	type = client_call(sock, &w, &conn, &r, err, sizeof err);
	if (type < 0) {
		msg("%s", err);
		rc = EXIT_FAILURE_FLAME;
	} else {
		uint32_t code = rbuf_u32(&r);
		char *text = rbuf_str(&r);
		if (type == W_REPLY)
			printf("%s\n", text);
		else
			msg("%s", text);
		rc = type == W_REPLY ? 0 : (int)code;
		free(text);
	}
	wbuf_free(&w);
	wire_conn_free(&conn);
	close(sock);
	return rc;
}

int cmd_pool_scale(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "min", required_argument, NULL, 'n' },
		{ "max", required_argument, NULL, 'x' },
		{ "max-concurrency", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	long min = -1, max = -1, mc = -1;
	struct pool_settings ps;
	int c, rc;

	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if ((c == 'n' && limit("--min", optarg, 0, LIMIT_RUNNERS, &min) < 0) ||
		    (c == 'x' && limit("--max", optarg, 1, LIMIT_RUNNERS, &max) < 0) ||
		    (c == 'c' && limit("--max-concurrency", optarg, 1, LIMIT_CONCURRENCY, &mc) < 0))
			return EXIT_USAGE;
		if (c == 'h') {
			printf("%s\n", SCALE_USAGE);
			return 0;
		}
		if (c == ':' || c == '?') {
			msg("pool scale: %s option '%s'; %s", c == ':' ? "missing value for" : "unknown",
			    argv[optind - 1], SCALE_USAGE);
			return EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		msg("pool scale: give exactly one pool name; %s", SCALE_USAGE);
		return EXIT_USAGE;
	}
	if (min < 0 && max < 0 && mc < 0) {
		msg("pool scale: nothing to change; give --min, --max or --max-concurrency");
		return EXIT_USAGE;
	}
	if (min >= 0 && max >= 0 && min > max) {
		msg("pool scale: --min %ld is above --max %ld", min, max);
		return EXIT_USAGE;
	}
	rc = find_pool(argv[optind], &ps);
	if (rc)
		return rc;
	return send_scale(&ps, min, max, mc);
}
