/* test_fly_machine.c — the Machines API's create request
 * (lib/fly_machine.h): the body field by field against
 * fly-machines-api.md §2.2/§2.13, and local validation.  Reading answers is
 * test_fly_machine_parse.c's. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <cJSON.h>
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

/* ------------------------------------------------------- a typical launch - */

static char *env[] = { "PHX_SERVER=false", "FLAME_PARENT=a=b=c", "EMPTY=", NULL };
static char *argv_[] = { "/usr/local/bin/flame", "agent", "--idle", "30s", NULL };
static const char key_bytes[] = "ssh-ed25519 AAAA key\n";
static const unsigned char bin[] = { 0x00, 0xff, 0x10, 0x80 };
static struct fly_file files[] = {
	{ "/etc/flame/authorized_keys", key_bytes, sizeof key_bytes - 1, 0600 },
	{ "/etc/flame/blob", bin, sizeof bin, 0 },
};
static struct fly_kv extra[] = { { "team", "infra" }, { "job", "build 42" } };

static struct fly_launch typical(void)
{
	struct fly_launch l = {
		.image = "registry.fly.io/myapp:deployment-01HXYZ",
		.region = "iad",
		.cpu_kind = "performance",
		.cpus = 2,
		.memory_mb = 4096,
		.env = env,
		.files = files,
		.nfiles = 2,
		.pool = "thumbs",
		.parent = "laptop:4242",
		.launch_id = "6f1c2a9e-launch",
		.metadata = extra,
		.nmetadata = 2,
		.argv = argv_,
	};
	return l;
}

static cJSON *body_of(const struct fly_launch *l)
{
	char *text = fly_create_body(l, err, sizeof err);
	cJSON *doc;
	if (!text)
		print_error("refused: %s\n", err);
	assert_non_null(text);
	doc = cJSON_Parse(text);
	free(text);
	assert_non_null(doc);
	return doc;
}

static const cJSON *get(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	if (!v)
		print_error("no \"%s\"\n", key);
	assert_non_null(v);
	return v;
}

static void is_str(const cJSON *o, const char *key, const char *want)
{
	const cJSON *v = get(o, key);
	assert_true(cJSON_IsString(v));
	assert_string_equal(v->valuestring, want);
}

static void is_int(const cJSON *o, const char *key, int want)
{
	const cJSON *v = get(o, key);
	assert_true(cJSON_IsNumber(v));
	assert_int_equal(v->valueint, want);
	assert_true(v->valuedouble == (double)want);
}

static int count(const cJSON *o)
{
	return cJSON_GetArraySize(o);
}

static void test_body_top_level(void **state)
{
	struct fly_launch l = typical();
	cJSON *doc = body_of(&l);
	(void)state;
	/* region at the top level, beside config; no name, no skip_launch */
	is_str(doc, "region", "iad");
	assert_true(cJSON_IsObject(get(doc, "config")));
	assert_int_equal(count(doc), 2);
	assert_null(cJSON_GetObjectItem(doc, "name"));
	assert_null(cJSON_GetObjectItem(doc, "skip_launch"));
	cJSON_Delete(doc);
}

static void test_body_config(void **state)
{
	struct fly_launch l = typical();
	cJSON *doc = body_of(&l);
	const cJSON *c = get(doc, "config"), *g, *e, *r, *x;
	static const char *response_only[] = { "id",        "instance_id", "private_ip", "state",
		                               "image_ref", "created_at",  "updated_at", "events",
		                               "name",      "region",      "nonce",      "host_status",
		                               "checks" };
	(void)state;
	is_str(c, "image", "registry.fly.io/myapp:deployment-01HXYZ");
	g = get(c, "guest");
	is_str(g, "cpu_kind", "performance");
	is_int(g, "cpus", 2);
	is_int(g, "memory_mb", 4096);
	assert_null(cJSON_GetObjectItem(g, "gpu_kind"));
	assert_null(cJSON_GetObjectItem(g, "gpus"));
	assert_int_equal(count(g), 3);
	e = get(c, "env");
	assert_true(cJSON_IsObject(e));
	is_str(e, "PHX_SERVER", "false");
	is_str(e, "FLAME_PARENT", "a=b=c");
	is_str(e, "EMPTY", "");
	assert_int_equal(count(e), 3);
	assert_true(cJSON_IsTrue(get(c, "auto_destroy")));
	r = get(c, "restart");
	is_str(r, "policy", "no");
	assert_int_equal(count(r), 1);
	x = get(get(c, "init"), "exec");
	assert_true(cJSON_IsArray(x));
	assert_int_equal(count(x), 4);
	for (int i = 0; i < 4; i++)
		assert_string_equal(cJSON_GetArrayItem(x, i)->valuestring, argv_[i]);
	for (size_t i = 0; i < sizeof response_only / sizeof response_only[0]; i++)
		assert_null(cJSON_GetObjectItem(c, response_only[i]));
	/* image, guest, env, files, metadata, init, auto_destroy, restart */
	assert_int_equal(count(c), 8);
	cJSON_Delete(doc);
}

static void test_body_files_base64_and_mode(void **state)
{
	struct fly_launch l = typical();
	cJSON *doc = body_of(&l);
	const cJSON *f = get(get(doc, "config"), "files"), *a, *b;
	(void)state;
	assert_true(cJSON_IsArray(f));
	assert_int_equal(count(f), 2);
	a = cJSON_GetArrayItem(f, 0);
	is_str(a, "guest_path", "/etc/flame/authorized_keys");
	is_str(a, "raw_value", "c3NoLWVkMjU1MTkgQUFBQSBrZXkK");
	is_int(a, "mode", 0600); /* 384: a decimal integer, not "0600" */
	assert_int_equal(count(a), 3);
	b = cJSON_GetArrayItem(f, 1);
	is_str(b, "raw_value", "AP8QgA==");
	is_int(b, "mode", 420); /* 0 means 0644 */
	cJSON_Delete(doc);
}

static void test_body_metadata(void **state)
{
	struct fly_launch l = typical();
	cJSON *doc = body_of(&l);
	const cJSON *m = get(get(doc, "config"), "metadata");
	(void)state;
	is_str(m, FLY_META_POOL, "thumbs");
	is_str(m, FLY_META_PARENT, "laptop:4242");
	is_str(m, FLY_META_LAUNCH, "6f1c2a9e-launch");
	is_str(m, "team", "infra");
	is_str(m, "job", "build 42");
	assert_int_equal(count(m), 5);
	cJSON_Delete(doc);
}

static void test_body_minimal_and_gpu(void **state)
{
	struct fly_launch l = { .image = "alpine",
		                .cpu_kind = "shared",
		                .cpus = 1,
		                .memory_mb = 256,
		                .launch_id = "L1",
		                .gpu_kind = "a100-pcie-40gb" };
	cJSON *doc = body_of(&l);
	const cJSON *c = get(doc, "config"), *g = get(c, "guest");
	(void)state;
	assert_null(cJSON_GetObjectItem(doc, "region"));
	assert_null(cJSON_GetObjectItem(c, "init"));
	assert_null(cJSON_GetObjectItem(c, "env"));
	assert_null(cJSON_GetObjectItem(c, "files"));
	is_str(get(c, "metadata"), FLY_META_LAUNCH, "L1");
	assert_int_equal(count(get(c, "metadata")), 1);
	is_str(g, "gpu_kind", "a100-pcie-40gb");
	is_int(g, "gpus", 1);
	assert_true(cJSON_IsTrue(get(c, "auto_destroy")));
	is_str(get(c, "restart"), "policy", "no");
	cJSON_Delete(doc);
	/* one the warmer may keep stopped is not destroyed when it stops */
	l.keep_stopped = 1;
	doc = body_of(&l);
	assert_true(cJSON_IsFalse(get(get(doc, "config"), "auto_destroy")));
	is_str(get(get(doc, "config"), "restart"), "policy", "no");
	cJSON_Delete(doc);
}

static void test_body_env_last_wins(void **state)
{
	char *twice[] = { "A=1", "B=2", "A=3", NULL };
	struct fly_launch l = typical();
	cJSON *doc;
	const cJSON *e;
	(void)state;
	l.env = twice;
	doc = body_of(&l);
	e = get(get(doc, "config"), "env");
	is_str(e, "A", "3");
	is_str(e, "B", "2");
	assert_int_equal(count(e), 2);
	cJSON_Delete(doc);
}

static void test_base64(void **state)
{
	static const char *in[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
	static const char *out[] = { "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy" };
	unsigned char all[256];
	char *s;
	(void)state;
	for (size_t i = 0; i < 7; i++) {
		s = fly_base64(in[i], strlen(in[i]));
		assert_string_equal(s, out[i]);
		free(s);
	}
	for (int i = 0; i < 256; i++)
		all[i] = (unsigned char)i;
	s = fly_base64(all, sizeof all);
	assert_int_equal(strlen(s), 344);
	assert_true(!strncmp(s, "AAECAwQFBgcICQoL", 16));
	assert_string_equal(s + 336, "/P3+/w==");
	free(s);
}

/* ------------------------------------------------------------- validation - */

/* Checking L must fail with one line containing every needle. */
static void refused(struct fly_launch l, const char *a, const char *b)
{
	char *body;
	err[0] = 0;
	assert_int_equal(fly_launch_check(&l, err, sizeof err), -1);
	one_line(err, a);
	one_line(err, b);
	body = fly_create_body(&l, err, sizeof err);
	assert_null(body);
}

static void test_validation(void **state)
{
	struct fly_launch l = typical();
	char *no_eq[] = { "PATH", NULL }, *no_name[] = { "=x", NULL }, *nl[] = { "X\nY", NULL };
	char *empty_cmd[] = { "", NULL };
	struct fly_file rel = { "etc/x", "a", 1, 0644 }, badmode = { "/x", "a", 1, 010000 };
	struct fly_kv reserved = { FLY_META_LAUNCH, "x" }, nokey = { "", "x" };
	(void)state;

	assert_int_equal(fly_launch_check(&l, err, sizeof err), 0);
	l.image = "";
	refused(l, "no image", "registry.fly.io/");
	l = typical(), l.image = NULL;
	refused(l, "no image", NULL);
	l = typical(), l.region = "IAD";
	refused(l, "region 'IAD'", "three lowercase letters");
	l = typical(), l.region = "iad1";
	refused(l, "region 'iad1'", NULL);
	l = typical(), l.cpu_kind = "dedicated";
	refused(l, "cpu_kind 'dedicated'", "neither shared nor performance");
	l = typical(), l.cpu_kind = NULL;
	refused(l, "cpu_kind", "use one of those");
	l = typical(), l.cpus = 0;
	refused(l, "cpus 0", "at least 1");
	l = typical(), l.memory_mb = 1000;
	refused(l, "memory_mb 1000 is not a positive multiple of 256", "use 1024");
	l = typical(), l.memory_mb = 0;
	refused(l, "memory_mb 0", "use 256");
	l = typical(), l.memory_mb = 2048; /* performance x2 needs 4096..16384 */
	refused(l, "below 2048 MiB per performance CPU", "at least 4096");
	l = typical(), l.memory_mb = 16640;
	refused(l, "above 8192 MiB per performance CPU", "at most 16384");
	l = typical(), l.cpu_kind = "shared", l.cpus = 1, l.memory_mb = 4096;
	refused(l, "above 2048 MiB per shared CPU", "more CPUs");
	l = typical(), l.env = no_eq;
	refused(l, "env entry 'PATH'", "NAME=VALUE");
	l = typical(), l.env = no_name;
	refused(l, "env entry '=x'", NULL);
	l = typical(), l.env = nl;
	refused(l, "env entry 'X?Y'", NULL);
	l = typical(), l.files = &rel, l.nfiles = 1;
	refused(l, "file 'etc/x'", "absolute");
	l = typical(), l.files = &badmode, l.nfiles = 1;
	refused(l, "mode 10000", "0644");
	l = typical(), l.launch_id = NULL;
	refused(l, "no launch id", FLY_META_LAUNCH);
	l = typical(), l.metadata = &reserved, l.nmetadata = 1;
	refused(l, "metadata key 'flame_launch' is flame's own", "another name");
	l = typical(), l.metadata = &nokey, l.nmetadata = 1;
	refused(l, "metadata key is empty", NULL);
	l = typical(), l.argv = empty_cmd;
	refused(l, "empty string", "program to run");
	l = typical(), l.gpu_kind = "";
	refused(l, "gpu_kind", NULL);
}

static void test_validation_accepts_bounds(void **state)
{
	struct fly_launch l = typical();
	(void)state;
	l.cpu_kind = "shared", l.cpus = 1, l.memory_mb = 256;
	assert_int_equal(fly_launch_check(&l, err, sizeof err), 0);
	l.memory_mb = 2048;
	assert_int_equal(fly_launch_check(&l, err, sizeof err), 0);
	l.cpu_kind = "performance", l.cpus = 1, l.memory_mb = 8192;
	assert_int_equal(fly_launch_check(&l, err, sizeof err), 0);
	l.cpus = 8, l.memory_mb = 16384;
	assert_int_equal(fly_launch_check(&l, err, sizeof err), 0);
}

/* The per-CPU bounds times many CPUs overflowed an int and wrapped into
 * range: 256 x 16777217 is 2^32 + 256. */
static void test_validation_many_cpus(void **state)
{
	struct fly_launch l = typical();
	(void)state;
	l.cpu_kind = "shared", l.cpus = 16777217, l.memory_mb = 1024;
	refused(l, "memory_mb 1024 is below 256 MiB per shared CPU", "at least 4294967552");
	l.cpu_kind = "performance", l.cpus = 2097153, l.memory_mb = 2048;
	refused(l, "memory_mb 2048 is below 2048 MiB per performance CPU", "fewer CPUs");
	l.cpus = 2147483647, l.memory_mb = 2147483392;
	refused(l, "below", "fewer CPUs");
	/* rounding up to a multiple of 256 went past an int */
	l = typical(), l.memory_mb = 2147483647;
	refused(l, "memory_mb 2147483647 is not a positive multiple of 256", "use 2147483648");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_body_top_level),
		cmocka_unit_test(test_body_config),
		cmocka_unit_test(test_body_files_base64_and_mode),
		cmocka_unit_test(test_body_metadata),
		cmocka_unit_test(test_body_minimal_and_gpu),
		cmocka_unit_test(test_body_env_last_wins),
		cmocka_unit_test(test_base64),
		cmocka_unit_test(test_validation),
		cmocka_unit_test(test_validation_accepts_bounds),
		cmocka_unit_test(test_validation_many_cpus),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
