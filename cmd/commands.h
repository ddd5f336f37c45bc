/* commands.h — the one table of flame's commands and their options.  It
 * dispatches (main → command path → handler), builds each command's
 * getopt_long array, prints usage and help, and is what the man page and the
 * shell completions are checked against (`flame help --table`, t9004): an
 * option or a command exists in this table and nowhere else in cmd/. */
#ifndef FLAME_COMMANDS_H
#define FLAME_COMMANDS_H

#include <getopt.h>
#include <stdint.h>
#include <stdio.h>

/* The key of an option: its short letter, or one of these when it has none
 * (getopt_long returns the key either way). */
enum cmd_option_key {
	OPT_PUT = 256,
	OPT_GET,
	OPT_GET_DIR,
	OPT_SLOT_TIMEOUT,
	OPT_SH,
	OPT_JSON,
	OPT_MIN,
	OPT_MAX,
	OPT_MAX_CONCURRENCY,
	OPT_TABLE,
	OPT_TAG,
	OPT_RETRIES,
	OPT_RETRY_FAILED,
	OPT_HALT,
	OPT_JOBLOG,
	OPT_JOBLOG_EXTRA,
	OPT_RESUME,
	OPT_RESUME_FAILED,
	OPT_BAR,
	OPT_LINE_BUFFER,
	OPT_STOPPED_MAX,
};

/* Who a command or an option is for. */
#define CMD_MAN_ONLY 0x1      /* documented in flame(1), not offered by help or completion */
#define CMD_INTERNAL 0x2      /* started by flame itself: dispatched, never offered */
#define CMD_OPTIONS_FIRST 0x4 /* options end at the first operand (run: the job's own follow) */

struct cmd_option {
	const char *name; /* long name, without the dashes */
	int key;          /* short letter, or an OPT_ key for a long-only option */
	const char *arg;  /* the value's name in help; NULL when it takes none */
	const char *help;
	unsigned flags; /* CMD_INTERNAL: parsed, never shown */
};

struct command {
	const char *path;                 /* the words after "flame" ("pool scale"); "" for flame */
	int (*fn)(int argc, char **argv); /* argv[0] is the last word of the path; NULL: a group */
	const char *synopsis;             /* after the path; '\n' between alternative forms */
	const char *summary;
	const char *alias;                /* another last word it answers to, never offered */
	const struct cmd_option *options; /* ends with a NULL name; every command also takes -h */
	unsigned flags;
};

/* The table, in the order help lists it; ends with a NULL path. */
extern const struct command cmd_table[];

/* The entry of a path ("pool scale"), or NULL. */
const struct command *cmd_find(const char *path);

/* Runs the command that argv names (argv[0] is the program). */
int cmd_dispatch(int argc, char **argv);

/* A command's options, for getopt_long.  cmd_parser_next returns an option's
 * key, or: */
#define CMD_END (-1)  /* no more options: operands start at optind */
#define CMD_HELP (-2) /* -h or --help: the command's help is printed (exit 0) */
#define CMD_BAD (-3)  /* a wrong option: one line said why (exit EXIT_USAGE) */
#define CMD_MAX_OPTIONS 31

struct cmd_parser {
	const struct command *cmd;
	struct option longs[CMD_MAX_OPTIONS + 2]; /* cmd's options, then help */
	char shorts[2 * CMD_MAX_OPTIONS + 5];
};

/* Prepares to parse the options of the command at path (a path the table
 * lacks is a programming error: abort). */
void cmd_parser_init(struct cmd_parser *p, const char *path);
int cmd_parser_next(struct cmd_parser *p, int argc, char **argv);

/* For commands that take neither operands nor options but -h: CMD_END to
 * go on, else CMD_HELP or CMD_BAD (the help or the reason said). */
int cmd_no_operands(const char *path, int argc, char **argv);

/* One line "PATH: TEXT; see 'flame PATH --help'" (TEXT is fmt with arg),
 * and EXIT_USAGE to return. */
int cmd_usage_error(const char *path, const char *fmt, const char *arg);
/* An option's duration, above zero: 0, or -1 after one line "PATH: ...". */
int cmd_parse_duration(const char *path, const char *opt, const char *arg, int64_t *out);

/* The exit status after CMD_HELP (0) or CMD_BAD (EXIT_USAGE). */
int cmd_exit_status(int parsed);

/* Usage and help, from the table (cmd/help.c).  Usage goes to stdout when
 * asked for, to stderr after a wrong call. */
void cmd_print_usage(const struct command *group, FILE *f);
void cmd_print_help(const struct command *c, FILE *f);
void cmd_print_table(FILE *f);

#endif
