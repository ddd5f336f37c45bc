/* duration.c — see duration.h. */
#include "duration.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DURATION_MAX_MS (30LL * 24 * 3600 * 1000)

int duration_parse(const char *s, int64_t *ms)
{
	char *end;
	double v, scale;

	if (!s || !*s || strspn(s, "0123456789.") == 0 || strpbrk(s, "xXeEpP+-") ||
	    !(isdigit((unsigned char)s[0]) || s[0] == '.'))
		return -1; /* plain decimals only: no hex, exponents or signs */
	v = strtod(s, &end);
	if (end == s || !(v >= 0 && v < 1e12))
		return -1;
	if (!strcmp(end, "") || !strcmp(end, "s"))
		scale = 1000;
	else if (!strcmp(end, "ms"))
		scale = 1;
	else if (!strcmp(end, "m"))
		scale = 60000;
	else if (!strcmp(end, "h"))
		scale = 3600000;
	else
		return -1;
	v = v * scale - 1e-9;
	if (v > (double)DURATION_MAX_MS)
		return -1;
	*ms = (int64_t)v + ((double)(int64_t)v < v); /* round up to whole ms */
	return 0;
}

void duration_format(int64_t ms, char *buf, size_t len)
{
	if (ms < 1000 || ms % 100)
		snprintf(buf, len, "%lldms", (long long)ms);
	else if (ms % 1000)
		snprintf(buf, len, "%.1fs", ms / 1000.0);
	else if (ms % 60000 || ms < 60000)
		snprintf(buf, len, "%llds", (long long)(ms / 1000));
	else if (ms % 3600000 || ms < 3600000)
		snprintf(buf, len, "%lldm", (long long)(ms / 60000));
	else
		snprintf(buf, len, "%lldh", (long long)(ms / 3600000));
}
