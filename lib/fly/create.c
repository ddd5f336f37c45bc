/* create.c — creating a machine, never two for one launch id: a create
 * whose answer is lost is settled by listing before another is sent (see
 * http.h). */
#include "http_internal.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	int64_t left = call_left_ms(c);

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
	call_failed(c, r, first, sizeof first);
	snprintf(err, errlen, "%s; and looking for it failed (%s): a machine with metadata %s=%s may exist",
	         first, list_err, FLY_META_LAUNCH, launch_id);
	scrub_token(c->a, err, errlen);
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
		if (call_try_once(&c, "POST", url, body, call_try_timeout(&c), 1, &r) < 0) {
			rc = call_failed(&c, &r, err, errlen);
			break;
		}
		if (reply_ok(&r)) {
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
		if (!call_backoff(&c, &r)) {
			rc = call_failed(&c, &r, err, errlen);
			break;
		}
	}
	reply_reset(&r);
	free(url);
	free(body);
	free(c.what);
	return rc;
}
