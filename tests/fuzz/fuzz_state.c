/* fuzz_state.c — the warmer's journal read back: state_parse() on any text,
 * then what recover() does with it (each pool's live and declared settings,
 * its budget's "usage", each runner's pid).  Settings and usage read back
 * must survive a second write and read unchanged. */
#include "fuzz.h"
#include "budget.h"
#include "flame_limits.h"
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
	FUZZ_CHECK(back.stopped_max == ps->stopped_max && back.stopped_ttl_ms == ps->stopped_ttl_ms);
	FUZZ_CHECK(back.budget_s_per_hour == ps->budget_s_per_hour &&
	           back.price_per_hour == ps->price_per_hour);
	cJSON_Delete(o);
}

static void settings(const cJSON *o, const char *name)
{
	struct pool_settings ps;

	if (state_settings_parse(o, name, &ps) < 0)
		return;
	FUZZ_CHECK(ps.min >= 0 && ps.min <= ps.max && ps.max_concurrency >= 1);
	FUZZ_CHECK(ps.idle_ms > 0 && ps.boot_ms > 0 && ps.slot_ms > 0);
	FUZZ_CHECK(ps.stopped_max >= -1 && ps.stopped_max <= LIMIT_RUNNERS && ps.stopped_ttl_ms > 0);
	FUZZ_CHECK(ps.budget_s_per_hour >= 0 && ps.budget_s_per_hour <= LIMIT_RUNNERS * 3600L);
	FUZZ_CHECK(ps.price_per_hour >= -1 && ps.price_per_hour <= 1000);
	same_after_rewrite(&ps);
}

/* A pool's kept stopped machines: each read whole or refused; one read
 * holds a NUL-terminated id and info that parse back as JSON. */
static void stopped(const cJSON *arr)
{
	const cJSON *o;
	cJSON_ArrayForEach(o, arr) {
		struct stopped_machine m;
		cJSON *info;
		if (state_stopped_parse(o, &m) < 0)
			continue;
		FUZZ_CHECK(strlen(m.id) < sizeof m.id && m.stopped_wall >= 0);
		info = cJSON_Parse(m.info);
		FUZZ_CHECK(cJSON_IsObject(info));
		cJSON_Delete(info);
	}
}

/* A pool's "usage": refused whole, or read into range and written back the
 * same; what it says of an hour is within what the buckets can hold. */
static void usage(const cJSON *o)
{
	struct usage u, back, init;
	cJSON *again;
	double used;

	usage_init(&init);
	if (usage_parse(o, &u) < 0) {
		FUZZ_CHECK(!memcmp(&u, &init, sizeof u));
		return;
	}
	FUZZ_CHECK(u.minute >= 0 && u.minute <= USAGE_MINUTE_MAX);
	for (int i = 0; i < USAGE_MINUTES; i++)
		FUZZ_CHECK(u.sec[i] >= 0 && u.sec[i] <= USAGE_BUCKET_MAX);
	again = usage_json(&u);
	FUZZ_CHECK(usage_parse(again, &back) == 0 && back.minute == u.minute);
	for (int i = 0; i < USAGE_MINUTES; i++)
		FUZZ_CHECK(back.sec[i] == u.sec[i]);
	cJSON_Delete(again);
	used = usage_used(&u, NULL, 0, u.minute * 60000);
	FUZZ_CHECK(used >= 0 && used <= USAGE_MINUTES * USAGE_BUCKET_MAX);
	FUZZ_CHECK(usage_frees_in(&u, NULL, 0, u.minute * 60000, 0, used) == 0);
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
		usage(cJSON_GetObjectItemCaseSensitive(p, "usage"));
		stopped(cJSON_GetObjectItemCaseSensitive(p, "stopped"));
		cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(p, "runners")) {
			long pid = state_runner_pid(r);
			FUZZ_CHECK(pid >= 0 && pid <= INT_MAX);
		}
	}
	cJSON_Delete(doc);
	free(text);
	return 0;
}
