/* test_state.c — the warmer's journal (lib/warmer/state.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "warmer/state.h"
#include "paths.h"
#include "util.h"

struct fx {
	char dir[256];
	char path[300];
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	char tmpl[] = "/tmp/flame-test-state-XXXXXX";
	if (!f || !mkdtemp(tmpl)) {
		free(f);
		return -1;
	}
	snprintf(f->dir, sizeof f->dir, "%s", tmpl);
	snprintf(f->path, sizeof f->path, "%s/state.json", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	paths_remove_tree(f->dir);
	free(f);
	return 0;
}

static void settings_equal(const struct pool_settings *a, const struct pool_settings *b)
{
	assert_string_equal(a->name, b->name);
	assert_string_equal(a->backend, b->backend);
	assert_int_equal(a->min, b->min);
	assert_int_equal(a->max, b->max);
	assert_int_equal(a->max_concurrency, b->max_concurrency);
	assert_int_equal(a->idle_ms, b->idle_ms);
	assert_int_equal(a->boot_ms, b->boot_ms);
	assert_int_equal(a->slot_ms, b->slot_ms);
	assert_int_equal(a->stopped_max, b->stopped_max);
	assert_int_equal(a->stopped_ttl_ms, b->stopped_ttl_ms);
	assert_int_equal(a->budget_s_per_hour, b->budget_s_per_hour);
	assert_true(a->price_per_hour == b->price_per_hour);
}

static void round_trip(const struct pool_settings *ps)
{
	cJSON *o = state_settings_json(ps);
	struct pool_settings back;
	char *text = cJSON_PrintUnformatted(o);
	cJSON *reparsed = cJSON_Parse(text);
	memset(&back, 0x33, sizeof back);
	assert_int_equal(state_settings_parse(reparsed, ps->name, &back), 0);
	settings_equal(&back, ps);
	free(text);
	cJSON_Delete(reparsed);
	cJSON_Delete(o);
}

static void test_settings_round_trip(void **state)
{
	struct pool_settings ps;
	(void)state;
	pool_settings_default(&ps, "default");
	round_trip(&ps);
	pool_settings_default(&ps, "ffmpeg.v2_x-1");
	ps.min = 2;
	ps.max = 100000;
	ps.max_concurrency = 17;
	ps.idle_ms = 1;
	ps.boot_ms = 1500;
	ps.slot_ms = 30LL * 24 * 3600 * 1000;
	round_trip(&ps);
	ps.idle_ms = 333;
	ps.boot_ms = 1001;
	ps.slot_ms = 999;
	round_trip(&ps);
	ps.stopped_max = 0;
	ps.stopped_ttl_ms = 1;
	ps.budget_s_per_hour = 512L * 3600;
	ps.price_per_hour = 0.0030474;
	round_trip(&ps);
	ps.stopped_max = 512;
	ps.stopped_ttl_ms = 30LL * 24 * 3600 * 1000;
	ps.budget_s_per_hour = 1;
	ps.price_per_hour = 1000;
	round_trip(&ps);
}

static void test_settings_json_shape(void **state)
{
	struct pool_settings ps;
	cJSON *o;
	(void)state;
	pool_settings_default(&ps, "p");
	ps.idle_ms = 1500;
	o = state_settings_json(&ps);
	assert_string_equal(cJSON_GetObjectItem(o, "backend")->valuestring, "local");
	assert_true(cJSON_GetObjectItem(o, "max")->valuedouble == 4);
	/* durations in seconds */
	assert_true(cJSON_GetObjectItem(o, "idle_shutdown_after")->valuedouble == 1.5);
	assert_true(cJSON_GetObjectItem(o, "slot_timeout")->valuedouble == 300);
	assert_true(cJSON_GetObjectItem(o, "stopped_max")->valuedouble == -1);
	assert_true(cJSON_GetObjectItem(o, "stopped_ttl")->valuedouble == 600);
	assert_true(cJSON_GetObjectItem(o, "budget_machine_seconds_per_hour")->valuedouble == 0);
	assert_true(cJSON_GetObjectItem(o, "price_per_hour")->valuedouble == -1);
	cJSON_Delete(o);
}

static void parse_refuses(const char *json, const char *name)
{
	cJSON *o = cJSON_Parse(json);
	struct pool_settings ps;
	if (!o)
		print_error("test JSON does not parse: %s\n", json);
	assert_non_null(o);
	if (state_settings_parse(o, name, &ps) != -1)
		print_error("accepted %s for '%s'\n", json, name);
	assert_int_equal(state_settings_parse(o, name, &ps), -1);
	cJSON_Delete(o);
}

#define GOOD                                                               \
	"\"backend\":\"local\",\"min\":0,\"max\":4,\"max_concurrency\":4," \
	"\"idle_shutdown_after\":30,\"boot_timeout\":30,\"slot_timeout\":300"

/* A journal written before the stopped tier and the budget: their defaults. */
static void test_settings_parse_without_tier(void **state)
{
	cJSON *o = cJSON_Parse("{" GOOD "}");
	struct pool_settings ps, def;
	(void)state;
	memset(&ps, 0x33, sizeof ps);
	assert_int_equal(state_settings_parse(o, "ok", &ps), 0);
	pool_settings_default(&def, "ok");
	settings_equal(&ps, &def);
	cJSON_Delete(o);
	o = cJSON_Parse("{" GOOD ",\"stopped_ttl\":1.5,\"price_per_hour\":0}");
	assert_int_equal(state_settings_parse(o, "ok", &ps), 0);
	assert_int_equal(ps.stopped_ttl_ms, 1500);
	assert_true(ps.price_per_hour == 0);
	assert_int_equal(ps.stopped_max, -1);
	assert_int_equal(ps.budget_s_per_hour, 0);
	cJSON_Delete(o);
}

static void test_settings_parse_refuses(void **state)
{
	static const char *const bad[] = {
		"\"stopped_max\":-2",
		"\"stopped_max\":513",
		"\"stopped_max\":1.5",
		"\"stopped_max\":\"3\"",
		"\"stopped_max\":1e400",
		"\"stopped_ttl\":0",
		"\"stopped_ttl\":\"600\"",
		"\"stopped_ttl\":null",
		"\"stopped_ttl\":1e400",
		"\"budget_machine_seconds_per_hour\":-1",
		"\"budget_machine_seconds_per_hour\":1843201",
		"\"budget_machine_seconds_per_hour\":0.5",
		"\"budget_machine_seconds_per_hour\":{}",
		"\"price_per_hour\":-1.5",
		"\"price_per_hour\":1000.5",
		"\"price_per_hour\":\"0.1\"",
	};
	cJSON *o = cJSON_Parse("{" GOOD "}");
	struct pool_settings ps;
	char text[512];
	(void)state;
	assert_int_equal(state_settings_parse(o, "ok", &ps), 0);
	cJSON_Delete(o);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(text, sizeof text, "{" GOOD ",%s}", bad[i]);
		parse_refuses(text, "p");
	}
	parse_refuses("{" GOOD "}", "bad name");
	parse_refuses("{" GOOD "}", "");
	parse_refuses("[]", "p");
	parse_refuses("{}", "p");
	parse_refuses("{\"min\":0,\"max\":4,\"max_concurrency\":4,\"idle_shutdown_after\":30,"
	              "\"boot_timeout\":30,\"slot_timeout\":300}",
	              "p");
	parse_refuses("{\"backend\":\"local\",\"min\":5,\"max\":4,\"max_concurrency\":4,"
	              "\"idle_shutdown_after\":30,\"boot_timeout\":30,\"slot_timeout\":300}",
	              "p");
	parse_refuses("{\"backend\":\"local\",\"min\":-1,\"max\":4,\"max_concurrency\":4,"
	              "\"idle_shutdown_after\":30,\"boot_timeout\":30,\"slot_timeout\":300}",
	              "p");
	parse_refuses("{\"backend\":\"local\",\"min\":0,\"max\":0,\"max_concurrency\":4,"
	              "\"idle_shutdown_after\":30,\"boot_timeout\":30,\"slot_timeout\":300}",
	              "p");
	parse_refuses("{\"backend\":\"local\",\"min\":0,\"max\":4,\"max_concurrency\":0,"
	              "\"idle_shutdown_after\":30,\"boot_timeout\":30,\"slot_timeout\":300}",
	              "p");
	parse_refuses("{\"backend\":\"local\",\"min\":0,\"max\":4,\"max_concurrency\":4,"
	              "\"idle_shutdown_after\":0,\"boot_timeout\":30,\"slot_timeout\":300}",
	              "p");
	parse_refuses("{\"backend\":\"local\",\"min\":0,\"max\":4,\"max_concurrency\":4,"
	              "\"idle_shutdown_after\":\"30s\",\"boot_timeout\":30,\"slot_timeout\":300}",
	              "p");
	parse_refuses("{\"backend\":\"a-backend-name-too-long\",\"min\":0,\"max\":4,\"max_concurrency\":4,"
	              "\"idle_shutdown_after\":30,\"boot_timeout\":30,\"slot_timeout\":300}",
	              "p");
	parse_refuses("{\"backend\":\"local\",\"min\":0,\"max\":1e300,\"max_concurrency\":4,"
	              "\"idle_shutdown_after\":30,\"boot_timeout\":30,\"slot_timeout\":300}",
	              "p");
}

static cJSON *sample_doc(void)
{
	cJSON *doc = cJSON_CreateObject(), *pools = cJSON_CreateArray(), *p;
	struct pool_settings ps;
	pool_settings_default(&ps, "ffmpeg");
	cJSON_AddNumberToObject(doc, "version", STATE_VERSION);
	p = state_settings_json(&ps);
	cJSON_AddStringToObject(p, "name", "ffmpeg");
	cJSON_AddItemToArray(pools, p);
	cJSON_AddItemToObject(doc, "pools", pools);
	return doc;
}

static void test_write_read(void **state)
{
	struct fx *f = *state;
	char err[512] = "x";
	cJSON *doc = sample_doc(), *back;
	struct stat st;
	assert_int_equal(state_write(f->path, doc, err, sizeof err), 0);
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	back = state_read(f->path, err, sizeof err);
	assert_non_null(back);
	assert_string_equal(err, "");
	assert_true(cJSON_Compare(doc, back, 1));
	cJSON_Delete(back);

	/* a second write replaces the first whole, and leaves no temporary file */
	cJSON_AddNumberToObject(doc, "extra", 5);
	assert_int_equal(state_write(f->path, doc, err, sizeof err), 0);
	back = state_read(f->path, err, sizeof err);
	assert_non_null(back);
	assert_true(cJSON_Compare(doc, back, 1));
	cJSON_Delete(back);
	{
		char tmp[400];
		snprintf(tmp, sizeof tmp, "%s.tmp.%d", f->path, (int)getpid());
		assert_int_equal(access(tmp, F_OK), -1);
	}
	cJSON_Delete(doc);
}

static void test_read_missing(void **state)
{
	struct fx *f = *state;
	char err[512] = "stale";
	assert_null(state_read(f->path, err, sizeof err));
	assert_string_equal(err, "");
}

static void write_raw(const char *path, const void *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write_all(fd, p, n), 0);
	close(fd);
}

static void corrupt(struct fx *f, const void *p, size_t n)
{
	char err[512] = "";
	cJSON *doc;
	write_raw(f->path, p, n);
	doc = state_read(f->path, err, sizeof err);
	if (doc) {
		print_error("accepted as a journal: %zu bytes starting \"%.40s\"\n", n, (const char *)p);
		cJSON_Delete(doc);
		fail();
	}
	if (!err[0])
		print_error("no reason for %zu corrupt bytes\n", n);
	assert_true(err[0] != 0);
	assert_non_null(strstr(err, f->path));
}

static void test_read_truncated(void **state)
{
	struct fx *f = *state;
	char err[512];
	cJSON *doc = sample_doc();
	char *text;
	size_t len;
	assert_int_equal(state_write(f->path, doc, err, sizeof err), 0);
	text = cJSON_PrintUnformatted(doc);
	len = strlen(text);
	/* every strict prefix of a journal is refused with a reason */
	for (size_t cut = 0; cut < len; cut++)
		corrupt(f, text, cut);
	free(text);
	cJSON_Delete(doc);
}

static void test_read_garbage(void **state)
{
	struct fx *f = *state;
	unsigned char junk[4096];
	unsigned seed = 12345;
	(void)state;
	for (size_t i = 0; i < sizeof junk; i++) {
		seed = seed * 1103515245u + 12345u;
		junk[i] = (unsigned char)(seed >> 16);
	}
	corrupt(f, junk, sizeof junk);
	corrupt(f, "\0\0\0\0", 4);
	corrupt(f, "{\"pools\": [] \0 garbage", 22);
	corrupt(f, "null", 4);
	corrupt(f, "[]", 2);
	corrupt(f, "42", 2);
	corrupt(f, "{\"version\": 1}", 14); /* no pools */
	corrupt(f, "{\"pools\": {}}", 13);  /* pools not an array */
	corrupt(f, "\xff\xfe{\"pools\": []}", 15);
}

/* A complete document followed by more bytes is not what state_write writes:
 * the file is corrupt (e.g. two writers interleaved), not a valid journal. */
static void test_read_trailing_garbage(void **state)
{
	struct fx *f = *state;
	corrupt(f, "{\"pools\": [] } trailing", 23);
	corrupt(f, "{\"pools\": []}\n{\"pools\": [", 25);
	corrupt(f, "{\"pools\": []}\0garbage", 21);
}

static void test_read_directory_is_refused(void **state)
{
	struct fx *f = *state;
	char err[512] = "";
	assert_int_equal(mkdir(f->path, 0700), 0);
	assert_null(state_read(f->path, err, sizeof err));
	assert_true(err[0] != 0);
}

static void test_write_into_missing_dir_fails(void **state)
{
	struct fx *f = *state;
	char err[512] = "", path[400];
	cJSON *doc = sample_doc();
	snprintf(path, sizeof path, "%s/no/such/dir/state.json", f->dir);
	assert_int_equal(state_write(path, doc, err, sizeof err), -1);
	assert_true(err[0] != 0);
	cJSON_Delete(doc);
}

static void test_state_json_reads_back(void **state)
{
	struct fx *f = *state;
	struct pool p;
	struct runner r;
	char err[512];
	cJSON *doc, *back, *pools, *p0;
	struct pool_settings ps;
	memset(&p, 0, sizeof p);
	memset(&r, 0, sizeof r);
	pool_settings_default(&p.declared, "thumbs");
	p.live = p.declared;
	p.live.max = 2;
	snprintf(r.id, sizeof r.id, "local-thumbs-1");
	r.state = R_READY;
	r.busy = 1;
	r.pid = 4242;
	r.pool = &p;
	p.runners = &r;
	p.waiting = 3;
	doc = state_json(&p, 1, 99);
	assert_int_equal(state_write(f->path, doc, err, sizeof err), 0);
	back = state_read(f->path, err, sizeof err);
	assert_non_null(back);
	assert_int_equal((int)cJSON_GetObjectItem(back, "version")->valuedouble, STATE_VERSION);
	pools = cJSON_GetObjectItem(back, "pools");
	assert_int_equal(cJSON_GetArraySize(pools), 1);
	p0 = cJSON_GetArrayItem(pools, 0);
	assert_string_equal(cJSON_GetObjectItem(p0, "name")->valuestring, "thumbs");
	assert_int_equal(state_settings_parse(p0, "thumbs", &ps), 0);
	settings_equal(&ps, &p.live);
	assert_int_equal(state_settings_parse(cJSON_GetObjectItem(p0, "declared"), "thumbs", &ps), 0);
	settings_equal(&ps, &p.declared);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(p0, "runners")), 1);
	cJSON_Delete(back);
	cJSON_Delete(doc);
}

/* A journaled pid out of range reads as none: converting it was undefined
 * (a corrupt journal aborted the sanitizer build), and 0 or -1 would reach
 * kill(2) as a process group. */
static void test_runner_pid_out_of_range(void **state)
{
	static const char *const bad[] = { "1e400", "-1e400", "1e19",   "2147483648", "0",
		                           "-1",    "1.5",    "\"42\"", "null" };
	char text[64];
	cJSON *r;
	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(text, sizeof text, "{\"id\": \"r1\", \"pid\": %s}", bad[i]);
		r = cJSON_Parse(text);
		assert_non_null(r);
		if (state_runner_pid(r) != 0)
			print_error("pid %s read as %ld\n", bad[i], state_runner_pid(r));
		assert_int_equal(state_runner_pid(r), 0);
		cJSON_Delete(r);
	}
	r = cJSON_Parse("{\"id\": \"r1\", \"pid\": 4242}");
	assert_int_equal(state_runner_pid(r), 4242);
	cJSON_Delete(r);
	assert_int_equal(state_runner_pid(NULL), 0);
}

/* The journal's text without a file: the shape is checked, and a NUL
 * inside is garbage. */
static void test_parse_text(void **state)
{
	static const char ok[] = "{\"pools\": []}", nul[] = "{\"pools\": []}\0x";
	cJSON *doc;
	(void)state;
	doc = state_parse(ok, sizeof ok - 1);
	assert_non_null(doc);
	cJSON_Delete(doc);
	assert_null(state_parse(nul, sizeof nul - 1));
	assert_null(state_parse("{\"pools\": {}}", 13));
	assert_null(state_parse("[]", 2));
	assert_null(state_parse("", 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_settings_round_trip),
		cmocka_unit_test(test_settings_json_shape),
		cmocka_unit_test(test_settings_parse_without_tier),
		cmocka_unit_test(test_settings_parse_refuses),
		cmocka_unit_test_setup_teardown(test_write_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_missing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_truncated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_garbage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_trailing_garbage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_directory_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_into_missing_dir_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state_json_reads_back, setup, teardown),
		cmocka_unit_test(test_runner_pid_out_of_range),
		cmocka_unit_test(test_parse_text),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
