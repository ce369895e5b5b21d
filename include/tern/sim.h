/* A seeded, lossy, in-process network with a virtual clock. All engines on
 * one simulated network must be polled by the one thread that created it. */
#ifndef TERN_SIM_H
#define TERN_SIM_H

#include "export.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "engine.h"

struct tern_sim_net;

/* The address of a node, for tern_session_connect. */
static inline struct tern_addr tern_addr_sim(uint32_t node)
{
	struct tern_addr a = { .family = TERN_AF_SIM };
	a.ip[0] = (uint8_t)node;
	a.ip[1] = (uint8_t)(node >> 8);
	a.ip[2] = (uint8_t)(node >> 16);
	a.ip[3] = (uint8_t)(node >> 24);
	return a;
}

/* The node a TERN_AF_SIM address names. */
static inline uint32_t tern_addr_sim_node(const struct tern_addr *a)
{
	return (uint32_t)a->ip[0] | (uint32_t)a->ip[1] << 8 | (uint32_t)a->ip[2] << 16 | (uint32_t)a->ip[3] << 24;
}

/* The link from the switch into one node: its egress port's queue, speed,
 * delay and faults. Each packet to the node passes it once. */
struct tern_sim_link {
	double loss;             /* independent drop probability */
	/* Gilbert-Elliott burst loss; off when p_enter_bad is 0. */
	double p_enter_bad, p_leave_bad, loss_in_bad;
	double reorder;          /* probability a packet gets extra delay */
	uint64_t reorder_delay_ns; /* extra delay drawn uniformly from [0, this] */
	double duplicate;        /* probability a packet is delivered twice */
	double corrupt;          /* probability one bit of the packet is flipped */
	uint64_t bandwidth_bps;  /* 0: infinite */
	uint64_t delay_ns;       /* propagation delay */
	uint32_t queue_bytes;    /* tail-drop limit of the egress queue; 0: unlimited */
};

/* Initialise with tern_sim_config_init (records the compiled size). The
 * link parameters are fixed: new ones would come as a new struct. */
struct tern_sim_config {
	uint32_t size;
	uint64_t seed;
	struct tern_sim_link link; /* default for every node */
	uint32_t pool_pkts;        /* packet buffers per node; default 4096 */
	uint32_t buf_size;         /* bytes per buffer; default 2048 */
	/* Called for every packet a link admits, with the time it will wait in
	 * the queue before its first bit leaves (for queueing-delay studies). */
	void (*observe)(void *arg, uint32_t dst, uint64_t queue_delay_ns, uint32_t len);
	void *observe_arg;
	/* Send large payloads from the message buffers, as a NIC does with
	 * external mbufs: the buffer is read as the packet leaves and let go
	 * only at the node's next send (or cleanup), so a message can be
	 * acknowledged while the device still holds it. For tests of that. */
	bool attach_tx;
	/* Every node asks its peers, in the handshake, to send from this UDP
	 * source port, as an RSS-steered DPDK port does; packets then arrive
	 * with the port they were sent from as the peer's. 0: off. */
	uint16_t steer_port;
	/* Links check every datagram, as a NIC does a UDP checksum: a corrupted
	 * packet is dropped by the link (counted as corrupted and lost), and
	 * tern leaves its own CRC out (docs/protocol.md). */
	bool link_checked;
};

/* Data packets are told apart by the tern packet type so that losses of data
 * can be compared with retransmissions. */
struct tern_sim_stats {
	uint64_t sent, delivered;
	uint64_t lost, queue_drops, duplicated, corrupted, reordered;
	uint64_t data_sent, data_lost; /* data packets; lost includes queue drops */
	uint64_t steered;              /* packets sent from a source port the peer asked for */
	uint64_t no_crc;               /* packets sent without tern's CRC (TERN_FLAG_NO_CRC) */
};

#define tern_sim_config_init(cfg) tern_sim_config_init_sized((cfg), sizeof(*(cfg)))
TERN_API void tern_sim_config_init_sized(struct tern_sim_config *cfg, size_t size);
/* A driver on node of net, for tern_engine_config.driver: the engine's
 * address is tern_addr_sim(node). TERN_EADDRINUSE if another engine holds
 * the node. */
TERN_API int tern_sim_driver_open(struct tern_sim_net *net, uint32_t node, struct tern_driver **out);
TERN_API int tern_sim_create(const struct tern_sim_config *cfg, struct tern_sim_net **out);
TERN_API void tern_sim_destroy(struct tern_sim_net *net);

TERN_API int tern_sim_set_link(struct tern_sim_net *net, uint32_t node, const struct tern_sim_link *link);
TERN_API uint64_t tern_sim_now(const struct tern_sim_net *net);
/* Earliest packet arrival, UINT64_MAX if nothing is in flight. */
TERN_API uint64_t tern_sim_next_event(const struct tern_sim_net *net);
/* Move the clock forward to t (never back). */
TERN_API void tern_sim_advance(struct tern_sim_net *net, uint64_t t);
/* Put raw bytes on the wire from src to dst, through dst's link (for tests
 * of hostile input). */
TERN_API int tern_sim_inject(struct tern_sim_net *net, uint32_t src, uint32_t dst, const void *data, size_t len);
/* The same from any address (node and port). Node numbers from
 * TERN_SIM_FORGED_NODES up are never nodes: a packet from one is a forged
 * source's, and what answers it is lost. */
#define TERN_SIM_FORGED_NODES 65536u
TERN_API int tern_sim_inject_from(struct tern_sim_net *net, const struct tern_addr *from, uint32_t dst,
				  const void *data, size_t len);
#define tern_sim_stats(net, out) tern_sim_stats_sized((net), (out), sizeof(*(out)))
TERN_API void tern_sim_stats_sized(const struct tern_sim_net *net, struct tern_sim_stats *out, size_t size);

/* Poll the engines and move virtual time until done(arg) is true or the
 * clock passes until_ns. Returns 0 when done, TERN_EAGAIN at until_ns. */
TERN_API int tern_sim_run(struct tern_sim_net *net, struct tern_engine **engines, size_t n,
		 uint64_t until_ns, bool (*done)(void *arg), void *arg);

#endif
