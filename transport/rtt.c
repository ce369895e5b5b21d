#include "rtt.h"

/* Floor for 4 * rttvar, so a perfectly steady RTT still leaves room. */
#define RTTVAR_FLOOR_NS 1000

void tni_rtt_init(struct tni_rtt *r, uint64_t init_rto, uint64_t min_rto, uint64_t max_rto)
{
	*r = (struct tni_rtt){ .rto = init_rto, .min_rto = min_rto, .max_rto = max_rto, .path_floor = min_rto,
			       .min_rtt = UINT64_MAX };
}

static void update_rto(struct tni_rtt *r)
{
	if (!r->has_sample)
		return;
	uint64_t var = 4 * r->rttvar > RTTVAR_FLOOR_NS ? 4 * r->rttvar : RTTVAR_FLOOR_NS;
	uint64_t rto = r->srtt + var;
	if (rto < r->min_rto)
		rto = r->min_rto;
	if (rto > r->max_rto)
		rto = r->max_rto;
	r->rto = rto;
}

void tni_rtt_set_floor(struct tni_rtt *r, uint64_t floor_ns)
{
	if (floor_ns > r->max_rto)
		floor_ns = r->max_rto;
	r->path_floor = r->min_rto = floor_ns;
	if (!r->has_sample && r->rto < floor_ns)
		r->rto = floor_ns; /* the initial RTO served the handshake; data waits for the path */
	update_rto(r);
}

void tni_rtt_sample(struct tni_rtt *r, uint64_t s, uint64_t now)
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
	/* One compare per sample while nothing was learnt. */
	if (r->min_rto > r->path_floor && now - r->learnt_at >= TNI_RTT_FORGET_NS) {
		uint64_t excess = (r->min_rto - r->path_floor) / 2;
		r->min_rto = r->path_floor + (excess > r->path_floor / 8 ? excess : 0);
		r->learnt_at = now;
	}
	update_rto(r);
	r->backoff = 0;
}

void tni_rtt_on_late(struct tni_rtt *r, uint64_t late_ns, uint64_t now)
{
	uint64_t want = late_ns + late_ns / 4;
	if (want > r->max_rto)
		want = r->max_rto;
	if (want > r->min_rto)
		r->min_rto = want;
	r->learnt_at = now;
	update_rto(r);
}

uint64_t tni_rtt_timeout(const struct tni_rtt *r)
{
	uint64_t t = r->rto;
	for (unsigned i = 0; i < r->backoff && t < r->max_rto; i++)
		t *= 2;
	return t < r->max_rto ? t : r->max_rto;
}
