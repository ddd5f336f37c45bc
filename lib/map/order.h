/* order.h — --keep-order: jobs end in any order and are shown in the order
 * of their inputs.  Items are put under their sequence number and taken in
 * sequence; the window grows to the span between the next to show and the
 * newest put.  Pure. */
#ifndef FLAME_MAP_ORDER_H
#define FLAME_MAP_ORDER_H

#include <stddef.h>

struct map_order {
	void **ring;
	size_t cap, held;
	unsigned long next; /* the sequence number to take next */
};

void map_order_init(struct map_order *o, unsigned long first);
/* item (not NULL) under seq, which is at least o->next and not put before */
void map_order_put(struct map_order *o, unsigned long seq, void *item);
/* The item for o->next, which then moves on; NULL if it is not there yet. */
void *map_order_take(struct map_order *o);
void map_order_free(struct map_order *o);

#endif
