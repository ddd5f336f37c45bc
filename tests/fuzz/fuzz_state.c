/* fuzz_state.c — the warmer's journal read back: state_parse() on any text,
 * then what recover() does with it (each pool's live and declared settings,
 * each runner's pid).  Settings read back must survive a second write and
 * read unchanged. */
#include "fuzz.h"
#include "warmer/state.h"

#include <limits.h>

static void same_after_rewrite(const struct pool_settings *ps)
{
	cJSON *o = state_settings_json(ps);
	struct pool_settings back;

	FUZZ_CHECK(state_settings_parse(o, ps->name, &back) == 0);
	FUZZ_CHECK(!strcmp(back.backend, ps->backend));
	FUZZ_CHECK(back.min == ps->min && back.max == ps->max && back.max_concurrency == ps->max_concurrency);
	FUZZ_CHECK(back.idle_ms == ps->idle_ms && back.boot_ms == ps->boot_ms && back.slot_ms == ps->slot_ms);
	cJSON_Delete(o);
}

static void settings(const cJSON *o, const char *name)
{
	struct pool_settings ps;

	if (state_settings_parse(o, name, &ps) < 0)
		return;
	FUZZ_CHECK(ps.min >= 0 && ps.min <= ps.max && ps.max_concurrency >= 1);
	FUZZ_CHECK(ps.idle_ms > 0 && ps.boot_ms > 0 && ps.slot_ms > 0);
	same_after_rewrite(&ps);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_text(data, size);
	cJSON *doc = state_parse(text, size), *p, *r;

	cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(doc, "pools")) {
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(p, "name");
		if (!cJSON_IsString(name))
			continue;
		settings(p, name->valuestring);
		settings(cJSON_GetObjectItemCaseSensitive(p, "declared"), name->valuestring);
		cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(p, "runners")) {
			long pid = state_runner_pid(r);
			FUZZ_CHECK(pid >= 0 && pid <= INT_MAX);
		}
	}
	cJSON_Delete(doc);
	free(text);
	return 0;
}
