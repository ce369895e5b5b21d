/* tern: datacenter RPC that bypasses the kernel. Include this header only. */
#ifndef TERN_H
#define TERN_H

#include "addr.h"
#include "cc.h"
#include "dpdk.h"
#include "engine.h"
#include "error.h"
#include "rpc.h"
#include "session.h"
#include "sim.h"
#include "stats.h"

#define TERN_VERSION_STRING "0.1.0"

#endif
