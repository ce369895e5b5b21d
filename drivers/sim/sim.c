/* The simulated network: nodes behind one switch, a faulty egress link into
 * each node, a virtual clock. Single-threaded by design, for determinism. */
#include <stdlib.h>
#include <string.h>

#include "../../util/sized.h"
#include "../pkt_pool.h"
#include "../driver.h"
#include "tern/sim.h"
#include "sim_heap.h"
#include "tern/error.h"

/* The simulator counts data packets apart, to compare their losses with
 * retransmissions: it reads the type (byte 1) and flags (byte 2) of the
 * tern header (docs/protocol.md). tests/test_sim.c checks these against
 * the codec's constants. */
#define SIM_PKT_DATA 1
#define SIM_FLAG_NO_CRC 4
#include "../../util/rng.h"

#define SIM_MAX_NODES TERN_SIM_FORGED_NODES
#define SIM_HEADROOM 64
/* Every node hangs off one switch: a packet crosses two links. */
#define SIM_HOPS 2



struct sim_node {
	struct tern_driver drv; /* first: the engine sees a tern_driver */
	struct tern_sim_net *net;
	uint32_t id;
	int attached;
	struct tni_pkt_pool *pool;
	struct tern_sim_link link;
	int ge_bad;
	uint64_t busy_until;
	struct tni_sim_heap inbound;
	/* attach_tx: references of sent packets, let go at the next send */
	struct tni_ext_ref *held[64];
	unsigned n_held;
};

struct tern_sim_net {
	struct tern_sim_config cfg;
	struct tni_rng rng;
	uint64_t now, order;
	struct sim_node **nodes; /* indexed by node id, grown on demand */
	uint32_t n_nodes;
	struct tern_sim_stats stats;
};

void tern_sim_config_init_sized(struct tern_sim_config *cfg, size_t size)
{
	if (!cfg || size < sizeof(uint32_t))
		return;
	struct tern_sim_config c = { 0 };
	c.size = (uint32_t)tni_sized_common(size, sizeof(c));
	c.seed = 1;
	c.pool_pkts = 4096;
	c.buf_size = 2048;
	c.link.bandwidth_bps = 10000000000ull;
	c.link.delay_ns = 2000;
	c.link.queue_bytes = 1 << 20;
	memcpy(cfg, &c, c.size);
}

int tern_sim_create(const struct tern_sim_config *user, struct tern_sim_net **out)
{
	if (!user || !out || user->size < sizeof(uint32_t))
		return TERN_EINVAL;
	struct tern_sim_config full;
	tern_sim_config_init(&full);
	tni_sized_copy(&full, sizeof(full), user, user->size);
	full.size = sizeof(full);
	const struct tern_sim_config *cfg = &full;
	if (cfg->pool_pkts == 0 || cfg->buf_size < SIM_HEADROOM + 256)
		return TERN_EINVAL;
	struct tern_sim_net *net = calloc(1, sizeof(*net));
	if (!net)
		return TERN_ENOMEM;
	net->cfg = *cfg;
	tni_rng_seed(&net->rng, cfg->seed);
	*out = net;
	return 0;
}




static void drain_inbound(struct sim_node *n)
{
	while (n->inbound.n)
		tni_pkt_pool_free(tni_sim_heap_pop(&n->inbound).pkt);
}

void tern_sim_destroy(struct tern_sim_net *net)
{
	if (!net)
		return;
	/* Packets may sit in any node's queue but belong to any pool: drain all
	 * queues before freeing any pool. */
	for (uint32_t i = 0; i < net->n_nodes; i++)
		if (net->nodes[i])
			drain_inbound(net->nodes[i]);
	for (uint32_t i = 0; i < net->n_nodes; i++) {
		struct sim_node *n = net->nodes[i];
		if (!n)
			continue;
		tni_sim_heap_free(&n->inbound);
		tni_pkt_pool_destroy(n->pool);
		free(n);
	}
	free(net->nodes);
	free(net);
}

static struct sim_node *node_get(struct tern_sim_net *net, uint32_t id)
{
	if (id >= SIM_MAX_NODES)
		return NULL;
	if (id >= net->n_nodes) {
		uint32_t n = net->n_nodes ? net->n_nodes : 8;
		while (n <= id)
			n *= 2;
		struct sim_node **v = realloc(net->nodes, n * sizeof(*v));
		if (!v)
			return NULL;
		memset(v + net->n_nodes, 0, (n - net->n_nodes) * sizeof(*v));
		net->nodes = v;
		net->n_nodes = n;
	}
	struct sim_node *node = net->nodes[id];
	if (!node) {
		node = calloc(1, sizeof(*node));
		if (!node)
			return NULL;
		node->pool = tni_pkt_pool_create(net->cfg.pool_pkts, net->cfg.buf_size, SIM_HEADROOM);
		if (!node->pool) {
			free(node);
			return NULL;
		}
		node->net = net;
		node->id = id;
		node->link = net->cfg.link;
		net->nodes[id] = node;
	}
	return node;
}

int tern_sim_set_link(struct tern_sim_net *net, uint32_t node, const struct tern_sim_link *link)
{
	struct sim_node *n = node_get(net, node);
	if (!n)
		return TERN_EINVAL;
	n->link = *link;
	n->ge_bad = 0;
	return 0;
}

uint64_t tern_sim_now(const struct tern_sim_net *net)
{
	return net->now;
}

void tern_sim_advance(struct tern_sim_net *net, uint64_t t)
{
	if (t > net->now)
		net->now = t;
}

uint64_t tern_sim_next_event(const struct tern_sim_net *net)
{
	uint64_t best = UINT64_MAX;
	for (uint32_t i = 0; i < net->n_nodes; i++) {
		const struct sim_node *n = net->nodes[i];
		if (n && n->inbound.n && tni_sim_heap_top(&n->inbound)->arrival < best)
			best = tni_sim_heap_top(&n->inbound)->arrival;
	}
	return best;
}

void tern_sim_stats_sized(const struct tern_sim_net *net, struct tern_sim_stats *out, size_t size)
{
	tni_sized_copy(out, size, &net->stats, sizeof(net->stats));
}

static int chance(struct tern_sim_net *net, double p)
{
	return p > 0 && tni_rng_double(&net->rng) < p;
}

static int link_drops(struct tern_sim_net *net, struct sim_node *dst)
{
	const struct tern_sim_link *l = &dst->link;
	if (l->p_enter_bad > 0) {
		if (!dst->ge_bad && chance(net, l->p_enter_bad))
			dst->ge_bad = 1;
		else if (dst->ge_bad && chance(net, l->p_leave_bad))
			dst->ge_bad = 0;
		if (dst->ge_bad && chance(net, l->loss_in_bad))
			return 1;
	}
	return chance(net, l->loss);
}

static void flight_push(struct tern_sim_net *net, struct sim_node *dst, struct tni_pkt *p, uint64_t arrival)
{
	struct tni_sim_flight f = { arrival, net->order++, p };
	if (tni_sim_heap_push(&dst->inbound, f) < 0)
		tni_pkt_pool_free(p); /* out of memory: the packet is lost */
}

/* One packet from src enters dst's egress link. */
static void link_transmit(struct tern_sim_net *net, uint32_t src, struct sim_node *dst, struct tni_pkt *p)
{
	const struct tern_sim_link *l = &dst->link;
	int is_data = p->len >= 2 && p->data[1] == SIM_PKT_DATA;
	net->stats.sent++;
	net->stats.data_sent += is_data;
	net->stats.no_crc += p->len >= 3 && (p->data[2] & SIM_FLAG_NO_CRC);
	if (!dst->attached || link_drops(net, dst)) {
		net->stats.lost++;
		net->stats.data_lost += is_data;
		tni_pkt_pool_free(p);
		return;
	}
	uint64_t start = dst->busy_until > net->now ? dst->busy_until : net->now;
	uint64_t ser = l->bandwidth_bps ? (uint64_t)p->len * 8 * 1000000000ull / l->bandwidth_bps : 0;
	if (l->queue_bytes && l->bandwidth_bps) {
		uint64_t queued = (start - net->now) * l->bandwidth_bps / 8000000000ull;
		if (queued + p->len > l->queue_bytes) {
			net->stats.queue_drops++;
			net->stats.data_lost += is_data;
			tni_pkt_pool_free(p);
			return;
		}
	}
	if (net->cfg.observe)
		net->cfg.observe(net->cfg.observe_arg, dst->id, start - net->now, p->len);
	dst->busy_until = start + ser;
	uint64_t arrival = dst->busy_until + l->delay_ns;
	uint16_t sport = p->src_port;
	net->stats.steered += sport != 0;
	p->peer = tern_addr_sim(src);
	p->peer.port = sport;
	p->hops = SIM_HOPS;
	p->link_checked = net->cfg.link_checked;

	if (chance(net, l->duplicate)) {
		struct tni_pkt *copy = tni_pkt_pool_alloc(p->owner); /* src may be no node: a forged source */
		if (copy) {
			memcpy(copy->data, p->data, p->len);
			copy->len = p->len;
			copy->peer = p->peer;
			copy->hops = p->hops;
			copy->link_checked = p->link_checked;
			net->stats.duplicated++;
			net->stats.sent++;
			flight_push(net, dst, copy, arrival + 1);
		}
	}
	if (chance(net, l->corrupt) && p->len) {
		uint64_t bit = tni_rng_below(&net->rng, (uint64_t)p->len * 8);
		p->data[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		net->stats.corrupted++;
		if (net->cfg.link_checked) { /* the checksum catches it */
			net->stats.lost++;
			net->stats.data_lost += is_data;
			tni_pkt_pool_free(p);
			return;
		}
	}
	if (chance(net, l->reorder)) {
		arrival += tni_rng_below(&net->rng, l->reorder_delay_ns + 1);
		net->stats.reordered++;
	}
	flight_push(net, dst, p, arrival);
}

static int inject(struct tern_sim_net *net, struct sim_node *s, uint32_t src, uint16_t port, uint32_t dst,
		  const void *data, size_t len)
{
	struct sim_node *d = node_get(net, dst);
	if (!d)
		return TERN_EINVAL;
	struct tni_pkt *p = tni_pkt_pool_alloc((s ? s : d)->pool);
	if (!p)
		return TERN_EAGAIN;
	if (len > p->cap) {
		tni_pkt_pool_free(p);
		return TERN_EMSGSIZE;
	}
	memcpy(p->data, data, len);
	p->len = (uint32_t)len;
	p->src_port = port;
	link_transmit(net, src, d, p);
	return 0;
}

int tern_sim_inject(struct tern_sim_net *net, uint32_t src, uint32_t dst, const void *data, size_t len)
{
	struct sim_node *s = node_get(net, src);
	return s ? inject(net, s, src, 0, dst, data, len) : TERN_EINVAL;
}

int tern_sim_inject_from(struct tern_sim_net *net, const struct tern_addr *from, uint32_t dst, const void *data,
			 size_t len)
{
	if (!net || !from || from->family != TERN_AF_SIM)
		return TERN_EINVAL;
	uint32_t src = tern_addr_sim_node(from);
	struct sim_node *s = src < SIM_MAX_NODES ? node_get(net, src) : NULL;
	if (src < SIM_MAX_NODES && !s)
		return TERN_ENOMEM;
	return inject(net, s, src, from->port, dst, data, len);
}

/* ---- the driver face of a node ---- */

static struct sim_node *to_node(struct tern_driver *d)
{
	return (struct sim_node *)d;
}

static unsigned sim_rx_burst(struct tern_driver *d, struct tni_pkt **pkts, unsigned n)
{
	struct sim_node *node = to_node(d);
	unsigned got = 0;
	while (got < n && node->inbound.n && tni_sim_heap_top(&node->inbound)->arrival <= node->net->now) {
		pkts[got++] = tni_sim_heap_pop(&node->inbound).pkt;
		node->net->stats.delivered++;
	}
	return got;
}

/* Like a NIC's completions: what was sent before is let go now. */
static void sim_tx_cleanup(struct tern_driver *d)
{
	struct sim_node *node = to_node(d);
	for (unsigned i = 0; i < node->n_held; i++)
		tni_ext_ref_put(node->held[i]);
	node->n_held = 0;
}

static bool sim_attach(struct tern_driver *d, struct tni_pkt *p, const void *buf, uint32_t len,
		       struct tni_ext_ref *ref)
{
	struct sim_node *node = to_node(d);
	if (!node->net->cfg.attach_tx || node->n_held == sizeof(node->held) / sizeof(node->held[0]) ||
	    p->ext_len || p->len + len > p->cap)
		return false;
	/* The simulated wire needs the bytes in the packet: read them now, as
	 * the device would when the packet leaves, and hold the reference. */
	memcpy(p->data + p->len, buf, len);
	p->ext_len = len;
	tni_ext_ref_get(ref);
	node->held[node->n_held++] = ref;
	return true;
}

static unsigned sim_tx_burst(struct tern_driver *d, struct tni_pkt **pkts, unsigned n)
{
	struct sim_node *node = to_node(d);
	unsigned keep = 0;
	for (unsigned i = 0; i < n; i++)
		keep += pkts[i]->ext_len != 0;
	/* Completions of earlier sends, not of this burst's own packets. */
	if (node->n_held > keep) {
		unsigned old = node->n_held - keep;
		for (unsigned i = 0; i < old; i++)
			tni_ext_ref_put(node->held[i]);
		memmove(node->held, node->held + old, keep * sizeof(node->held[0]));
		node->n_held = keep;
	}
	for (unsigned i = 0; i < n; i++) {
		pkts[i]->len += pkts[i]->ext_len; /* the wire carries one datagram */
		pkts[i]->ext_len = 0;
		struct sim_node *dst = NULL;
		uint32_t to = tern_addr_sim_node(&pkts[i]->peer);
		if (pkts[i]->peer.family == TERN_AF_SIM && to < node->net->n_nodes)
			dst = node->net->nodes[to];
		if (!dst) {
			dst = node_get(node->net, to);
			if (!dst || pkts[i]->peer.family != TERN_AF_SIM) {
				tni_pkt_pool_free(pkts[i]);
				continue;
			}
		}
		link_transmit(node->net, node->id, dst, pkts[i]);
	}
	return n;
}

static struct tni_pkt *sim_alloc(struct tern_driver *d)
{
	return tni_pkt_pool_alloc(to_node(d)->pool);
}

static void sim_free(struct tern_driver *d, struct tni_pkt *p)
{
	(void)d;
	tni_pkt_pool_free(p);
}

static uint64_t sim_now(struct tern_driver *d)
{
	return to_node(d)->net->now;
}

static int sim_local_addr(struct tern_driver *d, struct tern_addr *out)
{
	*out = tern_addr_sim(to_node(d)->id);
	return 0;
}

static void sim_wait(struct tern_driver *d, uint64_t timeout_ns)
{
	(void)d;
	(void)timeout_ns; /* virtual time moves only in tern_sim_run */
}

static void sim_detach(struct tern_driver *d)
{
	struct sim_node *node = to_node(d);
	sim_tx_cleanup(d);
	drain_inbound(node);
	node->attached = 0;
}

static uint16_t sim_steer_port(struct tern_driver *d, const struct tern_addr *peer)
{
	(void)peer;
	return to_node(d)->net->cfg.steer_port;
}

static const struct tni_driver_ops sim_ops = {
	.name = "sim",
	.rx_burst = sim_rx_burst,
	.tx_burst = sim_tx_burst,
	.alloc = sim_alloc,
	.free = sim_free,
	.attach = sim_attach,
	.tx_cleanup = sim_tx_cleanup,
	.now_ns = sim_now,
	.local_addr = sim_local_addr,
	.wait = sim_wait,
	.steer_port = sim_steer_port,
	.destroy = sim_detach,
};

int tern_sim_driver_open(struct tern_sim_net *net, uint32_t node_id, struct tern_driver **out)
{
	if (!net || !out)
		return TERN_EINVAL;
	struct sim_node *node = node_get(net, node_id);
	if (!node)
		return node_id >= SIM_MAX_NODES ? TERN_EINVAL : TERN_ENOMEM;
	if (node->attached)
		return TERN_EADDRINUSE;
	node->attached = 1;
	node->drv.ops = &sim_ops;
	node->drv.kind = TERN_DRIVER_SIM;
	node->drv.min_rto_ns = 20000; /* simulated time: nothing stalls */
	node->drv.mtu = 1500;
	node->drv.attach_min = 1024; /* attach itself does something only under attach_tx */
	node->drv.tx_link_checks = node->drv.rx_link_checks = net->cfg.link_checked;
	*out = &node->drv;
	return 0;
}
