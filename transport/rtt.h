/* RTT estimation and the retransmission timeout (Jacobson/Karels, RFC 6298),
 * with a floor that learns from timeouts that were only a late peer. */
#ifndef TERN_RTT_H
#define TERN_RTT_H

#include <stdbool.h>
#include <stdint.h>

struct tni_rtt {
	uint64_t srtt, rttvar, min_rtt, latest;
	uint64_t rto;                   /* before backoff */
	uint64_t min_rto, max_rto;
	/* The floor the path asks for (tni_rtt_set_floor); min_rto is at
	 * least this, higher while a stall it learnt is remembered. */
	uint64_t path_floor;
	uint64_t learnt_at;             /* when min_rto last left path_floor or halved toward it */
	unsigned backoff;               /* consecutive timeouts without progress */
	bool has_sample;
};

void tni_rtt_init(struct tni_rtt *r, uint64_t init_rto, uint64_t min_rto, uint64_t max_rto);
/* The path's floor, once both ends' needs are known (the handshake). It
 * applies at once, to an RTO without a sample too. */
void tni_rtt_set_floor(struct tni_rtt *r, uint64_t floor_ns);
/* An RTT sample taken at now. A learnt floor above the path's halves its
 * excess each TNI_RTT_FORGET_NS without a late peer, and is gone once the
 * excess is under an eighth of the path's. */
void tni_rtt_sample(struct tni_rtt *r, uint64_t rtt_ns, uint64_t now);
/* A timeout proved spurious: an ack came for a packet sent before it,
 * late_ns after that packet left. The peer was silent that long without
 * losing anything (its host's scheduler, most often), so the floor rises
 * to wait that long and a quarter more, up to max_rto. */
void tni_rtt_on_late(struct tni_rtt *r, uint64_t late_ns, uint64_t now);
/* The timeout to arm now: rto doubled per backoff step, capped. */
uint64_t tni_rtt_timeout(const struct tni_rtt *r);

#define TNI_RTT_FORGET_NS 1000000000ull

#endif
