/* The DPDK datapath: EAL start-up, one port shared by the engines of a
 * process, one rx/tx queue pair and one mempool per engine (docs/dpdk.md).
 * Every call returns TERN_ENOTSUP when tern was built without DPDK. */
#ifndef TERN_DPDK_H
#define TERN_DPDK_H

#include "export.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine.h"

struct tern_dpdk_port;

/* Start the EAL with these arguments (argv[0] is the program name, as for
 * rte_eal_init). If the application has initialised the EAL already, this
 * returns 0 and changes nothing. The EAL cannot be started twice in one
 * process, nor stopped and started again. */
TERN_API int tern_dpdk_init(int argc, char **argv);
/* The same, from one string split at spaces ("--no-huge -m 512 ..."). */
TERN_API int tern_dpdk_init_str(const char *args);

/* How a frame for engine i reaches queue i (docs/dpdk.md). In every mode
 * a frame that still lands elsewhere is handed over in software, counted. */
enum tern_dpdk_steering {
	TERN_STEER_AUTO = 0,     /* the best the port offers: flow rules, else RSS, else software */
	TERN_STEER_FLOW = 1,     /* rte_flow: UDP destination port base+i to queue i; fail if refused */
	TERN_STEER_SOFTWARE = 2, /* a packet on the wrong queue is handed to its engine's ring (counted) */
	/* Each peer is told, in the handshake, a UDP source port whose RSS
	 * hash (software Toeplitz with the port's key and table) lands on its
	 * engine's queue; DPDK peers send from it, kernel peers cannot and are
	 * handed over. Fails if the port's RSS key and table are unknown. */
	TERN_STEER_RSS = 3,
};

struct tern_dpdk_neighbor {
	uint8_t ip[4];  /* IPv4, network order */
	uint8_t mac[6];
};

/* Initialise with tern_dpdk_port_config_init (records the compiled size). */
struct tern_dpdk_port_config {
	uint32_t size;
	const char *device;   /* DPDK port name ("net_memif0", a PCI address), or NULL for port_id */
	uint16_t port_id;     /* used when device is NULL */
	uint16_t queues;      /* rx/tx queue pairs = engines; default 1 */
	const char *ip;       /* our IPv4 address (dotted quad); required */
	uint16_t udp_port;    /* engine i listens on udp_port + i; required */
	uint32_t mtu;         /* IP MTU; default 1500 */
	uint32_t mbufs;       /* mbufs per queue's mempool; default 8191 */
	uint16_t rx_desc, tx_desc; /* ring sizes; default 1024 each */
	enum tern_dpdk_steering steering;
	bool no_arp;          /* neither answer nor send ARP: static neighbours only */
	bool no_offload;      /* compute checksums in software even if the port offers offload */
	/* tern_engine_alloc_buffer (and tern_rpc_alloc over 2 KiB) from DPDK
	 * memory even where the port does not need it; by default only ports
	 * that DMA from attached buffers (NICs) get DPDK memory. */
	bool dpdk_buffers;
	/* Payloads of at least this many bytes per packet are sent from the
	 * message buffer itself, as external mbufs, where the port allows it
	 * (docs/dpdk.md); smaller ones are copied. Default 1024; 0: always copy. */
	uint32_t attach_min_bytes;
	const struct tern_dpdk_neighbor *neighbors; /* static table, used before ARP */
	unsigned n_neighbors;
	/* RSS steering: the port's hash key (16 to 64 bytes) and redirection
	 * table (entry = queue, at most 2048 entries), for a driver that can
	 * report neither. NULL: tern sets its own key and a round-robin table
	 * and reads both back from the port. */
	const uint8_t *rss_key;
	uint32_t rss_key_len;
	const uint16_t *rss_reta;
	uint32_t rss_reta_size;
	/* UDP frames to this port on our address go straight back, Ethernet
	 * and IP addresses and UDP ports swapped (as testpmd's macswap), with
	 * no tern work: the raw baseline's reflector of tern-bench serve.
	 * Counted as driver counter `reflected`. 0 (default): none. */
	uint16_t reflect_udp_port;
};

#define tern_dpdk_port_config_init(cfg) tern_dpdk_port_config_init_sized((cfg), sizeof(*(cfg)))
TERN_API void tern_dpdk_port_config_init_sized(struct tern_dpdk_port_config *cfg, size_t size);

/* Configure and start a port. Engines then take its queues with
 * tern_dpdk_driver_open. */
TERN_API int tern_dpdk_port_create(const struct tern_dpdk_port_config *cfg, struct tern_dpdk_port **out);
/* A driver on queue (0 .. queues-1) of port, for tern_engine_config.driver:
 * the engine listens on the port's udp_port + queue. TERN_EBUSY if
 * another engine has that queue. */
TERN_API int tern_dpdk_driver_open(struct tern_dpdk_port *port, uint16_t queue, struct tern_driver **out);
/* Stop and close the port and free its pools; the device cannot be used
 * again in this process. TERN_EBUSY while an engine still uses it. */
TERN_API int tern_dpdk_port_destroy(struct tern_dpdk_port *port);

struct tern_dpdk_port_info {
	uint16_t port_id;
	uint16_t queues;
	uint8_t mac[6];
	bool link_up;
	uint32_t link_mbps;
	bool csum_offload;               /* IPv4 and UDP checksums done by the port */
	bool rx_csum_offload;            /* received UDP checksums verified by the port */
	/* Frames cross memory (memif) or carry a checksum the port computes:
	 * tern leaves out its own CRC towards peers that can tell (docs/protocol.md). */
	bool link_checks_tx;
	bool tx_attach;                  /* large payloads may leave from the message buffer (external mbufs) */
	enum tern_dpdk_steering steering; /* what AUTO became */
	char driver[32];                 /* the PMD, "net_memif" */
};

#define tern_dpdk_port_info(port, out) tern_dpdk_port_info_sized((port), (out), sizeof(*(out)))
TERN_API int tern_dpdk_port_info_sized(struct tern_dpdk_port *port, struct tern_dpdk_port_info *out, size_t size);

/* Add or replace a neighbour (callable from any thread). */
TERN_API int tern_dpdk_port_add_neighbor(struct tern_dpdk_port *port, const struct tern_dpdk_neighbor *n);
/* The MAC of n->ip (as learnt by ARP or added) into n->mac; TERN_EAGAIN
 * while it is not known yet (callable from any thread). */
TERN_API int tern_dpdk_port_neighbor(struct tern_dpdk_port *port, struct tern_dpdk_neighbor *n);

/* Every extended statistic of the port, by name, through fn; returns how
 * many there were, or a negative error. */
TERN_API int tern_dpdk_port_xstats(struct tern_dpdk_port *port,
			  void (*fn)(const char *name, uint64_t value, void *arg), void *arg);

#endif
