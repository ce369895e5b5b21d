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
	uint32_t zc_min_bytes; /* SEND_ZC for trains at least this long; 0: never */
	bool zc_probe;         /* and only until the kernel reports one of the first ones copied */
	/* Where a run-time change of course is told (NULL: nowhere). */
	void (*log)(void *log_user, const char *line);
	void *log_user;
	bool gro; /* ask the kernel for UDP GRO */
};

/* SEND_ZC notifications the probe waits for before it decides. */
#define TNI_ZC_PROBE_SENDS 8

/* On failure, why (one line) is written to reason. */
int tni_uring_driver_open(const char *host, uint16_t port, uint32_t max_pkt, const struct tni_uring_opts *opts,
			   struct tern_driver **out, char *reason, size_t reason_len);

#endif
