/* RTT estimation and the retransmission timeout (Jacobson/Karels, RFC 6298). */
#ifndef TERN_RTT_H
#define TERN_RTT_H

#include <stdbool.h>
#include <stdint.h>

struct tni_rtt {
	uint64_t srtt, rttvar, min_rtt, latest;
	uint64_t rto;                   /* before backoff */
	uint64_t min_rto, max_rto;
	unsigned backoff;               /* consecutive timeouts without progress */
	bool has_sample;
};

void tni_rtt_init(struct tni_rtt *r, uint64_t init_rto, uint64_t min_rto, uint64_t max_rto);
void tni_rtt_sample(struct tni_rtt *r, uint64_t rtt_ns);
/* The timeout to arm now: rto doubled per backoff step, capped. */
uint64_t tni_rtt_timeout(const struct tni_rtt *r);

#endif
