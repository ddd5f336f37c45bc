/* login.c — see login.h. */
#include "login.h"
#include "util.h"

#include <stdio.h>
#include <string.h>

int login_parse(const char *login, char *user, size_t userlen, char *host, size_t hostlen, int *port,
                char *err, size_t errlen)
{
	const char *at = strrchr(login, '@'), *h = at ? at + 1 : login, *colon;
	size_t hl;
	long p;

	if (at) {
		if (at == login || (size_t)(at - login) >= userlen) {
			snprintf(err, errlen, "'%s': the user before '@' is empty or too long", login);
			return -1;
		}
		snprintf(user, userlen, "%.*s", (int)(at - login), login);
	}
	if (h[0] == '[') {
		const char *close = strchr(h, ']');
		if (!close) {
			snprintf(err, errlen, "'%s': '[' without ']'", login);
			return -1;
		}
		hl = (size_t)(close - h - 1);
		colon = close[1] == ':' ? close + 1 : NULL;
		if (close[1] && !colon) {
			snprintf(err, errlen, "'%s': expected ':PORT' after ']'", login);
			return -1;
		}
		h++;
	} else {
		colon = strchr(h, ':');
		if (colon && strchr(colon + 1, ':')) /* a bare IPv6 address */
			colon = NULL;
		hl = colon ? (size_t)(colon - h) : strlen(h);
	}
	if (hl == 0 || hl >= hostlen) {
		snprintf(err, errlen, "'%s': the host is empty or too long", login);
		return -1;
	}
	snprintf(host, hostlen, "%.*s", (int)hl, h);
	if (colon) {
		if (parse_long(colon + 1, 1, 65535, &p) < 0) {
			snprintf(err, errlen, "'%s': the port must be a number from 1 to 65535", login);
			return -1;
		}
		*port = (int)p;
	}
	return 0;
}
