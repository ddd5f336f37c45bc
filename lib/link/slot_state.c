/* slot_state.c — see slot_state.h. */
#include "slot_state.h"
#include "files.h"

#include <string.h>

void slot_state_init(struct slot_state *st)
{
	memset(st, 0, sizeof *st);
	st->phase = SLOT_OPENING;
}

enum slot_verdict slot_state_opened(struct slot_state *st)
{
	if (st->phase != SLOT_OPENING)
		return SLOT_WRONG_STATE;
	st->phase = SLOT_IDLE;
	return SLOT_OK;
}

int slot_state_free(const struct slot_state *st)
{
	return st->phase == SLOT_IDLE;
}

int slot_state_busy(const struct slot_state *st)
{
	return st->phase == SLOT_BUSY || st->phase == SLOT_FINISHING;
}

enum slot_verdict slot_state_take(struct slot_state *st, uint32_t job)
{
	if (st->phase != SLOT_IDLE)
		return SLOT_WRONG_STATE;
	st->phase = SLOT_BUSY;
	st->input = SLOT_INPUT_PUTS;
	st->get = SLOT_GET_NONE;
	st->job = job;
	return SLOT_OK;
}

/* The in thread moves on while the job is busy or finishing: finishing
 * waits for it to stop. */
static enum slot_verdict input_step(struct slot_state *st, enum slot_input from)
{
	if (!slot_state_busy(st) || st->input != from)
		return SLOT_WRONG_STATE;
	st->input = from + 1;
	return SLOT_OK;
}

enum slot_verdict slot_state_puts_sent(struct slot_state *st)
{
	return input_step(st, SLOT_INPUT_PUTS);
}

enum slot_verdict slot_state_stdin_eof(struct slot_state *st)
{
	return input_step(st, SLOT_INPUT_STDIN);
}

enum slot_verdict slot_state_frame(const struct slot_state *st, uint32_t job)
{
	if (st->phase != SLOT_BUSY)
		return SLOT_WRONG_STATE;
	return job == st->job ? SLOT_OK : SLOT_NOT_THE_JOB;
}

enum slot_verdict slot_state_signal(const struct slot_state *st, uint32_t job)
{
	return slot_state_frame(st, job);
}

static enum slot_verdict get_check(char *const *patterns, int has_dir, const char *pattern, const char *path,
                                   uint32_t mode, int64_t size)
{
	if (size < 0)
		return SLOT_BAD_FRAME;
	if (!has_dir || !patterns || !files_get_wanted(patterns, pattern, path))
		return SLOT_NOT_ASKED;
	if (mode & ~0777u)
		return SLOT_BAD_MODE;
	return SLOT_OK;
}

enum slot_verdict slot_state_get_begin(struct slot_state *st, char *const *patterns, int has_dir,
                                       const char *pattern, const char *path, uint32_t mode, int64_t size)
{
	enum slot_verdict v;

	if (st->phase != SLOT_BUSY)
		return SLOT_WRONG_STATE;
	v = get_check(patterns, has_dir, pattern, path, mode, size);
	st->get = v == SLOT_OK ? SLOT_GET_ARRIVING : SLOT_GET_DROPPED;
	st->get_size = size < 0 ? 0 : (uint64_t)size;
	st->get_done = 0;
	return v;
}

enum slot_verdict slot_state_get_drop(struct slot_state *st)
{
	if (st->get != SLOT_GET_ARRIVING)
		return SLOT_WRONG_STATE;
	st->get = SLOT_GET_DROPPED;
	return SLOT_OK;
}

enum slot_verdict slot_state_get_bytes(struct slot_state *st, uint64_t n)
{
	if (st->get == SLOT_GET_NONE)
		return SLOT_NOT_ANNOUNCED;
	if (st->get == SLOT_GET_DROPPED)
		return SLOT_IGNORE;
	if (n > st->get_size - st->get_done) {
		st->get = SLOT_GET_DROPPED;
		return SLOT_TOO_LONG;
	}
	st->get_done += n;
	return SLOT_OK;
}

enum slot_verdict slot_state_get_end(struct slot_state *st)
{
	enum slot_get was = st->get;

	if (was == SLOT_GET_NONE)
		return SLOT_NOT_ANNOUNCED;
	st->get = SLOT_GET_NONE;
	return was == SLOT_GET_ARRIVING ? SLOT_OK : SLOT_IGNORE;
}

enum slot_verdict slot_state_job_done(struct slot_state *st, uint32_t job)
{
	enum slot_verdict v = slot_state_frame(st, job);

	if (v == SLOT_OK)
		st->phase = SLOT_FINISHING;
	return v;
}

enum slot_verdict slot_state_finished(struct slot_state *st)
{
	if (st->phase != SLOT_FINISHING)
		return SLOT_WRONG_STATE;
	st->phase = SLOT_IDLE;
	st->input = SLOT_INPUT_NONE;
	st->get = SLOT_GET_NONE;
	st->get_size = st->get_done = 0;
	return SLOT_OK;
}

enum slot_verdict slot_state_lost(struct slot_state *st)
{
	if (st->phase == SLOT_LOST)
		return SLOT_WRONG_STATE;
	st->phase = SLOT_LOST;
	return SLOT_OK;
}
