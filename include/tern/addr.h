/* Endpoint addresses for every backend. */
#ifndef TERN_ADDR_H
#define TERN_ADDR_H

#include "export.h"

#include <stdint.h>
#include <stdbool.h>
#include <stddef.h>

enum tern_addr_family {
	TERN_AF_NONE = 0,
	TERN_AF_SIM = 1,   /* a node of a simulated network (sim.h: tern_addr_sim) */
	TERN_AF_INET = 2,  /* IPv4 + UDP port */
	TERN_AF_INET6 = 3, /* IPv6 + UDP port */
};

struct tern_addr {
	uint16_t family; /* enum tern_addr_family */
	uint16_t port;   /* UDP port, host order */
	/* IPv4 in the first 4 bytes, network order; IPv6; or a simulated
	 * node's number (sim.h). */
	uint8_t ip[16];
};

TERN_API bool tern_addr_equal(const struct tern_addr *a, const struct tern_addr *b);

/* Resolve a host name or literal (IPv4 or IPv6) and a UDP port. */
TERN_API int tern_addr_resolve(const char *host, uint16_t port, struct tern_addr *out);
/* "1.2.3.4:5", "[::1]:5" or "sim:7" into buf; returns buf. */
TERN_API char *tern_addr_format(const struct tern_addr *a, char *buf, size_t len);

#endif
