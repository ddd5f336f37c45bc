/* fly_token.h — how the Fly API token reaches the warmer without sitting in
 * any long-lived process's environment or command line.
 *
 * Promises:
 *  - the `flame` that starts the warmer hands FLY_API_TOKEN over a pipe
 *    (descriptor FLY_TOKEN_FD, named by FLAME_FLY_TOKEN_FD) and takes it out
 *    of the warmer's environment before exec;
 *  - the warmer takes it once at start (from that pipe, or from its own
 *    FLY_API_TOKEN, whose bytes it wipes in place so /proc/PID/environ no
 *    longer shows them) and keeps it in memory only; it reaches links on
 *    their settings descriptor (runner_proc.h), never on disk. */
#ifndef FLAME_FLY_TOKEN_H
#define FLAME_FLY_TOKEN_H

#define FLY_TOKEN_FD 3

/* In the warmer's child just before exec (descriptors 3.. closed): moves
 * FLY_API_TOKEN, if set, from the environment to a pipe on FLY_TOKEN_FD. */
void fly_token_hand_over(void);
/* In the warmer at start: the token (malloc'd) or NULL; afterwards neither
 * the environment nor any descriptor holds it. */
char *fly_token_take(void);

#endif
