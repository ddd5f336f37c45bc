/* warmer.c — `flame warmer status|stop|run`. */
#include "cmds.h"
#include "client.h"
#include "util.h"
#include "warmer.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define STOP_WAIT_MS 30000

static int ask(enum wire_type t, int wait_for_exit)
{
	char err[1024];
	struct wire_conn conn;
	struct wbuf w;
	struct rbuf r = { 0 };
	int sock = client_connect(0, err, sizeof err), type;

	if (sock < 0) {
		printf("warmer: not running\n");
		return t == W_STATUS ? EXIT_NOT_RUNNING : 0;
	}
	wire_conn_init(&conn, sock);
	wbuf_init(&w, t);
	type = client_call(sock, &w, &conn, &r, err, sizeof err);
	if (type == W_REPLY) {
		char *text;
		rbuf_u32(&r);
		text = rbuf_str(&r);
		printf("%s\n", text);
		free(text);
		fflush(stdout);
	} else {
		/* It exited between our connect and its answer. */
		wbuf_free(&w);
		wire_conn_free(&conn);
		close(sock);
		printf("warmer: not running\n");
		return t == W_STATUS ? EXIT_NOT_RUNNING : 0;
	}
	if (type == W_REPLY && wait_for_exit) {
		/* The warmer closes every connection as it exits. */
		struct pollfd p = { .fd = sock, .events = POLLIN };
		char b[256];
		int64_t until = now_ms() + STOP_WAIT_MS;
		while (now_ms() < until && poll(&p, 1, 200) >= 0)
			if ((p.revents & (POLLIN | POLLHUP)) && read(sock, b, sizeof b) <= 0)
				break;
	}
	wbuf_free(&w);
	wire_conn_free(&conn);
	close(sock);
	return type == W_REPLY ? 0 : EXIT_FAILURE_FLAME;
}

int cmd_warmer(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "status"))
		return ask(W_STATUS, 0);
	if (argc == 2 && !strcmp(argv[1], "stop"))
		return ask(W_STOP, 1);
	if (argc == 2 && !strcmp(argv[1], "run"))
		return warmer_main();
	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		printf("usage: flame warmer status|stop|run\n");
		return 0;
	}
	msg("warmer: usage: flame warmer status|stop|run");
	return EXIT_USAGE;
}
