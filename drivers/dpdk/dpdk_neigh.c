/* The neighbour table and ARP (RFC 826): answer for our address, learn
 * senders, ask for next hops we cannot reach yet. */
#include <string.h>

#include <rte_arp.h>
#include <rte_byteorder.h>
#include <rte_mbuf.h>

#include "dpdk_internal.h"

#define NEIGH_VALID (1ull << 63)

/* Two loads, not a 6-byte copy into a zeroed word: the word's load then
 * spans two stores, which store forwarding cannot serve: a stall on every
 * received frame. */
static uint64_t mac_word(const struct rte_ether_addr *m)
{
	uint32_t lo;
	uint16_t hi;
	memcpy(&lo, m->addr_bytes, 4);
	memcpy(&hi, m->addr_bytes + 4, 2);
	return ((uint64_t)hi << 32 | lo) | NEIGH_VALID;
}

static uint32_t neigh_hash(uint32_t ip)
{
	return (ip * 2654435761u) >> 22; /* 10 bits: TERN_NEIGH_SLOTS */
}

/* The slot for ip, claimed if create; NULL if absent (or the table is full). */
struct tni_neigh_slot *tni_neigh_find(struct tni_neigh_table *t, uint32_t ip, bool create)
{
	uint32_t h = neigh_hash(ip);
	for (uint32_t i = 0; i < TERN_NEIGH_SLOTS; i++) {
		struct tni_neigh_slot *s = &t->slot[(h + i) & (TERN_NEIGH_SLOTS - 1)];
		uint32_t k = atomic_load_explicit(&s->ip, memory_order_acquire);
		if (k == ip)
			return s;
		if (k != 0)
			continue;
		if (!create)
			return NULL;
		uint32_t zero = 0;
		if (atomic_compare_exchange_strong(&s->ip, &zero, ip) || zero == ip)
			return s;
	}
	return NULL;
}

bool tni_neigh_slot_mac(struct tni_neigh_slot *s, struct rte_ether_addr *mac)
{
	uint64_t w = s ? atomic_load_explicit(&s->mac, memory_order_acquire) : 0;
	if (!(w & NEIGH_VALID))
		return false;
	uint32_t lo = (uint32_t)w;
	uint16_t hi = (uint16_t)(w >> 32);
	memcpy(mac->addr_bytes, &lo, 4);
	memcpy(mac->addr_bytes + 4, &hi, 2);
	return true;
}

void tni_neigh_slot_learn(struct tni_neigh_slot *s, const struct rte_ether_addr *mac)
{
	uint64_t w = mac_word(mac);
	if (!s || atomic_load_explicit(&s->mac, memory_order_relaxed) == w)
		return;
	if (rte_is_zero_ether_addr(mac) || !rte_is_unicast_ether_addr(mac))
		return;
	atomic_store_explicit(&s->mac, w, memory_order_release);
}

bool tni_neigh_lookup(struct tni_neigh_table *t, uint32_t ip, struct rte_ether_addr *mac)
{
	return tni_neigh_slot_mac(tni_neigh_find(t, ip, false), mac);
}

void tni_neigh_set(struct tni_neigh_table *t, uint32_t ip, const struct rte_ether_addr *mac)
{
	if (ip == 0 || rte_is_zero_ether_addr(mac) || !rte_is_unicast_ether_addr(mac))
		return;
	tni_neigh_slot_learn(tni_neigh_find(t, ip, true), mac);
}

bool tni_neigh_should_ask(struct tni_neigh_table *t, uint32_t ip, uint64_t now_ns, uint64_t interval_ns)
{
	struct tni_neigh_slot *s = tni_neigh_find(t, ip, true);
	if (!s)
		return false;
	uint64_t last = atomic_load_explicit(&s->asked_ns, memory_order_relaxed);
	if (last && now_ns - last < interval_ns)
		return false;
	return atomic_compare_exchange_strong(&s->asked_ns, &last, now_ns ? now_ns : 1);
}

static struct rte_arp_hdr *arp_fill(const struct tern_dpdk_port *p, struct rte_mbuf *m,
				    const struct rte_ether_addr *dst)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	eth->dst_addr = *dst;
	eth->src_addr = p->mac;
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP);
	struct rte_arp_hdr *a = (struct rte_arp_hdr *)(eth + 1);
	a->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
	a->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	a->arp_hlen = RTE_ETHER_ADDR_LEN;
	a->arp_plen = 4;
	a->arp_data.arp_sha = p->mac;
	a->arp_data.arp_sip = p->ip;
	m->data_len = m->pkt_len = sizeof(*eth) + sizeof(*a);
	m->ol_flags = 0;
	return a;
}

void tni_arp_request(const struct tern_dpdk_port *p, struct rte_mbuf *m, uint32_t target_ip)
{
	struct rte_ether_addr bcast;
	memset(bcast.addr_bytes, 0xff, sizeof(bcast.addr_bytes));
	struct rte_arp_hdr *a = arp_fill(p, m, &bcast);
	a->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REQUEST);
	memset(&a->arp_data.arp_tha, 0, sizeof(a->arp_data.arp_tha));
	a->arp_data.arp_tip = target_ip;
}

bool tni_arp_input(struct tern_dpdk_port *p, struct rte_mbuf *m)
{
	if (m->data_len < sizeof(struct rte_ether_hdr) + sizeof(struct rte_arp_hdr))
		return false;
	struct rte_arp_hdr *a = rte_pktmbuf_mtod_offset(m, struct rte_arp_hdr *, sizeof(struct rte_ether_hdr));
	if (a->arp_hardware != rte_cpu_to_be_16(RTE_ARP_HRD_ETHER) ||
	    a->arp_protocol != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) || a->arp_hlen != 6 || a->arp_plen != 4)
		return false;
	uint16_t op = rte_be_to_cpu_16(a->arp_opcode);
	uint32_t sip = a->arp_data.arp_sip;
	struct rte_ether_addr sha = a->arp_data.arp_sha;
	/* Learn the sender of anything addressed to us (and of replies). */
	if (a->arp_data.arp_tip == p->ip)
		tni_neigh_set(&p->neigh, sip, &sha);
	if (op != RTE_ARP_OP_REQUEST || a->arp_data.arp_tip != p->ip || !p->arp)
		return false;
	a = arp_fill(p, m, &sha);
	a->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REPLY);
	a->arp_data.arp_tha = sha;
	a->arp_data.arp_tip = sip;
	return true;
}
