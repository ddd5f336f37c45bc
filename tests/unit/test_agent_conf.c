/* test_agent_conf.c — the runner agent's settings and sshd_config
 * (lib/agent/conf.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/conf.h"

static void test_defaults_and_paths_under_root(void **state)
{
	struct agent_conf c;
	(void)state;
	agent_conf_init(&c, "/m/root");
	assert_int_equal(c.port, 2222);
	assert_int_equal(c.idle_ms, 30000);
	assert_int_equal(c.failsafe_ms, 20000);
	assert_int_equal(c.grace_ms, 30000);
	assert_string_equal(c.listen, "");
	assert_string_equal(c.host_key, "/m/root/etc/flame/ssh_host_ed25519_key");
	assert_string_equal(c.authorized_keys, "/m/root/etc/flame/authorized_keys");
	assert_string_equal(c.settings, "/m/root/etc/flame/agent.json");
	assert_string_equal(c.state, "/m/root/run/flame-agent");
	agent_conf_free(&c);
	agent_conf_init(&c, "/");
	assert_string_equal(c.host_key, "/etc/flame/ssh_host_ed25519_key");
	agent_conf_free(&c);
}

static void test_settings_are_read(void **state)
{
	struct agent_conf c;
	char err[256];
	(void)state;
	agent_conf_init(&c, "/");
	assert_int_equal(agent_conf_parse(&c,
	                                  "{\"port\": 2200, \"listen\": \"fdaa:0:1::3\", "
	                                  "\"idle_shutdown_after\": \"1m\", \"failsafe\": \"5s\", "
	                                  "\"grace\": \"2s\", \"max_concurrency\": 8}",
	                                  err, sizeof err),
	                 0);
	assert_int_equal(c.port, 2200);
	assert_string_equal(c.listen, "fdaa:0:1::3");
	assert_int_equal(c.idle_ms, 60000);
	assert_int_equal(c.failsafe_ms, 5000);
	assert_int_equal(c.grace_ms, 2000);
	assert_int_equal(c.max_concurrency, 8);
	agent_conf_free(&c);
}

static void refused(const char *text, const char *want)
{
	struct agent_conf c;
	char err[256] = "";
	agent_conf_init(&c, "/");
	assert_int_equal(agent_conf_parse(&c, text, err, sizeof err), -1);
	if (!strstr(err, want))
		print_error("for %s: got \"%s\", want \"%s\"\n", text, err, want);
	assert_non_null(strstr(err, want));
	agent_conf_free(&c);
}

static void test_bad_settings_are_named(void **state)
{
	(void)state;
	refused("[1]", "not a JSON object");
	refused("{\"port\": 0}", "\"port\" must be a whole number from 1 to 65535");
	refused("{\"port\": 22.5}", "\"port\" must be a whole number");
	refused("{\"failsafe\": \"0s\"}", "\"failsafe\" must be a positive duration");
	refused("{\"grace\": 3}", "\"grace\" must be a positive duration");
	refused("{\"listen\": \"127.0.0.1; rm\"}", "\"listen\" must be an IPv4 or IPv6 address");
	refused("{\"colour\": \"red\"}", "unknown setting \"colour\"");
}

static void test_sshd_config_has_the_runner_settings(void **state)
{
	struct agent_conf c;
	char *text;
	(void)state;
	agent_conf_init(&c, "/r");
	snprintf(c.listen, sizeof c.listen, "127.0.0.7");
	text = agent_conf_sshd_config(&c, "/opt/flame/bin:/usr/bin", NULL);
	assert_non_null(strstr(text, "ListenAddress 127.0.0.7\n"));
	assert_non_null(strstr(text, "Port 2222\n"));
	assert_non_null(strstr(text, "HostKey /r/etc/flame/ssh_host_ed25519_key\n"));
	assert_non_null(strstr(text, "AuthorizedKeysFile /r/etc/flame/authorized_keys\n"));
	assert_non_null(strstr(text, "PasswordAuthentication no\n"));
	assert_non_null(strstr(text, "MaxStartups 100:30:200\n"));
	assert_non_null(strstr(text, "RekeyLimit 4G\n"));
	assert_non_null(strstr(text, "PrintMotd no\n"));
	assert_non_null(strstr(text, "UseDNS no\n"));
	/* no shell rc file: HOME is a private empty directory */
	assert_non_null(strstr(text,
	                       "SetEnv HOME=/r/run/flame-agent/home FLAME_AGENT_STATE=/r/run/flame-agent "
	                       "PATH=/opt/flame/bin:/usr/bin\n"));
	assert_null(strstr(text, "ChannelTimeout"));
	free(text);
	c.listen[0] = '\0';
	text = agent_conf_sshd_config(&c, "/usr/bin", "/var/tmp/x");
	assert_null(strstr(text, "ListenAddress"));
	/* job scratch directories follow the agent's TMPDIR */
	assert_non_null(strstr(text, "PATH=/usr/bin TMPDIR=/var/tmp/x\n"));
	free(text);
	/* and the slots' sockets its XDG_RUNTIME_DIR */
	c.runtime_dir = "/run/user/7";
	text = agent_conf_sshd_config(&c, "/usr/bin", "/var/tmp/x");
	assert_non_null(strstr(text, "PATH=/usr/bin TMPDIR=/var/tmp/x XDG_RUNTIME_DIR=/run/user/7\n"));
	free(text);
	c.runtime_dir = "/run/a b";
	text = agent_conf_sshd_config(&c, "/usr/bin", NULL);
	assert_non_null(strstr(text, "PATH=/usr/bin\n"));
	free(text);
	agent_conf_free(&c);
}

/* A key holding a newline or any control character must not break the
 * one-line message (found by tests/fuzz/fuzz_agent_conf.c). */
static void test_unknown_key_stays_one_line(void **state)
{
	struct agent_conf c;
	char err[256] = "";
	(void)state;
	agent_conf_init(&c, "/");
	assert_int_equal(agent_conf_parse(&c, "{\"a\\nb\\r\\u0001c\": 1}", err, sizeof err), -1);
	if (strpbrk(err, "\n\r\001"))
		print_error("not one line: \"%s\"\n", err);
	assert_null(strpbrk(err, "\n\r\001"));
	assert_non_null(strstr(err, "unknown setting \"a?b??c\""));
	assert_non_null(strstr(err, "known: port"));
	agent_conf_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_and_paths_under_root),
		cmocka_unit_test(test_settings_are_read),
		cmocka_unit_test(test_bad_settings_are_named),
		cmocka_unit_test(test_unknown_key_stays_one_line),
		cmocka_unit_test(test_sshd_config_has_the_runner_settings),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
