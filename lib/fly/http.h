/* fly_http.h — the Fly Machines API over HTTPS (libcurl): create, get, wait,
 * stop, destroy and list machines of one app.
 *
 * Promises:
 *  - the token (the first line of a token file, or one handed over, or
 *    FLY_API_TOKEN) travels
 *    only in the Authorization header: it never appears in an error message,
 *    and verbose tracing is never turned on; its memory is wiped on free;
 *  - every request is paced per action and machine (lib/fly/pace.h) and
 *    retried per fly_pace's policy, with backoff, within the call's overall
 *    deadline (timeout_ms); wait loops on 408 until that deadline;
 *  - create never makes two machines for one launch id: a create answered
 *    with 408 or 5xx, or left without an answer, is settled by listing the
 *    app's machines with metadata flame_launch=<launch id> before creating
 *    again, and a machine found there is the one created;
 *  - errors are one line: what was asked, the HTTP status and the server's
 *    text, and what to do ("fly: create machine in app X: 422 …; …");
 *  - a count of the HTTP requests made, for benchmarks.
 * One thread at a time per struct fly_api.  Linked only into the programs
 * that need it: libcurl costs every process that loads it ~7 ms at start-up,
 * so the CLI does not. */
#ifndef FLAME_FLY_HTTP_H
#define FLAME_FLY_HTTP_H

#include "fly_machine.h"

#include <stddef.h>

#define FLY_DEFAULT_BASE "https://api.machines.dev"

struct fly_api;

/* base: NULL for FLY_DEFAULT_BASE; the token is token_file's first line,
 * else TOKEN, else (both NULL) FLY_API_TOKEN's value.  NULL with a one-line
 * reason when there is no usable token or app. */
struct fly_api *fly_api_new(const char *base, const char *app, const char *token_file, const char *token,
                            char *err, size_t errlen);
void fly_api_free(struct fly_api *a);

/* HTTP requests made so far (every try counts). */
unsigned long fly_api_requests(const struct fly_api *a);
/* The HTTP status of the last answer (0: none arrived); e.g. 404 after a
 * failed get, stop or destroy means the machine is gone. */
int fly_api_last_status(const struct fly_api *a);
/* The longest single wait request in seconds, 1..60 (default 60, Fly's
 * maximum); longer waits are several.  Shorter only to test the looping. */
void fly_api_set_wait_poll(struct fly_api *a, int seconds);

/* Each call returns 0 on success, -1 with a one-line err otherwise; timeout_ms
 * bounds the whole call, retries and pacing included. */
int fly_create(struct fly_api *a, const struct fly_launch *l, struct fly_machine *m, int timeout_ms,
               char *err, size_t errlen);
int fly_get(struct fly_api *a, const char *id, struct fly_machine *m, int timeout_ms, char *err,
            size_t errlen);
/* Waits until machine ID (pinned to VERSION, its instance_id, when not
 * NULL, which Fly requires for "stopped") is in STATE ("started",
 * "stopped", "destroyed"…), within timeout_ms to the millisecond: the last
 * long poll is cut at the deadline (rounded up to whole seconds for the
 * server, which takes no less). */
int fly_wait(struct fly_api *a, const char *id, const char *version, const char *state, int timeout_ms,
             char *err, size_t errlen);
int fly_stop(struct fly_api *a, const char *id, int timeout_ms, char *err, size_t errlen);
/* Starts stopped machine ID (POST …/start; 412 when it is not stopped). */
int fly_start_machine(struct fly_api *a, const char *id, int timeout_ms, char *err, size_t errlen);
/* Destroys machine ID, killing it first if it runs (?force=true). */
int fly_destroy(struct fly_api *a, const char *id, int timeout_ms, char *err, size_t errlen);
/* The app's machines whose config.metadata has every filter's key = value
 * (none: all of them); *v is a malloc'd vector for fly_machines_free(). */
int fly_list(struct fly_api *a, const struct fly_kv *filters, size_t nfilters, struct fly_machine **v,
             size_t *n, int timeout_ms, char *err, size_t errlen);
/* The same with the destroyed machines Fly still remembers (how one ended). */
int fly_list_deleted(struct fly_api *a, const struct fly_kv *filters, size_t nfilters, struct fly_machine **v,
                     size_t *n, int timeout_ms, char *err, size_t errlen);

#endif
