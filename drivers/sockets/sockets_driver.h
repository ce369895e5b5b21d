/* Kernel UDP through recvmmsg/sendmmsg (internal). */
#ifndef TERN_SOCKETS_DRIVER_H
#define TERN_SOCKETS_DRIVER_H

#include <stdint.h>

#include "../driver.h"

int tni_sockets_driver_open(const char *host, uint16_t port, uint32_t max_pkt, struct tern_driver **out);

#endif
