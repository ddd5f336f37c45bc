/* duration.c — see duration.h. */
#include "duration.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DURATION_MAX_MS (30LL * 24 * 3600 * 1000)

/* Digits as an integer, at most max; -1 beyond it. */
static int64_t whole(const char *s, size_t n, int64_t max)
{
	int64_t v = 0;
	for (size_t i = 0; i < n; i++) {
		v = v * 10 + (s[i] - '0');
		if (v > max)
			return -1;
	}
	return v;
}

/* ceil(0.DIGITS * scale), exactly: the first FRAC_DIGITS digits count, any
 * non-zero digit after them only rounds up.  Decimal arithmetic, so that
 * "33333.3s" is 33333300 ms and not one more (a double is not exact). */
#define FRAC_DIGITS 12
static int64_t fraction(const char *s, size_t n, int64_t scale)
{
	int64_t num = 0, den = 1, ms;
	size_t i;

	for (i = 0; i < n && i < FRAC_DIGITS; i++) {
		num = num * 10 + (s[i] - '0');
		den *= 10;
	}
	/* num < 10^12 and scale <= 3.6e6: the product fits in 63 bits */
	ms = num * scale / den;
	if (num * scale % den || strspn(s + i, "0") < n - i)
		ms++;
	return ms;
}

int duration_parse(const char *s, int64_t *ms)
{
	size_t ni, nf = 0;
	const char *unit;
	int64_t scale, i, f;

	/* plain decimals only: no signs, exponents, hex or spaces */
	if (!s)
		return -1;
	ni = strspn(s, "0123456789");
	unit = s + ni;
	if (*unit == '.') {
		nf = strspn(unit + 1, "0123456789");
		unit += 1 + nf;
	}
	if (ni + nf == 0)
		return -1;
	if (!strcmp(unit, "") || !strcmp(unit, "s"))
		scale = 1000;
	else if (!strcmp(unit, "ms"))
		scale = 1;
	else if (!strcmp(unit, "m"))
		scale = 60000;
	else if (!strcmp(unit, "h"))
		scale = 3600000;
	else
		return -1;
	i = whole(s, ni, DURATION_MAX_MS / scale);
	if (i < 0)
		return -1;
	f = nf ? fraction(s + ni + 1, nf, scale) : 0;
	if (i * scale + f > DURATION_MAX_MS)
		return -1;
	*ms = i * scale + f;
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
