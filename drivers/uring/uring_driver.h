/* Kernel UDP through io_uring (internal). */
#ifndef TERN_URING_DRIVER_H
#define TERN_URING_DRIVER_H

#include <stddef.h>
#include <stdint.h>

#include "../driver.h"

#include "tern/udp.h"

struct tni_uring_opts {
	enum tern_uring_setup setup;
	bool gso;
	uint32_t zc_min_bytes;
};

/* On failure, why (one line) is written to reason. */
int tni_uring_driver_open(const char *host, uint16_t port, uint32_t max_pkt, const struct tni_uring_opts *opts,
			   struct tern_driver **out, char *reason, size_t reason_len);

#endif
