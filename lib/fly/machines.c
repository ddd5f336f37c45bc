/* machines.c — the Machines API calls on existing machines: get, stop,
 * destroy, list and wait (see http.h). */
#include "http_internal.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int bad_id(struct fly_api *a, const char *id, char *err, size_t errlen)
{
	if (api_name_ok(id))
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
	rc = call_request(&c, "GET", url, NULL, &r, err, errlen);
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
	rc = call_request(&c, method, url, body, &r, err, errlen);
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

int fly_start_machine(struct fly_api *a, const char *id, int timeout_ms, char *err, size_t errlen)
{
	return simple(a, FLY_ACT_START, id, "start", "POST", "/start", NULL, timeout_ms, err, errlen);
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

int list_in(struct call *c, const struct fly_kv *f, size_t nf, int deleted, struct fly_machine **v, size_t *n,
            char *err, size_t errlen)
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
	rc = call_request(c, "GET", url, NULL, &r, err, errlen);
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
	scrub_token(c->a, err, errlen);
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
		int64_t left = call_left_ms(&c), http;
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
		sent = call_try_once(&c, "GET", url, NULL, http, 0, &r);
		free(url);
		if (sent < 0) {
			rc = poll_ran_out(&r) ? wait_expired(&c, &r, id, state, timeout_ms, err, errlen)
			                      : call_failed(&c, &r, err, errlen);
			break;
		}
		if (reply_ok(&r)) {
			rc = 0;
			break;
		}
		if (poll_ran_out(&r)) {
			c.tries = 0; /* not a failure: poll again while time is left */
			continue;
		}
		if (!call_backoff(&c, &r)) {
			rc = call_failed(&c, &r, err, errlen);
			break;
		}
	}
	reply_reset(&r);
	free(c.what);
	return rc;
}
