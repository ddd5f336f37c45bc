/* queue.c — see queue.h. */
#include "queue.h"
#include "flame_limits.h"

#include <stddef.h>
#include <string.h>

void unqueue(struct caller *c)
{
	struct pool *p = c->pool;
	struct caller **pp;
	for (pp = &p->qhead; *pp; pp = &(*pp)->qnext) {
		if (*pp == c) {
			*pp = c->qnext;
			break;
		}
	}
	p->qtail = NULL;
	for (struct caller *q = p->qhead; q; q = q->qnext)
		p->qtail = q;
	c->qnext = NULL;
	p->waiting--;
}

void enqueue(struct caller *c, int at_head)
{
	struct pool *p = c->pool;
	c->state = C_QUEUED;
	if (at_head || !p->qhead) {
		c->qnext = p->qhead;
		p->qhead = c;
		if (!p->qtail)
			p->qtail = c;
	} else {
		p->qtail->qnext = c;
		p->qtail = c;
	}
	p->waiting++;
}

struct caller *queue_next(const struct pool *p)
{
	return p->qhead;
}

struct caller *queue_next_expired(const struct pool *p, int64_t now)
{
	for (struct caller *c = p->qhead; c; c = c->qnext)
		if (now >= c->deadline)
			return c;
	return NULL;
}

int64_t queue_first_deadline(const struct pool *p, int64_t until)
{
	for (const struct caller *c = p->qhead; c; c = c->qnext)
		if (c->deadline < until)
			until = c->deadline;
	return until;
}

int runner_has_slot(const struct runner *r, long max_concurrency)
{
	return r->state == R_READY && (r->capacity == 0 || r->busy < r->capacity) &&
	       r->busy < max_concurrency;
}

struct runner *pick_runner(const struct pool *p, int (*skip)(const struct runner *))
{
	int busy[LIMIT_RUNNERS], ready[LIMIT_RUNNERS], n = 0;
	struct runner *rs[LIMIT_RUNNERS];
	int i;
	for (struct runner *r = p->runners; r && n < LIMIT_RUNNERS; r = r->next, n++) {
		rs[n] = r;
		busy[n] = r->busy;
		ready[n] = runner_has_slot(r, p->live.max_concurrency) && !(skip && skip(r));
	}
	i = sched_pick(busy, ready, n, p->live.max_concurrency);
	/* i < n (schedule.h), so rs[i] is set: cppcheck cannot see that far */
	/* cppcheck-suppress uninitvar */
	return i < 0 ? NULL : rs[i];
}

void count_runners(const struct pool *p, struct sched_view *v)
{
	memset(v, 0, sizeof *v);
	for (const struct runner *r = p->runners; r; r = r->next) {
		if (r->state == R_READY)
			v->ready++;
		else if (r->state == R_BOOTING)
			v->booting++;
		else
			v->retiring++;
	}
	v->waiting = p->waiting;
	v->min = p->live.min;
	v->max = p->live.max;
	v->max_concurrency = p->live.max_concurrency;
}

struct runner *next_retiree(const struct pool *p)
{
	for (struct runner *r = p->runners; r; r = r->next)
		if ((r->state == R_READY && r->busy == 0) || r->state == R_BOOTING)
			return r;
	for (struct runner *r = p->runners; r; r = r->next)
		if (r->state == R_READY)
			return r;
	return NULL;
}

int runner_idle_expired(const struct pool *p, const struct runner *r, int64_t now)
{
	return r->state == R_READY && r->busy == 0 && !p->qhead && now - r->idle_since >= p->live.idle_ms;
}

int64_t pool_next_deadline(const struct pool *p, int64_t now, int64_t until)
{
	int64_t t = queue_first_deadline(p, until);
	for (struct runner *r = p->runners; r; r = r->next) {
		int64_t d = r->state == R_BOOTING                 ? r->boot_deadline
		            : r->state == R_STOPPING              ? r->stop_deadline
		            : r->state == R_READY && r->busy == 0 ? r->idle_since + p->live.idle_ms
		                                                  : t;
		if (d < t)
			t = d;
	}
	if (p->boot_blocked_until > now && p->boot_blocked_until < t)
		t = p->boot_blocked_until;
	return t;
}
