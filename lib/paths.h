/* paths.h — where flame keeps its socket, journal, log, config and scratch
 * directories.  Every directory flame uses is 0700 and owned by the user:
 * one owned by someone else is refused, one of ours with open modes is made
 * 0700. */
#ifndef FLAME_PATHS_H
#define FLAME_PATHS_H

#include <stddef.h>

/* Each returns a malloc'd path, creating the directory (0700) when asked to;
 * NULL with an explanation in err on failure. */
/* $XDG_RUNTIME_DIR/flame, else /tmp/flame-UID, else (that name taken by
 * another user) the state dir's run/. */
char *paths_runtime_dir(char *err, size_t errlen);
/* The warmer's socket path, without creating or checking anything: only the
 * warmer creates it, in a directory it checked. */
char *paths_runtime_socket(void);
char *paths_state_dir(char *err, size_t errlen); /* $XDG_STATE_HOME/flame or ~/.local/state/flame */
/* $TMPDIR/flame-UID/jobs, else $XDG_RUNTIME_DIR/flame/jobs, else
 * /tmp/flame-UID/jobs; where the shared name is another user's, a private
 * flame-UID.XXXXXX of ours beside it. */
char *paths_scratch_root(char *err, size_t errlen);
char *paths_user_config(void); /* $XDG_CONFIG_HOME/flame/config.json (not created) */

/* mkdir -p; the last component is made 0700 and checked to be private. */
int paths_private_dir(const char *path, char *err, size_t errlen);

/* Removes a directory tree without following symlinks; 0 on success. */
int paths_remove_tree(const char *path);

#endif
