#include "rtt.h"

/* Floor for 4 * rttvar, so a perfectly steady RTT still leaves room. */
#define RTTVAR_FLOOR_NS 1000

void tni_rtt_init(struct tni_rtt *r, uint64_t init_rto, uint64_t min_rto, uint64_t max_rto)
{
	*r = (struct tni_rtt){ .rto = init_rto, .min_rto = min_rto, .max_rto = max_rto, .min_rtt = UINT64_MAX };
}

void tni_rtt_sample(struct tni_rtt *r, uint64_t s)
{
	r->latest = s;
	if (s < r->min_rtt)
		r->min_rtt = s;
	if (!r->has_sample) {
		r->srtt = s;
		r->rttvar = s / 2;
		r->has_sample = true;
	} else {
		uint64_t err = s > r->srtt ? s - r->srtt : r->srtt - s;
		r->rttvar = (3 * r->rttvar + err) / 4;
		r->srtt = (7 * r->srtt + s) / 8;
	}
	uint64_t var = 4 * r->rttvar > RTTVAR_FLOOR_NS ? 4 * r->rttvar : RTTVAR_FLOOR_NS;
	uint64_t rto = r->srtt + var;
	if (rto < r->min_rto)
		rto = r->min_rto;
	if (rto > r->max_rto)
		rto = r->max_rto;
	r->rto = rto;
	r->backoff = 0;
}

uint64_t tni_rtt_timeout(const struct tni_rtt *r)
{
	uint64_t t = r->rto;
	for (unsigned i = 0; i < r->backoff && t < r->max_rto; i++)
		t *= 2;
	return t < r->max_rto ? t : r->max_rto;
}
