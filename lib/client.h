/* client.h — the CLI's side of the warmer socket: connect (starting a warmer
 * on demand, detached, its output in the log), and the request encodings the
 * warmer reads. */
#ifndef FLAME_CLIENT_H
#define FLAME_CLIENT_H

#include "config.h"
#include "wire.h"

#include <stddef.h>

/* A connected socket, or -1 with err.  With start set, a missing warmer is
 * started and waited for (up to a few seconds). */
int client_connect(int start, char *err, size_t errlen);

/* Sends a frame and reads the one reply (blocking).  Returns the reply type,
 * or -1 with err when the warmer went away. */
int client_call(int sock, struct wbuf *req, struct wire_conn *conn, struct rbuf *reply, char *err,
                size_t errlen);

void client_put_settings(struct wbuf *w, const struct pool_settings *ps);

/* The settings of the pool a command names: 0, or EXIT_USAGE after one line
 * that says why not (an unknown pool, a bad configuration). */
int client_find_pool(const char *name, struct pool_settings *ps);

/* Decodes the warmer's answer (client_call's type and reply).  W_REPLY: 0,
 * and *text is its text (malloc'd).  Else *text is NULL, err says what came
 * instead (W_ERROR's text, or that the answer made no sense; client_call's
 * err is kept when type < 0) and the return is the exit status it asks for:
 * W_ERROR's code, else EXIT_FAILURE_FLAME. */
int client_reply(int type, struct rbuf *r, char **text, char *err, size_t errlen);

/* Path of the warmer log (malloc'd), for messages that point at it. */
char *client_log_path(void);

#endif
