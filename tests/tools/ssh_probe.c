/* ssh_probe.c — drives lib/ssh/transport.c from the tests: connect with a
 * pinned host key, run one command, relay its output and exit status.
 *   ssh-probe LOGIN KEYFILE HOSTKEYLINE TIMEOUT_MS COMMAND
 * Exit: the command's status; 255 with one "flame: " line when the
 * transport failed. */
#include "ssh/transport.h"
#include "login.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	char user[64] = "root", host[256], err[1024];
	struct ssh_target t = { .port = 22 };
	struct ssh_conn *c;
	char *out, *errout;
	size_t outlen, errlen;
	long timeout;
	int status;

	if (argc != 6 || parse_long(argv[4], 1, 600000, &timeout) < 0) {
		msg("usage: ssh-probe LOGIN KEYFILE HOSTKEYLINE TIMEOUT_MS COMMAND");
		return 255;
	}
	if (login_parse(argv[1], user, sizeof user, host, sizeof host, &t.port, err, sizeof err) < 0) {
		msg("%s", err);
		return 255;
	}
	t.host = host;
	t.user = user;
	t.key_path = argv[2];
	t.host_key = argv[3];
	t.timeout_ms = (int)timeout;
	c = ssh_connect(&t, err, sizeof err);
	if (!c) {
		msg("%s", err);
		return 255;
	}
	if (ssh_run(c, argv[5], NULL, 0, &out, &outlen, &errout, &errlen, 1 << 20, &status, err, sizeof err) <
	    0) {
		msg("%s", err);
		ssh_close(c);
		return 255;
	}
	fwrite(out ? out : "", 1, outlen, stdout);
	fwrite(errout ? errout : "", 1, errlen, stderr);
	free(out);
	free(errout);
	ssh_close(c);
	return status;
}
