/* Kernel UDP through recvmmsg/sendmmsg (internal). */
#ifndef TERN_SOCKETS_DRIVER_H
#define TERN_SOCKETS_DRIVER_H

#include <stdint.h>

#include "../driver.h"

#include <stdbool.h>
#include <stddef.h>

struct tni_sockets_opts {
	bool gso; /* send trains as UDP GSO datagrams */
	bool gro; /* ask the kernel for UDP GRO */
};

/* note gets what the caller should log (an offload the kernel refused),
 * or "". */
int tni_sockets_driver_open(const char *host, uint16_t port, uint32_t max_pkt, const struct tni_sockets_opts *o,
			    struct tern_driver **out, char *note, size_t note_len);

#endif
