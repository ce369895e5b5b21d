/* A test driver with known per-packet costs (costdrv.h). */
#include "costdrv.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "drivers/driver.h"
#include "drivers/pkt_pool.h"

#define SLOTS 1024
#define SLOT_BYTES 2048
#define HEADROOM 64

struct slot {
	uint64_t deliver_at;
	uint32_t len;
	uint8_t data[SLOT_BYTES];
};

/* One direction: a single-producer, single-consumer ring and its wire. */
struct lane {
	struct slot *slots;
	atomic_uint head, tail; /* head: next to read; tail: next to write */
	uint64_t wire_free;     /* the sender's view: when the wire is idle */
};

struct shared {
	struct costdrv_params p;
	struct lane lane[2]; /* 0: a to b, 1: b to a */
	atomic_int refs;
};

struct costdrv {
	struct tern_driver base;
	struct shared *sh;
	int side; /* 0: a, 1: b */
	struct tni_pkt_pool *pool;
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void spin(uint64_t ns)
{
	if (!ns)
		return;
	uint64_t until = now_ns() + ns;
	while (now_ns() < until)
		;
}

static struct tern_addr addr_of(int side)
{
	struct tern_addr a = { .family = TERN_AF_INET };
	a.ip[0] = 10;
	a.ip[1] = 9;
	a.ip[2] = 0;
	a.ip[3] = (uint8_t)(side + 1);
	a.port = (uint16_t)(side ? 2000 : 1000);
	return a;
}

static unsigned cd_rx(struct tern_driver *d, struct tni_pkt **pkts, unsigned n)
{
	struct costdrv *c = (struct costdrv *)d;
	struct lane *l = &c->sh->lane[1 - c->side];
	unsigned got = 0;
	uint64_t now = now_ns();
	while (got < n) {
		unsigned h = atomic_load_explicit(&l->head, memory_order_relaxed);
		if (h == atomic_load_explicit(&l->tail, memory_order_acquire))
			break;
		struct slot *s = &l->slots[h % SLOTS];
		if (s->deliver_at > now)
			break;
		struct tni_pkt *p = tni_pkt_pool_alloc(c->pool);
		if (!p)
			break;
		spin(c->sh->p.recv_ns); /* the receive's CPU, per packet */
		memcpy(p->data, s->data, s->len);
		p->len = s->len;
		p->ext_len = 0;
		p->peer = addr_of(1 - c->side);
		p->hops = 1;
		p->link_checked = false;
		atomic_store_explicit(&l->head, h + 1, memory_order_release);
		pkts[got++] = p;
	}
	return got;
}

static unsigned cd_tx(struct tern_driver *d, struct tni_pkt **pkts, unsigned n)
{
	struct costdrv *c = (struct costdrv *)d;
	struct lane *l = &c->sh->lane[c->side];
	unsigned i;
	for (i = 0; i < n; i++) {
		unsigned t = atomic_load_explicit(&l->tail, memory_order_relaxed);
		if (t - atomic_load_explicit(&l->head, memory_order_acquire) >= SLOTS)
			break;
		struct tni_pkt *p = pkts[i];
		spin(c->sh->p.send_ns); /* the send's CPU, per packet */
		uint64_t now = now_ns();
		uint64_t start = l->wire_free > now ? l->wire_free : now;
		l->wire_free = start + (uint64_t)((double)(p->len + COSTDRV_IP_UDP) * c->sh->p.ns_per_byte);
		struct slot *s = &l->slots[t % SLOTS];
		s->deliver_at = l->wire_free + c->sh->p.wire_ns;
		s->len = p->len <= SLOT_BYTES ? p->len : SLOT_BYTES;
		memcpy(s->data, p->data, s->len);
		atomic_store_explicit(&l->tail, t + 1, memory_order_release);
		tni_pkt_pool_free(p);
	}
	return i;
}

static struct tni_pkt *cd_alloc(struct tern_driver *d)
{
	return tni_pkt_pool_alloc(((struct costdrv *)d)->pool);
}

static void cd_free(struct tern_driver *d, struct tni_pkt *p)
{
	(void)d;
	tni_pkt_pool_free(p);
}

static uint64_t cd_now(struct tern_driver *d)
{
	(void)d;
	return now_ns();
}

static int cd_local_addr(struct tern_driver *d, struct tern_addr *out)
{
	*out = addr_of(((struct costdrv *)d)->side);
	return 0;
}

static void cd_wait(struct tern_driver *d, uint64_t timeout_ns)
{
	(void)d;
	struct timespec ts = { 0, (long)(timeout_ns < 50000 ? timeout_ns : 50000) };
	nanosleep(&ts, NULL);
}

static void cd_destroy(struct tern_driver *d)
{
	struct costdrv *c = (struct costdrv *)d;
	tni_pkt_pool_destroy(c->pool);
	if (atomic_fetch_sub(&c->sh->refs, 1) == 1) {
		free(c->sh->lane[0].slots);
		free(c->sh->lane[1].slots);
		free(c->sh);
	}
	free(c);
}

static const struct tni_driver_ops cd_ops = {
	.name = "costdrv",
	.rx_burst = cd_rx,
	.tx_burst = cd_tx,
	.alloc = cd_alloc,
	.free = cd_free,
	.now_ns = cd_now,
	.local_addr = cd_local_addr,
	.wait = cd_wait,
	.destroy = cd_destroy,
};

static struct costdrv *end_new(struct shared *sh, int side)
{
	struct costdrv *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->sh = sh;
	c->side = side;
	c->pool = tni_pkt_pool_create(4096, SLOT_BYTES + HEADROOM, HEADROOM);
	if (!c->pool) {
		free(c);
		return NULL;
	}
	c->base.ops = &cd_ops;
	c->base.kind = TERN_DRIVER_SIM;
	c->base.mtu = 1500;
	c->base.min_rto_ns = TNI_COARSE_RTO_NS;
	return c;
}

int costdrv_pair(const struct costdrv_params *p, struct tern_driver **a, struct tern_driver **b)
{
	struct shared *sh = calloc(1, sizeof(*sh));
	if (!sh)
		return TERN_ENOMEM;
	sh->p = *p;
	sh->lane[0].slots = calloc(SLOTS, sizeof(struct slot));
	sh->lane[1].slots = calloc(SLOTS, sizeof(struct slot));
	/* Touched now: a page fault on the first send into each slot would
	 * count as the send's cost. */
	for (int i = 0; i < 2; i++)
		if (sh->lane[i].slots)
			memset(sh->lane[i].slots, 0xa5, SLOTS * sizeof(struct slot)); /* not 0: a compiler may drop that after calloc */
	atomic_store(&sh->refs, 2);
	struct costdrv *x = sh->lane[0].slots && sh->lane[1].slots ? end_new(sh, 0) : NULL;
	struct costdrv *y = x ? end_new(sh, 1) : NULL;
	if (!y) {
		if (x) {
			tni_pkt_pool_destroy(x->pool);
			free(x);
		}
		free(sh->lane[0].slots);
		free(sh->lane[1].slots);
		free(sh);
		return TERN_ENOMEM;
	}
	*a = &x->base;
	*b = &y->base;
	return 0;
}
