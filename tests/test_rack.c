/* Loss detection (transport/rack.c), driven directly over a hand-made
 * scoreboard: RACK's time rule and its timeout, the 3-packet rule, the
 * reordering window that learns from DSACKs, and the probe timeout. */
#include <criterion/criterion.h>

#include "transport/rack.h"

#define W 256
#define US 1000ull

static struct tni_sb_entry ring[W];
static struct tni_scoreboard sb;
static struct tni_rack rack;
static struct tni_rtt rtt;

static void fresh(void)
{
	tni_sb_init(&sb, ring, W - 1, 0);
	tni_rack_init(&rack, 0);
	tni_rtt_init(&rtt, 1000 * US, 1000 * US, 100000 * US);
	tni_rtt_sample(&rtt, 10 * US, 0); /* srtt = min_rtt = 10 us */
}

/* n packets, one every us from t0 */
static void send_n(unsigned n, uint64_t t0)
{
	for (unsigned i = 0; i < n; i++)
		tni_sb_push(&sb, NULL, 0, 1000, t0 + i * US);
}

static void ack(uint32_t cum, uint32_t s, uint32_t e, uint64_t now)
{
	struct tni_wire_sack r = { s, e };
	struct tni_sb_acked a;
	tni_sb_ack(&sb, cum, &r, s == e ? 0 : 1, &a);
	tni_rack_on_ack(&rack, &sb, &a, 0, rtt.min_rtt, now);
}

static struct tni_rack_result detect(uint64_t now)
{
	struct tni_rack_result r;
	tni_rack_detect(&rack, &sb, &rtt, now, &r);
	return r;
}

Test(rack, nothing_is_lost_before_anything_is_delivered)
{
	fresh();
	send_n(10, 0);
	struct tni_rack_result r = detect(1000 * US);
	cr_assert_eq(r.lost, 0);
	cr_assert_eq(r.timeout_at, 0);
}

Test(rack, a_packet_sent_before_one_delivered_is_lost_a_round_trip_and_a_window_after_it_left)
{
	fresh();
	rack.reordering_seen = true; /* time alone */
	send_n(4, 0);                /* 0..3 at 0, 1, 2, 3 us */
	ack(0, 3, 4, 13 * US);       /* 3 delivered: RACK.rtt = 10 us */
	uint64_t reo = tni_rack_reo_wnd(&rack, &rtt);
	cr_assert_eq(reo, 2500, "min_rtt / 4");
	struct tni_rack_result r = detect(12 * US);
	cr_assert_eq(r.lost, 0, "0 left at 0: due at 12.5 us");
	cr_assert_eq(r.timeout_at, 0 + 10 * US + reo, "when packet 0 becomes lost");
	r = detect(13 * US);
	cr_assert_eq(r.lost, 1);
	cr_assert_eq(r.first_lost, 0);
	cr_assert_eq(r.timeout_at, 1 * US + 10 * US + reo, "then packet 1's moment");
	r = detect(20 * US);
	cr_assert_eq(r.lost, 2);
	cr_assert_eq(r.first_lost, 1);
	cr_assert_eq(r.timeout_at, 0, "nothing sent before 3 is left in flight");
	cr_assert_eq(tni_sb_lost(&sb), 3);
}

Test(rack, packets_sent_after_the_newest_delivered_are_never_lost_by_time)
{
	fresh();
	rack.reordering_seen = true;
	send_n(3, 0);
	ack(0, 1, 2, 11 * US);
	send_n(3, 20 * US); /* 3..5, after 1 */
	struct tni_rack_result r = detect(1000 * US);
	cr_assert_eq(r.lost, 1, "only 0");
	cr_assert_eq(r.first_lost, 0);
	cr_assert_eq(tni_sb_inflight(&sb), 4);
}

Test(rack, three_sacked_above_a_first_send_mark_it_lost_at_once)
{
	fresh();
	send_n(6, 0);
	ack(0, 1, 3, 12 * US); /* highest 2: not three above 0 */
	struct tni_rack_result r = detect(12 * US);
	cr_assert_eq(r.lost, 0);
	ack(0, 3, 4, 13 * US); /* highest 3 */
	r = detect(13 * US);
	cr_assert_eq(r.lost, 1);
	cr_assert_eq(r.first_lost, 0);
}

Test(rack, the_count_rule_spares_retransmissions_and_stops_once_reordering_is_seen)
{
	fresh();
	send_n(8, 0);
	tni_sb_mark_lost(&sb, 0, true);
	tni_sb_resend(&sb, 0, 8 * US); /* 0 is a retransmission now */
	ack(0, 4, 5, 14 * US);
	struct tni_rack_result r = detect(14 * US);
	cr_assert_eq(r.lost, 1, "1 by count (3 above it), not 0, a retransmission");
	cr_assert_eq(r.first_lost, 1);
	/* All sent in one instant, so time marks nothing yet. */
	fresh();
	for (int i = 0; i < 8; i++)
		tni_sb_push(&sb, NULL, 0, 1000, 0);
	rack.reordering_seen = true;
	ack(0, 7, 8, 10 * US);
	r = detect(10 * US);
	for (uint32_t psn = 0; psn < 7; psn++)
		cr_assert_neq(tni_sb_at(&sb, psn)->state, TNI_SB_LOST, "%u by count after reordering", psn);
}

Test(rack, a_dsack_doubles_the_window_once_per_round_trip_past_srtt_then_it_decays)
{
	fresh();
	send_n(10, 0);
	uint64_t w0 = tni_rack_reo_wnd(&rack, &rtt);
	cr_assert_eq(w0, rtt.min_rtt / 4);
	tni_rack_on_dsack(&rack, sb.una, sb.nxt);
	cr_assert(rack.reordering_seen);
	cr_assert_eq(tni_rack_reo_wnd(&rack, &rtt), 2 * w0);
	tni_rack_on_dsack(&rack, sb.una, sb.nxt);
	cr_assert_eq(tni_rack_reo_wnd(&rack, &rtt), 2 * w0, "same round trip: one step");
	ack(10, 0, 0, 20 * US);
	tni_rack_on_dsack(&rack, sb.una, sb.nxt);
	cr_assert_eq(tni_rack_reo_wnd(&rack, &rtt), 4 * w0);
	for (int i = 0; i < 10; i++) {
		send_n(1, (uint64_t)(30 + i) * US);
		ack(sb.nxt, 0, 0, (uint64_t)(40 + i) * US);
		tni_rack_on_dsack(&rack, sb.una, sb.nxt);
	}
	/* Reordering longer than a round trip is what a datacenter fabric
	 * with a slow path shows; the window follows it, to 16 min_rtt. */
	cr_assert_eq(tni_rack_reo_wnd(&rack, &rtt), TNI_RACK_MAX_REO_MULT * w0);
	cr_assert_gt(tni_rack_reo_wnd(&rack, &rtt), rtt.srtt);
	for (int i = 0; i < 15; i++)
		tni_rack_on_recovery(&rack);
	cr_assert_gt(tni_rack_reo_wnd(&rack, &rtt), w0);
	tni_rack_on_recovery(&rack);
	cr_assert_eq(tni_rack_reo_wnd(&rack, &rtt), w0, "16 recoveries without a duplicate");
}

Test(rack, only_a_duplicate_of_a_guessed_resend_shows_reordering)
{
	fresh();
	send_n(6, 0);
	tni_sb_mark_lost(&sb, 1, true); /* RACK's guess */
	tni_sb_resend(&sb, 1, 10 * US);
	tni_sb_mark_lost(&sb, 2, false); /* the RTO's */
	tni_sb_resend(&sb, 2, 10 * US);
	tni_sb_resend(&sb, 3, 10 * US); /* a probe */
	ack(6, 0, 0, 20 * US);
	cr_assert(tni_rack_dsack_shows_reordering(&sb, 1));
	cr_assert_not(tni_rack_dsack_shows_reordering(&sb, 2), "a timeout's resend");
	cr_assert_not(tni_rack_dsack_shows_reordering(&sb, 3), "a probe's");
	cr_assert_not(tni_rack_dsack_shows_reordering(&sb, 4), "sent once: the network's duplicate");
	cr_assert_not(tni_rack_dsack_shows_reordering(&sb, 6), "never sent");
	/* A window later the entry is another packet's. */
	send_n(W, 30 * US);
	cr_assert_not(tni_rack_dsack_shows_reordering(&sb, 1));
}

Test(rack, a_dsack_is_a_first_block_at_or_below_the_ack_or_inside_the_next)
{
	struct tni_wire_sack below[] = { { 4, 5 }, { 8, 10 } };
	cr_assert(tni_rack_is_dsack(6, below, 2));
	struct tni_wire_sack inside[] = { { 8, 9 }, { 7, 10 } };
	cr_assert(tni_rack_is_dsack(6, inside, 2));
	struct tni_wire_sack plain[] = { { 8, 9 }, { 11, 12 } };
	cr_assert_not(tni_rack_is_dsack(6, plain, 2));
	cr_assert_not(tni_rack_is_dsack(6, plain, 0));
}

Test(rack, an_ack_that_may_be_the_originals_does_not_move_the_clock)
{
	fresh();
	send_n(3, 0);
	tni_sb_mark_lost(&sb, 2, true);
	tni_sb_resend(&sb, 2, 20 * US);
	/* 2's ack after 1 us: too quick to answer the resend, so it answers
	 * the first send, whose time is unknown now. */
	ack(0, 2, 3, 21 * US);
	cr_assert_not(rack.have_xmit);
	struct tni_rack_result r = detect(1000 * US);
	cr_assert_eq(r.lost, 0);
	/* With the echoed stamp of the resend, it counts. */
	fresh();
	send_n(3, 0);
	tni_sb_mark_lost(&sb, 2, true);
	tni_sb_resend(&sb, 2, 20 * US);
	struct tni_wire_sack b = { 2, 3 };
	struct tni_sb_acked a;
	tni_sb_ack(&sb, 0, &b, 1, &a);
	tni_rack_on_ack(&rack, &sb, &a, 20 * US, rtt.min_rtt, 31 * US);
	cr_assert(rack.have_xmit);
	cr_assert_eq(rack.xmit_ns, 20 * US);
}

Test(rack, the_probe_timeout_is_two_srtt_and_the_variation_with_a_floor)
{
	fresh();
	cr_assert_eq(tni_rack_pto(&rtt, 2048), 2 * rtt.srtt + rtt.rttvar);
	cr_assert_eq(tni_rack_pto(&rtt, 100 * US), 100 * US);
}

Test(rack, a_pass_stops_at_the_first_packet_not_yet_due)
{
	fresh();
	rack.reordering_seen = true;
	for (unsigned i = 0; i < W; i++)
		tni_sb_push(&sb, NULL, 0, 1000, 0);
	ack(0, W - 1, W, 10 * US);
	/* Nothing due yet: the pass stops at the oldest packet. */
	struct tni_rack_result r = detect(10 * US);
	cr_assert_eq(r.lost, 0);
	cr_assert_neq(r.timeout_at, 0);
	r = detect(r.timeout_at);
	cr_assert_eq(r.lost, W - 1);
}
