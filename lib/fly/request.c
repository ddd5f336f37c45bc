/* request.c — one API call's requests: each paced (pace.h), retried with
 * backoff within the call's deadline, and a failure told as one line with
 * a hint (see http_internal.h). */
#include "http_internal.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

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

void reply_reset(struct reply *r)
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
CURLcode setup_handle(struct fly_api *a)
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

int64_t call_left_ms(const struct call *c)
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
int call_try_once(struct call *c, const char *method, const char *url, const char *body, int64_t timeout_ms,
                  int fresh, struct reply *r)
{
	if (pace(c) < 0)
		return -1;
	c->tries++;
	perform(c->a, method, url, body, timeout_ms, fresh, r);
	return 0;
}

int64_t call_try_timeout(const struct call *c)
{
	int64_t left = call_left_ms(c);
	return left < REQUEST_MAX_MS ? (left > 100 ? left : 100) : REQUEST_MAX_MS;
}

/* After a failed try: 1 (having slept the backoff) if another may follow. */
int call_backoff(struct call *c, const struct reply *r)
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

int reply_ok(const struct reply *r)
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
int call_failed(const struct call *c, const struct reply *r, char *err, size_t errlen)
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
	scrub_token(c->a, err, errlen);
	return -1;
}

/* A request with no side effect to settle: tried until it succeeds, fails
 * for good, or the deadline passes.  0 with the answer in r, or -1 with err. */
int call_request(struct call *c, const char *method, const char *url, const char *body, struct reply *r,
                 char *err, size_t errlen)
{
	for (;;) {
		if (call_try_once(c, method, url, body, call_try_timeout(c), 0, r) < 0)
			return call_failed(c, r, err, errlen);
		if (reply_ok(r))
			return 0;
		if (!call_backoff(c, r))
			return call_failed(c, r, err, errlen);
	}
}

void call_init(struct call *c, struct fly_api *a, enum fly_action act, const char *key, int timeout_ms,
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
