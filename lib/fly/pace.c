/* fly_pace.c — see fly_pace.h. */
#include "pace.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

/* Tokens are counted in thousandths, so a rate of r per second refills r
 * thousandths per millisecond and integer arithmetic stays exact. */
#define TOKEN 1000

/* Our clock and the server's disagree by the network's jitter: a request
 * sent exactly when a token refills may arrive a little early. */
#define SLACK_MS 25

struct bucket {
	enum fly_action action;
	char *key;
	int64_t tokens; /* thousandths; negative after requests sent too early */
	int64_t at;     /* when tokens was last brought up to date */
};

struct fly_pace {
	struct bucket *b;
	size_t n, cap;
};

static int64_t rate(enum fly_action a)
{
	return a == FLY_ACT_GET ? 5 : 1;
}

static int64_t burst(enum fly_action a)
{
	return (a == FLY_ACT_GET ? 10 : 3) * TOKEN;
}

struct fly_pace *fly_pace_new(void)
{
	return xcalloc(1, sizeof(struct fly_pace));
}

void fly_pace_free(struct fly_pace *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++)
		free(p->b[i].key);
	free(p->b);
	free(p);
}

static void refill(struct bucket *b, int64_t now)
{
	int64_t dt = now > b->at ? now - b->at : 0;
	int64_t room = burst(b->action) - b->tokens, add;
	if (now > b->at)
		b->at = now;
	if (room <= 0)
		return;
	/* rate >= 1, so dt >= room fills it; and dt * rate cannot overflow */
	add = dt >= room ? room : dt * rate(b->action);
	b->tokens += add < room ? add : room;
}

/* A full bucket is the same as none: dropping those keeps the table as small
 * as the set of keys used in the last few seconds. */
static void forget_full(struct fly_pace *p, int64_t now)
{
	size_t kept = 0;
	for (size_t i = 0; i < p->n; i++) {
		refill(&p->b[i], now);
		if (p->b[i].tokens >= burst(p->b[i].action)) {
			free(p->b[i].key);
			continue;
		}
		if (kept < i) /* memcpy: clang --analyze loses track of a struct assignment here */
			memcpy(&p->b[kept], &p->b[i], sizeof p->b[i]);
		kept++;
	}
	p->n = kept;
}

static struct bucket *find(struct fly_pace *p, enum fly_action a, const char *key, int64_t now)
{
	struct bucket *b;
	forget_full(p, now);
	for (size_t i = 0; i < p->n; i++)
		if (p->b[i].action == a && !strcmp(p->b[i].key, key))
			return &p->b[i];
	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 8;
		p->b = xrealloc(p->b, p->cap * sizeof *p->b);
	}
	b = &p->b[p->n++];
	b->action = a;
	b->key = xstrdup(key);
	b->tokens = burst(a);
	b->at = now;
	return b;
}

int64_t fly_pace_delay(struct fly_pace *p, enum fly_action a, const char *key, int64_t now_ms)
{
	struct bucket *b = find(p, a, key, now_ms);
	int64_t r = rate(a);
	if (b->tokens >= TOKEN)
		return 0;
	return (TOKEN - b->tokens + r - 1) / r + SLACK_MS;
}

void fly_pace_sent(struct fly_pace *p, enum fly_action a, const char *key, int64_t now_ms)
{
	find(p, a, key, now_ms)->tokens -= TOKEN;
}

void fly_pace_limited(struct fly_pace *p, enum fly_action a, const char *key, int64_t now_ms)
{
	struct bucket *b = find(p, a, key, now_ms);
	if (b->tokens > 0)
		b->tokens = 0;
}

int fly_retryable(int status)
{
	switch (status) {
	case 0:   /* no answer: connection refused, dropped or timed out */
	case 408: /* request timeout (for create: ambiguous, see fly_http.c) */
	case 409: /* create: flyd out of capacity (FLAME) */
	case 412: /* create: capacity not found (FLAME) */
	case 422: /* create: no capacity for the workload (FLAME) */
	case 429: /* rate limited */ return 1;
	default: return status >= 500 && status <= 599;
	}
}

int fly_retry(int status, int tries)
{
	if (!fly_retryable(status))
		return 0;
	return status == 429 || tries < FLY_MAX_TRIES;
}

int64_t fly_backoff_ms(int attempt, int64_t base_ms, int64_t cap_ms, uint32_t (*rnd)(void *ctx), void *ctx)
{
	int64_t ceil = base_ms;
	if (base_ms <= 0 || cap_ms <= 0)
		return 0;
	for (int i = 0; i < attempt && ceil < cap_ms; i++)
		ceil = ceil > cap_ms / 2 ? cap_ms : ceil * 2;
	if (ceil > INT32_MAX) /* keeps the product below 2^64 */
		ceil = INT32_MAX;
	/* (ceil + 1) * r / 2^32: uniform over 0..ceil */
	return (int64_t)(((uint64_t)ceil + 1) * rnd(ctx) >> 32);
}
