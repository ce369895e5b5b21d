/* The sender's scoreboard (transport/scoreboard.c), driven directly with
 * hand-made sends and ACKs, and against a plain model under a seeded
 * random mix of both. */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "transport/scoreboard.h"
#include "util/rng.h"

#define W 1024

static struct tni_sb_entry ring[W];
static struct tni_scoreboard sb;

static void fresh(uint32_t isn)
{
	tni_sb_init(&sb, ring, W - 1, isn);
}

static void push_n(unsigned n, uint64_t t0)
{
	for (unsigned i = 0; i < n; i++)
		tni_sb_push(&sb, NULL, i * 1000, 1000, t0 + i);
}

static struct tni_sb_acked ack(uint32_t cum, unsigned n, const struct tni_wire_sack *r)
{
	struct tni_sb_acked a;
	tni_sb_ack(&sb, cum, r, n, &a);
	return a;
}

/* The in-flight list, oldest first, as an array; returns its length. */
static unsigned sent_list(uint32_t *out)
{
	uint32_t psn = tni_sb_oldest(&sb);
	for (unsigned i = 0; i < tni_sb_inflight(&sb); i++) {
		out[i] = psn;
		psn = tni_sb_next(&sb, psn);
	}
	return tni_sb_inflight(&sb);
}

Test(scoreboard, pushes_take_consecutive_psns_in_flight_oldest_first)
{
	fresh(100);
	push_n(5, 0);
	cr_assert_eq(sb.nxt, 105);
	cr_assert_eq(tni_sb_outstanding(&sb), 5);
	cr_assert_eq(tni_sb_inflight(&sb), 5);
	cr_assert_eq(tni_sb_oldest(&sb), 100);
	cr_assert_eq(tni_sb_newest(&sb), 104);
	cr_assert_eq(tni_sb_at(&sb, 103)->off, 3000);
}

Test(scoreboard, a_cumulative_ack_counts_each_packet_once)
{
	fresh(0);
	push_n(10, 0);
	struct tni_sb_acked a = ack(4, 0, NULL);
	cr_assert_eq(a.newly, 4);
	cr_assert_eq(a.newest_psn, 3);
	cr_assert_eq(a.newest_sent, 3);
	cr_assert_eq(sb.una, 4);
	cr_assert_eq(tni_sb_inflight(&sb), 6);
	cr_assert_eq(tni_sb_oldest(&sb), 4);
	a = ack(4, 0, NULL);
	cr_assert_eq(a.newly, 0);
}

Test(scoreboard, a_sack_block_takes_its_packets_off_the_flight_and_reports_the_highest)
{
	fresh(0);
	push_n(10, 0);
	struct tni_wire_sack r[2] = { { 6, 8 }, { 2, 4 } };
	struct tni_sb_acked a = ack(0, 2, r);
	cr_assert_eq(a.newly, 4);
	cr_assert(a.sacked);
	cr_assert_eq(a.highest, 7);
	cr_assert_eq(a.newest_psn, 7);
	uint32_t l[W];
	cr_assert_eq(sent_list(l), 6);
	uint32_t want[] = { 0, 1, 4, 5, 8, 9 };
	for (int i = 0; i < 6; i++)
		cr_assert_eq(l[i], want[i]);
	/* The cumulative ack then passes over the SACKed ones without counting them. */
	a = ack(8, 0, NULL);
	cr_assert_eq(a.newly, 4);
}

Test(scoreboard, a_repeated_sack_block_costs_nothing_per_packet)
{
	fresh(7);
	push_n(W, 0);
	struct tni_wire_sack r = { 8, 7 + W };
	struct tni_sb_acked a = ack(7, 1, &r);
	cr_assert_eq(a.newly, W - 1);
	uint64_t before = sb.steps;
	for (int i = 0; i < 1000; i++) {
		a = ack(7, 1, &r);
		cr_assert_eq(a.newly, 0);
	}
	/* A constant per ACK, not W - 1: the run is skipped at once. */
	cr_assert_leq(sb.steps - before, 1000 * 2, "%llu steps for 1000 repeats",
		      (unsigned long long)(sb.steps - before));
	/* A block that grows by one costs about one more step. */
	fresh(0);
	push_n(W, 0);
	before = sb.steps;
	for (uint32_t end = 2; end <= W; end++) {
		struct tni_wire_sack g = { 1, end };
		a = ack(0, 1, &g);
		cr_assert_eq(a.newly, 1);
	}
	cr_assert_leq(sb.steps - before, 3 * W, "%llu steps", (unsigned long long)(sb.steps - before));
}

Test(scoreboard, blocks_outside_the_window_or_inverted_are_ignored)
{
	fresh(1000);
	push_n(10, 0);
	struct tni_wire_sack r[4] = { { 1010, 1020 }, { 990, 1000 }, { 1005, 1003 }, { 995, 1002 } };
	struct tni_sb_acked a = ack(1000, 4, r);
	cr_assert_eq(a.newly, 2, "only 1000 and 1001, clipped from the last block");
	cr_assert_eq(a.highest, 1001);
	cr_assert_eq(tni_sb_inflight(&sb), 8);
}

Test(scoreboard, lost_packets_queue_in_order_found_and_a_resend_makes_one_the_newest)
{
	fresh(0);
	push_n(6, 0);
	tni_sb_mark_lost(&sb, 2, true);
	tni_sb_mark_lost(&sb, 0, true);
	cr_assert_eq(tni_sb_lost(&sb), 2);
	cr_assert_eq(tni_sb_inflight(&sb), 4);
	cr_assert_eq(tni_sb_first_lost(&sb), 2);
	cr_assert_eq(tni_sb_at(&sb, 2)->state, TNI_SB_LOST);
	tni_sb_resend(&sb, 2, 50);
	cr_assert_eq(tni_sb_first_lost(&sb), 0);
	cr_assert_eq(tni_sb_newest(&sb), 2);
	cr_assert_eq(tni_sb_at(&sb, 2)->retx, 1);
	cr_assert_eq(tni_sb_at(&sb, 2)->sent_ns, 50);
	/* A probe resends one in flight: it moves to the end too. */
	tni_sb_resend(&sb, 1, 60);
	uint32_t l[W];
	cr_assert_eq(sent_list(l), 5);
	uint32_t want[] = { 3, 4, 5, 2, 1 };
	for (int i = 0; i < 5; i++)
		cr_assert_eq(l[i], want[i]);
}

Test(scoreboard, a_sacked_lost_packet_leaves_the_resend_queue)
{
	fresh(0);
	push_n(4, 0);
	tni_sb_mark_lost(&sb, 1, true);
	tni_sb_mark_lost(&sb, 2, true);
	struct tni_wire_sack r = { 1, 2 };
	struct tni_sb_acked a = ack(0, 1, &r);
	cr_assert_eq(a.newly, 1);
	cr_assert_eq(tni_sb_lost(&sb), 1);
	cr_assert_eq(tni_sb_first_lost(&sb), 2);
}

Test(scoreboard, an_undone_loss_goes_back_in_flight_at_its_send_time)
{
	fresh(0);
	push_n(5, 10); /* sent at 10..14 */
	tni_sb_mark_lost(&sb, 0, true);
	tni_sb_mark_lost(&sb, 2, true);
	tni_sb_unlose(&sb, 2);
	tni_sb_unlose(&sb, 0);
	uint32_t l[W];
	cr_assert_eq(sent_list(l), 5);
	for (uint32_t i = 0; i < 5; i++)
		cr_assert_eq(l[i], i);
	cr_assert_eq(tni_sb_lost(&sb), 0);
}

Test(scoreboard, psns_wrap_past_two_to_the_32)
{
	fresh(0xfffffffcu);
	push_n(8, 0);
	struct tni_wire_sack r = { 0xfffffffeu, 2 };
	struct tni_sb_acked a = ack(0xfffffffdu, 1, &r);
	cr_assert_eq(a.newly, 5);
	cr_assert_eq(a.highest, 1);
	cr_assert_eq(tni_sb_oldest(&sb), 0xfffffffdu);
	a = ack(4, 0, NULL);
	cr_assert_eq(a.newly, 3);
	cr_assert_eq(sb.una, 4);
	cr_assert_eq(tni_sb_inflight(&sb), 0);
}

/* A plain model: one state per psn, everything recomputed by scanning. */
enum { M_NONE = 0 };
static uint8_t model[1 << 16];
static uint64_t model_sent[1 << 16];

static void check_against_model(uint32_t base)
{
	uint32_t inflight = 0, lost = 0;
	for (uint32_t psn = sb.una; psn != sb.nxt; psn++) {
		uint8_t st = model[psn - base];
		cr_assert_eq(tni_sb_at(&sb, psn)->state, st, "psn %u", psn);
		inflight += st == TNI_SB_INFLIGHT;
		lost += st == TNI_SB_LOST;
	}
	cr_assert_eq(tni_sb_inflight(&sb), inflight);
	cr_assert_eq(tni_sb_lost(&sb), lost);
	/* The in-flight list holds exactly the in-flight ones, by send time. */
	uint32_t psn = tni_sb_oldest(&sb);
	uint64_t last = 0;
	for (uint32_t i = 0; i < inflight; i++) {
		cr_assert_eq(model[psn - base], TNI_SB_INFLIGHT);
		cr_assert_geq(tni_sb_at(&sb, psn)->sent_ns, last);
		last = tni_sb_at(&sb, psn)->sent_ns;
		psn = tni_sb_next(&sb, psn);
	}
	psn = tni_sb_first_lost(&sb);
	for (uint32_t i = 0; i < lost; i++) {
		cr_assert_eq(model[psn - base], TNI_SB_LOST);
		psn = tni_sb_next(&sb, psn);
	}
}

Test(scoreboard, agrees_with_a_plain_model_under_random_sends_losses_and_acks)
{
	struct tni_rng rng;
	tni_rng_seed(&rng, 42);
	uint32_t base = 0xffffc000u; /* wraps during the run */
	fresh(base);
	uint64_t now = 1;
	for (int step = 0; step < 20000 && sb.nxt - base < (1 << 16) - W; step++) {
		now++;
		uint32_t op = (uint32_t)(tni_rng_next(&rng) % 4);
		uint32_t out = tni_sb_outstanding(&sb);
		if (op == 0 && out < W) {
			uint32_t n = 1 + (uint32_t)(tni_rng_next(&rng) % 8);
			for (uint32_t i = 0; i < n && tni_sb_outstanding(&sb) < W; i++) {
				uint32_t psn = tni_sb_push(&sb, NULL, 0, 1, now);
				model[psn - base] = TNI_SB_INFLIGHT;
				model_sent[psn - base] = now;
			}
		} else if (op == 1 && tni_sb_inflight(&sb)) {
			/* the oldest, or a random one in flight */
			uint32_t psn = tni_sb_oldest(&sb);
			if (tni_rng_next(&rng) & 1) {
				uint32_t k = (uint32_t)(tni_rng_next(&rng) % out);
				if (model[sb.una + k - base] == TNI_SB_INFLIGHT)
					psn = sb.una + k;
			}
			tni_sb_mark_lost(&sb, psn, true);
			model[psn - base] = TNI_SB_LOST;
		} else if (op == 2 && tni_sb_lost(&sb)) {
			uint32_t psn = tni_sb_first_lost(&sb);
			tni_sb_resend(&sb, psn, now);
			model[psn - base] = TNI_SB_INFLIGHT;
		} else if (op == 3 && out) {
			uint32_t cum = sb.una + (uint32_t)(tni_rng_next(&rng) % (out / 4 + 1));
			struct tni_wire_sack r[4];
			unsigned n = (unsigned)(tni_rng_next(&rng) % 5);
			for (unsigned i = 0; i < n; i++) {
				uint32_t a = sb.una + (uint32_t)(tni_rng_next(&rng) % (out + 4)) - 2;
				uint32_t b = a + (uint32_t)(tni_rng_next(&rng) % 40) - 4;
				r[i] = (struct tni_wire_sack){ a, b };
			}
			uint32_t want = 0;
			for (uint32_t psn = sb.una; psn != cum; psn++)
				if (model[psn - base] != TNI_SB_SACKED) {
					want++;
					model[psn - base] = TNI_SB_SACKED;
				}
			for (unsigned i = 0; i < n; i++)
				for (uint32_t psn = r[i].start; tni_seq_diff(psn, r[i].end) < 0; psn++)
					if (tni_seq_diff(psn, cum) >= 0 && tni_seq_diff(psn, sb.nxt) < 0 &&
					    model[psn - base] != TNI_SB_SACKED) {
						want++;
						model[psn - base] = TNI_SB_SACKED;
					}
			struct tni_sb_acked a = ack(cum, n, r);
			cr_assert_eq(a.newly, want, "step %d", step);
		}
		check_against_model(base);
	}
	cr_assert(tni_seq_diff(sb.nxt, 0) > 0 && sb.nxt < 0x10000000u, "the run crossed 2^32");
}
