/* Kernel UDP through io_uring (internal). */
#ifndef TERN_URING_DRIVER_H
#define TERN_URING_DRIVER_H

#include <stddef.h>
#include <stdint.h>

#include "drivers/driver.h"

/* On failure, why (one line) is written to reason. */
int tern_uring_driver_open(const char *host, uint16_t port, uint32_t max_pkt, struct tern_driver **out,
			   char *reason, size_t reason_len);

#endif
