/* cmds.h — one handler per command (cmd/NAME.c), named by the table of
 * commands (commands.c), which dispatches to it: argv[0] is the command's
 * last word, its options and operands follow. */
#ifndef FLAME_CMDS_H
#define FLAME_CMDS_H

int cmd_run(int argc, char **argv);
int cmd_map(int argc, char **argv);
int cmd_pool_ls(int argc, char **argv);
int cmd_pool_scale(int argc, char **argv);
int cmd_pool_drain(int argc, char **argv);
int cmd_pool_key(int argc, char **argv);
int cmd_warmer_status(int argc, char **argv);
int cmd_warmer_stop(int argc, char **argv);
int cmd_warmer_run(int argc, char **argv);
int cmd_agent(int argc, char **argv);
int cmd_agent_slot(int argc, char **argv);
int cmd_agent_local(int argc, char **argv);
int cmd_help(int argc, char **argv);
int cmd_version(int argc, char **argv);

#endif
