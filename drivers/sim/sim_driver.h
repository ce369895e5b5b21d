/* Attaching an engine to a simulated network (internal). */
#ifndef TERN_SIM_DRIVER_H
#define TERN_SIM_DRIVER_H

#include "drivers/driver.h"
#include "tern/sim.h"

/* Claim node on net; TERN_EADDRINUSE if another engine holds it. */
int tni_sim_driver_open(struct tern_sim_net *net, uint32_t node, struct tni_driver **out);

#endif
