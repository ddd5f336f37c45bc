/* http.c — the Machines API client (see http.h): its libcurl handle and
 * token, set up once (see http_internal.h). */
#include "http_internal.h"
#include "util.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc = CURLE_FAILED_INIT;

static void init_curl(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

int api_name_ok(const char *s)
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

	if (!api_name_ok(app)) {
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
