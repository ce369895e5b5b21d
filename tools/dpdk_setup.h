/* The DPDK options tern-echo and tern-bench share: EAL arguments, the
 * port, our address, static neighbours. */
#ifndef TERN_TOOLS_DPDK_SETUP_H
#define TERN_TOOLS_DPDK_SETUP_H

#include <stdint.h>
#include <stdio.h>

#include "tern/dpdk.h"
#include "tern/tern.h"

struct dpdk_setup {
	const char *eal;      /* EAL arguments, one string */
	const char *dev;      /* port name; NULL: port 0 */
	const char *ip;       /* our IPv4 address on the port */
	const char *neighbor; /* "IP=MAC": a static neighbour */
	unsigned queues;      /* engines on the port; 0: 1 */
	uint16_t udp_port;    /* engine i listens on udp_port + i */
	int no_offload;
	uint16_t reflect;     /* a raw reflector's UDP port; 0: none */
};

/* Start the EAL (if not yet) and the port; on failure print why, prefixed
 * by prog, and return NULL. */
struct tern_dpdk_port *dpdk_setup_open(const struct dpdk_setup *o, const char *prog);
/* A line of the counters of e's driver (any driver), by name. */
void print_driver_stats(FILE *f, const char *who, struct tern_engine *e);

#endif
