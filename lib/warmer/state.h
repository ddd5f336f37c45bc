/* state.h — the warmer's journal: live pool settings and runners.
 *
 * Promises: a write is all or nothing (flock, temporary file, fsync, rename;
 * mode 0600); a read never crashes on a truncated or corrupt file, it says
 * what is wrong.  The same JSON shape answers `flame pool ls --json`. */
#ifndef FLAME_STATE_H
#define FLAME_STATE_H

#include "config.h"
#include "warmer.h"

#include <cJSON.h>
#include <stddef.h>

#define STATE_VERSION 1

/* Settings as JSON (durations in seconds) and back.  The parse takes a
 * journal written before stopped_max, stopped_ttl,
 * budget_machine_seconds_per_hour and price_per_hour existed, with their
 * defaults. */
void state_add_settings(cJSON *obj, const struct pool_settings *ps);
cJSON *state_settings_json(const struct pool_settings *ps);
int state_settings_parse(const cJSON *obj, const char *name, struct pool_settings *ps);

/* The whole picture: {"version", "warmer": {...}, "pools": [...]}. */
cJSON *state_json(const struct pool *pools, int running, long warmer_pid);

/* The journal's text (len bytes, then a NUL at text[len]) checked for its
 * shape, an object with a "pools" array: NULL when it is not that.  Pure;
 * state_read() uses it. */
cJSON *state_parse(const char *text, size_t len);
/* A journaled stopped machine (pools[].stopped[]) into *m, its fields
 * checked (the journal is a file): 0, or -1 when it is not one. */
int state_stopped_parse(const cJSON *o, struct stopped_machine *m);
/* A journaled runner's "pid": 0 when missing or not a process id. */
long state_runner_pid(const cJSON *runner);

int state_write(const char *path, const cJSON *doc, char *err, size_t errlen);
/* NULL with err[0] == 0 when the file does not exist; NULL with a reason when
 * it is unreadable or corrupt. */
cJSON *state_read(const char *path, char *err, size_t errlen);

#endif
