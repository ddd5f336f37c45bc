/* test_ssh_transport.c — the pure parts of lib/ssh/transport.c: login
 * parsing and OpenSSH-style fingerprints. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "ssh/transport.h"
#include "login.h"

struct login_case {
	const char *in, *user, *host;
	int port;
};

static void test_parse_login_forms(void **state)
{
	static const struct login_case cases[] = {
		{ "host", "root", "host", 22 },
		{ "alice@host", "alice", "host", 22 },
		{ "alice@host:2222", "alice", "host", 2222 },
		{ "host:2200", "root", "host", 2200 },
		{ "bob@[::1]:2222", "bob", "::1", 2222 },
		{ "[fd00::5]", "root", "fd00::5", 22 },
		{ "::1", "root", "::1", 22 },
		{ "a@b@127.0.0.1:7", "a@b", "127.0.0.1", 7 },
	};
	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char user[64] = "root", host[256], err[256];
		int port = 22;
		assert_int_equal(login_parse(cases[i].in, user, sizeof user, host, sizeof host, &port, err,
		                             sizeof err),
		                 0);
		assert_string_equal(user, cases[i].user);
		assert_string_equal(host, cases[i].host);
		assert_int_equal(port, cases[i].port);
	}
}

static void test_parse_login_refuses_bad_forms(void **state)
{
	static const char *bad[] = { "",       "@host", "user@",  "host:0", "host:65536",
		                     "host:x", "[::1",  "[::1]x", "[]:22" };
	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char user[64] = "root", host[256], err[256] = "";
		int port = 22;
		assert_int_equal(
			login_parse(bad[i], user, sizeof user, host, sizeof host, &port, err, sizeof err),
			-1);
		assert_true(strlen(err) > 0);
		assert_null(strchr(err, '\n'));
	}
}

static void test_fingerprint_matches_ssh_keygen(void **state)
{
	/* ssh-keygen -lf of this key prints SHA256:Rq5bpErdOPUchVfOFtAgmWxQmtGXFNnBANce1voBymA */
	static const char line[] =
		"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBPRcAw5YPMNAASjTjbQ3rALhAhMiaGbhU/wIP+STt0X root@vm";
	char fp[128];
	(void)state;
	assert_int_equal(ssh_fingerprint_of_line(line, fp, sizeof fp), 0);
	assert_string_equal(fp, "SHA256:Rq5bpErdOPUchVfOFtAgmWxQmtGXFNnBANce1voBymA");
}

static void test_fingerprint_refuses_non_keys(void **state)
{
	char fp[128];
	(void)state;
	assert_int_equal(ssh_fingerprint_of_line("ssh-ed25519", fp, sizeof fp), -1);
	assert_int_equal(ssh_fingerprint_of_line("ssh-ed25519 !!!notbase64", fp, sizeof fp), -1);
	assert_int_equal(ssh_fingerprint_of_line("", fp, sizeof fp), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_login_forms),
		cmocka_unit_test(test_parse_login_refuses_bad_forms),
		cmocka_unit_test(test_fingerprint_matches_ssh_keygen),
		cmocka_unit_test(test_fingerprint_refuses_non_keys),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
