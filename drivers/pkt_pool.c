#include "pkt_pool.h"

#include <stdlib.h>

struct tni_pkt_pool *tni_pkt_pool_create(uint32_t n, uint32_t buf_size, uint32_t headroom)
{
	if (!n || buf_size <= headroom)
		return NULL;
	struct tni_pkt_pool *pool = calloc(1, sizeof(*pool));
	if (!pool)
		return NULL;
	pool->pkts = calloc(n, sizeof(*pool->pkts));
	/* Cache-line aligned buffers: packets are DMA/copy targets. */
	if (!pool->pkts || posix_memalign((void **)&pool->bufs, 64, (size_t)n * buf_size)) {
		free(pool->pkts);
		free(pool);
		return NULL;
	}
	pool->n = n;
	pool->buf_size = buf_size;
	pool->headroom = headroom;
	for (uint32_t i = n; i-- > 0;) {
		struct tni_pkt *p = &pool->pkts[i];
		p->cap = buf_size - headroom;
		p->owner = pool;
		tni_pkt_pool_free(p);
	}
	return pool;
}

void tni_pkt_pool_destroy(struct tni_pkt_pool *pool)
{
	if (!pool)
		return;
	free(pool->pkts);
	free(pool->bufs);
	free(pool);
}
