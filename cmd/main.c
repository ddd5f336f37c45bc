/* main.c — flame's entry point: one table entry per subcommand. */
#include "cmds.h"
#include "util.h"
#include "wire.h"

#include <stdio.h>
#include <string.h>

#ifndef FLAME_VERSION
#define FLAME_VERSION "0.0.0"
#endif

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
};

/* one command a line: clang-format 14 would pack short rows */
/* clang-format off */
static const struct command commands[] = {
	{ "run", cmd_run },
	{ "pool", cmd_pool },
	{ "warmer", cmd_warmer },
	{ "agent", cmd_agent },
	{ "help", cmd_help },
	{ "version", cmd_version },
};
/* clang-format on */

int cmd_version(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("flame %s (protocol %d)\n", FLAME_VERSION, WIRE_PROTOCOL);
	return 0;
}

/* Usage goes to stdout when asked for, to stderr after a wrong call. */
static void print_usage(FILE *f)
{
	fprintf(f, "usage: flame COMMAND [ARGS]\n\n"
	           "  run [OPTIONS] [--] CMD [ARG...]   run a command on a runner of a pool\n"
	           "  pool ls [--json]                  show pools, their limits and runners\n"
	           "  pool scale NAME [--min N] [--max N] [--max-concurrency N]\n"
	           "                                    change a live pool's limits\n"
	           "  pool key NAME                     print the pool's SSH public key (made on first use)\n"
	           "  warmer status|stop|run            the per-user warmer that owns the pools\n"
	           "  help, version\n\n"
	           "'flame run --help' lists run's options; flame(1) has the details.\n");
}

int cmd_help(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	print_usage(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		print_usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))
		return cmd_help(argc, argv);
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V"))
		return cmd_version(argc, argv);
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	msg("unknown command '%.80s'; see 'flame help'", argv[1]);
	return EXIT_USAGE;
}
