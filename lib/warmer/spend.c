/* spend.c — what a pool's runners cost: the machine-seconds it used in the
 * last hour (budget.h's buckets and its running runners, counted from the
 * warmer's own record: a runner's boot to its end), the pool's budget on
 * them, and the estimate `flame pool ls` shows. */
#include "internal.h"
#include "budget.h"
#include "config_fly.h"
#include "price.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The runners' start times (malloc'd), how many in *n. */
static int64_t *running_since(const struct pool *p, size_t *n)
{
	int64_t *v;
	size_t i = 0;
	for (const struct runner *r = p->runners; r; r = r->next)
		i++;
	v = xcalloc(i + 1, sizeof *v);
	*n = i;
	i = 0;
	for (const struct runner *r = p->runners; r; r = r->next)
		v[i++] = r->created_wall;
	return v;
}

double spend_used(const struct pool *p, int64_t wall)
{
	size_t n;
	int64_t *since = running_since(p, &n);
	double used = usage_used(&p->usage, since, n, wall);
	free(since);
	return used;
}

void spend_runner_ended(struct pool *p, int64_t created_wall)
{
	int64_t wall = wall_ms();
	usage_add(&p->usage, created_wall, wall, wall);
}

/* A new runner runs at least its idle time: what booting one costs. */
static double boot_need(const struct pool *p)
{
	return p->live.idle_ms / 1000.0;
}

int spend_blocks_boot(const struct pool *p)
{
	if (p->live.budget_s_per_hour <= 0)
		return 0;
	return spend_used(p, wall_ms()) + boot_need(p) > (double)p->live.budget_s_per_hour;
}

void spend_why(const struct pool *p, char *buf, size_t len)
{
	int64_t wall = wall_ms(), frees;
	size_t n;
	int64_t *since = running_since(p, &n);
	char when[64] = "when a running runner stops";

	frees = usage_frees_in(&p->usage, since, n, wall, boot_need(p), (double)p->live.budget_s_per_hour);
	free(since);
	if (frees >= 0) {
		long s = (long)((frees + 999) / 1000);
		if (s >= 60)
			snprintf(when, sizeof when, "in %ldm%02lds", s / 60, s % 60);
		else
			snprintf(when, sizeof when, "in %lds", s < 1 ? 1 : s);
	}
	snprintf(
		buf, len,
		"pool '%s' has used its budget of %ld machine-seconds per hour (%.0f in the last hour); it frees "
		"up %s: wait, or raise \"budget\" in the pool's settings",
		p->live.name, p->live.budget_s_per_hour, spend_used(p, wall), when);
}

double spend_price_hour(const struct pool_settings *ps)
{
	struct fly_settings s;
	char why[256];
	cJSON *conf;
	double price = -1;

	if (ps->price_per_hour >= 0)
		return ps->price_per_hour;
	if (strcmp(ps->backend, "fly"))
		return -1;
	conf = cJSON_Parse(ps->backend_conf);
	if (fly_settings_read(conf, &s, why, sizeof why) == 0)
		price = price_machine_hour(s.cpu_kind, s.cpus, s.memory_mb);
	cJSON_Delete(conf);
	return price;
}

void spend_add_json(cJSON *o, const struct pool *p)
{
	double used = spend_used(p, wall_ms()), price = spend_price_hour(&p->live);
	cJSON_AddItemToObject(o, "usage", usage_json(&p->usage));
	cJSON_AddNumberToObject(o, "machine_seconds_last_hour", used);
	if (price >= 0)
		cJSON_AddNumberToObject(o, "estimated_usd_last_hour", used / 3600.0 * price);
}
