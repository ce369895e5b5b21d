/* The receive tracker and its SACK builder (transport/rxtrack.c), driven
 * directly, and against a plain model under seeded random arrivals. */
#include <criterion/criterion.h>
#include <string.h>

#include "transport/rxtrack.h"
#include "util/rng.h"

static uint64_t bits[32768 / 64];
static struct tni_rxtrack t;

static void fresh(uint32_t window, uint32_t isn)
{
	memset(bits, 0, sizeof(bits));
	tni_rxtrack_init(&t, bits, window, isn);
}

static void arrive(uint32_t psn)
{
	cr_assert_eq(tni_rxtrack_classify(&t, psn), TNI_RX_NEW, "psn %u", psn);
	tni_rxtrack_add(&t, psn);
}

static unsigned sacks(struct tni_wire_sack *out)
{
	return tni_rxtrack_sacks(&t, out, TERN_WIRE_MAX_SACK);
}

Test(rxtrack, in_order_arrivals_move_the_cumulative_point_and_touch_no_bit)
{
	fresh(256, 10);
	for (uint32_t psn = 10; psn < 1000; psn++) {
		cr_assert(tni_rxtrack_add(&t, psn), "in order with nothing above");
		cr_assert_eq(t.nxt, psn + 1);
	}
	for (unsigned i = 0; i < 4; i++)
		cr_assert_eq(bits[i], 0);
	struct tni_wire_sack s[TERN_WIRE_MAX_SACK];
	cr_assert_eq(sacks(s), 0);
}

Test(rxtrack, duplicates_and_packets_past_the_window_are_told_apart)
{
	fresh(256, 100);
	arrive(100);
	arrive(105);
	cr_assert_eq(tni_rxtrack_classify(&t, 100), TNI_RX_DUP, "below the cumulative point");
	cr_assert_eq(tni_rxtrack_classify(&t, 105), TNI_RX_DUP, "seen above a hole");
	cr_assert_eq(tni_rxtrack_classify(&t, 101), TNI_RX_NEW);
	cr_assert_eq(tni_rxtrack_classify(&t, 101 + 255), TNI_RX_NEW);
	cr_assert_eq(tni_rxtrack_classify(&t, 101 + 256), TNI_RX_BEYOND);
	cr_assert_eq(tni_rxtrack_classify(&t, 100 - 100000), TNI_RX_DUP);
}

Test(rxtrack, a_filled_hole_moves_the_point_over_everything_contiguous)
{
	fresh(256, 0);
	arrive(1);
	arrive(2);
	arrive(4);
	cr_assert(tni_rxtrack_holes(&t));
	cr_assert_not(tni_rxtrack_add(&t, 0));
	cr_assert_eq(t.nxt, 3);
	arrive(3);
	cr_assert_eq(t.nxt, 5);
	cr_assert_not(tni_rxtrack_holes(&t));
	cr_assert_eq(tni_rxtrack_classify(&t, 5 + 256), TNI_RX_BEYOND);
	cr_assert_eq(tni_rxtrack_classify(&t, 5 + 255), TNI_RX_NEW, "the bits behind were cleared");
}

Test(rxtrack, the_newest_arrivals_block_goes_first_then_the_rest_from_the_lowest)
{
	fresh(256, 0);
	arrive(2);
	arrive(3);
	arrive(10);
	arrive(20);
	arrive(21);
	arrive(11);
	struct tni_wire_sack s[TERN_WIRE_MAX_SACK];
	cr_assert_eq(sacks(s), 3);
	cr_assert_eq(s[0].start, 10);
	cr_assert_eq(s[0].end, 12);
	cr_assert_eq(s[1].start, 2);
	cr_assert_eq(s[1].end, 4);
	cr_assert_eq(s[2].start, 20);
	cr_assert_eq(s[2].end, 22);
}

Test(rxtrack, a_duplicate_is_reported_once_as_the_first_block)
{
	fresh(256, 0);
	arrive(0);
	arrive(5);
	tni_rxtrack_dup(&t, 0);
	struct tni_wire_sack s[TERN_WIRE_MAX_SACK];
	cr_assert_eq(sacks(s), 2);
	cr_assert_eq(s[0].start, 0);
	cr_assert_eq(s[0].end, 1);
	cr_assert_eq(s[1].start, 5);
	cr_assert_eq(sacks(s), 1, "reported once");
	cr_assert_eq(s[0].start, 5);
}

Test(rxtrack, the_blocks_stop_at_what_an_ack_can_carry_and_keep_the_newest)
{
	fresh(1024, 0);
	for (uint32_t psn = 2; psn < 400; psn += 2)
		arrive(psn);
	arrive(301);
	struct tni_wire_sack s[TERN_WIRE_MAX_SACK];
	cr_assert_eq(sacks(s), TERN_WIRE_MAX_SACK);
	cr_assert_eq(s[0].start, 300);
	cr_assert_eq(s[0].end, 303);
	for (unsigned i = 1; i < TERN_WIRE_MAX_SACK; i++)
		cr_assert_eq(s[i].start, 2 * i);
}

Test(rxtrack, runs_across_words_and_around_the_ring_are_whole)
{
	/* A window of 16 uses part of one word; 256 wraps over four. */
	uint32_t windows[] = { 16, 32, 64, 256 };
	for (unsigned w = 0; w < 4; w++) {
		uint32_t win = windows[w];
		fresh(win, 0xfffffff0u); /* and psns wrap past 2^32 */
		for (uint32_t k = 0; k < 3 * win; k++)
			tni_rxtrack_add(&t, 0xfffffff0u + k); /* move the ring round */
		uint32_t base = t.nxt;
		for (uint32_t k = 1; k < win; k++)
			arrive(base + k);
		struct tni_wire_sack s[TERN_WIRE_MAX_SACK];
		cr_assert_eq(sacks(s), 1, "window %u", win);
		cr_assert_eq(s[0].start, base + 1);
		cr_assert_eq(s[0].end, base + win);
		arrive(base);
		cr_assert_eq(t.nxt, base + win);
	}
}

/* The model: a byte per psn; blocks recomputed bit by bit. */
static uint8_t got[1 << 16];

Test(rxtrack, agrees_with_a_plain_model_under_random_arrivals)
{
	struct tni_rng rng;
	tni_rng_seed(&rng, 7);
	const uint32_t win = 128;
	fresh(win, 0);
	for (int step = 0; step < 20000 && t.nxt < (1 << 16) - 2 * win; step++) {
		uint32_t psn = t.nxt + (uint32_t)(tni_rng_next(&rng) % (win + 8)) - 4;
		enum tni_rx_class c = tni_rxtrack_classify(&t, psn);
		enum tni_rx_class want = tni_seq_diff(psn, t.nxt) < 0 ? TNI_RX_DUP
					 : psn - t.nxt >= win       ? TNI_RX_BEYOND
					 : got[psn]                 ? TNI_RX_DUP
								    : TNI_RX_NEW;
		cr_assert_eq(c, want, "step %d psn %u", step, psn);
		if (c != TNI_RX_NEW)
			continue;
		got[psn] = 1;
		tni_rxtrack_add(&t, psn);
		uint32_t nxt = 0;
		while (got[nxt])
			nxt++;
		cr_assert_eq(t.nxt, nxt);
		/* Every block is a maximal run above nxt; the first holds psn. */
		struct tni_wire_sack s[TERN_WIRE_MAX_SACK];
		unsigned n = sacks(s);
		for (unsigned i = 0; i < n; i++) {
			cr_assert(tni_seq_diff(s[i].start, nxt) > 0);
			for (uint32_t q = s[i].start; q != s[i].end; q++)
				cr_assert(got[q]);
			cr_assert_not(got[s[i].start - 1]);
			cr_assert_not(got[s[i].end]);
		}
		if (n && tni_seq_diff(psn, nxt) > 0)
			cr_assert(tni_seq_diff(psn, s[0].start) >= 0 && tni_seq_diff(psn, s[0].end) < 0);
		unsigned runs = 0;
		for (uint32_t q = nxt; q < t.highest; q++)
			runs += got[q] && !got[q - 1];
		cr_assert_eq(n, runs < TERN_WIRE_MAX_SACK ? runs : TERN_WIRE_MAX_SACK);
	}
}
