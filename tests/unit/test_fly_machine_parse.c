/* test_fly_machine_parse.c — reading the Machines API's answers
 * (lib/fly_machine.h): machines, lists and error bodies. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fly_machine.h"

static char err[1024];

/* S is one non-empty line and holds NEEDLE (if any). */
static void one_line(const char *s, const char *needle)
{
	assert_true(s[0] != 0);
	assert_null(strpbrk(s, "\r\n"));
	if (needle && !strstr(s, needle))
		print_error("\"%s\" does not contain \"%s\"\n", s, needle);
	assert_true(!needle || strstr(s, needle));
}

/* ---------------------------------------------------------------- parsing - */

/* The create response of the docs (fly-machines-api.md §2.2), with metadata. */
static const char machine_json[] =
	"{\"id\":\"1857156b526dd8\",\"name\":\"aged-thunder-7371\",\"state\":\"created\",\"region\":\"ord\","
	"\"image_ref\":{\"registry\":\"registry-1.docker.io\",\"repository\":\"library/ubuntu\",\"tag\":\"latest\","
	"\"digest\":\"sha256:c9cf\",\"labels\":{\"org.opencontainers.image.version\":\"22.04\"}},"
	"\"instance_id\":\"01HEPA330HZ37A78TK080NAK1M\",\"private_ip\":\"fdaa:ff:ff:a7b:195:e229:8038:2\","
	"\"created_at\":\"2023-11-08T01:52:30Z\",\"updated_at\":\"2023-11-08T01:52:30Z\","
	"\"config\":{\"init\":{\"exec\":[\"/bin/sleep\",\"inf\"]},"
	"\"image\":\"registry-1.docker.io/library/ubuntu:latest\",\"auto_destroy\":true,"
	"\"restart\":{\"policy\":\"no\"},\"guest\":{\"cpu_kind\":\"shared\",\"cpus\":1,\"memory_mb\":256},"
	"\"metadata\":{\"flame_pool\":\"thumbs\",\"flame_launch\":\"L7\",\"n\":3},\"dns\":{}},"
	"\"events\":[{\"type\":\"launch\",\"status\":\"created\",\"source\":\"user\",\"timestamp\":1699408350300}]}";

static void test_parse_machine(void **state)
{
	struct fly_machine m;
	(void)state;
	assert_int_equal(fly_machine_parse(machine_json, strlen(machine_json), &m, err, sizeof err), 0);
	assert_string_equal(m.id, "1857156b526dd8");
	assert_string_equal(m.name, "aged-thunder-7371");
	assert_string_equal(m.state, "created");
	assert_string_equal(m.region, "ord");
	assert_string_equal(m.instance_id, "01HEPA330HZ37A78TK080NAK1M");
	assert_string_equal(m.private_ip, "fdaa:ff:ff:a7b:195:e229:8038:2");
	assert_string_equal(m.image, "registry-1.docker.io/library/ubuntu:latest");
	/* image_ref reads back as what was asked for */
	assert_string_equal(m.image_ref, m.image);
	assert_string_equal(m.image_digest, "sha256:c9cf");
	assert_string_equal(fly_machine_meta(&m, FLY_META_POOL), "thumbs");
	assert_string_equal(fly_machine_meta(&m, FLY_META_LAUNCH), "L7");
	assert_null(fly_machine_meta(&m, "n")); /* not a string */
	assert_null(fly_machine_meta(&m, FLY_META_PARENT));
	assert_int_equal(m.nmeta, 2);
	fly_machine_free(&m);
	assert_null(m.id);
}

static void test_parse_sparse_machine(void **state)
{
	static const char sparse[] =
		"{\"id\":\"abc\",\"state\":7,\"image_ref\":{\"repository\":\"app\"},"
		"\"incomplete_config\":{\"image\":\"app:1\",\"metadata\":{\"k\":\"v\"}}}";
	static const char no_registry[] =
		"{\"id\":\"x\",\"image_ref\":{\"repository\":\"app\",\"tag\":\"t\"}}";
	struct fly_machine m;
	(void)state;
	assert_int_equal(fly_machine_parse(sparse, strlen(sparse), &m, err, sizeof err), 0);
	assert_string_equal(m.id, "abc");
	assert_string_equal(m.state, "");
	assert_string_equal(m.private_ip, "");
	assert_string_equal(m.instance_id, "");
	assert_string_equal(m.image, "app:1");
	assert_string_equal(m.image_ref, "app");
	assert_string_equal(m.image_digest, "");
	assert_string_equal(fly_machine_meta(&m, "k"), "v");
	fly_machine_free(&m);
	assert_int_equal(fly_machine_parse(no_registry, strlen(no_registry), &m, err, sizeof err), 0);
	assert_string_equal(m.image_ref, "app:t");
	assert_string_equal(m.image, "");
	fly_machine_free(&m);
}

/* The newest exit event (events are listed newest first) says how the
 * machine's command ended; older ones and other events do not count. */
static void test_parse_exit_event(void **state)
{
	static const char j[] =
		"{\"id\":\"1\",\"state\":\"stopped\",\"events\":["
		"{\"type\":\"destroy\",\"status\":\"destroyed\"},"
		"{\"type\":\"exit\",\"request\":{\"exit_event\":{\"exit_code\":3,\"signal\":-1,"
		"\"oom_killed\":false}}},"
		"{\"type\":\"exit\",\"request\":{\"exit_event\":{\"exit_code\":137,\"signal\":9,"
		"\"oom_killed\":true}}}]}";
	static const char none[] = "{\"id\":\"1\",\"events\":[{\"type\":\"exit\"},{\"type\":\"launch\"}]}";
	struct fly_machine m;
	char ebuf[256];

	(void)state;
	assert_int_equal(fly_machine_parse(j, strlen(j), &m, ebuf, sizeof ebuf), 0);
	assert_int_equal(m.exited, 1);
	assert_int_equal(m.exit_code, 3);
	assert_int_equal(m.exit_signal, 0);
	assert_int_equal(m.oom_killed, 0);
	fly_machine_free(&m);
	assert_int_equal(fly_machine_parse(none, strlen(none), &m, ebuf, sizeof ebuf), 0);
	assert_int_equal(m.exited, 0);
	fly_machine_free(&m);
}

static void test_parse_not_a_machine(void **state)
{
	static const char *bad[] = {
		"", "nope", "[]", "{}", "{\"id\":7}", "{\"id\":\"\"}", "{\"id\":\"a\"", "\"id\""
	};
	struct fly_machine m;
	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err[0] = 0;
		assert_int_equal(fly_machine_parse(bad[i], strlen(bad[i]), &m, err, sizeof err), -1);
		one_line(err, NULL);
		assert_null(m.id);
	}
	assert_int_equal(fly_machine_parse(NULL, 0, &m, err, sizeof err), -1);
}

static void test_parse_list(void **state)
{
	char *text = NULL;
	struct fly_machine *v;
	size_t n = 99;
	(void)state;
	assert_true(asprintf(&text, "[%s,{\"id\":\"two\",\"state\":\"started\"}]", machine_json) > 0);
	assert_int_equal(fly_machines_parse(text, strlen(text), &v, &n, err, sizeof err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(v[0].id, "1857156b526dd8");
	assert_string_equal(fly_machine_meta(&v[0], FLY_META_LAUNCH), "L7");
	assert_string_equal(v[1].id, "two");
	assert_string_equal(v[1].state, "started");
	assert_int_equal(v[1].nmeta, 0);
	fly_machines_free(v, n);
	free(text);

	assert_int_equal(fly_machines_parse("[]", 2, &v, &n, err, sizeof err), 0);
	assert_int_equal(n, 0);
	fly_machines_free(v, n);
}

static void test_parse_bad_list(void **state)
{
	static const char *bad[] = { "{\"id\":\"a\"}", "[{\"id\":\"a\"},{\"name\":\"b\"}]", "[1]", "x", "[" };
	struct fly_machine *v = (void *)1;
	size_t n = 5;
	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err[0] = 0;
		assert_int_equal(fly_machines_parse(bad[i], strlen(bad[i]), &v, &n, err, sizeof err), -1);
		one_line(err, NULL);
		assert_null(v);
		assert_int_equal(n, 0);
	}
}

static void error_text_is(const char *body, const char *want)
{
	char *t = fly_error_text(body, body ? strlen(body) : 0);
	assert_string_equal(t, want);
	free(t);
}

static void test_error_bodies(void **state)
{
	char big[2000], *t;
	(void)state;
	error_text_is("{\"error\":\"machine not found\"}", "machine not found");
	error_text_is(
		"{\"error\":\"deadline_exceeded: machine failed to reach desired state, started, currently "
		"created\"}",
		"deadline_exceeded: machine failed to reach desired state, started, currently created");
	error_text_is(
		"{\"error\":\"insufficient capacity\",\"status\":\"insufficient_capacity\",\"details\":{}}",
		"insufficient capacity");
	error_text_is("{\"error\":\"bad\",\"message\":\"lease held\"}", "bad: lease held");
	error_text_is("{\"error\":\"same\",\"message\":\"same\"}", "same");
	error_text_is("{\"status\":\"error\",\"message\":\"lease held\",\"code\":409}", "lease held");
	error_text_is("{\"error\":\"two\\nlines\\r\\n\\ttabbed\"}", "two lines tabbed");
	error_text_is("<html>\n<h1>502 Bad Gateway</h1>\n</html>\n",
	              "<html> <h1>502 Bad Gateway</h1> </html>");
	error_text_is("{\"ok\":false}", "{\"ok\":false}");
	error_text_is("", "");
	error_text_is(NULL, "");
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = 0;
	t = fly_error_text(big, strlen(big));
	assert_int_equal(strlen(t), 300);
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_exit_event),     cmocka_unit_test(test_parse_machine),
		cmocka_unit_test(test_parse_sparse_machine), cmocka_unit_test(test_parse_not_a_machine),
		cmocka_unit_test(test_parse_list),           cmocka_unit_test(test_parse_bad_list),
		cmocka_unit_test(test_error_bodies),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
