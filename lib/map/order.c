/* order.c — see order.h. */
#include "order.h"
#include "util.h"

#include <stdlib.h>

void map_order_init(struct map_order *o, unsigned long first)
{
	o->ring = NULL;
	o->cap = o->held = 0;
	o->next = first;
}

/* A ring of twice the size, each item at its new place. */
static void grow(struct map_order *o, size_t need)
{
	size_t cap = o->cap ? o->cap : 16;
	void **ring;
	while (cap < need)
		cap *= 2;
	ring = xcalloc(cap, sizeof *ring);
	for (size_t i = 0; i < o->cap; i++) {
		unsigned long seq = o->next + i;
		ring[seq % cap] = o->ring[seq % o->cap];
	}
	free(o->ring);
	o->ring = ring;
	o->cap = cap;
}

void map_order_put(struct map_order *o, unsigned long seq, void *item)
{
	size_t span = (size_t)(seq - o->next) + 1;
	if (span > o->cap)
		grow(o, span);
	o->ring[seq % o->cap] = item;
	o->held++;
}

void *map_order_take(struct map_order *o)
{
	void *item;
	if (!o->cap)
		return NULL;
	item = o->ring[o->next % o->cap];
	if (!item)
		return NULL;
	o->ring[o->next % o->cap] = NULL;
	o->next++;
	o->held--;
	return item;
}

void map_order_free(struct map_order *o)
{
	free(o->ring);
	o->ring = NULL;
	o->cap = o->held = 0;
}
