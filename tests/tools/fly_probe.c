/* fly_probe.c — drives lib/fly/http.c from the command line, for the tests
 * and for trying the client against Fly by hand.
 *
 *   fly-probe [--base URL] --app APP [--token-file F] [--timeout S] [--poll S]
 *             [--count] COMMAND ...
 *     create --image I [--region R] --launch-id L [--pool P] [--parent X]
 *            [--cpu-kind K] [--cpus N] [--memory MB] [--metadata K=V]...
 *            [--file GUEST_PATH=LOCAL_FILE]... [--env K=V]... [-- ARGV...]
 *                              prints "ID PRIVATE_IP INSTANCE_ID"
 *     wait ID STATE TIMEOUT_S [INSTANCE_ID]
 *     get ID                   prints "KEY VALUE" lines (metadata as metadata.K)
 *     stop ID
 *     destroy ID
 *     list [K=V]...            prints "ID STATE" lines, filtered by metadata
 * The token comes from FLY_API_TOKEN (or --token-file).  --timeout bounds each
 * call (default 60 s); --poll is the longest single wait request; --count
 * prints "requests N" last on stdout.  A --file keeps the local file's mode.
 * Exit: 0; 1 when the API call failed (one "flame: " line); 2 for usage. */
#include "fly/http.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct opts {
	const char *base, *app, *token_file;
	int timeout_ms, poll_s, count;
};

/* What create collects; every vector is NULL-terminated or counted. */
struct create_args {
	struct fly_launch l;
	char **env;
	size_t nenv;
	struct fly_kv *meta;
	struct fly_file *files;
};

static int usage(void)
{
	msg("usage: fly-probe [--base URL] --app APP [--token-file F] [--timeout S] [--poll S] [--count] "
	    "create|wait|get|stop|destroy|list ...");
	return 2;
}

static int num_arg(const char *s, long min, long max, const char *what)
{
	long v;
	if (parse_long(s, min, max, &v) < 0) {
		msg("%s must be a number from %ld to %ld, not '%s'", what, min, max, s);
		return -1;
	}
	return (int)v;
}

/* K=V into kv (pointing into s). */
static int split_kv(char *s, struct fly_kv *kv)
{
	char *eq = strchr(s, '=');
	if (!eq || eq == s) {
		msg("'%s' is not KEY=VALUE", s);
		return -1;
	}
	*eq = 0;
	kv->key = s;
	kv->value = eq + 1;
	return 0;
}

static int read_file(const char *path, struct fly_file *f)
{
	struct stat st;
	char *buf;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) < 0) {
		msg("cannot read %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	buf = xmalloc((size_t)st.st_size + 1);
	if (read_all(fd, buf, (size_t)st.st_size) < 0) {
		msg("cannot read %s: %s", path, strerror(errno ? errno : EIO));
		free(buf);
		close(fd);
		return -1;
	}
	close(fd);
	f->data = buf;
	f->len = (size_t)st.st_size;
	f->mode = (int)(st.st_mode & 07777);
	return 0;
}

static int add_file(struct create_args *c, char *spec)
{
	struct fly_kv kv;
	struct fly_file *f;
	if (split_kv(spec, &kv) < 0)
		return -1;
	c->files = xrealloc(c->files, (c->l.nfiles + 1) * sizeof *c->files);
	f = &c->files[c->l.nfiles];
	memset(f, 0, sizeof *f);
	f->guest_path = kv.key;
	if (read_file(kv.value, f) < 0)
		return -1;
	c->l.nfiles++;
	c->l.files = c->files;
	return 0;
}

static int add_meta(struct create_args *c, char *spec)
{
	c->meta = xrealloc(c->meta, (c->l.nmetadata + 1) * sizeof *c->meta);
	if (split_kv(spec, &c->meta[c->l.nmetadata]) < 0)
		return -1;
	c->l.nmetadata++;
	c->l.metadata = c->meta;
	return 0;
}

static void add_env(struct create_args *c, char *spec)
{
	c->env = xrealloc(c->env, (c->nenv + 2) * sizeof *c->env);
	c->env[c->nenv++] = spec;
	c->env[c->nenv] = NULL;
	c->l.env = c->env;
}

static const struct {
	const char *name;
	size_t off;
} launch_strings[] = {
	{ "--image", offsetof(struct fly_launch, image) },
	{ "--region", offsetof(struct fly_launch, region) },
	{ "--launch-id", offsetof(struct fly_launch, launch_id) },
	{ "--pool", offsetof(struct fly_launch, pool) },
	{ "--parent", offsetof(struct fly_launch, parent) },
	{ "--cpu-kind", offsetof(struct fly_launch, cpu_kind) },
};

/* One create option at argv[*i] (and its value); -1 on a usage error. */
static int create_opt(struct create_args *c, int argc, char **argv, int *i)
{
	const char *o = argv[*i];
	char *v;
	int n;

	if (*i + 1 >= argc)
		return -1;
	v = argv[++*i];
	for (size_t k = 0; k < sizeof launch_strings / sizeof launch_strings[0]; k++)
		if (!strcmp(o, launch_strings[k].name)) {
			*(const char **)((char *)&c->l + launch_strings[k].off) = v;
			return 0;
		}
	if (!strcmp(o, "--env")) {
		add_env(c, v);
		return 0;
	}
	if (!strcmp(o, "--metadata"))
		return add_meta(c, v);
	if (!strcmp(o, "--file"))
		return add_file(c, v);
	if (strcmp(o, "--cpus") && strcmp(o, "--memory"))
		return -1;
	n = num_arg(v, 0, 1 << 20, o);
	if (n < 0)
		return -1;
	*(!strcmp(o, "--cpus") ? &c->l.cpus : &c->l.memory_mb) = n;
	return 0;
}

static void create_args_free(struct create_args *c)
{
	for (size_t i = 0; i < c->l.nfiles; i++)
		free((void *)c->files[i].data);
	free(c->files);
	free(c->meta);
	free(c->env);
}

static int cmd_create(struct fly_api *a, const struct opts *o, int argc, char **argv)
{
	struct create_args c = { .l = { .cpu_kind = "shared", .cpus = 1, .memory_mb = 256 } };
	struct fly_machine m;
	char err[1024];
	int i, rc = 2;

	for (i = 0; i < argc && strcmp(argv[i], "--"); i++)
		if (create_opt(&c, argc, argv, &i) < 0) {
			msg("create: bad or incomplete option '%s'", argv[i]);
			goto out;
		}
	if (i < argc)
		c.l.argv = argv + i + 1;
	rc = 1;
	if (fly_create(a, &c.l, &m, o->timeout_ms, err, sizeof err) < 0) {
		msg("%s", err);
		goto out;
	}
	printf("%s %s %s\n", m.id, m.private_ip, m.instance_id);
	fly_machine_free(&m);
	rc = 0;
out:
	create_args_free(&c);
	return rc;
}

static void print_machine(const struct fly_machine *m)
{
	printf("id %s\nname %s\nstate %s\nprivate_ip %s\ninstance_id %s\nregion %s\nimage %s\n"
	       "image_ref %s\nimage_digest %s\n",
	       m->id, m->name, m->state, m->private_ip, m->instance_id, m->region, m->image, m->image_ref,
	       m->image_digest);
	for (size_t i = 0; i < m->nmeta; i++)
		printf("metadata.%s %s\n", m->meta[i].key, m->meta[i].value);
}

static int cmd_list(struct fly_api *a, const struct opts *o, int argc, char **argv)
{
	struct fly_kv *f = xcalloc((size_t)argc + 1, sizeof *f);
	struct fly_machine *v;
	size_t n;
	char err[1024];
	int rc = 1;

	for (int i = 0; i < argc; i++)
		if (split_kv(argv[i], &f[i]) < 0) {
			free(f);
			return 2;
		}
	if (fly_list(a, f, (size_t)argc, &v, &n, o->timeout_ms, err, sizeof err) == 0) {
		for (size_t i = 0; i < n; i++)
			printf("%s %s\n", v[i].id, v[i].state);
		fly_machines_free(v, n);
		rc = 0;
	} else {
		msg("%s", err);
	}
	free(f);
	return rc;
}

static int cmd_machine(struct fly_api *a, const struct opts *o, const char *cmd, int argc, char **argv)
{
	struct fly_machine m;
	char err[1024];
	int rc, secs;

	if (!strcmp(cmd, "wait")) {
		if (argc < 3 || argc > 4 || (secs = num_arg(argv[2], 1, 86400, "TIMEOUT_S")) < 0)
			return usage();
		rc = fly_wait(a, argv[0], argc > 3 ? argv[3] : NULL, argv[1], secs * 1000, err, sizeof err);
	} else if (argc != 1) {
		return usage();
	} else if (!strcmp(cmd, "get")) {
		rc = fly_get(a, argv[0], &m, o->timeout_ms, err, sizeof err);
		if (rc == 0) {
			print_machine(&m);
			fly_machine_free(&m);
		}
	} else if (!strcmp(cmd, "stop")) {
		rc = fly_stop(a, argv[0], o->timeout_ms, err, sizeof err);
	} else if (!strcmp(cmd, "destroy")) {
		rc = fly_destroy(a, argv[0], o->timeout_ms, err, sizeof err);
	} else {
		return usage();
	}
	if (rc < 0)
		msg("%s", err);
	return rc < 0 ? 1 : 0;
}

static int parse_opts(struct opts *o, int argc, char **argv)
{
	int i;
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		int n;
		if (!strcmp(a, "--count")) {
			o->count = 1;
			continue;
		}
		if (!v)
			return -1;
		i++;
		if (!strcmp(a, "--base")) {
			o->base = v;
		} else if (!strcmp(a, "--app")) {
			o->app = v;
		} else if (!strcmp(a, "--token-file")) {
			o->token_file = v;
		} else if (!strcmp(a, "--timeout") || !strcmp(a, "--poll")) {
			n = num_arg(v, 1, 86400, a);
			if (n < 0)
				return -1;
			*(a[2] == 't' ? &o->timeout_ms : &o->poll_s) = a[2] == 't' ? n * 1000 : n;
		} else {
			return -1;
		}
	}
	return i < argc && o->app ? i : -1;
}

int main(int argc, char **argv)
{
	struct opts o = { .timeout_ms = 60000 };
	struct fly_api *a;
	char err[1024];
	const char *cmd;
	int i = parse_opts(&o, argc, argv), rc;

	if (i < 0)
		return usage();
	a = fly_api_new(o.base, o.app, o.token_file, NULL, err, sizeof err);
	if (!a) {
		msg("%s", err);
		return 1;
	}
	if (o.poll_s)
		fly_api_set_wait_poll(a, o.poll_s);
	cmd = argv[i++];
	if (!strcmp(cmd, "create"))
		rc = cmd_create(a, &o, argc - i, argv + i);
	else if (!strcmp(cmd, "list"))
		rc = cmd_list(a, &o, argc - i, argv + i);
	else
		rc = cmd_machine(a, &o, cmd, argc - i, argv + i);
	if (o.count)
		printf("requests %lu\n", fly_api_requests(a));
	fly_api_free(a);
	return rc;
}
