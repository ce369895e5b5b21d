/* The peer's side of tern-bench logp, as RPC handlers on any tern RPC
 * endpoint (tern-bench serve has them on every engine):
 *   BENCH_SINK   answer at once with nothing: for o_s and the flood of g
 *   BENCH_ARM    "busy-wait this long after this poll, then time the next
 *                receive": the Kielmann method for o_r across two hosts
 *   BENCH_TIMED  the message whose receive is timed; the answer carries the
 *                time from the first poll after the wait until the handler
 *                ran (8 bytes, little endian ns; all ones if not armed)
 * The engine's owner calls logp_peer_after_poll after every poll. */
#ifndef TERN_BENCH_LOGP_PEER_H
#define TERN_BENCH_LOGP_PEER_H

#include <stdbool.h>
#include <stdint.h>

#include "tern/tern.h"

#define BENCH_SINK 3
#define BENCH_ARM 4
#define BENCH_TIMED 5

/* The longest busy-wait a client may ask for. */
#define LOGP_MAX_ARM_NS 100000000ull

struct logp_peer {
	struct tern_rpc *rpc;
	uint64_t arm_ns; /* 0: not armed */
	bool timing;     /* between the wait and the timed message */
	bool got;
	uint64_t t0;     /* the first poll after the wait began here */
	uint64_t rx0;    /* the engine's rx_pkts at t0 */
};

/* Register the three handlers on rpc (which must outlive p). */
int logp_peer_register(struct logp_peer *p, struct tern_rpc *rpc);
/* If a BENCH_ARM came in the poll just done: busy-wait without touching
 * the engine, then poll until the timed message is handled (or a second
 * passes). Otherwise nothing. */
void logp_peer_after_poll(struct logp_peer *p);

#endif
