/* fly_http.c — see fly_http.h. */
#include "http.h"
#include "pace.h"
#include "util.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

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

static CURLcode setup_handle(struct fly_api *a);

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc = CURLE_FAILED_INIT;

static void init_curl(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void sleep_ms(int64_t ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000 };
	while (ms > 0 && nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static uint32_t rnd(void *ctx)
{
	uint64_t *s = ctx; /* xorshift64*: jitter needs spread, not secrecy */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return (uint32_t)((*s * 2685821657736338717ULL) >> 32);
}

/* ------------------------------------------------------------ secrets ---- */

static void wipe_free(char *s)
{
	if (!s)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

static void wipe_headers(struct curl_slist *l)
{
	for (struct curl_slist *p = l; p; p = p->next)
		explicit_bzero(p->data, strlen(p->data));
	curl_slist_free_all(l);
}

static int token_ok(const char *t, const char *from, char *err, size_t errlen)
{
	if (!*t) {
		snprintf(err, errlen,
		         "no Fly API token in %s: set FLY_API_TOKEN (fly tokens deploy prints one)", from);
		return -1;
	}
	for (const char *p = t; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			snprintf(err, errlen,
			         "the Fly API token in %s contains a control character: store it on "
			         "one line",
			         from);
			return -1;
		}
	return 0;
}

/* The token without surrounding blanks, from FILE's first line, GIVEN or
 * FLY_API_TOKEN. */
static char *read_token(const char *file, const char *given, char *err, size_t errlen)
{
	char *line = NULL, *s, *e, *tok;
	size_t cap = 0;
	const char *from = file ? file : "FLY_API_TOKEN";

	if (file) {
		FILE *f = fopen(file, "re");
		if (!f) {
			snprintf(err, errlen, "cannot read the Fly API token file %s: %s", file,
			         strerror(errno));
			return NULL;
		}
		if (getline(&line, &cap, f) < 0) {
			free(line);
			line = xstrdup("");
		}
		fclose(f);
	} else if (given) {
		line = xstrdup(given);
	} else {
		line = xstrdup(getenv("FLY_API_TOKEN") ? getenv("FLY_API_TOKEN") : "");
	}
	for (s = line; *s == ' ' || *s == '\t'; s++)
		;
	for (e = s + strlen(s); e > s && (e[-1] == '\n' || e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t');)
		e--;
	tok = xasprintf("%.*s", (int)(e - s), s);
	wipe_free(line);
	if (token_ok(tok, from, err, errlen) < 0) {
		wipe_free(tok);
		return NULL;
	}
	return tok;
}

/* What could leak the token into a message: the whole token, and its pieces
 * (a "FlyV1 fm2_…,fm2_…" header value holds several macaroons). */
static char **token_secrets(const char *tok)
{
	const char *body = tok;
	char **v;
	size_t n = 2;

	if (!strncasecmp(body, "FlyV1 ", 6))
		body += 6;
	else if (!strncasecmp(body, "Bearer ", 7))
		body += 7;
	for (const char *p = body; *p; p++)
		n += *p == ',';
	v = xcalloc(n + 2, sizeof *v);
	n = 0;
	v[n++] = xstrdup(tok);
	while (*body) {
		size_t len = strcspn(body, ",");
		if (len)
			v[n++] = xasprintf("%.*s", (int)len, body);
		body += len + (body[len] == ',');
	}
	return v;
}

/* Replaces every piece of the token in msg by "[token]". */
static void scrub(const struct fly_api *a, char *msg, size_t size)
{
	static const char mark[] = "[token]";
	const size_t ml = sizeof mark - 1;

	for (char **s = a->secrets; *s; s++) {
		size_t sl = strlen(*s);
		char *p = msg;
		while (sl && (p = strstr(p, *s))) {
			size_t head = (size_t)(p - msg), tail = strlen(p + sl);
			if (head + ml >= size) {
				*p = 0;
				break;
			}
			if (head + ml + tail >= size)
				tail = size - 1 - head - ml;
			memmove(p + ml, p + sl, tail);
			p[ml + tail] = 0;
			memcpy(p, mark, ml);
			p += ml;
		}
	}
}

/* ---------------------------------------------------------- the handle --- */

static int name_ok(const char *s)
{
	if (!s || !*s || strlen(s) > 63)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      *s == '-' || *s == '_'))
			return 0;
	return 1;
}

static struct curl_slist *headers(const char *auth, int json)
{
	struct curl_slist *l = NULL, *n;
	const char *h[] = { auth, "Accept: application/json",
		            json ? "Content-Type: application/json" : NULL };
	for (size_t i = 0; i < 3 && h[i]; i++) {
		n = curl_slist_append(l, h[i]);
		if (!n) {
			wipe_headers(l);
			return NULL;
		}
		l = n;
	}
	return l;
}

static int set_auth(struct fly_api *a, char *err, size_t errlen)
{
	/* a "FlyV1 …" token is a whole header value (fly tokens deploy) */
	int verbatim = !strncmp(a->token, "FlyV1 ", 6);
	char *auth = xasprintf("Authorization: %s%s", verbatim ? "" : "Bearer ", a->token);
	a->hdr = headers(auth, 0);
	a->hdr_json = headers(auth, 1);
	wipe_free(auth);
	if (!a->hdr || !a->hdr_json) {
		snprintf(err, errlen, "out of memory setting up the Fly API client");
		return -1;
	}
	return 0;
}

struct fly_api *fly_api_new(const char *base, const char *app, const char *token_file, const char *token,
                            char *err, size_t errlen)
{
	struct fly_api *a;
	size_t bl;

	if (!name_ok(app)) {
		snprintf(err, errlen,
		         "the Fly app name '%.63s' is not valid: use the name fly apps list shows",
		         app ? app : "");
		return NULL;
	}
	pthread_once(&curl_once, init_curl);
	if (curl_init_rc != CURLE_OK) {
		snprintf(err, errlen, "cannot initialise libcurl: %s", curl_easy_strerror(curl_init_rc));
		return NULL;
	}
	a = xcalloc(1, sizeof *a);
	a->base = xstrdup(base && *base ? base : FLY_DEFAULT_BASE);
	for (bl = strlen(a->base); bl > 0 && a->base[bl - 1] == '/'; bl--)
		a->base[bl - 1] = 0;
	a->app = xstrdup(app);
	a->wait_poll_s = WAIT_MAX_S;
	a->pace = fly_pace_new();
	a->rng = (uint64_t)now_ms() * 0x9e3779b97f4a7c15ULL ^ (uint64_t)getpid() ^ (uintptr_t)a;
	a->rng |= 1;
	a->token = read_token(token_file, token, err, errlen);
	if (!a->token || set_auth(a, err, errlen) < 0) {
		fly_api_free(a);
		return NULL;
	}
	a->secrets = token_secrets(a->token);
	a->curl = curl_easy_init();
	if (!a->curl || setup_handle(a) != CURLE_OK) {
		snprintf(err, errlen, "cannot initialise libcurl");
		fly_api_free(a);
		return NULL;
	}
	return a;
}

void fly_api_free(struct fly_api *a)
{
	if (!a)
		return;
	if (a->curl)
		curl_easy_cleanup(a->curl);
	wipe_headers(a->hdr);
	wipe_headers(a->hdr_json);
	wipe_free(a->token);
	for (char **s = a->secrets; s && *s; s++)
		wipe_free(*s);
	free(a->secrets);
	fly_pace_free(a->pace);
	free(a->base);
	free(a->app);
	free(a);
}

unsigned long fly_api_requests(const struct fly_api *a)
{
	return a->requests;
}

int fly_api_last_status(const struct fly_api *a)
{
	return a->last_status;
}

void fly_api_set_wait_poll(struct fly_api *a, int seconds)
{
	a->wait_poll_s = seconds < 1 ? 1 : seconds > WAIT_MAX_S ? WAIT_MAX_S : seconds;
}

/* ------------------------------------------------------ one HTTP request -- */

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
	struct reply *r = ud;
	size_t len = size * n;
	if (r->len + len > BODY_MAX) {
		r->too_long = 1;
		return 0;
	}
	r->body = xrealloc(r->body, r->len + len + 1);
	memcpy(r->body + r->len, p, len);
	r->len += len;
	r->body[r->len] = 0;
	return len;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
	static const char name[] = "fly-request-id:";
	struct reply *r = ud;
	size_t len = size * n, k = sizeof name - 1;
	if (len > k && !strncasecmp(p, name, k)) {
		const char *v = p + k;
		size_t vl = len - k;
		while (vl && (*v == ' ' || *v == '\t'))
			v++, vl--;
		while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' '))
			vl--;
		snprintf(r->request_id, sizeof r->request_id, "%.*s", (int)vl, v);
	}
	return len;
}

static void reply_reset(struct reply *r)
{
	free(r->body);
	memset(r, 0, sizeof *r);
}

/* Never CURLOPT_VERBOSE: its trace would print the Authorization header. */
#define SET(opt, val)                                       \
	do {                                                \
		if (cc == CURLE_OK)                         \
			cc = curl_easy_setopt(h, opt, val); \
	} while (0)

/* The options every request shares.  Set once: curl_easy_reset() between
 * requests would leak the cookie file list (libcurl 7.88). */
static CURLcode setup_handle(struct fly_api *a)
{
	CURL *h = a->curl;
	CURLcode cc = CURLE_OK;
	SET(CURLOPT_NOSIGNAL, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
#else
	SET(CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	SET(CURLOPT_USERAGENT, "flame/" FLAME_VERSION);
	SET(CURLOPT_TCP_KEEPALIVE, 1L);
	SET(CURLOPT_COOKIEFILE, ""); /* keeps fly_flaps_affinity cookies (§1) */
	SET(CURLOPT_WRITEFUNCTION, on_body);
	SET(CURLOPT_HEADERFUNCTION, on_header);
	SET(CURLOPT_ERRORBUFFER, a->cerr);
	return cc;
}

/* What differs per request; every such option is set every time. */
static CURLcode setup(struct fly_api *a, const char *method, const char *url, const char *body,
                      int64_t timeout_ms, int fresh, struct reply *r)
{
	CURL *h = a->curl;
	CURLcode cc = CURLE_OK;
	int post = !strcmp(method, "POST");

	SET(CURLOPT_URL, url);
	SET(CURLOPT_HTTPHEADER, body ? a->hdr_json : a->hdr);
	SET(CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	SET(CURLOPT_CONNECTTIMEOUT_MS, (long)(timeout_ms < CONNECT_MAX_MS ? timeout_ms : CONNECT_MAX_MS));
	SET(CURLOPT_WRITEDATA, r);
	SET(CURLOPT_HEADERDATA, r);
	/* libcurl silently resends a request that found its reused connection
	 * dead; for a create that could make a second machine, so creates go on
	 * a connection of their own and a lost answer is settled by listing. */
	SET(CURLOPT_FRESH_CONNECT, (long)fresh);
	if (post) {
		SET(CURLOPT_POSTFIELDS, body ? body : "");
		SET(CURLOPT_POSTFIELDSIZE, (long)(body ? strlen(body) : 0));
	} else {
		SET(CURLOPT_HTTPGET, 1L);
	}
	SET(CURLOPT_CUSTOMREQUEST, post || !strcmp(method, "GET") ? NULL : method);
	return cc;
}
#undef SET

static void perform(struct fly_api *a, const char *method, const char *url, const char *body,
                    int64_t timeout_ms, int fresh, struct reply *r)
{
	long status = 0;

	reply_reset(r);
	a->cerr[0] = 0;
	r->cc = setup(a, method, url, body, timeout_ms, fresh, r);
	if (r->cc == CURLE_OK) {
		a->requests++;
		r->cc = curl_easy_perform(a->curl);
	}
	snprintf(r->cerr, sizeof r->cerr, "%s", a->cerr);
	if (r->cc == CURLE_OK && curl_easy_getinfo(a->curl, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK)
		r->status = status;
	a->last_status = (int)r->status;
}

/* --------------------------------------------------- pacing and retries -- */

static int64_t left_ms(const struct call *c)
{
	return c->deadline - now_ms();
}

/* The last moment a try may be sent: a call gives up at its deadline, not
 * when its next try would pass it. */
static int64_t last_try(const struct call *c)
{
	return c->deadline - LAST_TRY_MS;
}

/* Waits for the pacer's go; one that would pass the deadline is not waited
 * for: the last try goes at last_try() (it may meet a 429; nothing is lost).
 * -1 when even that has passed. */
static int pace(struct call *c)
{
	for (;;) {
		int64_t now = now_ms(), d = fly_pace_delay(c->a->pace, c->act, c->key, now);
		if (now > last_try(c))
			return -1;
		if (d == 0 || now + d > last_try(c)) {
			if (d)
				sleep_ms(last_try(c) - now);
			fly_pace_sent(c->a->pace, c->act, c->key, now_ms());
			return 0;
		}
		sleep_ms(d);
	}
}

/* One paced try; -1 (r untouched) when no time is left to send it. */
static int try_once(struct call *c, const char *method, const char *url, const char *body, int64_t timeout_ms,
                    int fresh, struct reply *r)
{
	if (pace(c) < 0)
		return -1;
	c->tries++;
	perform(c->a, method, url, body, timeout_ms, fresh, r);
	return 0;
}

static int64_t try_timeout(const struct call *c)
{
	int64_t left = left_ms(c);
	return left < REQUEST_MAX_MS ? (left > 100 ? left : 100) : REQUEST_MAX_MS;
}

/* After a failed try: 1 (having slept the backoff) if another may follow. */
static int backoff(struct call *c, const struct reply *r)
{
	int64_t d;
	if (!fly_retry((int)r->status, c->tries))
		return 0;
	if (r->status == 429)
		fly_pace_limited(c->a->pace, c->act, c->key, now_ms());
	d = fly_backoff_ms(c->tries - 1, BACKOFF_BASE_MS, BACKOFF_CAP_MS, rnd, &c->a->rng);
	if (now_ms() + d > last_try(c))
		d = last_try(c) - now_ms(); /* one last try, at the deadline */
	if (d < 0)
		return 0;
	sleep_ms(d);
	return 1;
}

static int ok(const struct reply *r)
{
	return r->status >= 200 && r->status <= 299;
}

static const char *hint(const struct call *c, long status)
{
	switch (status) {
	case 0: return "check the network and the API address";
	case 400: return "Fly refused flame's request: please report this";
	case 401: return "check FLY_API_TOKEN (fly tokens deploy prints one)";
	case 403: return "the token may not use this app: use a token of the app's organization";
	case 404:
		return c->machine ? "the machine is gone (destroyed, or never existed)"
		                  : "check the app name (fly apps list)";
	case 408: return "Fly did not answer in time: try again later";
	case 409:
	case 412: return "Fly has no capacity for this machine now: try again later or another region";
	case 422: return "Fly refused the machine: check its image, size and region";
	case 429: return "Fly's rate limit held until the deadline: try again later";
	default:
		return status >= 500 ? "Fly failed on its side: try again later"
		                     : "unexpected answer from Fly";
	}
}

/* "fly: WHAT: STATUS TEXT; HINT", the token scrubbed out. */
static int failed(const struct call *c, const struct reply *r, char *err, size_t errlen)
{
	char tries[32] = "", *text;

	if (c->tries > 1)
		snprintf(tries, sizeof tries, " (after %d tries)", c->tries);
	if (c->tries == 0) {
		snprintf(err, errlen, "fly: %s: no time left to send the request; allow a longer timeout",
		         c->what);
	} else if (r->too_long) {
		snprintf(err, errlen, "fly: %s: the answer is larger than %d MiB%s; please report this",
		         c->what, BODY_MAX >> 20, tries);
	} else if (r->status == 0) {
		snprintf(err, errlen, "fly: %s: no answer from %s (%s)%s; %s", c->what, c->a->base,
		         r->cerr[0] ? r->cerr : curl_easy_strerror(r->cc), tries, hint(c, 0));
	} else {
		text = fly_error_text(r->body, r->len);
		snprintf(err, errlen, "fly: %s: %ld%s%s%s%s%s%s; %s", c->what, r->status, *text ? " " : "",
		         text, r->status >= 500 && r->request_id[0] ? " (fly-request-id " : "",
		         r->status >= 500 && r->request_id[0] ? r->request_id : "",
		         r->status >= 500 && r->request_id[0] ? ")" : "", tries, hint(c, r->status));
		free(text);
	}
	scrub(c->a, err, errlen);
	return -1;
}

/* A request with no side effect to settle: tried until it succeeds, fails
 * for good, or the deadline passes.  0 with the answer in r, or -1 with err. */
static int request(struct call *c, const char *method, const char *url, const char *body, struct reply *r,
                   char *err, size_t errlen)
{
	for (;;) {
		if (try_once(c, method, url, body, try_timeout(c), 0, r) < 0)
			return failed(c, r, err, errlen);
		if (ok(r))
			return 0;
		if (!backoff(c, r))
			return failed(c, r, err, errlen);
	}
}

static void call_init(struct call *c, struct fly_api *a, enum fly_action act, const char *key, int timeout_ms,
                      char *what)
{
	memset(c, 0, sizeof *c);
	c->a = a;
	c->act = act;
	c->key = key;
	c->what = what;
	c->machine = act != FLY_ACT_CREATE && act != FLY_ACT_LIST;
	c->deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : DEFAULT_TIMEOUT_MS);
}

static int bad_id(struct fly_api *a, const char *id, char *err, size_t errlen)
{
	if (name_ok(id))
		return 0;
	snprintf(err, errlen,
	         "fly: '%.63s' in app %s is not a machine id: use one that fly machine list shows",
	         id ? id : "", a->app);
	return -1;
}

static char *escape(struct fly_api *a, const char *s)
{
	char *e = curl_easy_escape(a->curl, s, 0), *copy;
	if (!e)
		return NULL;
	copy = xstrdup(e);
	curl_free(e);
	return copy;
}

/* --------------------------------------------------------------- calls --- */

int fly_get(struct fly_api *a, const char *id, struct fly_machine *m, int timeout_ms, char *err,
            size_t errlen)
{
	struct call c;
	struct reply r = { 0 };
	char *url, perr[256];
	int rc;

	memset(m, 0, sizeof *m);
	if (bad_id(a, id, err, errlen) < 0)
		return -1;
	call_init(&c, a, FLY_ACT_GET, id, timeout_ms, xasprintf("get machine %s in app %s", id, a->app));
	url = xasprintf("%s/v1/apps/%s/machines/%s", a->base, a->app, id);
	rc = request(&c, "GET", url, NULL, &r, err, errlen);
	if (rc == 0 && fly_machine_parse(r.body, r.len, m, perr, sizeof perr) < 0) {
		snprintf(err, errlen, "fly: %s: %s; please report this", c.what, perr);
		rc = -1;
	}
	reply_reset(&r);
	free(url);
	free(c.what);
	return rc;
}

static int simple(struct fly_api *a, enum fly_action act, const char *id, const char *verb,
                  const char *method, const char *path, const char *body, int timeout_ms, char *err,
                  size_t errlen)
{
	struct call c;
	struct reply r = { 0 };
	char *url;
	int rc;

	if (bad_id(a, id, err, errlen) < 0)
		return -1;
	call_init(&c, a, act, id, timeout_ms, xasprintf("%s machine %s in app %s", verb, id, a->app));
	url = xasprintf("%s/v1/apps/%s/machines/%s%s", a->base, a->app, id, path);
	rc = request(&c, method, url, body, &r, err, errlen);
	reply_reset(&r);
	free(url);
	free(c.what);
	return rc;
}

int fly_stop(struct fly_api *a, const char *id, int timeout_ms, char *err, size_t errlen)
{
	/* an empty object, not an empty body: the server decodes JSON (§2.6) */
	return simple(a, FLY_ACT_STOP, id, "stop", "POST", "/stop", "{}", timeout_ms, err, errlen);
}

int fly_destroy(struct fly_api *a, const char *id, int timeout_ms, char *err, size_t errlen)
{
	return simple(a, FLY_ACT_DESTROY, id, "destroy", "DELETE", "?force=true", NULL, timeout_ms, err,
	              errlen);
}

static char *list_url(struct fly_api *a, const struct fly_kv *f, size_t n, int deleted)
{
	char *url = xasprintf("%s/v1/apps/%s/machines%s", a->base, a->app,
	                      deleted ? "?include_deleted=true" : "");
	for (size_t i = 0; i < n; i++) {
		char *k = escape(a, f[i].key), *v = escape(a, f[i].value), *next = NULL;
		if (k && v)
			next = xasprintf("%s%cmetadata.%s=%s", url, i || deleted ? '&' : '?', k, v);
		free(k);
		free(v);
		free(url);
		if (!next)
			return NULL;
		url = next;
	}
	return url;
}

static int list_in(struct call *c, const struct fly_kv *f, size_t nf, int deleted, struct fly_machine **v,
                   size_t *n, char *err, size_t errlen)
{
	struct reply r = { 0 };
	char *url = list_url(c->a, f, nf, deleted), perr[256];
	int rc;

	*v = NULL;
	*n = 0;
	if (!url) {
		snprintf(err, errlen, "fly: %s: out of memory", c->what);
		return -1;
	}
	rc = request(c, "GET", url, NULL, &r, err, errlen);
	if (rc == 0 && fly_machines_parse(r.body, r.len, v, n, perr, sizeof perr) < 0) {
		snprintf(err, errlen, "fly: %s: %s; please report this", c->what, perr);
		rc = -1;
	}
	reply_reset(&r);
	free(url);
	return rc;
}

static int list(struct fly_api *a, const struct fly_kv *filters, size_t nfilters, int deleted,
                struct fly_machine **v, size_t *n, int timeout_ms, char *err, size_t errlen)
{
	struct call c;
	int rc;
	call_init(&c, a, FLY_ACT_LIST, a->app, timeout_ms, xasprintf("list machines in app %s", a->app));
	rc = list_in(&c, filters, nfilters, deleted, v, n, err, errlen);
	free(c.what);
	return rc;
}

int fly_list(struct fly_api *a, const struct fly_kv *filters, size_t nfilters, struct fly_machine **v,
             size_t *n, int timeout_ms, char *err, size_t errlen)
{
	return list(a, filters, nfilters, 0, v, n, timeout_ms, err, errlen);
}

int fly_list_deleted(struct fly_api *a, const struct fly_kv *filters, size_t nfilters, struct fly_machine **v,
                     size_t *n, int timeout_ms, char *err, size_t errlen)
{
	return list(a, filters, nfilters, 1, v, n, timeout_ms, err, errlen);
}

/* A create that may have reached Fly: the request left, and no answer says
 * whether a machine was made (408, a 5xx from a proxy, a lost connection). */
static int ambiguous(const struct reply *r)
{
	if (r->status == 408 || r->status >= 500)
		return 1;
	return r->status == 0 && r->cc != CURLE_COULDNT_RESOLVE_HOST &&
	       r->cc != CURLE_COULDNT_RESOLVE_PROXY && r->cc != CURLE_COULDNT_CONNECT &&
	       r->cc != CURLE_UNSUPPORTED_PROTOCOL && r->cc != CURLE_URL_MALFORMAT;
}

/* Looks for the machine of LAUNCH_ID: 1 (into m) if it exists, 0 if not, -1
 * with err when the list failed.  It gets SETTLE_MIN_MS even past the
 * call's deadline: an orphan machine costs more than a late answer. */
static int settle(struct call *c, const char *launch_id, struct fly_machine *m, char *err, size_t errlen)
{
	struct fly_kv f = { FLY_META_LAUNCH, launch_id };
	struct fly_machine *v;
	struct call lc;
	size_t n;
	int64_t left = left_ms(c);

	call_init(&lc, c->a, FLY_ACT_LIST, c->a->app, (int)(left > SETTLE_MIN_MS ? left : SETTLE_MIN_MS),
	          xasprintf("list machines in app %s", c->a->app));
	if (list_in(&lc, &f, 1, 0, &v, &n, err, errlen) < 0) {
		free(lc.what);
		return -1;
	}
	free(lc.what);
	if (!n) {
		fly_machines_free(v, n);
		return 0;
	}
	*m = v[0];
	memset(&v[0], 0, sizeof v[0]);
	fly_machines_free(v, n);
	return 1;
}

static int lost_create(const struct call *c, const struct reply *r, const char *launch_id,
                       const char *list_err, char *err, size_t errlen)
{
	char first[512];
	failed(c, r, first, sizeof first);
	snprintf(err, errlen, "%s; and looking for it failed (%s): a machine with metadata %s=%s may exist",
	         first, list_err, FLY_META_LAUNCH, launch_id);
	scrub(c->a, err, errlen);
	return -1;
}

int fly_create(struct fly_api *a, const struct fly_launch *l, struct fly_machine *m, int timeout_ms,
               char *err, size_t errlen)
{
	struct call c;
	struct reply r = { 0 };
	char *body, *url, why[512];
	int rc = -1, found;

	memset(m, 0, sizeof *m);
	call_init(&c, a, FLY_ACT_CREATE, a->app, timeout_ms, xasprintf("create machine in app %s", a->app));
	body = fly_create_body(l, why, sizeof why);
	if (!body) {
		snprintf(err, errlen, "fly: %s: %s", c.what, why);
		free(c.what);
		return -1;
	}
	url = xasprintf("%s/v1/apps/%s/machines", a->base, a->app);
	for (;;) {
		if (try_once(&c, "POST", url, body, try_timeout(&c), 1, &r) < 0) {
			rc = failed(&c, &r, err, errlen);
			break;
		}
		if (ok(&r)) {
			rc = fly_machine_parse(r.body, r.len, m, why, sizeof why);
			if (rc < 0)
				snprintf(err, errlen, "fly: %s: %s (launch id %s); please report this",
				         c.what, why, l->launch_id);
			break;
		}
		found = ambiguous(&r) ? settle(&c, l->launch_id, m, why, sizeof why) : 0;
		if (found < 0) {
			rc = lost_create(&c, &r, l->launch_id, why, err, errlen);
			break;
		}
		if (found > 0) {
			rc = 0;
			break;
		}
		if (!backoff(&c, &r)) {
			rc = failed(&c, &r, err, errlen);
			break;
		}
	}
	reply_reset(&r);
	free(url);
	free(body);
	free(c.what);
	return rc;
}

static char *wait_url(struct fly_api *a, const char *id, const char *ver, const char *state, int secs)
{
	char *st = escape(a, state), *v = ver && *ver ? escape(a, ver) : NULL, *url = NULL;
	if (st && (v || !(ver && *ver)))
		url = xasprintf("%s/v1/apps/%s/machines/%s/wait?state=%s&timeout=%d%s%s", a->base, a->app, id,
		                st, secs, v ? "&version=" : "", v ? v : "");
	free(st);
	free(v);
	return url;
}

static int wait_expired(const struct call *c, const struct reply *r, const char *id, const char *state,
                        int timeout_ms, char *err, size_t errlen)
{
	char *text = fly_error_text(r->body, r->len), within[32];
	if (timeout_ms % 1000)
		snprintf(within, sizeof within, "%.1fs", timeout_ms / 1000.0);
	else
		snprintf(within, sizeof within, "%ds", timeout_ms / 1000);
	snprintf(err, errlen,
	         "fly: %s: not %s within %s (%s%s%s); check the machine (fly machine status %s) "
	         "or allow it longer",
	         c->what, state, within, r->status == 408 ? "408" : "no answer", *text ? " " : "", text, id);
	free(text);
	scrub(c->a, err, errlen);
	return -1;
}

/* The long poll ran out: the server's 408, or our own cut at the deadline. */
static int poll_ran_out(const struct reply *r)
{
	return r->status == 408 || (r->status == 0 && r->cc == CURLE_OPERATION_TIMEDOUT);
}

int fly_wait(struct fly_api *a, const char *id, const char *version, const char *state, int timeout_ms,
             char *err, size_t errlen)
{
	struct call c;
	struct reply r = { 0 };
	int rc = -1;

	if (bad_id(a, id, err, errlen) < 0)
		return -1;
	if (timeout_ms <= 0)
		timeout_ms = DEFAULT_TIMEOUT_MS;
	call_init(&c, a, FLY_ACT_WAIT, id, timeout_ms,
	          xasprintf("wait for machine %s to be %s in app %s", id, state, a->app));
	for (;;) {
		int64_t left = left_ms(&c), http;
		int secs = left >= a->wait_poll_s * 1000L ? a->wait_poll_s : (int)((left + 999) / 1000);
		char *url = wait_url(a, id, version, state, secs > 0 ? secs : 1);
		int sent;

		if (!url) {
			snprintf(err, errlen, "fly: %s: out of memory", c.what);
			break;
		}
		/* the HTTP timeout outlasts the long poll, so the server's 408 wins;
		 * but never the deadline by more than a moment (the server's 408 on
		 * a poll of whole seconds may come a little after it) */
		http = secs * 1000L + WAIT_MARGIN_MS;
		if (http > left + WAIT_LATE_MS)
			http = left + WAIT_LATE_MS;
		sent = try_once(&c, "GET", url, NULL, http, 0, &r);
		free(url);
		if (sent < 0) {
			rc = poll_ran_out(&r) ? wait_expired(&c, &r, id, state, timeout_ms, err, errlen)
			                      : failed(&c, &r, err, errlen);
			break;
		}
		if (ok(&r)) {
			rc = 0;
			break;
		}
		if (poll_ran_out(&r)) {
			c.tries = 0; /* not a failure: poll again while time is left */
			continue;
		}
		if (!backoff(&c, &r)) {
			rc = failed(&c, &r, err, errlen);
			break;
		}
	}
	reply_reset(&r);
	free(c.what);
	return rc;
}
