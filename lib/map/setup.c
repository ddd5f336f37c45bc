/* setup.c — a batch made ready before its first job, and taken down after
 * its last: every option checked (one line and exit 125 for a bad one, no
 * job started), templates parsed once, the joblog opened (and read back for
 * --resume), the slots made. */
#include "internal.h"
#include "client_job.h"
#include "paths.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct map_template **word_templates(char **words, size_t n)
{
	struct map_template **t = xcalloc(n + 1, sizeof *t);
	for (size_t i = 0; i < n; i++) {
		char *one[] = { words[i], NULL };
		t[i] = map_template_new(one, MAP_TEMPLATE_WORD);
	}
	return t;
}

static void free_templates(struct map_template **t)
{
	for (size_t i = 0; t && t[i]; i++)
		map_template_free(t[i]);
	free(t);
}

/* --verbose: each unknown {...} said once, as GNU parallel passes it on. */
static void say_unknown(const struct map_template *t)
{
	const char *const *u = map_template_unknown(t);
	for (size_t i = 0; u && u[i]; i++)
		msg("map: '%s' is no replacement string; it is passed on as it is", u[i]);
}

static int open_inputs(struct map_batch *b)
{
	const struct map_opts *o = b->o;
	b->in_fd = -1;
	if (o->args) {
		b->in = map_input_words(o->args, o->nargs);
		return 0;
	}
	if (o->argfile) {
		b->in_fd = open(o->argfile, O_RDONLY | O_CLOEXEC);
		if (b->in_fd < 0) {
			msg("map: cannot read the input file '%.200s' (::::): %s", o->argfile,
			    strerror(errno));
			return EXIT_USAGE;
		}
	}
	b->in = map_input_fd(b->in_fd >= 0 ? b->in_fd : 0, o->sep);
	return 0;
}

static int open_joblog(struct map_batch *b)
{
	const struct map_opts *o = b->o;
	struct joblog_info info = { 0 };
	char err[512];
	int fd, appending = 0;

	b->joblog_fd = -1;
	b->joblog_extra = o->joblog_extra;
	if ((o->resume || o->resume_failed) && !o->joblog) {
		msg("map: %s needs --joblog FILE, the log to resume from",
		    o->resume ? "--resume" : "--resume-failed");
		return EXIT_USAGE;
	}
	if (!o->joblog)
		return 0;
	if (o->resume || o->resume_failed) {
		fd = open(o->joblog, O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			int rc = joblog_read(fd, o->resume_failed, &b->skip, &info, err, sizeof err);
			close(fd);
			if (rc < 0) {
				msg("map: --joblog %.200s: %s", o->joblog, err);
				return EXIT_USAGE;
			}
			appending = info.header;
			if (appending) /* a log grows in the columns it has */
				b->joblog_extra = info.extra;
		} else if (errno != ENOENT) {
			msg("map: cannot read the joblog '%.200s': %s", o->joblog, strerror(errno));
			return EXIT_USAGE;
		}
	}
	/* a resumed log grows (without the line a crash cut); a new one starts
	 * over, as GNU parallel's */
	fd = open(o->joblog, O_WRONLY | O_CREAT | O_CLOEXEC | O_APPEND | (appending ? 0 : O_TRUNC), 0644);
	if (fd >= 0 && appending && ftruncate(fd, (off_t)info.whole_len) < 0) {
		close(fd);
		fd = -1;
	}
	if (fd < 0) {
		msg("map: cannot write the joblog '%.200s': %s; give a writable path", o->joblog,
		    strerror(errno));
		return EXIT_USAGE;
	}
	b->joblog_fd = fd;
	if (!appending &&
	    write_all(fd, joblog_header(b->joblog_extra), strlen(joblog_header(b->joblog_extra))) < 0) {
		msg("map: cannot write the joblog '%.200s': %s", o->joblog, strerror(errno));
		return EXIT_USAGE;
	}
	return 0;
}

static int make_scratch(struct map_batch *b)
{
	char err[512];
	b->scratch = paths_scratch_root(err, sizeof err);
	if (b->scratch)
		return 0;
	msg("map: %s", err);
	return EXIT_FAILURE_FLAME;
}

/* -j, or every slot the pool can grow to. */
static long slot_count(const struct map_batch *b)
{
	long n = b->o->jobs;
	if (n <= 0)
		n = b->ps->max * b->ps->max_concurrency;
	return n;
}

static void make_slots(struct map_batch *b)
{
	b->nslots = slot_count(b);
	b->slots = xcalloc((size_t)b->nslots, sizeof *b->slots);
	for (long i = 0; i < b->nslots; i++) {
		b->slots[i].index = (unsigned)i + 1;
		b->slots[i].fd = -1;
	}
	/* finished jobs waiting for an earlier one hold two descriptors each */
	b->hold_max = (size_t)b->nslots * 4 + 256;
}

int map_setup(struct map_batch *b)
{
	const struct map_opts *o = b->o;
	char err[256];
	char *sh[] = { (char *)o->sh, NULL };
	struct halt_spec spec;
	int rc;

	b->null_fd = b->null_out_fd = b->joblog_fd = b->in_fd = -1;
	if (halt_parse(o->halt ? o->halt : "never", &spec, err, sizeof err) < 0) {
		msg("map: %s", err);
		return EXIT_USAGE;
	}
	halt_init(&b->halt, &spec);
	b->env = client_job_env(o->envs, o->nenv, "map");
	if (!b->env)
		return EXIT_USAGE;
	b->cmd = map_template_new(o->sh ? sh : o->cmd, o->sh ? MAP_TEMPLATE_SH : MAP_TEMPLATE_ARGV);
	b->puts = word_templates(o->puts, (size_t)o->nput);
	b->gets = word_templates(o->gets, o->nget);
	if (o->verbose)
		say_unknown(b->cmd);
	rc = open_inputs(b);
	if (!rc)
		rc = open_joblog(b);
	if (!rc)
		rc = make_scratch(b);
	if (rc)
		return rc;
	b->null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	b->null_out_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (b->null_fd < 0 || b->null_out_fd < 0) {
		msg("map: cannot open /dev/null: %s", strerror(errno));
		return EXIT_FAILURE_FLAME;
	}
	b->bar_on_tty = o->bar && isatty(2);
	b->next_seq = 1;
	map_order_init(&b->order, 1);
	make_slots(b);
	return 0;
}

void map_teardown(struct map_batch *b)
{
	for (long i = 0; i < b->nslots; i++)
		map_slot_close(&b->slots[i]);
	free(b->slots);
	for (size_t i = 0; i < b->nspare; i++)
		map_capture_close(&b->spare[i]);
	free(b->spare);
	map_order_free(&b->order);
	map_template_free(b->cmd);
	free_templates(b->puts);
	free_templates(b->gets);
	strv_free(b->env);
	map_input_free(b->in);
	joblog_done_free(b->skip);
	free(b->scratch);
	if (b->in_fd >= 0)
		close(b->in_fd);
	if (b->joblog_fd >= 0)
		close(b->joblog_fd);
	if (b->null_fd >= 0)
		close(b->null_fd);
	if (b->null_out_fd >= 0)
		close(b->null_out_fd);
}
