/* http_internal.h — private to lib/fly's Machines API client (http.h): the
 * client (struct fly_api), one API call with its retries (struct call) and
 * one answer (struct reply), shared by its files, one job each: http.c
 * (the client: its handle and token), secret.c (reading the token, and
 * keeping it out of memory and messages), request.c (one paced request,
 * retried within the call's deadline, and its error message), machines.c
 * (get, stop, destroy, list, wait), create.c (create, never twice). */
#ifndef FLAME_FLY_HTTP_INTERNAL_H
#define FLAME_FLY_HTTP_INTERNAL_H

#include "http.h"
#include "pace.h"

#include <curl/curl.h>
#include <stdint.h>

#ifndef FLAME_VERSION
#define FLAME_VERSION "0"
#endif

#define DEFAULT_TIMEOUT_MS 60000
#define REQUEST_MAX_MS 30000 /* one try of anything but wait */
#define CONNECT_MAX_MS 10000
#define WAIT_MAX_S 60        /* the server refuses longer waits (§2.4) */
#define WAIT_MARGIN_MS 10000 /* the HTTP timeout of a wait exceeds its long poll */
#define LAST_TRY_MS 150      /* a try is sent with at least this long to go */
#define WAIT_LATE_MS 250     /* ...but passes the wait's deadline by no more than this */
#define SETTLE_MIN_MS 10000  /* a lost create is looked for even past the deadline */
#define BACKOFF_BASE_MS 500
#define BACKOFF_CAP_MS 8000
#define BODY_MAX (16 << 20)

struct fly_api {
	CURL *curl;
	char *base; /* without a trailing slash */
	char *app;
	char *token;                 /* as read; wiped on free */
	char **secrets;              /* token and its pieces, scrubbed from messages */
	struct curl_slist *hdr;      /* Authorization, Accept */
	struct curl_slist *hdr_json; /* the same and Content-Type: application/json */
	struct fly_pace *pace;
	unsigned long requests;
	int last_status;
	int wait_poll_s; /* the longest single wait request */
	uint64_t rng;
	char cerr[CURL_ERROR_SIZE]; /* libcurl's last error text */
};

struct reply {
	long status; /* 0: no (whole) answer */
	CURLcode cc;
	char *body;
	size_t len;
	int too_long;
	char request_id[80];
	char cerr[CURL_ERROR_SIZE];
};

/* One API call: its retries share the deadline and the count of tries. */
struct call {
	struct fly_api *a;
	enum fly_action act;
	const char *key; /* the pacing key: machine id or app name */
	char *what;      /* "create machine in app X", for messages */
	int machine;     /* a 404 means the machine, not the app, is unknown */
	int64_t deadline;
	int tries;
};

/* http.c */
int api_name_ok(const char *s); /* an app name or machine id */

/* secret.c */
void wipe_free(char *s);
void wipe_headers(struct curl_slist *l);
char *read_token(const char *file, const char *given, char *err, size_t errlen);
char **token_secrets(const char *tok);
void scrub_token(const struct fly_api *a, char *msg, size_t size);

/* request.c */
CURLcode setup_handle(struct fly_api *a);
void reply_reset(struct reply *r);
void call_init(struct call *c, struct fly_api *a, enum fly_action act, const char *key, int timeout_ms,
               char *what);
int64_t call_left_ms(const struct call *c);
int call_try_once(struct call *c, const char *method, const char *url, const char *body, int64_t timeout_ms,
                  int fresh, struct reply *r);
int64_t call_try_timeout(const struct call *c);
int call_backoff(struct call *c, const struct reply *r);
int reply_ok(const struct reply *r);
int call_failed(const struct call *c, const struct reply *r, char *err, size_t errlen);
int call_request(struct call *c, const char *method, const char *url, const char *body, struct reply *r,
                 char *err, size_t errlen);

/* machines.c */
int list_in(struct call *c, const struct fly_kv *f, size_t nf, int deleted, struct fly_machine **v, size_t *n,
            char *err, size_t errlen);

#endif
