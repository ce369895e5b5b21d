/* The packet I/O ops table every backend implements (sim, uring, sockets, dpdk). */
#ifndef TERN_DRIVER_H
#define TERN_DRIVER_H

#include <stdint.h>

#include "tern/addr.h"
#include "tern/stats.h"

/* A packet buffer. data points at the tern header; the driver keeps
 * headroom in front of it for the outer headers it must write. */
struct tern_pkt {
	uint8_t *data;
	uint32_t len;           /* bytes of tern packet */
	uint32_t cap;           /* bytes usable from data on */
	struct tern_addr peer;  /* rx: where it came from; tx: where it goes */
	uint8_t hops;           /* rx: links crossed (tern_hops_from_ttl); 0 unknown */
	struct tern_pkt *next;  /* free for the driver's use */
	void *owner;            /* the pool it returns to */
};

/* Links a packet crossed, from the TTL (or hop limit) it arrived with:
 * senders start at 64 (Linux, and our DPDK template), 128 or 255, and
 * every router takes one off. 1 means the peer is on our link. */
static inline uint8_t tern_hops_from_ttl(uint8_t ttl)
{
	if (ttl == 0)
		return 0;
	unsigned start = ttl <= 64 ? 64 : ttl <= 128 ? 128 : 255;
	return (uint8_t)(start - ttl + 1);
}

struct tern_driver;

struct tern_driver_ops {
	const char *name;
	/* Fill up to n received packets; the engine frees each one. */
	unsigned (*rx_burst)(struct tern_driver *d, struct tern_pkt **pkts, unsigned n);
	/* Send up to n; the driver owns the ones it took (the count returned). */
	unsigned (*tx_burst)(struct tern_driver *d, struct tern_pkt **pkts, unsigned n);
	struct tern_pkt *(*alloc)(struct tern_driver *d);
	void (*free)(struct tern_driver *d, struct tern_pkt *p);
	uint64_t (*now_ns)(struct tern_driver *d);
	int (*local_addr)(struct tern_driver *d, struct tern_addr *out);
	/* Block until a packet may be ready or timeout_ns passes. */
	void (*wait)(struct tern_driver *d, uint64_t timeout_ns);
	/* Optional: add the driver's own counters. */
	void (*stats)(struct tern_driver *d, struct tern_stats *out);
	void (*destroy)(struct tern_driver *d);
};

/* Backends embed this as their first member. */
struct tern_driver {
	const struct tern_driver_ops *ops;
};

#endif
