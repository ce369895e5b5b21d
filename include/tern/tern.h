/* tern: datacenter RPC that bypasses the kernel. This header brings the
 * core API and the kernel UDP drivers; the DPDK driver and the simulated
 * network have headers of their own: <tern/dpdk.h>, <tern/sim.h>. */
#ifndef TERN_H
#define TERN_H

#include "addr.h"
#include "cc.h"
#include "engine.h"
#include "error.h"
#include "rpc.h"
#include "session.h"
#include "stats.h"
#include "udp.h"

#define TERN_VERSION_STRING "0.1.0"

#endif
