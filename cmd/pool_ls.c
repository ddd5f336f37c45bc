/* pool_ls.c — `flame pool ls [--json]`: each pool's backend, limits and
 * runners, from the warmer when one runs, else from its journal, plus the
 * pools the configuration declares. */
#include "cmds.h"
#include "client.h"
#include "commands.h"
#include "budget.h"
#include "config.h"
#include "duration.h"
#include "paths.h"
#include "warmer/state.h"
#include "util.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The warmer's picture; NULL when none runs, and *refused set when it runs
 * but speaks another protocol (said on stderr). */
static cJSON *from_warmer(int *refused)
{
	char err[512], *text;
	int sock = client_connect(0, err, sizeof err), type;
	struct wire_conn conn;
	struct wbuf w;
	struct rbuf r = { 0 };
	cJSON *doc = NULL;

	if (sock < 0)
		return NULL;
	client_conn_init(&conn, sock);
	wbuf_init(&w, W_LS);
	type = client_call(sock, &w, &conn, &r, err, sizeof err);
	if (type == CLIENT_OTHER_PROTOCOL) {
		msg("%s", err);
		*refused = 1;
	}
	/* no answer, or not the reply: the journal says what it can */
	if (client_reply(type, &r, &text, err, sizeof err) == 0) {
		doc = cJSON_Parse(text);
		free(text);
	}
	wbuf_free(&w);
	wire_conn_free(&conn);
	close(sock);
	return doc;
}

static cJSON *from_journal(void)
{
	char err[512];
	char *dir = paths_state_dir(err, sizeof err), *path;
	cJSON *doc, *w;

	if (!dir)
		return NULL;
	path = xasprintf("%s/state.json", dir);
	free(dir);
	doc = state_read(path, err, sizeof err);
	if (!doc && err[0])
		msg("warning: %s; showing the configured pools only", err);
	free(path);
	if (!doc)
		doc = state_json(NULL, 0, 0);
	w = cJSON_GetObjectItemCaseSensitive(doc, "warmer");
	if (cJSON_IsObject(w))
		cJSON_ReplaceItemInObjectCaseSensitive(w, "running", cJSON_CreateFalse());
	return doc;
}

static int has_pool(cJSON *pools, const char *name)
{
	cJSON *p;
	cJSON_ArrayForEach(p, pools) {
		cJSON *n = cJSON_GetObjectItemCaseSensitive(p, "name");
		if (cJSON_IsString(n) && !strcmp(n->valuestring, name))
			return 1;
	}
	return 0;
}

static void add_configured(cJSON *pools, const struct pool_settings *ps)
{
	cJSON *o;
	if (has_pool(pools, ps->name))
		return;
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "name", ps->name);
	state_add_settings(o, ps);
	cJSON_AddNumberToObject(o, "waiting", 0);
	cJSON_AddNumberToObject(o, "busy", 0);
	cJSON_AddItemToObject(o, "runners", cJSON_CreateArray());
	cJSON_AddItemToArray(pools, o);
}

static double num(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

static const char *str(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) ? v->valuestring : "?";
}

/* Whole seconds; a journal value out of range (negative, NaN, 1e300) shows
 * as 0 or as the most a duration may be, never as something it converts to. */
static void fmt_secs(double s, char *buf, size_t len)
{
	if (!(s > 0))
		s = 0;
	if (s > 1e9) /* ~31 years: far more than any runner lives */
		s = 1e9;
	duration_format((int64_t)(s * 1000 + 0.5) / 1000 * 1000, buf, len);
}

/* The pool's costs: machine-seconds in the last hour and what they cost,
 * its budget, and its kept stopped machines (a fly pool's). */
static void print_spend(const cJSON *p)
{
	const cJSON *usd = cJSON_GetObjectItemCaseSensitive(p, "estimated_usd_last_hour"), *m;
	const cJSON *stopped = cJSON_GetObjectItemCaseSensitive(p, "stopped");
	double budget = num(p, "budget_machine_seconds_per_hour"), kept = num(p, "stopped_max");
	int fly = !strcmp(str(p, "backend"), "fly");
	char ttl[32];

	if (!cJSON_GetObjectItemCaseSensitive(p, "machine_seconds_last_hour") && budget <= 0 && !fly)
		return;
	printf("  %.0f machine-seconds in the last hour", num(p, "machine_seconds_last_hour"));
	if (cJSON_IsNumber(usd))
		printf(", about $%.4f", usd->valuedouble);
	if (budget > 0)
		printf("; budget %.0f per hour", budget);
	if (fly) {
		fmt_secs(num(p, "stopped_ttl"), ttl, sizeof ttl);
		printf("; %d stopped (kept: %.0f for %s)", cJSON_GetArraySize(stopped),
		       kept < 0 ? num(p, "max") : kept, ttl);
	}
	printf("\n");
	cJSON_ArrayForEach(m, stopped) {
		char ago[32];
		fmt_secs(num(m, "stopped_seconds"), ago, sizeof ago);
		printf("  stopped %-23s stopped %s ago  %s\n", str(m, "id"), ago,
		       str(cJSON_GetObjectItemCaseSensitive(m, "info"), "where"));
	}
}

static void print_table(const cJSON *doc)
{
	const cJSON *w = cJSON_GetObjectItemCaseSensitive(doc, "warmer"), *p, *r;
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(w, "running")))
		printf("warmer: running (pid %.0f)\n", num(w, "pid"));
	else
		printf("warmer: not running (pools as last journaled and configured)\n");
	printf("%-16s %-8s %4s %4s %12s %8s %8s %8s %11s\n", "POOL", "BACKEND", "MIN", "MAX", "CONCURRENCY",
	       "RUNNERS", "BUSY", "WAITING", "IDLE-AFTER");
	cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(doc, "pools")) {
		char idle[32];
		fmt_secs(num(p, "idle_shutdown_after"), idle, sizeof idle);
		printf("%-16s %-8s %4.0f %4.0f %12.0f %8d %8.0f %8.0f %11s\n", str(p, "name"),
		       str(p, "backend"), num(p, "min"), num(p, "max"), num(p, "max_concurrency"),
		       cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(p, "runners")), num(p, "busy"),
		       num(p, "waiting"), idle);
		print_spend(p);
		cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(p, "runners")) {
			char age[32], idl[32];
			fmt_secs(num(r, "age_seconds"), age, sizeof age);
			fmt_secs(num(r, "idle_seconds"), idl, sizeof idl);
			const char *host = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r, "host"));
			printf("  runner %-24s %-9s busy %3.0f/%-3.0f idle %-6s age %s%s%s\n", str(r, "id"),
			       str(r, "state"), num(r, "busy"), num(p, "max_concurrency"), idl, age,
			       host ? "  on " : "", host ? host : "");
		}
	}
}

/* Journaled times are stale when no warmer runs: recompute from the stamps. */
/* The last hour's machine-seconds as of now, from the journaled buckets
 * (no runner runs while no warmer does), and the estimate at the same rate. */
static void refresh_spend(cJSON *p, double now)
{
	struct usage u;
	double was = num(p, "machine_seconds_last_hour"), used, usd = num(p, "estimated_usd_last_hour");
	cJSON *m;

	if (usage_parse(cJSON_GetObjectItemCaseSensitive(p, "usage"), &u) == 0) {
		used = usage_used(&u, NULL, 0, (int64_t)now);
		cJSON_ReplaceItemInObjectCaseSensitive(p, "machine_seconds_last_hour",
		                                       cJSON_CreateNumber(used));
		if (cJSON_GetObjectItemCaseSensitive(p, "estimated_usd_last_hour"))
			cJSON_ReplaceItemInObjectCaseSensitive(
				p, "estimated_usd_last_hour",
				cJSON_CreateNumber(was > 0 ? usd * used / was : 0));
	}
	cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(p, "stopped")) {
		double at = num(m, "stopped_ms");
		if (at > 0)
			cJSON_ReplaceItemInObjectCaseSensitive(m, "stopped_seconds",
			                                       cJSON_CreateNumber((now - at) / 1000));
	}
}

static void refresh_ages(cJSON *doc)
{
	double now = (double)wall_ms();
	cJSON *p, *r;
	cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(doc, "pools")) {
		refresh_spend(p, now);
		cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(p, "runners")) {
			double created = num(r, "created_ms"), idle = num(r, "idle_since_ms");
			if (created > 0)
				cJSON_ReplaceItemInObjectCaseSensitive(
					r, "age_seconds", cJSON_CreateNumber((now - created) / 1000));
			if (idle > 0)
				cJSON_ReplaceItemInObjectCaseSensitive(
					r, "idle_seconds", cJSON_CreateNumber((now - idle) / 1000));
		}
	}
}

int cmd_pool_ls(int argc, char **argv)
{
	struct cmd_parser parser;
	struct config cfg;
	char err[1024];
	int json = 0, refused = 0, c;
	cJSON *doc, *pools;

	cmd_parser_init(&parser, "pool ls");
	while ((c = cmd_parser_next(&parser, argc, argv)) != CMD_END) {
		if (c == CMD_HELP || c == CMD_BAD)
			return cmd_exit_status(c);
		if (c == OPT_JSON)
			json = 1;
	}
	if (optind < argc) {
		msg("pool ls: unexpected argument '%.80s'; see 'flame pool ls --help'", argv[optind]);
		return EXIT_USAGE;
	}
	if (config_load(&cfg, err, sizeof err) < 0) {
		msg("%s", err);
		config_free(&cfg);
		return EXIT_USAGE;
	}
	doc = from_warmer(&refused);
	if (refused) {
		config_free(&cfg);
		return EXIT_FAILURE_FLAME;
	}
	if (!doc) {
		doc = from_journal();
		refresh_ages(doc);
	}
	pools = cJSON_GetObjectItemCaseSensitive(doc, "pools");
	if (!cJSON_IsArray(pools)) {
		pools = cJSON_CreateArray();
		cJSON_ReplaceItemInObjectCaseSensitive(doc, "pools", pools);
	}
	for (size_t i = 0; i < cfg.npools; i++)
		add_configured(pools, &cfg.pools[i]);
	{
		struct pool_settings def;
		pool_settings_default(&def, DEFAULT_POOL);
		add_configured(pools, &def);
	}
	if (json) {
		char *text = cJSON_PrintUnformatted(doc);
		printf("%s\n", text);
		free(text);
	} else {
		print_table(doc);
	}
	cJSON_Delete(doc);
	config_free(&cfg);
	return fflush(stdout) == 0 ? 0 : EXIT_FAILURE_FLAME;
}
