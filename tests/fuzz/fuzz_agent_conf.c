/* fuzz_agent_conf.c — agent.json as `flame agent` reads it, and the
 * sshd_config made from what it accepts: no crash, one-line errors, values
 * within their ranges, and no setting can add a line to sshd_config. */
#include "fuzz.h"
#include "agent/conf.h"

static size_t lines(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static size_t default_lines;

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct agent_conf c;
	char *text;

	(void)argc;
	(void)argv;
	agent_conf_init(&c, "/fuzz/root");
	text = agent_conf_sshd_config(&c, "/usr/local/bin:/usr/bin", "/tmp");
	default_lines = lines(text);
	free(text);
	agent_conf_free(&c);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *json = fuzz_text(data, size), *text, err[512];
	struct agent_conf c;

	agent_conf_init(&c, "/fuzz/root");
	if (agent_conf_parse(&c, json, err, sizeof err) == 0) {
		FUZZ_CHECK(c.port >= 1 && c.port <= 65535);
		FUZZ_CHECK(c.max_concurrency >= 1 && c.max_concurrency <= 1000);
		FUZZ_CHECK(c.idle_ms > 0 && c.failsafe_ms > 0 && c.grace_ms > 0);
		text = agent_conf_sshd_config(&c, "/usr/local/bin:/usr/bin", "/tmp");
		FUZZ_CHECK(lines(text) == default_lines + (c.listen[0] ? 1 : 0));
		free(text);
	} else {
		FUZZ_CHECK(fuzz_one_line(err) && !strncmp(err, "agent.json: ", 12));
	}
	agent_conf_free(&c);
	free(json);
	return 0;
}
