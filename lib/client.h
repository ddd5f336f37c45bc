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

/* Path of the warmer log (malloc'd), for messages that point at it. */
char *client_log_path(void);

#endif
