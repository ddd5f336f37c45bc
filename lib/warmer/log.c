/* log.c — the warmer's log: one line per event on stderr (the log file). */
#include "internal.h"
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

void warmer_log(const char *fmt, ...)
{
	char buf[1200], ts[32];
	time_t t = time(NULL);
	struct tm tm;
	va_list ap;
	int n;

	strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", localtime_r(&t, &tm));
	n = snprintf(buf, sizeof buf, "%s warmer[%d]: ", ts, (int)getpid());
	va_start(ap, fmt);
	n += vsnprintf(buf + n, sizeof buf - n - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof buf - 2)
		n = sizeof buf - 2;
	buf[n++] = '\n';
	(void)!write(2, buf, (size_t)n);
}

/* At most one line a second: a flood of refusals must not flood the log. */
void log_refusal(const char *what)
{
	static int64_t last;
	static int more;
	int64_t now = now_ms();
	if (last && now - last < 1000) {
		more++;
		return;
	}
	if (more)
		warmer_log("refused a caller: %s (and %d more since the last such line)", what, more);
	else
		warmer_log("refused a caller: %s", what);
	last = now;
	more = 0;
}
