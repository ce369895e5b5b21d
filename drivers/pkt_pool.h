/* A fixed pool of packet buffers with headroom, shared by the drivers. */
#ifndef TERN_PKT_POOL_H
#define TERN_PKT_POOL_H

#include <stdint.h>

#include "driver.h"

struct tni_pkt_pool {
	struct tni_pkt *free_list;
	struct tni_pkt *pkts;
	uint8_t *bufs;
	uint32_t n, buf_size, headroom, n_free;
};

struct tni_pkt_pool *tni_pkt_pool_create(uint32_t n, uint32_t buf_size, uint32_t headroom);
void tni_pkt_pool_destroy(struct tni_pkt_pool *pool);
/* Index of p in its pool, for drivers that keep per-packet side tables. */
static inline uint32_t tni_pkt_pool_index(const struct tni_pkt_pool *pool, const struct tni_pkt *p)
{
	return (uint32_t)(p - pool->pkts);
}

static inline struct tni_pkt *tni_pkt_pool_alloc(struct tni_pkt_pool *pool)
{
	struct tni_pkt *p = pool->free_list;
	if (p) {
		pool->free_list = p->next;
		pool->n_free--;
		p->next = 0;
		p->len = 0;
		p->data = pool->bufs + (size_t)tni_pkt_pool_index(pool, p) * pool->buf_size + pool->headroom;
	}
	return p;
}

/* Back to the pool it came from (p->owner). */
static inline void tni_pkt_pool_free(struct tni_pkt *p)
{
	struct tni_pkt_pool *pool = p->owner;
	p->next = pool->free_list;
	pool->free_list = p;
	pool->n_free++;
}

#endif
