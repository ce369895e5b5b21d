/* What the DPDK port, its neighbour table and its engines' drivers share. */
#ifndef TERN_DPDK_INTERNAL_H
#define TERN_DPDK_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <rte_ether.h>
#include <rte_mbuf.h>

#include "../driver.h"
#include "../rss_toeplitz.h"
#include "dpdk_gate.h"
#include "tern/dpdk.h"

#define TERN_DPDK_MAX_QUEUES 64

/* One queue pair's counters, reported by name (tern_engine_driver_stats). */
#define DPDK_COUNTERS(X)                                                                                         \
	X(nic_rx_frames)        /* every frame, ARP included */                                              \
	X(nic_tx_frames)                                                                                     \
	X(nic_rx_other)         /* dropped: not IPv4/UDP to one of our engines, or IP fragments */          \
	X(nic_tx_full)          /* dropped: the tx queue stayed full after bounded retries */               \
	X(nic_link_down_drops)  /* dropped: link down */                                                     \
	X(nic_gate_drops)       /* dropped: memif's interrupt thread stayed out past the wait (dpdk_gate.h) */ \
	X(steer_handoffs)       /* arrived on this queue for another engine, passed by ring */              \
	X(steer_drops)          /* of which dropped: that engine's ring was full */                         \
	X(steer_ports_asked)    /* RSS steering: handshakes asking the peer for a source port */            \
	X(steer_port_frames)    /* frames sent from a source port the peer asked for */                     \
	X(steer_port_replies)   /* frames to such a port routed to the engine that used it */               \
	X(arp_requests_sent)                                                                                 \
	X(arp_replies_sent)                                                                                  \
	X(arp_unresolved_drops) /* dropped: no MAC for the next hop yet (ARP asked) */                      \
	X(reflected)            /* frames to reflect_udp_port, sent straight back */
struct dpdk_counters {
#define X(f) uint64_t f;
	DPDK_COUNTERS(X)
#undef X
};
/* An mbuf's private area: a struct tni_pkt, or for an external-buffer
 * segment the shared info that counts its use. */
#define TERN_DPDK_PRIV_SIZE                                                                                        \
	RTE_ALIGN(sizeof(struct tni_pkt) > sizeof(struct rte_mbuf_ext_shared_info) ? sizeof(struct tni_pkt)     \
										      : sizeof(struct rte_mbuf_ext_shared_info), \
		  RTE_MBUF_PRIV_ALIGN)

/* Ethernet + IPv4 (no options) + UDP in front of every tern packet. */
#define TERN_DPDK_OUTER (14u + 20u + 8u)

/* IPv4 to MAC, written by whichever engine hears an ARP or a frame, read
 * by all: open addressing, lock-free (a key is claimed once by CAS and
 * never moves; the value is one 64-bit word). */
#define TERN_NEIGH_SLOTS 1024
struct tni_neigh_slot {
	_Atomic uint32_t ip;      /* network order; 0: free */
	_Atomic uint64_t mac;     /* 48-bit MAC | NEIGH_VALID; 0 while unresolved */
	_Atomic uint64_t asked_ns; /* last ARP request for it */
};
struct tni_neigh_table {
	struct tni_neigh_slot slot[TERN_NEIGH_SLOTS];
};

bool tni_neigh_lookup(struct tni_neigh_table *t, uint32_t ip, struct rte_ether_addr *mac);
/* The slot of ip (claimed if create; NULL if absent or the table is full).
 * A slot keeps its address for the table's life, so an engine may keep a
 * pointer to it and read or learn the MAC there without a search. */
struct tni_neigh_slot *tni_neigh_find(struct tni_neigh_table *t, uint32_t ip, bool create);
bool tni_neigh_slot_mac(struct tni_neigh_slot *s, struct rte_ether_addr *mac);
/* Store mac (a unicast address) in s unless it is there already. */
void tni_neigh_slot_learn(struct tni_neigh_slot *s, const struct rte_ether_addr *mac);
void tni_neigh_set(struct tni_neigh_table *t, uint32_t ip, const struct rte_ether_addr *mac);
/* True when the caller should send an ARP request for ip now (at most one
 * per ip every interval_ns, over all engines). */
bool tni_neigh_should_ask(struct tni_neigh_table *t, uint32_t ip, uint64_t now_ns, uint64_t interval_ns);

struct rte_mempool;
struct rte_ring;
struct rte_flow;

struct tern_dpdk_port {
	uint16_t port_id, nq;
	uint32_t ip;         /* network order */
	uint16_t udp_base;   /* host order */
	uint16_t reflect;    /* tern_dpdk_port_config.reflect_udp_port, host order; 0 none */
	uint32_t mtu;
	uint32_t attach_min; /* tern_dpdk_port_config.attach_min_bytes */
	struct rte_ether_addr mac;
	bool csum_offload, arp;
	bool rx_csum;     /* the NIC verifies received UDP checksums (RX_OFFLOAD_UDP_CKSUM) */
	bool memory_link; /* memif: frames cross shared memory, never a wire */
	/* Sends may chain external buffers (multi-segment mbufs): attach_any
	 * for software ports that copy every segment and never read IOVAs,
	 * attach_dma for NICs, with buffers in DPDK memory and IOVA = VA. */
	bool attach_any, attach_dma;
	bool dpdk_buffers; /* message buffers from rte_malloc (attach_dma or asked for) */
	int socket;
	enum tern_dpdk_steering steering;
	char driver[32];
	struct rte_mempool *pool[TERN_DPDK_MAX_QUEUES];
	struct rte_ring *handoff[TERN_DPDK_MAX_QUEUES]; /* software steering: frames for engine q */
	struct rte_flow *flow[TERN_DPDK_MAX_QUEUES];
	struct tni_rss rss; /* RSS steering: the port's key and table */
	/* 1 + the engine that last sent from a source port a peer asked for,
	 * so that a frame back to that port (a RST) finds it; 0: none. */
	_Atomic uint8_t steer_owner[65536];
	atomic_bool taken[TERN_DPDK_MAX_QUEUES];
	atomic_int engines;
	/* memif: the process's gate (dpdk_gate.h), one reference per port;
	 * NULL for ports whose driver never unmaps under a burst. */
	struct tni_gate *gate;
	struct tni_neigh_table neigh;
};

/* ARP frames: build a request in m; answer or learn from a received one.
 * tni_arp_input returns true when it turned m into a reply to send. */
struct rte_mbuf;
void tni_arp_request(const struct tern_dpdk_port *p, struct rte_mbuf *m, uint32_t target_ip);
bool tni_arp_input(struct tern_dpdk_port *p, struct rte_mbuf *m);


#endif
