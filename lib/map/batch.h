/* batch.h — `flame map`: a whole batch from one process.  Inputs are read
 * one at a time as slots free up (flat memory however many there are); each
 * becomes a job built from the command template (template.h) and goes to
 * the warmer over one of -j connections, one per job slot, each kept open
 * for its slot's next job (RUN_KEEP_OPEN); output is kept whole per job and
 * shown when it ends (capture.h), in input order with --keep-order.  Exit
 * status as GNU parallel's (halt.h). */
#ifndef FLAME_MAP_BATCH_H
#define FLAME_MAP_BATCH_H

#include "config.h"

#include <stddef.h>
#include <stdint.h>

struct map_opts {
	const char *pool;
	long jobs; /* -j: 0 means every slot the pool can grow to */
	char sep;  /* '\n', or '\0' with --null */
	int keep_order, line_buffer, tag, bar, verbose;
	const char *sh; /* --sh STRING: the template is this shell string */
	char **cmd;     /* else the template's words */
	char **puts;    /* --put templates */
	int nput;
	char **gets; /* --get templates */
	size_t nget;
	const char *get_dir;
	char **envs;
	size_t nenv;
	int64_t timeout_ms, slot_ms;
	long retries; /* tries in all when a job's runner is lost (1: none) */
	int retry_failed_commands;
	const char *halt;
	const char *joblog;
	int joblog_extra, resume, resume_failed;
	char **args; /* the words after :::, or NULL */
	size_t nargs;
	const char *argfile; /* :::: FILE, or NULL: stdin */
};

/* Runs the batch; returns the exit status (GNU parallel's: 0, the number
 * of failed jobs up to 100, 101 beyond; 255 when flame itself failed a job;
 * 125 after one line for bad input, with no job started). */
int map_batch_run(const struct map_opts *o, const struct pool_settings *ps);

#endif
