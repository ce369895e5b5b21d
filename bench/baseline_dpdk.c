/* The raw baseline of a DPDK client: UDP frames of the call's size to the
 * peer's reflector and back, on this side's DPDK port with no tern work
 * (rte_eth_tx_burst, then rx_burst until the echo). It borrows queue 0
 * between tern's rounds, when tern's engine 0 is not polled, so it answers
 * ARP for our address itself (a kernel peer asks again now and then). */
#include "bench_peer.h"
#include "bench_util.h"
#include "tern_config.h"

#if TERN_HAVE_DPDK
#include <arpa/inet.h>
#include <rte_arp.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_udp.h>
#include <string.h>

#define RAW_LOST_NS 10000000ull

struct raw_dpdk {
	struct bench_client *c;
	uint16_t port_id;
	struct rte_mempool *pool;
	struct rte_ether_addr mac, peer_mac;
	uint32_t ip, peer_ip;       /* network order */
	uint16_t sport, dport;      /* network order */
	size_t size;
	unsigned long lost;
};

static int raw_start(struct baseline *b, size_t size)
{
	struct raw_dpdk *r = b->state;
	struct bench_client *c = r->c;
	if (!c->port || !b->remote || size > 1472)
		return -1;
	struct tern_dpdk_port_info pi;
	if (tern_dpdk_port_info(c->port, &pi))
		return -1;
	r->port_id = pi.port_id;
	memcpy(r->mac.addr_bytes, pi.mac, 6);
	if (inet_pton(AF_INET, c->dpdk.ip, &r->ip) != 1)
		return -1;
	r->peer_ip = b->remote->sin_addr.s_addr;
	r->dport = b->remote->sin_port;
	/* A port none of our engines listens on. */
	r->sport = htons((uint16_t)(c->dpdk.udp_port + BENCH_MAX_ENGINES + 1));
	struct tern_dpdk_neighbor n;
	memcpy(n.ip, &r->peer_ip, 4);
	/* tern's session to the same host found its MAC. */
	if (tern_dpdk_port_neighbor(c->port, &n)) {
		fprintf(stderr, "tern-bench: no MAC for the peer's reflector yet\n");
		return -1;
	}
	memcpy(r->peer_mac.addr_bytes, n.mac, 6);
	char name[32];
	snprintf(name, sizeof(name), "tb_raw_%d", getpid());
	if (!r->pool && !(r->pool = rte_pktmbuf_pool_create(name, 1023, 0, 0, 2048 + 128, SOCKET_ID_ANY)))
		return -1;
	r->size = size;
	return 0;
}

static struct rte_mbuf *frame(struct raw_dpdk *r)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(r->pool);
	if (!m)
		return NULL;
	size_t len = sizeof(struct rte_ether_hdr) + sizeof(struct rte_ipv4_hdr) + sizeof(struct rte_udp_hdr) + r->size;
	uint8_t *d = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)len);
	struct rte_ether_hdr *eh = (struct rte_ether_hdr *)d;
	eh->dst_addr = r->peer_mac;
	eh->src_addr = r->mac;
	eh->ether_type = htons(RTE_ETHER_TYPE_IPV4);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eh + 1);
	memset(ip, 0, sizeof(*ip));
	ip->version_ihl = 0x45;
	ip->total_length = htons((uint16_t)(len - sizeof(*eh)));
	ip->fragment_offset = htons(RTE_IPV4_HDR_DF_FLAG);
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_UDP;
	ip->src_addr = r->ip;
	ip->dst_addr = r->peer_ip;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	struct rte_udp_hdr *u = (struct rte_udp_hdr *)(ip + 1);
	u->src_port = r->sport;
	u->dst_port = r->dport;
	u->dgram_len = htons((uint16_t)(sizeof(*u) + r->size));
	u->dgram_cksum = 0; /* none, as IPv4 allows: the reflector's kernel takes it */
	memset(u + 1, 0x5a, r->size);
	return m;
}

/* An ARP request for our address gets its reply here while we hold the
 * queue; true if m was one (and is now sent or freed). */
static bool answer_arp(struct raw_dpdk *r, struct rte_mbuf *m)
{
	struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	if (eh->ether_type != htons(RTE_ETHER_TYPE_ARP) || m->data_len < sizeof(*eh) + sizeof(struct rte_arp_hdr))
		return false;
	struct rte_arp_hdr *a = (struct rte_arp_hdr *)(eh + 1);
	if (a->arp_opcode != htons(RTE_ARP_OP_REQUEST) || a->arp_data.arp_tip != r->ip) {
		rte_pktmbuf_free(m);
		return true;
	}
	a->arp_opcode = htons(RTE_ARP_OP_REPLY);
	a->arp_data.arp_tha = a->arp_data.arp_sha;
	a->arp_data.arp_tip = a->arp_data.arp_sip;
	a->arp_data.arp_sha = r->mac;
	a->arp_data.arp_sip = r->ip;
	eh->dst_addr = eh->src_addr;
	eh->src_addr = r->mac;
	if (rte_eth_tx_burst(r->port_id, 0, &m, 1) == 0)
		rte_pktmbuf_free(m);
	return true;
}

static bool is_echo(const struct raw_dpdk *r, struct rte_mbuf *m)
{
	const struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	if (m->data_len < sizeof(*eh) + sizeof(struct rte_ipv4_hdr) + sizeof(struct rte_udp_hdr) ||
	    eh->ether_type != htons(RTE_ETHER_TYPE_IPV4))
		return false;
	const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(eh + 1);
	if (ip->next_proto_id != IPPROTO_UDP || ip->src_addr != r->peer_ip || (ip->version_ihl & 0xf) != 5)
		return false;
	const struct rte_udp_hdr *u = (const struct rte_udp_hdr *)(ip + 1);
	return u->dst_port == r->sport && u->src_port == r->dport;
}

static uint64_t raw_round_trip(struct baseline *b)
{
	struct raw_dpdk *r = b->state;
	struct rte_mbuf *f = frame(r);
	if (!f)
		return 0;
	uint64_t t0 = bench_now_ns();
	while (rte_eth_tx_burst(r->port_id, 0, &f, 1) == 0)
		if (bench_now_ns() - t0 > RAW_LOST_NS) {
			rte_pktmbuf_free(f);
			return 0;
		}
	struct rte_mbuf *m[32];
	for (;;) {
		uint16_t n = rte_eth_rx_burst(r->port_id, 0, m, 32);
		uint64_t now = bench_now_ns();
		bool got = false;
		for (uint16_t i = 0; i < n; i++) {
			if (!got && is_echo(r, m[i])) {
				got = true;
				rte_pktmbuf_free(m[i]);
			} else if (!answer_arp(r, m[i])) {
				rte_pktmbuf_free(m[i]); /* not ours: tern's, late, or other traffic */
			}
		}
		if (got)
			return now - t0;
		if (now - t0 > RAW_LOST_NS) {
			r->lost++;
			return 0;
		}
	}
}

static void raw_stop(struct baseline *b)
{
	struct raw_dpdk *r = b->state;
	if (r->lost)
		fprintf(stderr, "tern-bench: %lu raw DPDK frames had no echo within 10 ms\n", r->lost);
	if (r->pool)
		rte_mempool_free(r->pool);
	r->pool = NULL;
}

int baseline_dpdk_init(struct baseline *b, struct bench_client *c)
{
	static struct raw_dpdk r;
	memset(&r, 0, sizeof(r));
	r.c = c;
	*b = (struct baseline){ .name = "raw DPDK UDP frames", .start = raw_start, .round_trip = raw_round_trip,
				.stop = raw_stop, .state = &r };
	return 0;
}
#else
int baseline_dpdk_init(struct baseline *b, struct bench_client *c)
{
	(void)b;
	(void)c;
	return -1;
}
#endif
