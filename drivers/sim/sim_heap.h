/* A binary min-heap of packets in flight, ordered by arrival time then by
 * the order they were sent (so equal times stay FIFO). */
#ifndef TERN_SIM_HEAP_H
#define TERN_SIM_HEAP_H

#include <stddef.h>
#include <stdint.h>

struct tni_pkt;

struct tni_sim_flight {
	uint64_t arrival, order;
	struct tni_pkt *pkt;
};

struct tni_sim_heap {
	struct tni_sim_flight *v;
	size_t n, cap;
};

int tni_sim_heap_push(struct tni_sim_heap *h, struct tni_sim_flight f);
/* The earliest entry; h->n must be > 0. */
static inline const struct tni_sim_flight *tni_sim_heap_top(const struct tni_sim_heap *h) { return &h->v[0]; }
struct tni_sim_flight tni_sim_heap_pop(struct tni_sim_heap *h);
void tni_sim_heap_free(struct tni_sim_heap *h);

#endif
