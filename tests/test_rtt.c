/* The RTT estimator and the RTO (transport/rtt.c), driven directly: RFC
 * 6298's smoothing, backoff, the path's floor, and the floor that learns
 * from a spurious timeout how long the peer may be silent, then forgets. */
#include <criterion/criterion.h>

#include "transport/rtt.h"

#define US 1000ull
#define MS 1000000ull
#define SEC 1000000000ull

static struct tni_rtt r;

Test(rtt, the_first_sample_sets_srtt_and_half_of_it_as_variation)
{
	tni_rtt_init(&r, 1 * MS, 20 * US, 100 * MS);
	cr_assert_eq(r.rto, 1 * MS, "before any sample: the initial RTO");
	tni_rtt_sample(&r, 100 * US, 0);
	cr_assert_eq(r.srtt, 100 * US);
	cr_assert_eq(r.rttvar, 50 * US);
	cr_assert_eq(r.rto, 300 * US, "srtt + 4 rttvar");
	tni_rtt_sample(&r, 200 * US, 0);
	cr_assert_eq(r.srtt, (7 * 100 * US + 200 * US) / 8);
	cr_assert_eq(r.rttvar, (3 * 50 * US + 100 * US) / 4);
}

Test(rtt, the_floor_and_the_cap_bound_the_rto_and_backoff_doubles_it)
{
	tni_rtt_init(&r, 1 * MS, 8 * MS, 100 * MS);
	tni_rtt_sample(&r, 50 * US, 0);
	cr_assert_eq(r.rto, 8 * MS);
	r.backoff = 2;
	cr_assert_eq(tni_rtt_timeout(&r), 32 * MS);
	r.backoff = 10;
	cr_assert_eq(tni_rtt_timeout(&r), 100 * MS);
	tni_rtt_sample(&r, 50 * US, 0);
	cr_assert_eq(r.backoff, 0, "a sample ends the backoff");
}

Test(rtt, the_handshake_floor_applies_at_once_and_never_passes_the_cap)
{
	tni_rtt_init(&r, 1 * MS, 20 * US, 100 * MS);
	tni_rtt_sample(&r, 50 * US, 0);
	cr_assert_lt(r.rto, 1 * MS);
	tni_rtt_set_floor(&r, 8 * MS);
	cr_assert_eq(r.rto, 8 * MS);
	cr_assert_eq(r.path_floor, 8 * MS);
	tni_rtt_set_floor(&r, 1 * SEC);
	cr_assert_eq(r.min_rto, 100 * MS);
	tni_rtt_init(&r, 1 * MS, 1 * MS, 100 * MS);
	tni_rtt_set_floor(&r, 8 * MS);
	cr_assert_eq(tni_rtt_timeout(&r), 8 * MS, "no sample yet: data waits the floor, not the initial RTO");
}

Test(rtt, a_late_peer_raises_the_floor_to_its_silence_and_a_quarter)
{
	tni_rtt_init(&r, 1 * MS, 1 * MS, 100 * MS);
	tni_rtt_sample(&r, 60 * US, 0);
	tni_rtt_on_late(&r, 4 * MS, 10 * MS);
	cr_assert_eq(r.min_rto, 5 * MS);
	cr_assert_eq(r.rto, 5 * MS);
	tni_rtt_on_late(&r, 2 * MS, 11 * MS);
	cr_assert_eq(r.min_rto, 5 * MS, "a shorter silence lowers nothing");
	tni_rtt_on_late(&r, 1 * SEC, 12 * MS);
	cr_assert_eq(r.min_rto, 100 * MS, "never past the cap");
	/* Samples of the prompt path do not lower it within the second. */
	for (uint64_t t = 13 * MS; t < 12 * MS + TNI_RTT_FORGET_NS; t += 10 * MS)
		tni_rtt_sample(&r, 60 * US, t);
	cr_assert_eq(r.rto, 100 * MS);
}

Test(rtt, the_learnt_floor_halves_each_second_then_is_the_paths_again)
{
	tni_rtt_init(&r, 1 * MS, 1 * MS, 100 * MS);
	tni_rtt_sample(&r, 60 * US, 0);
	tni_rtt_on_late(&r, 64 * MS, 0); /* floor 80 ms: 79 above the path's */
	uint64_t t = 0, want = 79 * MS;
	while (want > 1 * MS / 8) {
		t += TNI_RTT_FORGET_NS;
		tni_rtt_sample(&r, 60 * US, t);
		want /= 2;
		uint64_t expect = want > 1 * MS / 8 ? 1 * MS + want : 1 * MS;
		cr_assert_eq(r.min_rto, expect, "at %llu s: %llu", (unsigned long long)(t / SEC),
			     (unsigned long long)r.min_rto);
	}
	cr_assert_eq(r.min_rto, r.path_floor);
	cr_assert_eq(r.rto, 1 * MS);
}
