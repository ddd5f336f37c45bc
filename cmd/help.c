/* help.c — `flame help`: usage, each command's help and the table itself,
 * all printed from the table of commands (commands.h). */
#include "cmds.h"
#include "commands.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

#define SUMMARY_COLUMN 36
#define OPTION_WIDTH 24

static int is_offered(const struct command *c)
{
	return !(c->flags & (CMD_MAN_ONLY | CMD_INTERNAL));
}

/* Whether c is group itself or below it. */
static int is_under(const struct command *c, const struct command *group)
{
	size_t n = strlen(group->path);
	return !strncmp(c->path, group->path, n) && (!n || !c->path[n] || c->path[n] == ' ');
}

/* The length of the first synopsis form. */
static int first_form(const char *synopsis)
{
	return (int)strcspn(synopsis, "\n");
}

static void print_synopses(const struct command *c, FILE *f, const char *lead)
{
	const char *s = c->synopsis;
	for (;;) {
		int n = first_form(s);
		fprintf(f, "%sflame %s%s%.*s\n", lead, c->path, n ? " " : "", n, s);
		if (!s[n])
			return;
		s += n + 1;
		lead = "       ";
	}
}

/* One line a command: "  pool key NAME        print ..." */
static void print_overview(FILE *f)
{
	fprintf(f, "usage: flame %s\n\n", cmd_find("")->synopsis);
	for (const struct command *c = cmd_table; c->path; c++) {
		int n, width;
		if (!c->fn || !is_offered(c))
			continue;
		n = first_form(c->synopsis);
		width = fprintf(f, "  %s%s%.*s", c->path, n ? " " : "", n, c->synopsis);
		if (width >= SUMMARY_COLUMN)
			fprintf(f, "\n%*s%s\n", SUMMARY_COLUMN, "", c->summary);
		else
			fprintf(f, "%*s%s\n", SUMMARY_COLUMN - width, "", c->summary);
	}
	fprintf(f, "\n'flame COMMAND --help' lists a command's options; flame(1) has the details.\n");
}

void cmd_print_usage(const struct command *group, FILE *f)
{
	const char *lead = "usage: ";

	if (!group->path[0]) {
		print_overview(f);
		return;
	}
	for (const struct command *c = cmd_table; c->path; c++) {
		if (!c->fn || !is_under(c, group) || (c != group && !is_offered(c)))
			continue;
		print_synopses(c, f, lead);
		lead = "       ";
	}
}

static void print_option(FILE *f, const struct cmd_option *o)
{
	char left[80];

	if (o->flags & CMD_INTERNAL)
		return;
	snprintf(left, sizeof left, "%c%c%c --%s%s%s", o->key < 256 ? '-' : ' ', o->key < 256 ? o->key : ' ',
	         o->key < 256 ? ',' : ' ', o->name, o->arg ? " " : "", o->arg ? o->arg : "");
	if (strlen(left) > OPTION_WIDTH)
		fprintf(f, "  %s  %s\n", left, o->help);
	else
		fprintf(f, "  %-*s %s\n", OPTION_WIDTH, left, o->help);
}

void cmd_print_help(const struct command *c, FILE *f)
{
	static const struct cmd_option help = { "help", 'h', NULL, "show this help", 0 };

	if (!c->fn) {
		cmd_print_usage(c, f);
		return;
	}
	print_synopses(c, f, "usage: ");
	fprintf(f, "\n%s\n\n", c->summary);
	for (const struct cmd_option *o = c->options; o && o->name; o++)
		print_option(f, o);
	print_option(f, &help);
	fprintf(f, "flame(1) has the details.\n");
}

static const char *visibility(unsigned flags)
{
	if (flags & CMD_INTERNAL)
		return "internal";
	return flags & CMD_MAN_ONLY ? "man" : "public";
}

/* For the tests (t9004), tab-separated:
 *   command PATH VISIBILITY SYNOPSIS-FORMS SUMMARY
 *   alias   PATH VISIBILITY COMMAND-PATH
 *   option  PATH VISIBILITY --LONG -SHORT|- ARG|- HELP */
void cmd_print_table(FILE *f)
{
	for (const struct command *c = cmd_table; c->path; c++) {
		const char *sp = c->path[0] ? " " : "";
		fprintf(f, "command\tflame%s%s\t%s\t", sp, c->path, visibility(c->flags));
		for (const char *s = c->synopsis; *s; s++)
			fputc(*s == '\n' ? '|' : *s, f);
		fprintf(f, "\t%s\n", c->summary);
		if (c->alias)
			fprintf(f, "alias\tflame %.*s%s\tinternal\tflame%s%s\n",
			        (int)(strrchr(c->path, ' ') - c->path + 1), c->path, c->alias, sp, c->path);
		for (const struct cmd_option *o = c->options; o && o->name; o++)
			fprintf(f, "option\tflame%s%s\t%s\t--%s\t%s%c\t%s\t%s\n", sp, c->path,
			        visibility(c->flags | o->flags), o->name, o->key < 256 ? "-" : "",
			        o->key < 256 ? o->key : '-', o->arg ? o->arg : "-", o->help);
	}
}

static int help_on(char **words, int n)
{
	char path[256] = "";
	const struct command *c;

	for (int i = 0; i < n; i++)
		snprintf(path + strlen(path), sizeof path - strlen(path), "%s%s", i ? " " : "", words[i]);
	c = cmd_find(path);
	if (!c || (c->flags & CMD_INTERNAL)) {
		msg("help: no command 'flame %.80s'; see 'flame help'", path);
		return EXIT_USAGE;
	}
	cmd_print_help(c, stdout);
	return 0;
}

int cmd_help(int argc, char **argv)
{
	struct cmd_parser p;
	int c, table = 0;

	cmd_parser_init(&p, "help");
	while ((c = cmd_parser_next(&p, argc, argv)) != CMD_END) {
		if (c == CMD_HELP || c == CMD_BAD)
			return cmd_exit_status(c);
		if (c == OPT_TABLE)
			table = 1;
	}
	if (table)
		cmd_print_table(stdout);
	else if (optind < argc)
		return help_on(argv + optind, argc - optind);
	else
		cmd_print_usage(cmd_find(""), stdout);
	return fflush(stdout) == 0 ? 0 : EXIT_FAILURE_FLAME;
}
