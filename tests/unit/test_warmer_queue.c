/* test_warmer_queue.c — a pool's queue and placement (lib/warmer/queue.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "warmer/queue.h"

/* A pool with n runners (listed in index order) and n callers, none queued. */
struct fx {
	struct pool p;
	struct runner r[6];
	struct caller c[6];
};

static void fx_init(struct fx *f, int nrunners)
{
	memset(f, 0, sizeof *f);
	f->p.live.min = 0;
	f->p.live.max = 6;
	f->p.live.max_concurrency = 4;
	f->p.live.idle_ms = 1000;
	for (int i = 0; i < nrunners; i++) {
		f->r[i].pool = &f->p;
		f->r[i].state = R_READY;
		f->r[i].next = i + 1 < nrunners ? &f->r[i + 1] : NULL;
	}
	f->p.runners = nrunners ? &f->r[0] : NULL;
	for (int i = 0; i < 6; i++) {
		f->c[i].pool = &f->p;
		f->c[i].state = C_CONNECTED;
	}
}

/* The queue from head to tail as caller indexes, and that qtail and waiting
 * agree with it. */
static void assert_queue(const struct fx *f, const int *want, int n)
{
	const struct caller *c = f->p.qhead, *last = NULL;
	for (int i = 0; i < n; i++, c = c->qnext) {
		assert_non_null(c);
		assert_ptr_equal(c, &f->c[want[i]]);
		assert_int_equal(c->state, C_QUEUED);
		last = c;
	}
	assert_null(c);
	assert_ptr_equal(f->p.qtail, last);
	assert_int_equal(f->p.waiting, n);
	assert_ptr_equal(queue_next(&f->p), n ? &f->c[want[0]] : NULL);
}

static void test_fifo_order(void **state)
{
	struct fx f;
	(void)state;
	fx_init(&f, 0);
	assert_queue(&f, NULL, 0);
	enqueue(&f.c[0], 0);
	assert_queue(&f, (int[]){ 0 }, 1);
	enqueue(&f.c[1], 0);
	enqueue(&f.c[2], 0);
	assert_queue(&f, (int[]){ 0, 1, 2 }, 3);
}

static void test_head_insertion(void **state)
{
	struct fx f;
	(void)state;
	fx_init(&f, 0);
	enqueue(&f.c[0], 1); /* at the head of an empty queue: also its tail */
	assert_queue(&f, (int[]){ 0 }, 1);
	enqueue(&f.c[1], 0);
	enqueue(&f.c[2], 1);
	assert_queue(&f, (int[]){ 2, 0, 1 }, 3);
	enqueue(&f.c[3], 0);
	assert_queue(&f, (int[]){ 2, 0, 1, 3 }, 4);
}

static void test_unqueue_middle_and_ends(void **state)
{
	struct fx f;
	(void)state;
	fx_init(&f, 0);
	for (int i = 0; i < 5; i++)
		enqueue(&f.c[i], 0);
	unqueue(&f.c[2]);
	assert_null(f.c[2].qnext);
	assert_queue(&f, (int[]){ 0, 1, 3, 4 }, 4);
	unqueue(&f.c[0]);
	assert_queue(&f, (int[]){ 1, 3, 4 }, 3);
	unqueue(&f.c[4]);
	assert_queue(&f, (int[]){ 1, 3 }, 2);
	enqueue(&f.c[5], 0); /* the tail is right after removing the old one */
	assert_queue(&f, (int[]){ 1, 3, 5 }, 3);
	unqueue(&f.c[1]);
	unqueue(&f.c[3]);
	unqueue(&f.c[5]);
	assert_queue(&f, NULL, 0);
	enqueue(&f.c[4], 0);
	assert_queue(&f, (int[]){ 4 }, 1);
}

static void test_pick_prefers_least_busy_ready(void **state)
{
	struct fx f;
	(void)state;
	fx_init(&f, 4);
	f.r[0].busy = 3;
	f.r[1].busy = 1;
	f.r[2].busy = 2;
	f.r[3].busy = 1;
	assert_ptr_equal(pick_runner(&f.p, NULL), &f.r[1]); /* a tie: the first listed */
	f.r[1].busy = 4;
	assert_ptr_equal(pick_runner(&f.p, NULL), &f.r[3]);
}

static void test_pick_never_not_ready(void **state)
{
	static const enum runner_state not_ready[] = { R_BOOTING, R_DRAINING, R_STOPPING };
	struct fx f;
	(void)state;
	fx_init(&f, 4);
	f.r[3].busy = 3;
	for (int i = 0; i < 3; i++)
		f.r[i].state = not_ready[i]; /* idle, but taking no jobs */
	assert_ptr_equal(pick_runner(&f.p, NULL), &f.r[3]);
	f.r[3].state = R_DRAINING;
	assert_null(pick_runner(&f.p, NULL));
	fx_init(&f, 0);
	assert_null(pick_runner(&f.p, NULL));
}

static void test_pick_honours_capacity(void **state)
{
	struct fx f;
	(void)state;
	fx_init(&f, 2);
	/* capacity 0: max_concurrency slots */
	f.r[0].busy = 4;
	f.r[1].busy = 3;
	assert_ptr_equal(pick_runner(&f.p, NULL), &f.r[1]);
	assert_true(runner_has_slot(&f.r[1], 4));
	f.r[1].busy = 4;
	assert_null(pick_runner(&f.p, NULL));
	assert_false(runner_has_slot(&f.r[1], 4));
	/* a backend that opened only 2 slots so far */
	f.r[0].busy = 1;
	f.r[0].capacity = 2;
	f.r[1].busy = 2;
	f.r[1].capacity = 2;
	assert_ptr_equal(pick_runner(&f.p, NULL), &f.r[0]);
	f.r[0].busy = 2;
	assert_null(pick_runner(&f.p, NULL));
	assert_false(runner_has_slot(&f.r[0], 4));
	f.r[0].capacity = 3;
	assert_ptr_equal(pick_runner(&f.p, NULL), &f.r[0]);
	/* max_concurrency lowered below an opened capacity: the lower wins */
	f.p.live.max_concurrency = 2;
	assert_null(pick_runner(&f.p, NULL));
}

static const struct runner *skipped;

static int skip_one(const struct runner *r)
{
	return r == skipped;
}

static void test_pick_skips_marked(void **state)
{
	struct fx f;
	(void)state;
	fx_init(&f, 2);
	f.r[1].busy = 1;
	skipped = &f.r[0];
	assert_ptr_equal(pick_runner(&f.p, skip_one), &f.r[1]);
	skipped = &f.r[1];
	assert_ptr_equal(pick_runner(&f.p, skip_one), &f.r[0]);
}

static void test_expiry(void **state)
{
	struct fx f;
	static const int64_t deadline[] = { 500, 100, 300, 100, 900 };
	(void)state;
	fx_init(&f, 0);
	for (int i = 0; i < 5; i++) {
		f.c[i].deadline = deadline[i];
		enqueue(&f.c[i], 0);
	}
	assert_int_equal(queue_first_deadline(&f.p, 10000), 100);
	assert_int_equal(queue_first_deadline(&f.p, 50), 50);
	assert_null(queue_next_expired(&f.p, 99));
	/* exactly those whose deadline passed (or is now), in queue order */
	assert_ptr_equal(queue_next_expired(&f.p, 100), &f.c[1]);
	unqueue(&f.c[1]);
	assert_ptr_equal(queue_next_expired(&f.p, 100), &f.c[3]);
	unqueue(&f.c[3]);
	assert_null(queue_next_expired(&f.p, 299));
	assert_int_equal(queue_first_deadline(&f.p, 10000), 300);
	assert_ptr_equal(queue_next_expired(&f.p, 600), &f.c[0]);
	unqueue(&f.c[0]);
	assert_ptr_equal(queue_next_expired(&f.p, 600), &f.c[2]);
	unqueue(&f.c[2]);
	assert_null(queue_next_expired(&f.p, 600));
	assert_queue(&f, (int[]){ 4 }, 1);
	fx_init(&f, 0);
	assert_null(queue_next_expired(&f.p, INT64_MAX));
	assert_int_equal(queue_first_deadline(&f.p, 7), 7);
}

static void test_count_runners(void **state)
{
	struct fx f;
	struct sched_view v;
	(void)state;
	fx_init(&f, 6);
	f.r[0].state = R_BOOTING;
	f.r[1].state = R_DRAINING;
	f.r[2].state = R_STOPPING;
	f.p.live.min = 1;
	f.p.live.max = 5;
	f.p.live.max_concurrency = 3;
	enqueue(&f.c[0], 0);
	enqueue(&f.c[1], 0);
	count_runners(&f.p, &v);
	assert_int_equal(v.ready, 3);
	assert_int_equal(v.booting, 1);
	assert_int_equal(v.retiring, 2);
	assert_int_equal(v.waiting, 2);
	assert_int_equal(v.min, 1);
	assert_int_equal(v.max, 5);
	assert_int_equal(v.max_concurrency, 3);
}

static void test_retiree_order(void **state)
{
	struct fx f;
	(void)state;
	fx_init(&f, 4);
	f.r[0].busy = 2;
	f.r[1].busy = 1;
	f.r[2].busy = 0;
	f.r[3].state = R_BOOTING;
	/* idle or booting first (they stop now), in list order */
	assert_ptr_equal(next_retiree(&f.p), &f.r[2]);
	f.r[2].state = R_STOPPING;
	assert_ptr_equal(next_retiree(&f.p), &f.r[3]);
	f.r[3].state = R_STOPPING;
	/* then busy ready ones, which drain */
	assert_ptr_equal(next_retiree(&f.p), &f.r[0]);
	f.r[0].state = R_DRAINING;
	assert_ptr_equal(next_retiree(&f.p), &f.r[1]);
	f.r[1].state = R_DRAINING;
	assert_null(next_retiree(&f.p));
}

static void test_idle_expired(void **state)
{
	struct fx f;
	(void)state;
	fx_init(&f, 1);
	f.r[0].idle_since = 5000;
	assert_false(runner_idle_expired(&f.p, &f.r[0], 5999));
	assert_true(runner_idle_expired(&f.p, &f.r[0], 6000));
	f.r[0].busy = 1;
	assert_false(runner_idle_expired(&f.p, &f.r[0], 9000));
	f.r[0].busy = 0;
	f.r[0].state = R_DRAINING;
	assert_false(runner_idle_expired(&f.p, &f.r[0], 9000));
	f.r[0].state = R_READY;
	enqueue(&f.c[0], 0); /* someone waits (for another runner's slot) */
	assert_false(runner_idle_expired(&f.p, &f.r[0], 9000));
}

static void test_pool_next_deadline(void **state)
{
	struct fx f;
	(void)state;
	fx_init(&f, 3);
	f.r[0].busy = 1; /* a busy ready runner has no timer */
	f.r[1].state = R_BOOTING;
	f.r[1].boot_deadline = 800;
	f.r[2].busy = 1;
	assert_int_equal(pool_next_deadline(&f.p, 0, 1000), 800);
	assert_int_equal(pool_next_deadline(&f.p, 0, 700), 700);
	f.r[2].state = R_STOPPING;
	f.r[2].stop_deadline = 600;
	assert_int_equal(pool_next_deadline(&f.p, 0, 1000), 600);
	f.r[0].busy = 0;
	f.r[0].idle_since = 0; /* idle_ms 1000 */
	f.c[0].deadline = 400;
	enqueue(&f.c[0], 0);
	assert_int_equal(pool_next_deadline(&f.p, 0, 1000), 400);
	f.p.boot_blocked_until = 300;
	assert_int_equal(pool_next_deadline(&f.p, 0, 1000), 300);
	/* a debounce already over is no timer */
	assert_int_equal(pool_next_deadline(&f.p, 350, 1000), 400);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fifo_order),
		cmocka_unit_test(test_head_insertion),
		cmocka_unit_test(test_unqueue_middle_and_ends),
		cmocka_unit_test(test_pick_prefers_least_busy_ready),
		cmocka_unit_test(test_pick_never_not_ready),
		cmocka_unit_test(test_pick_honours_capacity),
		cmocka_unit_test(test_pick_skips_marked),
		cmocka_unit_test(test_expiry),
		cmocka_unit_test(test_count_runners),
		cmocka_unit_test(test_retiree_order),
		cmocka_unit_test(test_idle_expired),
		cmocka_unit_test(test_pool_next_deadline),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
