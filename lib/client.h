/* client.h — the CLI's side of the warmer socket: connect (starting a warmer
 * on demand, detached, its output in the log), and the request encodings the
 * warmer reads. */
#ifndef FLAME_CLIENT_H
#define FLAME_CLIENT_H

#include "config.h"
#include "wire.h"

#include <stddef.h>
#include <sys/types.h>

/* A connected socket, or -1 with err.  With start set, a missing warmer is
 * started and waited for (up to a few seconds). */
int client_connect(int start, char *err, size_t errlen);

/* The reader for a connection client_connect() made: it wants the
 * warmer's hello first (wire.h). */
void client_conn_init(struct wire_conn *conn, int sock);

/* Whether the warmer of the last connection is a `flame warmer run` of
 * another executable than ours.  One that closed the connection before its
 * hello is then a flame from before the hello (which drops ours as
 * corrupt), not a warmer that was exiting. */
int client_warmer_is_other_build(void);

/* Sends a frame and reads the one reply (blocking).  Returns the reply type,
 * -1 with err when the warmer went away, or CLIENT_OTHER_PROTOCOL with err
 * saying so (client_refusal) when it speaks another protocol (or closed the
 * connection before its hello and is another build, as above). */
#define CLIENT_OTHER_PROTOCOL (-2)
int client_call(int sock, struct wbuf *req, struct wire_conn *conn, struct rbuf *reply, char *err,
                size_t errlen);

/* The one line for a warmer of another protocol, and its pid (from the last
 * client_connect: `flame warmer stop` signals it when it cannot ask it). */
void client_refusal(const struct wire_conn *conn, char *err, size_t errlen);
pid_t client_warmer_pid(void);

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

/* Sends request W to the warmer (started if none runs), prints its W_REPLY
 * text on stdout or its error as one line: the exit status. */
int client_ask(struct wbuf *w);

/* Path of the warmer log (malloc'd), for messages that point at it. */
char *client_log_path(void);

#endif
