/* map.c — `flame map`: GNU parallel's interface on flame's pools.  Parses
 * the options and the input source (stdin, `::: INPUT...` or `:::: FILE`);
 * lib/map/ runs the batch. */
#include "cmds.h"
#include "client.h"
#include "commands.h"
#include "config.h"
#include "map/batch.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The most job slots -j may ask for: each is a connection to the warmer. */
#define MAP_MAX_JOBS 4096

static int parse_count(const char *opt, const char *arg, long min, long max, long *out)
{
	char text[300];
	if (parse_long(arg, min, max, out) == 0)
		return 0;
	snprintf(text, sizeof text, "%s '%.100s' is not a whole number from %ld to %ld", opt, arg, min, max);
	msg("map: %s", text);
	return -1;
}

static int take_option(int c, struct map_opts *o)
{
	switch (c) {
	case 'p': o->pool = optarg; return 0;
	case 'j': return parse_count("-j", optarg, 1, MAP_MAX_JOBS, &o->jobs);
	case '0': o->sep = '\0'; return 0;
	case 'k': o->keep_order = 1; return 0;
	case OPT_LINE_BUFFER: o->line_buffer = 1; return 0;
	case OPT_TAG: o->tag = 1; return 0;
	case OPT_SH: o->sh = optarg; return 0;
	case OPT_PUT: {
		size_t n = (size_t)o->nput;
		strv_push(&o->puts, &n, optarg);
		o->nput = (int)n;
		return 0;
	}
	case OPT_GET: strv_push(&o->gets, &o->nget, optarg); return 0;
	case OPT_GET_DIR: o->get_dir = optarg; return 0;
	case 'e': strv_push(&o->envs, &o->nenv, optarg); return 0;
	case 't': return cmd_parse_duration("map", "--timeout", optarg, &o->timeout_ms);
	case OPT_SLOT_TIMEOUT: return cmd_parse_duration("map", "--slot-timeout", optarg, &o->slot_ms);
	case OPT_RETRIES: return parse_count("--retries", optarg, 1, 1000, &o->retries);
	case OPT_RETRY_FAILED: o->retry_failed_commands = 1; return 0;
	case OPT_HALT: o->halt = optarg; return 0;
	case OPT_JOBLOG: o->joblog = optarg; return 0;
	case OPT_JOBLOG_EXTRA: o->joblog_extra = 1; return 0;
	case OPT_RESUME: o->resume = 1; return 0;
	case OPT_RESUME_FAILED: o->resume_failed = 1; return 0;
	case OPT_BAR: o->bar = 1; return 0;
	case 'v': o->verbose = 1; return 0;
	default: return -1; /* CMD_BAD: said why */
	}
}

/* The words after the options: the command, then `::: INPUT...` or
 * `:::: FILE`.  The words are the caller's, kept as they are. */
static int split_operands(char **words, struct map_opts *o)
{
	size_t i = 0;
	while (words[i] && strcmp(words[i], ":::") && strcmp(words[i], "::::"))
		i++;
	o->cmd = words;
	if (!words[i])
		return 0;
	if (!strcmp(words[i], "::::")) {
		if (!words[i + 1] || words[i + 2])
			return cmd_usage_error("map", "%s", ":::: takes one FILE of inputs");
		o->argfile = words[i + 1];
	} else {
		o->args = words + i + 1;
		for (o->nargs = 0; o->args[o->nargs]; o->nargs++)
			if (!strcmp(o->args[o->nargs], ":::") || !strcmp(o->args[o->nargs], "::::"))
				return cmd_usage_error("map", "%s",
				                       "one input source only: ::: INPUT... or :::: FILE");
	}
	words[i] = NULL; /* the command ends here */
	return 0;
}

static int check_opts(const struct map_opts *o)
{
	if (o->sh && o->cmd[0])
		return cmd_usage_error("map", "--sh takes the whole command; drop '%s' or --sh", o->cmd[0]);
	if (!o->sh && !o->cmd[0])
		return cmd_usage_error("map", "%s", "missing command: flame map [OPTIONS] -- CMD [ARG...]");
	if (o->resume && o->resume_failed)
		return cmd_usage_error("map", "%s", "--resume and --resume-failed: give one");
	if (o->line_buffer && o->keep_order)
		return cmd_usage_error("map", "%s", "--line-buffer passes lines as they come; drop it or -k");
	return 0;
}

static int parse_map_opts(int argc, char **argv, struct map_opts *o)
{
	struct cmd_parser parser;
	int c, rc;

	cmd_parser_init(&parser, "map");
	while ((c = cmd_parser_next(&parser, argc, argv)) != CMD_END) {
		if (c == CMD_HELP)
			return -2;
		if (c == CMD_BAD || take_option(c, o) < 0)
			return EXIT_USAGE;
	}
	rc = split_operands(argv + optind, o);
	return rc ? rc : check_opts(o);
}

static void free_opts(struct map_opts *o)
{
	free(o->puts);
	free(o->gets);
	free(o->envs);
}

int cmd_map(int argc, char **argv)
{
	struct map_opts o = { .pool = DEFAULT_POOL, .sep = '\n', .retries = 1 };
	struct pool_settings ps;
	int rc = parse_map_opts(argc, argv, &o);

	if (rc == -2) { /* --help: printed; touch nothing */
		free_opts(&o);
		return 0;
	}
	if (rc == 0)
		rc = client_find_pool(o.pool, &ps);
	if (rc == 0) {
		fd_limit_raise();
		rc = map_batch_run(&o, &ps);
	}
	free_opts(&o);
	return rc;
}
