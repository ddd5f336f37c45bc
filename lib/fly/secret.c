/* secret.c — the API token: read from its file, the caller or
 * FLY_API_TOKEN, wiped from memory when freed, and scrubbed from every
 * message (see http.h's promises). */
#include "http_internal.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void wipe_free(char *s)
{
	if (!s)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

void wipe_headers(struct curl_slist *l)
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
char *read_token(const char *file, const char *given, char *err, size_t errlen)
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
char **token_secrets(const char *tok)
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
void scrub_token(const struct fly_api *a, char *msg, size_t size)
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
