/* env.c — what the warmer keeps of the environment it was started in: the
 * Fly API token in memory only, and the few variables runners may see. */
#include "internal.h"
#include "fly_token.h"
#include "util.h"

#include <stdlib.h>

static void keep_only_runner_env(void)
{
	static const char *keep[] = { "PATH", "HOME", "LANG", "LC_ALL", "TZ", "USER", "LOGNAME", "SHELL",
		                      "TMPDIR", "XDG_RUNTIME_DIR", "XDG_STATE_HOME", "XDG_CONFIG_HOME",
		                      "FLAME_WARMER_GRACE",
		                      /* the fly backend's: who the parent is (the API token
		                       * is taken out first: lib/fly_token.h) */
		                      "FLY_MACHINE_ID", "FLAME_FLY_PARENT", NULL };
	char *saved[20] = { 0 };
	for (int i = 0; keep[i]; i++) {
		const char *v = getenv(keep[i]);
		saved[i] = v ? xstrdup(v) : NULL;
	}
	clearenv();
	for (int i = 0; keep[i]; i++) {
		if (saved[i])
			setenv(keep[i], saved[i], 1);
		free(saved[i]);
	}
}

/* The Fly API token, in memory only (lib/fly_token.h). */
static char *fly_token;

const char *warmer_fly_token(void)
{
	return fly_token;
}

void scrub_environment(void)
{
	fly_token = fly_token_take();
	keep_only_runner_env();
}
