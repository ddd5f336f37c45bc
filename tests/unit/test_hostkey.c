/* test_hostkey.c — host keys made in memory (lib/hostkey.h) are
 * keys OpenSSH reads: ssh-keygen derives the same public line from the
 * private file. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hostkey.h"

static void test_private_key_is_read_by_ssh_keygen(void **state)
{
	char *priv = NULL, pub[256], err[256], path[] = "/tmp/flame-hostkey-test.XXXXXX", cmd[512], line[512];
	size_t len = 0;
	FILE *p;
	int fd;

	(void)state;
	assert_int_equal(ssh_hostkey_new("flame-runner", &priv, &len, pub, sizeof pub, err, sizeof err), 0);
	assert_true(!strncmp(priv, "-----BEGIN OPENSSH PRIVATE KEY-----\n", 36));
	assert_non_null(strstr(priv, "\n-----END OPENSSH PRIVATE KEY-----\n"));
	assert_true(!strncmp(pub, "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI", 37));
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, priv, len), (ssize_t)len);
	close(fd);
	snprintf(cmd, sizeof cmd, "ssh-keygen -y -f %s 2>&1", path);
	p = popen(cmd, "r");
	assert_non_null(p);
	assert_non_null(fgets(line, sizeof line, p));
	pclose(p);
	unlink(path);
	line[strcspn(line, "\n")] = 0;
	/* ssh-keygen -y prints "ssh-ed25519 AAAA... comment" */
	assert_true(!strncmp(line, pub, strlen(pub)));
	free(priv);
}

static void test_every_key_is_new(void **state)
{
	char *a, *b, pa[256], pb[256], err[256];
	size_t la, lb;
	(void)state;
	assert_int_equal(ssh_hostkey_new("x", &a, &la, pa, sizeof pa, err, sizeof err), 0);
	assert_int_equal(ssh_hostkey_new("x", &b, &lb, pb, sizeof pb, err, sizeof err), 0);
	assert_string_not_equal(pa, pb);
	free(a);
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_private_key_is_read_by_ssh_keygen),
		cmocka_unit_test(test_every_key_is_new),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
