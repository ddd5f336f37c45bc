/* fly_machine.c — the create request: a launch checked, then its body
 * built (see fly_machine.h; reading answers is fly_machine_parse.c's). */
#include "fly_machine.h"
#include "util.h"

#include <cJSON.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Per-CPU memory bounds in MiB (fly-machines-api.md §2.13, fly-go's
 * constants): the server refuses a guest outside them. */
#define SHARED_MIN_MB 256
#define SHARED_MAX_MB 2048
#define PERF_MIN_MB 2048
#define PERF_MAX_MB 8192

/* A user's string, shortened and made printable, for a one-line message. */
static const char *show(const char *s, char *buf, size_t n)
{
	size_t i = 0;
	for (; s && *s && i + 4 < n && i < 60; s++)
		buf[i++] = (*s >= 0x20 && *s < 0x7f) ? *s : '?';
	if (s && *s && i + 4 < n)
		buf[i++] = '.', buf[i++] = '.', buf[i++] = '.';
	buf[i] = 0;
	return buf;
}

static int fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static int check_guest(const struct fly_launch *l, char *err, size_t errlen)
{
	char b[80];
	int perf, per_lo, per_hi;
	long long lo, hi;

	if (!l->cpu_kind || (strcmp(l->cpu_kind, "shared") && strcmp(l->cpu_kind, "performance")))
		return fail(err, errlen, "cpu_kind '%s' is neither shared nor performance: use one of those",
		            show(l->cpu_kind ? l->cpu_kind : "", b, sizeof b));
	if (l->cpus < 1)
		return fail(err, errlen, "cpus %d is below 1: ask for at least 1 CPU", l->cpus);
	if (l->memory_mb <= 0 || l->memory_mb % 256)
		return fail(err, errlen, "memory_mb %d is not a positive multiple of 256: use %lld",
		            l->memory_mb, l->memory_mb > 0 ? (l->memory_mb / 256 + 1) * 256LL : 256LL);
	perf = !strcmp(l->cpu_kind, "performance");
	per_lo = perf ? PERF_MIN_MB : SHARED_MIN_MB;
	per_hi = perf ? PERF_MAX_MB : SHARED_MAX_MB;
	/* in 64 bits: 256 MiB times 2^24 + 1 CPUs wrapped around to 256 */
	lo = (long long)per_lo * l->cpus;
	hi = (long long)per_hi * l->cpus;
	if (l->memory_mb < lo)
		return fail(err, errlen,
		            "memory_mb %d is below %d MiB per %s CPU: use at least %lld for %d CPU(s), "
		            "or fewer CPUs",
		            l->memory_mb, per_lo, l->cpu_kind, lo, l->cpus);
	if (l->memory_mb > hi)
		return fail(err, errlen,
		            "memory_mb %d is above %d MiB per %s CPU: use at most %lld for %d CPU(s), "
		            "or more CPUs",
		            l->memory_mb, per_hi, l->cpu_kind, hi, l->cpus);
	if (l->gpu_kind && (!*l->gpu_kind || l->gpus < 0))
		return fail(err, errlen,
		            "gpu_kind '%s' with %d GPUs: name a GPU kind and at least 1 GPU, or none",
		            show(l->gpu_kind, b, sizeof b), l->gpus);
	return 0;
}

static int check_env(char *const *env, char *err, size_t errlen)
{
	char b[80];
	for (; env && *env; env++) {
		const char *eq = strchr(*env, '=');
		if (!eq || eq == *env)
			return fail(err, errlen, "env entry '%s' is not NAME=VALUE: write it as NAME=VALUE",
			            show(*env, b, sizeof b));
	}
	return 0;
}

static int check_files(const struct fly_file *f, size_t n, char *err, size_t errlen)
{
	char b[80];
	for (size_t i = 0; i < n; i++) {
		const char *p = f[i].guest_path ? f[i].guest_path : "";
		if (p[0] != '/')
			return fail(err, errlen,
			            "file '%s': the guest path must be absolute: start it with /",
			            show(p, b, sizeof b));
		if (f[i].mode < 0 || f[i].mode > 07777)
			return fail(err, errlen,
			            "file '%s': mode %o is not a permission mode: use one like 0644",
			            show(p, b, sizeof b), (unsigned)f[i].mode);
		if (!f[i].data && f[i].len)
			return fail(err, errlen, "file '%s' has no contents: read it before launching",
			            show(p, b, sizeof b));
	}
	return 0;
}

static int reserved_key(const char *k)
{
	return !strcmp(k, FLY_META_POOL) || !strcmp(k, FLY_META_PARENT) || !strcmp(k, FLY_META_LAUNCH);
}

static int check_metadata(const struct fly_launch *l, char *err, size_t errlen)
{
	char b[80];
	if (!l->launch_id || !*l->launch_id)
		return fail(err, errlen,
		            "no launch id: every runner needs one (metadata %s) so that a lost "
		            "create answer can be settled",
		            FLY_META_LAUNCH);
	for (size_t i = 0; i < l->nmetadata; i++) {
		const char *k = l->metadata[i].key ? l->metadata[i].key : "";
		if (!*k)
			return fail(err, errlen, "a metadata key is empty: name it");
		if (reserved_key(k))
			return fail(err, errlen, "metadata key '%s' is flame's own: pick another name",
			            show(k, b, sizeof b));
		if (!l->metadata[i].value)
			return fail(err, errlen, "metadata key '%s' has no value: give it one",
			            show(k, b, sizeof b));
	}
	return 0;
}

static int region_ok(const char *r)
{
	if (!r || !*r)
		return 1; /* Fly picks one */
	for (int i = 0; i < 3; i++)
		if (r[i] < 'a' || r[i] > 'z')
			return 0;
	return r[3] == 0;
}

int fly_launch_check(const struct fly_launch *l, char *err, size_t errlen)
{
	char b[80];
	if (!l->image || !*l->image)
		return fail(err, errlen,
		            "no image: name the image runners boot (e.g. registry.fly.io/APP:TAG)");
	if (!region_ok(l->region))
		return fail(err, errlen,
		            "region '%s' is not a Fly region code: use three lowercase letters "
		            "(e.g. iad; fly platform regions lists them)",
		            show(l->region, b, sizeof b));
	if (l->argv && l->argv[0] && !*l->argv[0])
		return fail(err, errlen, "the runner's command is an empty string: give the program to run");
	if (check_guest(l, err, errlen) < 0 || check_env(l->env, err, errlen) < 0 ||
	    check_files(l->files, l->nfiles, err, errlen) < 0 || check_metadata(l, err, errlen) < 0)
		return -1;
	return 0;
}

char *fly_base64(const void *data, size_t n)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *p = data;
	char *out = xmalloc((n + 2) / 3 * 4 + 1), *o = out;

	for (; n >= 3; n -= 3, p += 3) {
		*o++ = tab[p[0] >> 2];
		*o++ = tab[(p[0] & 3) << 4 | p[1] >> 4];
		*o++ = tab[(p[1] & 15) << 2 | p[2] >> 6];
		*o++ = tab[p[2] & 63];
	}
	if (n) {
		*o++ = tab[p[0] >> 2];
		*o++ = tab[(p[0] & 3) << 4 | (n == 2 ? p[1] >> 4 : 0)];
		*o++ = n == 2 ? tab[(p[1] & 15) << 2] : '=';
		*o++ = '=';
	}
	*o = 0;
	return out;
}

/* cJSON reports a failed allocation only by NULL results, which its adders
 * accept silently: every node goes through node(), which remembers a failure
 * so that a half-built body is never sent. */
struct build {
	int bad;
};

static cJSON *node(struct build *b, cJSON *parent, const char *key, cJSON *item)
{
	if (!item || !parent) {
		b->bad = 1;
		cJSON_Delete(item);
		return NULL;
	}
	if (cJSON_IsArray(parent)) {
		if (!cJSON_AddItemToArray(parent, item))
			goto bad;
	} else if (cJSON_GetObjectItemCaseSensitive(parent, key)) {
		/* a later NAME=VALUE wins, as with env(1) */
		if (!cJSON_ReplaceItemInObjectCaseSensitive(parent, key, item))
			goto bad;
	} else if (!cJSON_AddItemToObject(parent, key, item)) {
		goto bad;
	}
	return item;
bad:
	b->bad = 1;
	cJSON_Delete(item);
	return NULL;
}

static void put_str(struct build *b, cJSON *o, const char *k, const char *v)
{
	node(b, o, k, cJSON_CreateString(v));
}

static void put_int(struct build *b, cJSON *o, const char *k, int v)
{
	node(b, o, k, cJSON_CreateNumber(v));
}

static void add_guest(struct build *b, cJSON *config, const struct fly_launch *l)
{
	cJSON *g = node(b, config, "guest", cJSON_CreateObject());
	put_str(b, g, "cpu_kind", l->cpu_kind);
	put_int(b, g, "cpus", l->cpus);
	put_int(b, g, "memory_mb", l->memory_mb);
	if (l->gpu_kind) {
		put_str(b, g, "gpu_kind", l->gpu_kind);
		put_int(b, g, "gpus", l->gpus > 0 ? l->gpus : 1);
	}
}

static void add_env(struct build *b, cJSON *config, char *const *env)
{
	cJSON *e;
	if (!env || !*env)
		return;
	e = node(b, config, "env", cJSON_CreateObject());
	for (; *env; env++) {
		const char *eq = strchr(*env, '=');
		char *name = xasprintf("%.*s", (int)(eq - *env), *env);
		put_str(b, e, name, eq + 1);
		free(name);
	}
}

static void add_files(struct build *b, cJSON *config, const struct fly_file *f, size_t n)
{
	cJSON *arr;
	if (!n)
		return;
	arr = node(b, config, "files", cJSON_CreateArray());
	for (size_t i = 0; i < n; i++) {
		cJSON *o = node(b, arr, NULL, cJSON_CreateObject());
		char *b64 = fly_base64(f[i].data ? f[i].data : "", f[i].len);
		put_str(b, o, "guest_path", f[i].guest_path);
		put_str(b, o, "raw_value", b64);
		put_int(b, o, "mode", f[i].mode ? f[i].mode : 0644);
		free(b64);
	}
}

static void add_metadata(struct build *b, cJSON *config, const struct fly_launch *l)
{
	cJSON *m = node(b, config, "metadata", cJSON_CreateObject());
	if (l->pool)
		put_str(b, m, FLY_META_POOL, l->pool);
	if (l->parent)
		put_str(b, m, FLY_META_PARENT, l->parent);
	put_str(b, m, FLY_META_LAUNCH, l->launch_id);
	for (size_t i = 0; i < l->nmetadata; i++)
		put_str(b, m, l->metadata[i].key, l->metadata[i].value);
}

static void add_init(struct build *b, cJSON *config, char *const *argv)
{
	cJSON *init, *exec;
	if (!argv || !*argv)
		return;
	init = node(b, config, "init", cJSON_CreateObject());
	exec = node(b, init, "exec", cJSON_CreateArray());
	for (; *argv; argv++)
		node(b, exec, NULL, cJSON_CreateString(*argv));
}

char *fly_create_body(const struct fly_launch *l, char *err, size_t errlen)
{
	struct build b = { 0 };
	cJSON *doc, *config, *restart;
	char *text;

	if (fly_launch_check(l, err, errlen) < 0)
		return NULL;
	doc = cJSON_CreateObject();
	if (l->region && *l->region)
		put_str(&b, doc, "region", l->region);
	config = node(&b, doc, "config", cJSON_CreateObject());
	put_str(&b, config, "image", l->image);
	add_guest(&b, config, l);
	add_env(&b, config, l->env);
	add_files(&b, config, l->files, l->nfiles);
	add_metadata(&b, config, l);
	add_init(&b, config, l->argv);
	/* a runner is gone once its agent exits: no restart, then destroyed;
	 * one the warmer may keep stopped instead ends stopped, never running */
	node(&b, config, "auto_destroy", cJSON_CreateBool(!l->keep_stopped));
	restart = node(&b, config, "restart", cJSON_CreateObject());
	put_str(&b, restart, "policy", "no");
	text = b.bad ? NULL : cJSON_PrintUnformatted(doc);
	cJSON_Delete(doc);
	if (!text)
		fail(err, errlen, "out of memory building the create request");
	return text;
}
