/* A test driver with known costs: two ends joined in memory, each packet
 * charged send_ns of CPU (a busy-wait inside tx_burst) at the sender and
 * recv_ns inside rx_burst at the receiver, and carried by a one-way wire
 * that serializes ns_per_byte for each byte of the datagram and its IPv4
 * and UDP headers (queued behind what went before) and then takes wire_ns.
 * The ends may run on two threads; the clock is the real one. For tests of
 * what tern-bench's LogP measurement recovers. */
#ifndef TERN_TEST_COSTDRV_H
#define TERN_TEST_COSTDRV_H

#include <stdint.h>

#include "tern/tern.h"

struct costdrv_params {
	uint64_t send_ns, recv_ns; /* CPU per packet */
	uint64_t wire_ns;          /* propagation, each way */
	double ns_per_byte;        /* serialization */
};

/* The IPv4 and UDP bytes the wire charges on top of the datagram. */
#define COSTDRV_IP_UDP 28

/* Two drivers, 10.9.0.1:1000 (a) and 10.9.0.2:2000 (b), each to be handed
 * to one engine. */
int costdrv_pair(const struct costdrv_params *p, struct tern_driver **a, struct tern_driver **b);

#endif
