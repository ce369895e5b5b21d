/* One engine's queue pair on a DPDK port: poll-mode rx/tx bursts, outer
 * headers from a template, ARP, software steering between engines.
 * The struct tni_pkt of a packet lives in its mbuf's private area, so a
 * packet the engine builds is the frame that goes out, and a received
 * frame is handed up in place. No syscalls and no malloc after open. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_memory.h>
#include <rte_ring.h>
#include <rte_udp.h>

#include "dpdk_internal.h"
#include "tern/error.h"

#define BURST 32
#define TX_RETRIES 4               /* a full queue gets this many more tries per burst */
#define ARP_INTERVAL_NS 10000000ull /* at most one request per neighbour per 10 ms */
#define LINK_CHECK_NS 100000000ull
#define LINK_POLLS 256
#define STASH 64                   /* freed mbufs kept for the next allocations */

/* The neighbour slot of the last address seen, so that a stream of frames
 * to or from one peer costs one load, not a table search. */
struct neigh_cache {
	uint32_t ip;
	struct tni_neigh_slot *slot; /* NULL: look again */
};

static struct tni_neigh_slot *neigh_cached(struct tni_neigh_table *t, struct neigh_cache *c, uint32_t ip,
					    bool create)
{
	if (ip != c->ip || !c->slot) {
		c->ip = ip;
		c->slot = ip ? tni_neigh_find(t, ip, create) : NULL; /* 0 marks a free slot */
	}
	return c->slot;
}

struct dpdk_drv {
	struct tern_driver drv;
	struct tern_dpdk_port *port;
	uint16_t q;
	struct rte_mempool *pool;
	uint64_t ns_mult; /* tsc cycles to ns, 32.32 fixed point */
	uint64_t next_link_check;
	unsigned link_polls;
	bool link_up, registered;
	struct dpdk_counters st;
	struct rte_mbuf *ctl[BURST]; /* ARP frames waiting for the next tx */
	unsigned nctl;
	uint8_t tmpl[TERN_DPDK_OUTER];
	uint32_t tmpl_ip_sum; /* the template's IPv4 header words, unfolded */
	struct neigh_cache rx_seen, tx_seen;
	/* Plain mbufs of our pool freed by this engine, reused LIFO (warm in
	 * cache) before the mempool, whose per-lcore cache costs a TLS lookup
	 * and its generic layers on every call. */
	struct rte_mbuf *stash[STASH];
	unsigned nstash;
	struct tni_gate *gate; /* the port's (memif), or NULL */
	int slot;
	uint64_t gate_wait; /* tsc cycles a send waits for the interrupt thread to park */
};

static struct dpdk_drv *to_dd(struct tern_driver *d)
{
	return (struct dpdk_drv *)d;
}

static struct tni_pkt *pkt_of(struct rte_mbuf *m)
{
	return (struct tni_pkt *)rte_mbuf_to_priv(m);
}

static uint64_t dd_now(struct tern_driver *d)
{
	return (uint64_t)(((unsigned __int128)rte_get_tsc_cycles() * to_dd(d)->ns_mult) >> 32);
}

static void queue_ctl(struct dpdk_drv *dd, struct rte_mbuf *m)
{
	if (dd->nctl == BURST) {
		rte_pktmbuf_free(m);
		return;
	}
	dd->ctl[dd->nctl++] = m;
}

/* A frame for another engine: hand it over, counted. */
static void hand_off(struct dpdk_drv *dd, unsigned q, struct rte_mbuf *m)
{
	dd->st.steer_handoffs++;
	if (rte_ring_enqueue(dd->port->handoff[q], m) != 0) {
		dd->st.steer_drops++;
		rte_pktmbuf_free(m);
	}
}

/* The tern packet inside m, or NULL if m is not one for this port (then
 * m was consumed: freed, answered or handed over). */
static struct tni_pkt *classify(struct dpdk_drv *dd, struct rte_mbuf *m, bool from_ring)
{
	struct tern_dpdk_port *p = dd->port;
	if (m->nb_segs != 1 || m->data_len < sizeof(struct rte_ether_hdr))
		goto other;
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	if (eth->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP)) {
		if (tni_arp_input(p, m)) {
			dd->st.arp_replies_sent++;
			queue_ctl(dd, m);
		} else {
			rte_pktmbuf_free(m);
		}
		return NULL;
	}
	if (eth->ether_type != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) || m->data_len < TERN_DPDK_OUTER)
		goto other;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
	unsigned ihl = (ip->version_ihl & 0xf) * 4u;
	unsigned tot = rte_be_to_cpu_16(ip->total_length);
	if ((ip->version_ihl >> 4) != 4 || ihl < 20 || ip->next_proto_id != IPPROTO_UDP || ip->dst_addr != p->ip ||
	    (ip->fragment_offset & rte_cpu_to_be_16(RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)) ||
	    tot < ihl + sizeof(struct rte_udp_hdr) || sizeof(*eth) + tot > m->data_len)
		goto other;
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)((uint8_t *)ip + ihl);
	unsigned ulen = rte_be_to_cpu_16(udp->dgram_len);
	uint16_t dport = rte_be_to_cpu_16(udp->dst_port);
	unsigned q = (uint16_t)(dport - p->udp_base);
	if (ulen < sizeof(*udp) || ulen > tot - ihl)
		goto other;
	if (__builtin_expect(dport == p->reflect && p->reflect, 0)) {
		/* Swapping the fields leaves the IP checksum right. The UDP one
		 * is computed again: a kernel peer on a veth leaves it to an
		 * offload that never runs, and its own stack then drops the
		 * echo (a checksum of 0, none, is kept). */
		struct rte_ether_addr mac = eth->dst_addr;
		eth->dst_addr = eth->src_addr;
		eth->src_addr = mac;
		uint32_t a = ip->src_addr;
		ip->src_addr = ip->dst_addr;
		ip->dst_addr = a;
		uint16_t port = udp->src_port;
		udp->src_port = udp->dst_port;
		udp->dst_port = port;
		if (udp->dgram_cksum) {
			udp->dgram_cksum = 0;
			udp->dgram_cksum = rte_ipv4_udptcp_cksum(ip, udp);
		}
		m->ol_flags = 0;
		dd->st.reflected++;
		queue_ctl(dd, m);
		return NULL;
	}
	if (q >= p->nq) {
		/* To a source port a peer asked one of our engines to send from:
		 * an answer to such a packet (a RST from a peer that lost the
		 * session) belongs to that engine. */
		unsigned owner = atomic_load_explicit(&p->steer_owner[dport], memory_order_relaxed);
		if (owner == 0)
			goto other;
		q = owner - 1;
		if (!from_ring)
			dd->st.steer_port_replies++;
	}
	if (q != dd->q && !from_ring) {
		hand_off(dd, q, m);
		return NULL;
	}
	tni_neigh_slot_learn(neigh_cached(&p->neigh, &dd->rx_seen, ip->src_addr, true), &eth->src_addr);
	struct tni_pkt *t = pkt_of(m);
	t->data = (uint8_t *)(udp + 1);
	t->len = ulen - (unsigned)sizeof(*udp);
	t->cap = t->len;
	t->next = NULL;
	t->owner = m;
	memset(&t->peer, 0, sizeof(t->peer));
	t->peer.family = TERN_AF_INET;
	t->peer.port = rte_be_to_cpu_16(udp->src_port);
	memcpy(t->peer.ip, &ip->src_addr, 4);
	t->hops = tni_hops_from_ttl(ip->time_to_live);
	/* A checksum of 0 is none: only a non-zero one the NIC found good counts. */
	t->link_checked = p->memory_link ||
			  (udp->dgram_cksum != 0 &&
			   (m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) == RTE_MBUF_F_RX_L4_CKSUM_GOOD);
	return t;
other:
	dd->st.nic_rx_other++;
	rte_pktmbuf_free(m);
	return NULL;
}

static void flush_ctl(struct dpdk_drv *dd);
static void check_link(struct dpdk_drv *dd);

/* memif: a burst runs only while the EAL's interrupt thread is parked
 * (dpdk_gate.h), since that thread may unmap the rings under it. */
static inline bool gate_in(struct dpdk_drv *dd)
{
	return !dd->gate || tni_gate_enter(dd->gate, dd->slot);
}

static inline void gate_out(struct dpdk_drv *dd)
{
	if (dd->gate)
		tni_gate_leave(dd->gate, dd->slot);
}

/* The thread's outings are short: a send waits one out rather than drop. */
static __attribute__((noinline)) bool gate_in_wait(struct dpdk_drv *dd)
{
	uint64_t until = rte_rdtsc() + dd->gate_wait;
	do {
		rte_pause();
		if (gate_in(dd))
			return true;
	} while (rte_rdtsc() < until);
	return false;
}

/* Called on every rx poll, so a clock read every LINK_POLLS polls is
 * enough, and the send path reads no clock at all. */
static inline void maybe_check_link(struct dpdk_drv *dd)
{
	if (__builtin_expect(++dd->link_polls >= LINK_POLLS, 0)) {
		dd->link_polls = 0;
		check_link(dd);
	}
}

static unsigned dd_rx_burst(struct tern_driver *d, struct tni_pkt **pkts, unsigned n)
{
	struct dpdk_drv *dd = to_dd(d);
	struct tern_dpdk_port *p = dd->port;
	struct rte_mbuf *m[BURST];
	if (n > BURST)
		n = BURST;
	unsigned out = 0;
	maybe_check_link(dd);
	/* Frames other engines passed to us first: they are older. */
	if (p->handoff[dd->q]) {
		unsigned k = rte_ring_dequeue_burst(p->handoff[dd->q], (void **)m, n, NULL);
		for (unsigned i = 0; i < k; i++) {
			struct tni_pkt *t = classify(dd, m[i], true);
			if (t)
				pkts[out++] = t;
		}
	}
	if (out < n && gate_in(dd)) {
		unsigned k = rte_eth_rx_burst(p->port_id, dd->q, m, (uint16_t)(n - out));
		gate_out(dd);
		dd->st.nic_rx_frames += k;
		for (unsigned i = 0; i < k; i++) {
			if (i + 1 < k)
				rte_prefetch0(rte_pktmbuf_mtod(m[i + 1], void *));
			struct tni_pkt *t = classify(dd, m[i], false);
			if (t)
				pkts[out++] = t;
		}
	}
	flush_ctl(dd); /* ARP replies: the engine may have nothing to send */
	return out;
}

/* The template's sum plus the two fields a packet changes: what
 * rte_ipv4_cksum computes, without summing the whole header again. */
static uint16_t ip_cksum(const struct dpdk_drv *dd, const struct rte_ipv4_hdr *ip)
{
	uint32_t sum = dd->tmpl_ip_sum + ip->total_length + (ip->dst_addr & 0xffff) + (ip->dst_addr >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Put the outer headers in front of t; false if the next hop is unknown. */
static bool frame(struct dpdk_drv *dd, struct tni_pkt *t)
{
	struct tern_dpdk_port *p = dd->port;
	struct rte_mbuf *m = t->owner;
	uint32_t dst;
	memcpy(&dst, t->peer.ip, 4);
	struct rte_ether_addr mac;
	if (t->peer.family != TERN_AF_INET)
		return false;
	if (!tni_neigh_slot_mac(neigh_cached(&p->neigh, &dd->tx_seen, dst, false), &mac)) {
		dd->st.arp_unresolved_drops++;
		if (p->arp && tni_neigh_should_ask(&p->neigh, dst, dd_now(&dd->drv), ARP_INTERVAL_NS)) {
			struct rte_mbuf *req = rte_pktmbuf_alloc(dd->pool);
			if (req) {
				tni_arp_request(p, req, dst);
				dd->st.arp_requests_sent++;
				queue_ctl(dd, req);
			}
		}
		return false;
	}
	uint8_t *h = t->data - TERN_DPDK_OUTER;
	memcpy(h, dd->tmpl, TERN_DPDK_OUTER);
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)h;
	eth->dst_addr = mac;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
	uint32_t len = t->len + t->ext_len;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(20 + 8 + len));
	ip->dst_addr = dst;
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);
	udp->dst_port = rte_cpu_to_be_16(t->peer.port);
	if (t->src_port) {
		/* The port this peer's RSS wants (told in its handshake). */
		udp->src_port = rte_cpu_to_be_16(t->src_port);
		uint8_t me = (uint8_t)(dd->q + 1);
		if (atomic_load_explicit(&p->steer_owner[t->src_port], memory_order_relaxed) != me)
			atomic_store_explicit(&p->steer_owner[t->src_port], me, memory_order_relaxed);
		dd->st.steer_port_frames++;
	}
	udp->dgram_len = rte_cpu_to_be_16((uint16_t)(8 + len));
	m->data_off = (uint16_t)(h - (uint8_t *)m->buf_addr);
	m->data_len = (uint16_t)(TERN_DPDK_OUTER + t->len);
	m->pkt_len = TERN_DPDK_OUTER + len; /* the attached segment, if any, follows */
	if (p->csum_offload) {
		m->l2_len = sizeof(*eth);
		m->l3_len = sizeof(*ip);
		m->ol_flags = RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_UDP_CKSUM;
		udp->dgram_cksum = rte_ipv4_phdr_cksum(ip, m->ol_flags);
	} else {
		m->ol_flags = 0;
		ip->hdr_checksum = ip_cksum(dd, ip);
		/* IPv4 lets UDP go without a checksum, and tern's CRC32C already
		 * covers every byte of the datagram: computing both in software
		 * pays twice for one check. */
		udp->dgram_cksum = 0;
	}
	return true;
}

static __attribute__((noinline)) void check_link(struct dpdk_drv *dd)
{
	uint64_t now = dd_now(&dd->drv);
	if (now < dd->next_link_check)
		return;
	dd->next_link_check = now + LINK_CHECK_NS;
	struct rte_eth_link link;
	if (rte_eth_link_get_nowait(dd->port->port_id, &link) == 0)
		dd->link_up = link.link_status == RTE_ETH_LINK_UP;
}

/* Send what we can; a full queue gets TX_RETRIES more tries, so a peer
 * that went away costs a bounded wait, never a spin. */
static unsigned send_frames(struct dpdk_drv *dd, struct rte_mbuf **m, unsigned n)
{
	if (!gate_in(dd) && !gate_in_wait(dd)) {
		dd->st.nic_gate_drops += n;
		return 0;
	}
	unsigned sent = 0;
	for (int tries = 0; sent < n && tries <= TX_RETRIES; tries++) {
		unsigned k = rte_eth_tx_burst(dd->port->port_id, dd->q, m + sent, (uint16_t)(n - sent));
		sent += k;
		if (k == 0)
			rte_pause();
	}
	gate_out(dd);
	dd->st.nic_tx_frames += sent;
	return sent;
}

static void flush_ctl(struct dpdk_drv *dd)
{
	if (!dd->nctl)
		return;
	unsigned sent = send_frames(dd, dd->ctl, dd->nctl);
	for (unsigned i = sent; i < dd->nctl; i++)
		rte_pktmbuf_free(dd->ctl[i]);
	dd->nctl = 0;
}

static unsigned dd_tx_burst(struct tern_driver *d, struct tni_pkt **pkts, unsigned n)
{
	struct dpdk_drv *dd = to_dd(d);
	flush_ctl(dd);
	if (!dd->link_up) {
		dd->st.nic_link_down_drops += n;
		for (unsigned i = 0; i < n; i++)
			rte_pktmbuf_free(pkts[i]->owner);
		return n;
	}
	if (n > BURST)
		n = BURST;
	struct rte_mbuf *m[BURST];
	unsigned k = 0;
	for (unsigned i = 0; i < n; i++) {
		if (frame(dd, pkts[i]))
			m[k++] = pkts[i]->owner;
		else
			rte_pktmbuf_free(pkts[i]->owner);
	}
	flush_ctl(dd); /* an ARP request goes before what waits for it */
	unsigned sent = send_frames(dd, m, k);
	if (sent < k) {
		/* Taken, and dropped here: the engine would only offer them again. */
		dd->st.nic_tx_full += k - sent;
		for (unsigned i = sent; i < k; i++)
			rte_pktmbuf_free(m[i]);
	}
	return n;
}

static struct tni_pkt *dd_alloc(struct tern_driver *d)
{
	struct dpdk_drv *dd = to_dd(d);
	struct rte_mbuf *m;
	if (dd->nstash) {
		m = dd->stash[--dd->nstash];
		rte_pktmbuf_reset(m);
	} else if (!(m = rte_pktmbuf_alloc(dd->pool))) {
		return NULL;
	}
	struct tni_pkt *t = pkt_of(m);
	t->data = rte_pktmbuf_mtod(m, uint8_t *) + TERN_DPDK_OUTER;
	t->cap = (uint32_t)(rte_pktmbuf_tailroom(m) - TERN_DPDK_OUTER);
	t->len = 0;
	t->next = NULL;
	t->owner = m;
	return t;
}

/* The device is done with an attached segment (sent, or dropped). */
static void ext_done(void *addr, void *opaque)
{
	(void)addr;
	tni_ext_ref_put(opaque);
}

/* Chain [buf, buf + len) behind t's frame as an external-buffer mbuf,
 * whose own private area holds the shared info that reports its end. */
static bool dd_attach(struct tern_driver *d, struct tni_pkt *t, const void *buf, uint32_t len,
		      struct tni_ext_ref *ref)
{
	struct dpdk_drv *dd = to_dd(d);
	struct tern_dpdk_port *p = dd->port;
	if (t->ext_len || len == 0 || len > UINT16_MAX)
		return false;
	rte_iova_t iova = RTE_BAD_IOVA;
	if (!p->attach_any) {
		/* A NIC reads it by DMA: it must be DPDK memory, and with IOVA = VA
		 * a range contiguous in VA is contiguous for the device too. */
		if (!p->attach_dma || !rte_mem_virt2memseg(buf, NULL))
			return false;
		iova = (rte_iova_t)(uintptr_t)buf;
	}
	struct rte_mbuf *m = rte_pktmbuf_alloc(dd->pool);
	if (!m)
		return false;
	struct rte_mbuf_ext_shared_info *sh = rte_mbuf_to_priv(m);
	sh->free_cb = ext_done;
	sh->fcb_opaque = ref;
	rte_mbuf_ext_refcnt_set(sh, 1);
	tni_ext_ref_get(ref);
	rte_pktmbuf_attach_extbuf(m, (void *)(uintptr_t)buf, iova, (uint16_t)len, sh);
	m->data_len = (uint16_t)len;
	m->pkt_len = len;
	struct rte_mbuf *head = t->owner;
	head->next = m;
	head->nb_segs = 2;
	t->ext_len = len;
	return true;
}

/* Message buffers a NIC can send from: DPDK memory, on the port's socket.
 * If that runs out, the C heap still works (the payload is then copied). */
static void *dd_buf_alloc(struct tern_driver *d, size_t len)
{
	struct tern_dpdk_port *p = to_dd(d)->port;
	void *b = p->dpdk_buffers ? rte_malloc_socket("tern_msg", len, RTE_CACHE_LINE_SIZE, p->socket) : NULL;
	return b ? b : malloc(len ? len : 1);
}

static void dd_buf_free(struct tern_driver *d, void *buf)
{
	(void)d;
	if (rte_mem_virt2memseg_list(buf))
		rte_free(buf);
	else
		free(buf);
}

/* A NIC frees sent mbufs on later sends; with none coming, ask. */
static void dd_tx_cleanup(struct tern_driver *d)
{
	struct dpdk_drv *dd = to_dd(d);
	if (!gate_in(dd))
		return; /* the next call asks */
	rte_eth_tx_done_cleanup(dd->port->port_id, dd->q, 0);
	gate_out(dd);
}

static void dd_free(struct tern_driver *d, struct tni_pkt *t)
{
	struct dpdk_drv *dd = to_dd(d);
	struct rte_mbuf *m = t->owner;
	/* Only what rte_pktmbuf_free would hand straight back to our pool. */
	if (dd->nstash < STASH && m->pool == dd->pool && m->next == NULL && RTE_MBUF_DIRECT(m) &&
	    rte_mbuf_refcnt_read(m) == 1) {
		dd->stash[dd->nstash++] = m;
		return;
	}
	rte_pktmbuf_free(m);
}

static int dd_local_addr(struct tern_driver *d, struct tern_addr *out)
{
	struct dpdk_drv *dd = to_dd(d);
	memset(out, 0, sizeof(*out));
	out->family = TERN_AF_INET;
	out->port = (uint16_t)(dd->port->udp_base + dd->q);
	memcpy(out->ip, &dd->port->ip, 4);
	return 0;
}

/* RSS steering: the source port from which peer's packets to this
 * engine hash onto its queue. Seeded by the peer's own port, so that two
 * engines of one peer host mostly get different ports. */
static uint16_t dd_steer_port(struct tern_driver *d, const struct tern_addr *peer)
{
	struct dpdk_drv *dd = to_dd(d);
	struct tern_dpdk_port *p = dd->port;
	if (p->steering != TERN_STEER_RSS || peer->family != TERN_AF_INET)
		return 0;
	uint32_t ip;
	memcpy(&ip, peer->ip, 4);
	uint16_t port = tni_rss_pick_src_port(&p->rss, ip, p->ip, (uint16_t)(p->udp_base + dd->q), dd->q, peer->port);
	if (port)
		dd->st.steer_ports_asked++;
	return port;
}

/* Adaptive mode on a poll-mode driver: a short sleep, no interrupts. */
static void dd_wait(struct tern_driver *d, uint64_t timeout_ns)
{
	(void)d;
	if (timeout_ns > 50000)
		timeout_ns = 50000;
	struct timespec ts = { 0, (long)timeout_ns };
	nanosleep(&ts, NULL);
}

static void dd_xstats(struct tern_driver *d, void (*fn)(const char *, uint64_t, void *), void *arg)
{
	struct dpdk_drv *dd = to_dd(d);
	const struct dpdk_counters *s = &dd->st;
#define X(f) fn(#f, s->f, arg);
	DPDK_COUNTERS(X)
#undef X
	/* The whole port (rte_eth_stats), the same on every engine. */
	struct rte_eth_stats es;
	if (rte_eth_stats_get(dd->port->port_id, &es) == 0) {
		fn("port_rx_missed", es.imissed, arg);
		fn("port_rx_errors", es.ierrors, arg);
		fn("port_tx_errors", es.oerrors, arg);
		fn("port_rx_nombuf", es.rx_nombuf, arg);
	}
}

static void dd_destroy(struct tern_driver *d)
{
	struct dpdk_drv *dd = to_dd(d);
	flush_ctl(dd);
	struct tern_dpdk_port *p = dd->port;
	/* Frames handed to us that nobody will read now. */
	struct rte_mbuf *m = NULL; /* set by each dequeue that succeeds (-Os cannot tell) */
	while (p->handoff[dd->q] && rte_ring_dequeue(p->handoff[dd->q], (void **)&m) == 0)
		rte_pktmbuf_free(m);
	while (dd->nstash)
		rte_pktmbuf_free(dd->stash[--dd->nstash]);
	if (dd->registered)
		rte_thread_unregister();
	if (dd->gate)
		tni_gate_slot_put(dd->gate, dd->slot);
	atomic_store(&p->taken[dd->q], false);
	atomic_fetch_sub(&p->engines, 1);
	free(dd);
}

static const struct tni_driver_ops dpdk_ops = {
	.name = "dpdk",
	.rx_burst = dd_rx_burst,
	.tx_burst = dd_tx_burst,
	.alloc = dd_alloc,
	.free = dd_free,
	.attach = dd_attach,
	.tx_cleanup = dd_tx_cleanup,
	.now_ns = dd_now,
	.local_addr = dd_local_addr,
	.wait = dd_wait,
	.steer_port = dd_steer_port,
	.buf_alloc = dd_buf_alloc,
	.buf_free = dd_buf_free,
	.xstats = dd_xstats,
	.destroy = dd_destroy,
};

static void build_template(struct dpdk_drv *dd)
{
	struct tern_dpdk_port *p = dd->port;
	memset(dd->tmpl, 0, sizeof(dd->tmpl));
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)dd->tmpl;
	eth->src_addr = p->mac;
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_UDP;
	ip->src_addr = p->ip;
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);
	udp->src_port = rte_cpu_to_be_16((uint16_t)(p->udp_base + dd->q));
	dd->tmpl_ip_sum = rte_raw_cksum(ip, sizeof(*ip)); /* length and destination still 0 */
}

int tern_dpdk_driver_open(struct tern_dpdk_port *p, uint16_t q, struct tern_driver **out)
{
	if (!p || !out || q >= p->nq)
		return TERN_EINVAL;
	bool no = false;
	if (!atomic_compare_exchange_strong(&p->taken[q], &no, true))
		return TERN_EBUSY;
	struct dpdk_drv *dd = calloc(1, sizeof(*dd));
	if (!dd) {
		atomic_store(&p->taken[q], false);
		return TERN_ENOMEM;
	}
	if (p->gate && (dd->slot = tni_gate_slot_get(p->gate)) < 0) {
		free(dd);
		atomic_store(&p->taken[q], false);
		return TERN_EBUSY; /* TNI_GATE_SLOTS memif engines already */
	}
	dd->gate = p->gate;
	dd->gate_wait = rte_get_tsc_hz() / 5000; /* 200 us: many times an outing's length */
	dd->drv.ops = &dpdk_ops;
	dd->drv.kind = TERN_DRIVER_DPDK;
	/* A poll-mode engine on its own core: no scheduler between it and
	 * the wire, so the RTO may be far under the kernel's millisecond. */
	dd->drv.min_rto_ns = 50000;
	dd->drv.mtu = p->mtu;
	dd->drv.attach_min = p->attach_min;
	dd->drv.tx_link_checks = p->memory_link || p->csum_offload;
	dd->drv.rx_link_checks = p->memory_link || p->rx_csum;
	dd->drv.lazy_clock = true; /* rdtsc in a VM costs as much as the rest of an idle poll */
	dd->port = p;
	dd->q = q;
	dd->pool = p->pool[q];
	dd->ns_mult = (uint64_t)(((unsigned __int128)1000000000ull << 32) / rte_get_tsc_hz());
	/* An EAL thread id gives this thread the mempool's per-lcore cache. */
	if (rte_lcore_id() == LCORE_ID_ANY && rte_thread_register() == 0)
		dd->registered = true;
	build_template(dd);
	dd->link_up = true;
	check_link(dd);
	atomic_fetch_add(&p->engines, 1);
	*out = &dd->drv;
	return 0;
}
