/* commands.c — the table of commands and options (see commands.h), the
 * dispatcher that walks it, and the option parser built from it. */
#include "commands.h"
#include "cmds.h"
#include "duration.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NO_OPTION                      \
	{                              \
		NULL, 0, NULL, NULL, 0 \
	}

/* one entry a line: clang-format 14 would pack short rows */
/* clang-format off */
static const struct cmd_option flame_options[] = {
	{ "help", 'h', NULL, "show usage (also after any command)", 0 },
	{ "version", 'V', NULL, "show the version", 0 },
	NO_OPTION,
};

static const struct cmd_option run_options[] = {
	{ "pool", 'p', "NAME", "pool to run in (default: default)", 0 },
	{ "put", OPT_PUT, "FILE", "copy FILE into the job's directory first (repeatable)", 0 },
	{ "get", OPT_GET, "PATTERN", "fetch matching files afterwards (repeatable)", 0 },
	{ "get-dir", OPT_GET_DIR, "DIR", "where fetched files go (default: .)", 0 },
	{ "env", 'e', "NAME[=VALUE]", "set NAME in the job (repeatable); nothing else is inherited", 0 },
	{ "timeout", 't', "DURATION", "kill the job after DURATION (exit 124)", 0 },
	{ "slot-timeout", OPT_SLOT_TIMEOUT, "DURATION", "how long to wait for a free slot (exit 75)", 0 },
	{ "sh", OPT_SH, "STRING", "run STRING with /bin/sh -c", 0 },
	{ "verbose", 'v', NULL, "say where the job ran and how long it waited", 0 },
	NO_OPTION,
};

static const struct cmd_option map_options[] = {
	{ "pool", 'p', "NAME", "pool to run in (default: default)", 0 },
	{ "jobs", 'j', "N", "jobs at a time (default: every slot the pool can grow to)", 0 },
	{ "null", '0', NULL, "inputs end with NUL, not newline", 0 },
	{ "keep-order", 'k', NULL, "show output in the order of the inputs", 0 },
	{ "line-buffer", OPT_LINE_BUFFER, NULL, "pass output on line by line as it comes", 0 },
	{ "tag", OPT_TAG, NULL, "put the input and a tab before each line of output", 0 },
	{ "sh", OPT_SH, "STRING", "run STRING with /bin/sh -c, inputs quoted", 0 },
	{ "put", OPT_PUT, "FILE", "copy FILE into each job's directory first (repeatable)", 0 },
	{ "get", OPT_GET, "PATTERN", "fetch matching files after each job (repeatable)", 0 },
	{ "get-dir", OPT_GET_DIR, "DIR", "where fetched files go (default: .)", 0 },
	{ "env", 'e', "NAME[=VALUE]", "set NAME in every job (repeatable)", 0 },
	{ "timeout", 't', "DURATION", "kill a job after DURATION", 0 },
	{ "slot-timeout", OPT_SLOT_TIMEOUT, "DURATION", "how long a job may wait for a slot", 0 },
	{ "retries", OPT_RETRIES, "N", "tries per job when its runner is lost (default: 1)", 0 },
	{ "retry-failed-commands", OPT_RETRY_FAILED, NULL, "--retries also when the command fails", 0 },
	{ "halt", OPT_HALT, "SPEC", "stop early: now|soon,fail|success|done=N[%]", 0 },
	{ "joblog", OPT_JOBLOG, "FILE", "log each job in GNU parallel's format", 0 },
	{ "joblog-extra", OPT_JOBLOG_EXTRA, NULL, "add flame's columns to the joblog", 0 },
	{ "resume", OPT_RESUME, NULL, "skip the jobs the joblog has", 0 },
	{ "resume-failed", OPT_RESUME_FAILED, NULL, "skip the joblog's jobs that succeeded", 0 },
	{ "bar", OPT_BAR, NULL, "show progress on a terminal", 0 },
	{ "verbose", 'v', NULL, "say each job's command", 0 },
	NO_OPTION,
};

static const struct cmd_option pool_ls_options[] = {
	{ "json", OPT_JSON, NULL, "print one JSON document", 0 },
	NO_OPTION,
};

static const struct cmd_option pool_scale_options[] = {
	{ "min", OPT_MIN, "N", "the fewest runners to keep", 0 },
	{ "max", OPT_MAX, "N", "the most runners", 0 },
	{ "max-concurrency", OPT_MAX_CONCURRENCY, "N", "jobs at a time per runner", 0 },
	{ "stopped-max", OPT_STOPPED_MAX, "N", "stopped machines kept (fly)", 0 },
	NO_OPTION,
};

static const struct cmd_option help_options[] = {
	{ "table", OPT_TABLE, NULL, "print this table, for the tests", CMD_INTERNAL },
	NO_OPTION,
};

const struct command cmd_table[] = {
	{ "", NULL, "COMMAND [ARGS]", "run a command on a warm runner from a pool", NULL,
	  flame_options, 0 },
	{ "run", cmd_run, "[OPTIONS] [--] CMD [ARG...]\n[OPTIONS] --sh 'SHELL STRING'",
	  "run a command on a runner of a pool", NULL, run_options, CMD_OPTIONS_FIRST },
	{ "map", cmd_map, "[OPTIONS] [--] CMD [ARG...] [::: INPUT... | :::: FILE]\n[OPTIONS] --sh 'SHELL STRING' [::: INPUT... | :::: FILE]",
	  "run a command once per input, as GNU parallel does", NULL, map_options, CMD_OPTIONS_FIRST },
	{ "pool", NULL, "ls|scale|drain|key ...", "show the pools or change one", NULL, NULL, 0 },
	{ "pool ls", cmd_pool_ls, "[--json]", "show pools, their limits and runners", "list",
	  pool_ls_options, 0 },
	{ "pool scale", cmd_pool_scale,
	  "NAME [--min N] [--max N] [--max-concurrency N] [--stopped-max N]", "change a live pool's limits",
	  NULL, pool_scale_options, 0 },
	{ "pool drain", cmd_pool_drain, "NAME", "destroy the pool's stopped machines now", NULL, NULL, 0 },
	{ "pool key", cmd_pool_key, "NAME", "print the pool's SSH public key (made on first use)", NULL,
	  NULL, 0 },
	{ "warmer", NULL, "status|stop|run", "the per-user warmer that owns the pools", NULL, NULL, 0 },
	{ "warmer status", cmd_warmer_status, "", "exit 0 if the warmer runs, 3 if not", NULL, NULL, 0 },
	{ "warmer stop", cmd_warmer_stop, "", "let running jobs finish, then stop the warmer", NULL,
	  NULL, 0 },
	{ "warmer run", cmd_warmer_run, "", "run the warmer in the foreground", NULL, NULL, 0 },
	{ "agent", cmd_agent, "", "a runner's main process (a Fly Machine, an SSH host)", NULL, NULL,
	  CMD_MAN_ONLY },
	/* these two still parse their own arguments (cmd/agent_local.c, agent_slot.c) */
	{ "agent local", cmd_agent_local, "--fd FD --runner ID --root DIR --pool NAME [--idle-ms MS]",
	  "a local runner's main process, started by the warmer", NULL, NULL, CMD_INTERNAL },
	{ "agent slot", cmd_agent_slot, "in|out|keep TOKEN ...",
	  "a job slot on an ssh runner, started by the warmer over SSH", NULL, NULL, CMD_INTERNAL },
	{ "help", cmd_help, "[COMMAND]", "show usage, or a command's help", NULL, help_options, 0 },
	{ "version", cmd_version, "", "show the version", NULL, NULL, 0 },
	{ NULL, NULL, NULL, NULL, NULL, NULL, 0 },
};
/* clang-format on */

const struct command *cmd_find(const char *path)
{
	for (const struct command *c = cmd_table; c->path; c++)
		if (!strcmp(c->path, path))
			return c;
	return NULL;
}

/* The last word of c when c is a direct child of group, else NULL. */
static const char *child_word(const struct command *group, const struct command *c)
{
	size_t n = strlen(group->path);
	const char *rest = c->path + n;

	if (c == group || strncmp(c->path, group->path, n))
		return NULL;
	if (n && *rest++ != ' ')
		return NULL;
	return *rest && !strchr(rest, ' ') ? rest : NULL;
}

static const struct command *find_child(const struct command *group, const char *word)
{
	for (const struct command *c = cmd_table; c->path; c++) {
		const char *w = child_word(group, c);
		if (w && (!strcmp(w, word) || (c->alias && !strcmp(c->alias, word))))
			return c;
	}
	return NULL;
}

static int is_offered(const struct command *c)
{
	return !(c->flags & (CMD_MAN_ONLY | CMD_INTERNAL));
}

static int is_option_word(const struct cmd_option *o, const char *word)
{
	if (word[0] != '-')
		return 0;
	if (word[1] == '-')
		return !strcmp(word + 2, o->name);
	return o->key < 256 && word[1] == o->key && !word[2];
}

static int is_help_word(const char *word)
{
	return !strcmp(word, "-h") || !strcmp(word, "--help");
}

/* "use 'flame pool ls', 'flame pool scale' or 'flame pool key'" */
static void say_unknown(const struct command *group, const char *word)
{
	char use[512] = "";
	size_t len = 0, n = 0, i = 0;
	const struct command *c;

	if (!group->path[0]) {
		msg("unknown command '%.80s'; see 'flame help'", word);
		return;
	}
	for (c = cmd_table; c->path; c++)
		n += child_word(group, c) && is_offered(c);
	for (c = cmd_table; c->path && len < sizeof use; c++) {
		if (!child_word(group, c) || !is_offered(c))
			continue;
		len += (size_t)snprintf(use + len, sizeof use - len, "%s'flame %s'",
		                        i == 0       ? ""
		                        : i + 1 == n ? " or "
		                                     : ", ",
		                        c->path);
		i++;
	}
	msg("%s: unknown subcommand '%.80s'; use %s", group->path, word, use);
}

/* A group alone prints its usage; its options run the child of the same
 * name (`flame --version` is `flame version`). */
static int call_group(const struct command *group, int argc, char **argv)
{
	if (argc < 2) {
		cmd_print_usage(group, stderr);
		return EXIT_USAGE;
	}
	if (is_help_word(argv[1])) {
		cmd_print_usage(group, stdout);
		return 0;
	}
	for (const struct cmd_option *o = group->options; o && o->name; o++) {
		const struct command *c = find_child(group, o->name);
		if (c && c->fn && is_option_word(o, argv[1]))
			return c->fn(1, argv + 1);
	}
	say_unknown(group, argv[1]);
	return EXIT_USAGE;
}

int cmd_dispatch(int argc, char **argv)
{
	const struct command *c = cmd_find(""), *child;
	int at = 0; /* argv[at] is c's last word */

	while (at + 1 < argc && (child = find_child(c, argv[at + 1]))) {
		c = child;
		at++;
	}
	if (c->fn)
		return c->fn(argc - at, argv + at);
	return call_group(c, argc - at, argv + at);
}

void cmd_parser_init(struct cmd_parser *p, const char *path)
{
	const struct cmd_option *o;
	size_t n = 0, s = 0;

	memset(p, 0, sizeof *p);
	p->cmd = cmd_find(path);
	if (!p->cmd) /* a handler names a path the table lacks */
		abort();
	if (p->cmd->flags & CMD_OPTIONS_FIRST)
		p->shorts[s++] = '+';
	p->shorts[s++] = ':';
	for (o = p->cmd->options; o && o->name; o++, n++) {
		if (n == CMD_MAX_OPTIONS)
			abort();
		p->longs[n] =
			(struct option){ o->name, o->arg ? required_argument : no_argument, NULL, o->key };
		if (o->key >= 256)
			continue;
		p->shorts[s++] = (char)o->key;
		if (o->arg)
			p->shorts[s++] = ':';
	}
	p->longs[n] = (struct option){ "help", no_argument, NULL, 'h' };
	p->shorts[s] = 'h';
	opterr = 0;
	optind = 0;
}

int cmd_parser_next(struct cmd_parser *p, int argc, char **argv)
{
	const char *path = p->cmd->path, *word;
	char letter[3] = { '-', 0, 0 };
	int c = getopt_long(argc, argv, p->shorts, p->longs, NULL);

	if (c == -1)
		return CMD_END;
	if (c == 'h') {
		cmd_print_help(p->cmd, stdout);
		return CMD_HELP;
	}
	if (c == ':') {
		msg("%s: option '%s' needs a value; see 'flame %s --help'", path, argv[optind - 1], path);
		return CMD_BAD;
	}
	if (c != '?')
		return c;
	/* a short option in a cluster: optind may not have moved past it */
	word = argv[optind - 1];
	if (strncmp(word, "--", 2) && optopt > 0 && optopt < 256) {
		letter[1] = (char)optopt;
		word = letter;
	}
	msg("%s: unknown option '%s'; see 'flame %s --help'", path, word, path);
	return CMD_BAD;
}

int cmd_no_operands(const char *path, int argc, char **argv)
{
	struct cmd_parser p;
	int c;

	cmd_parser_init(&p, path);
	while ((c = cmd_parser_next(&p, argc, argv)) != CMD_END)
		if (c == CMD_HELP || c == CMD_BAD)
			return c;
	if (optind < argc) {
		msg("%s: unexpected argument '%.80s'; see 'flame %s --help'", path, argv[optind], path);
		return CMD_BAD;
	}
	return CMD_END;
}

int cmd_exit_status(int parsed)
{
	return parsed == CMD_HELP ? 0 : EXIT_USAGE;
}

int cmd_usage_error(const char *path, const char *fmt, const char *arg)
{
	char text[512];
	snprintf(text, sizeof text, fmt, arg);
	msg("%s: %s; see 'flame %s --help'", path, text, path);
	return EXIT_USAGE;
}

int cmd_parse_duration(const char *path, const char *opt, const char *arg, int64_t *out)
{
	if (duration_parse(arg, out) == 0 && *out > 0)
		return 0;
	msg("%s: %s '%.200s' is not a duration above zero such as 30s, 500ms or 5m", path, opt, arg);
	return -1;
}
