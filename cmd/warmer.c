/* warmer.c — `flame warmer status|stop|run`: ask the warmer how it is, stop
 * it, or be it. */
#include "cmds.h"
#include "client.h"
#include "commands.h"
#include "util.h"
#include "backends/backend.h"
#include "warmer/warmer.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define STOP_WAIT_MS 30000

/* The warmer closes every connection as it exits. */
static void wait_gone(int sock)
{
	struct pollfd p = { .fd = sock, .events = POLLIN };
	char b[256];
	int64_t until = now_ms() + STOP_WAIT_MS;
	while (now_ms() < until && poll(&p, 1, 200) >= 0)
		if ((p.revents & (POLLIN | POLLHUP)) && read(sock, b, sizeof b) <= 0)
			break;
}

/* A warmer of another protocol cannot be asked: `stop` signals it (SIGTERM
 * is its graceful stop in every version), `status` says what it is. */
static int other_protocol(enum wire_type t, const char *why)
{
	pid_t pid = client_warmer_pid();

	if (t != W_STOP || pid <= 0) {
		msg("warmer: %s", why);
		return EXIT_FAILURE_FLAME;
	}
	if (kill(pid, SIGTERM) < 0) {
		msg("warmer: cannot stop the warmer (pid %ld): %s", (long)pid, strerror(errno));
		return EXIT_FAILURE_FLAME;
	}
	printf("warmer: stopping the warmer (pid %ld) of another flame; running jobs finish first\n",
	       (long)pid);
	fflush(stdout);
	for (int64_t until = now_ms() + STOP_WAIT_MS; now_ms() < until && kill(pid, 0) == 0;)
		usleep(20000);
	return 0;
}

static int ask(enum wire_type t, int wait_for_exit)
{
	char err[1024], *text;
	struct wire_conn conn;
	struct wbuf w;
	struct rbuf r = { 0 };
	int sock = client_connect(0, err, sizeof err), type, rc = 0;

	if (sock < 0) {
		printf("warmer: not running\n");
		return t == W_STATUS ? EXIT_NOT_RUNNING : 0;
	}
	client_conn_init(&conn, sock);
	wbuf_init(&w, t);
	type = client_call(sock, &w, &conn, &r, err, sizeof err);
	wbuf_free(&w);
	if (type == CLIENT_OTHER_PROTOCOL) {
		rc = other_protocol(t, err);
	} else if (type < 0) {
		/* It exited between our connect and its answer. */
		printf("warmer: not running\n");
		rc = t == W_STATUS ? EXIT_NOT_RUNNING : 0;
	} else if (client_reply(type, &r, &text, err, sizeof err) != 0) {
		/* whatever code an error carries: 3 would read as "not running" */
		msg("%s", err);
		rc = EXIT_FAILURE_FLAME;
	} else {
		printf("%s\n", text);
		free(text);
		fflush(stdout);
		if (wait_for_exit)
			wait_gone(sock);
	}
	wire_conn_free(&conn);
	close(sock);
	return rc;
}

int cmd_warmer_status(int argc, char **argv)
{
	int parsed = cmd_no_operands("warmer status", argc, argv);
	return parsed == CMD_END ? ask(W_STATUS, 0) : cmd_exit_status(parsed);
}

int cmd_warmer_stop(int argc, char **argv)
{
	int parsed = cmd_no_operands("warmer stop", argc, argv);
	return parsed == CMD_END ? ask(W_STOP, 1) : cmd_exit_status(parsed);
}

int cmd_warmer_run(int argc, char **argv)
{
	int parsed = cmd_no_operands("warmer run", argc, argv);
	return parsed == CMD_END ? warmer_main(backend_find) : cmd_exit_status(parsed);
}
