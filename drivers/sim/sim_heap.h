/* A binary min-heap of packets in flight, ordered by arrival time then by
 * the order they were sent (so equal times stay FIFO). */
#ifndef TERN_SIM_HEAP_H
#define TERN_SIM_HEAP_H

#include <stddef.h>
#include <stdint.h>

struct tern_pkt;

struct tern_sim_flight {
	uint64_t arrival, order;
	struct tern_pkt *pkt;
};

struct tern_sim_heap {
	struct tern_sim_flight *v;
	size_t n, cap;
};

int tern_sim_heap_push(struct tern_sim_heap *h, struct tern_sim_flight f);
/* The earliest entry; h->n must be > 0. */
static inline const struct tern_sim_flight *tern_sim_heap_top(const struct tern_sim_heap *h) { return &h->v[0]; }
struct tern_sim_flight tern_sim_heap_pop(struct tern_sim_heap *h);
void tern_sim_heap_free(struct tern_sim_heap *h);

#endif
