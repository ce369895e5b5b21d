/* tern-bench on the simulated network (--driver sim): simulated time, a
 * 10 Gb/s link with 2 us propagation delay, host CPU time counted as zero. */
#ifndef TERN_BENCH_SIMDRV_H
#define TERN_BENCH_SIMDRV_H

#include <stddef.h>

#include "hist.h"
#include "logp.h"

/* count RPC round trips of size bytes, closed loop, into out (ns). */
int simdrv_lat(size_t size, unsigned long count, struct hist *out);
/* Calls per simulated second: pairs of engines, sessions each, depth in flight. */
double simdrv_tput(unsigned pairs, unsigned sessions, unsigned depth, size_t size, double seconds);
/* One-way bytes per simulated second with window messages in flight. */
double simdrv_bw(size_t size, unsigned window, double seconds);
/* L and g in simulated time; o_s = o_r = 0. */
int simdrv_logp(size_t size, struct logp_point *pt);

#endif
