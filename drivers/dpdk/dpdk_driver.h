/* The DPDK driver as the engine sees it. */
#ifndef TERN_DPDK_DRIVER_H
#define TERN_DPDK_DRIVER_H

#include <stdint.h>

#include "drivers/driver.h"

struct tern_dpdk_port;

/* The engine's driver on queue q of port p; mtu must not exceed the port's.
 * TERN_EBUSY if another engine has that queue. */
int tni_dpdk_driver_open(struct tern_dpdk_port *p, uint16_t q, uint32_t mtu, struct tni_driver **out);

#endif
