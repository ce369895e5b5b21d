/* The measuring side of tern-bench logp: LogP/LogGP parameters of tern RPC
 * calls to a peer that has the logp_peer handlers, by the published methods:
 *   timer  calibrated; its overhead is subtracted from every interval
 *   rtt    a ping-pong of BENCH_ECHO calls, request and answer of the size
 *   o_s    time inside tern_rpc_call plus the poll that puts the request on
 *          the wire, from a quiet start (BENCH_SINK)
 *   o_r    the peer's time to receive a message that has already arrived:
 *          it busy-waits past the arrival, then times its poll (Kielmann
 *          et al. 2000; BENCH_ARM then BENCH_TIMED); a sample in which it
 *          received more packets than the fewest of its batch (a sender's
 *          probe, an ack, came too) is not counted
 *   g      time per call in a steady flood of BENCH_SINK calls
 *   G      slope of a least-squares fit of g over size (Netgauge), logp.h
 *   L      rtt / 2 - o_s - o_r
 * Each is repeated in batches until its 95% confidence interval is within
 * ci_target of the mean, or its time is up; the spread is reported. */
#ifndef TERN_BENCH_LOGP_MEASURE_H
#define TERN_BENCH_LOGP_MEASURE_H

#include <stddef.h>
#include <stdint.h>

#include "logp.h"
#include "tern/tern.h"

struct logp_params {
	unsigned batch;       /* ping-pongs per batch (o_s and o_r take a quarter) */
	unsigned min_batches; /* always run */
	unsigned max_batches;
	unsigned flood;       /* calls per flood for g (a tenth of them warm up) */
	unsigned depth;       /* calls in flight in the flood */
	uint64_t phase_ns;    /* stop adding batches to a measurement after this */
	double ci_target;     /* relative half width of the 95% interval wanted */
};

void logp_params_default(struct logp_params *p);

struct logp_client {
	struct tern_rpc *rpc;
	struct tern_session *s;
	struct logp_params par;
	uint64_t timer_ns;
	/* filled as calls end */
	unsigned long replies, errors;
	int last_error;
	uint64_t timed_ns;
	uint64_t timed_pkts; /* packets the peer received while timing; 0 unknown */
	/* private */
	uint64_t phase_start;
};

/* The least time between two clock reads: subtracted from every interval. */
uint64_t logp_calibrate_timer(void);
/* Warm up (handshake, caches, the congestion window): n echo calls. */
int logp_warm_up(struct logp_client *c, unsigned n);
/* Measure one size; pt gets rtt, o_s, o_r, g and size (ns), ci each one's
 * relative interval. L and one_way are left to logp_derive. Returns 0, or
 * a tern error if calls failed. */
int logp_measure_size(struct logp_client *c, size_t size, struct logp_point *pt, double ci[4]);

#endif
