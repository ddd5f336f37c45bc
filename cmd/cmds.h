/* cmds.h — one entry point per subcommand (cmd/NAME.c), dispatched by main.c. */
#ifndef FLAME_CMDS_H
#define FLAME_CMDS_H

int cmd_run(int argc, char **argv);
int cmd_pool(int argc, char **argv);
int cmd_pool_ls(int argc, char **argv);
int cmd_pool_scale(int argc, char **argv);
int cmd_pool_key(int argc, char **argv);
int cmd_warmer(int argc, char **argv);
int cmd_agent(int argc, char **argv);
int cmd_agent_slot(int argc, char **argv);
int cmd_agent_local(int argc, char **argv);
int cmd_help(int argc, char **argv);
int cmd_version(int argc, char **argv);

#endif
