/* Reassembly of one message (transport/reasm.c), driven directly. */
#include <criterion/criterion.h>
#include <string.h>

#include "transport/reasm.h"
#include "util/rng.h"

static uint8_t src[1 << 16];

static void fill_src(uint64_t seed)
{
	struct tni_rng r;
	tni_rng_seed(&r, seed);
	for (size_t i = 0; i < sizeof(src); i++)
		src[i] = (uint8_t)tni_rng_next(&r);
}

static enum tni_reasm_result add(struct tni_reasm *ra, uint32_t off, uint32_t len)
{
	return tni_reasm_add(ra, off, src + off, len);
}

Test(reasm, in_order_fragments_make_one_range_and_a_whole_message)
{
	fill_src(1);
	struct tni_reasm *ra = tni_reasm_new(NULL, 3000);
	cr_assert_eq(add(ra, 0, 1400), TNI_REASM_ADDED);
	cr_assert_not(tni_reasm_whole(ra));
	cr_assert_eq(add(ra, 1400, 1400), TNI_REASM_ADDED);
	cr_assert_eq(add(ra, 2800, 200), TNI_REASM_ADDED);
	cr_assert(tni_reasm_whole(ra));
	cr_assert_eq(ra->n, 1);
	cr_assert_eq(memcmp(tni_reasm_buf(ra), src, 3000), 0);
	tni_reasm_free(NULL, ra);
}

Test(reasm, an_overlap_is_refused_and_takes_no_byte)
{
	fill_src(2);
	struct tni_reasm *ra = tni_reasm_new(NULL, 4200);
	cr_assert_eq(add(ra, 1400, 1400), TNI_REASM_ADDED);
	uint8_t evil[1400];
	memset(evil, 0xee, sizeof(evil));
	/* the same bytes again; one more on either side; inside; around */
	const uint32_t offs[][2] = { { 1400, 1400 }, { 1399, 2 }, { 2799, 2 }, { 1500, 10 }, { 1000, 2000 }, { 0, 1401 } };
	for (unsigned k = 0; k < sizeof(offs) / sizeof(offs[0]); k++) {
		cr_assert_eq(tni_reasm_add(ra, offs[k][0], evil, offs[k][1]), TNI_REASM_OVERLAP, "case %u", k);
		cr_assert_eq(ra->got, 1400);
	}
	cr_assert_eq(memcmp(tni_reasm_buf(ra) + 1400, src + 1400, 1400), 0, "no refused byte was written");
	/* Touching is not overlapping. */
	cr_assert_eq(add(ra, 0, 1400), TNI_REASM_ADDED);
	cr_assert_eq(add(ra, 2800, 1400), TNI_REASM_ADDED);
	cr_assert(tni_reasm_whole(ra));
	cr_assert_eq(ra->n, 1);
	tni_reasm_free(NULL, ra);
}

Test(reasm, islands_in_any_order_merge_into_the_message)
{
	struct tni_rng r;
	tni_rng_seed(&r, 7);
	for (int round = 0; round < 200; round++) {
		fill_src((uint64_t)round + 100);
		/* Cut a message into fragments of random sizes, shuffle them. */
		uint32_t len = 1 + (uint32_t)tni_rng_below(&r, sizeof(src) - 1);
		uint32_t off[512], n = 0;
		for (uint32_t o = 0; o < len && n < 511; o += 1 + (uint32_t)tni_rng_below(&r, 1400))
			off[n++] = o;
		off[n] = len;
		uint32_t order[512];
		for (uint32_t k = 0; k < n; k++)
			order[k] = k;
		for (uint32_t k = n; k > 1; k--) {
			uint32_t j = (uint32_t)tni_rng_below(&r, k), t = order[k - 1];
			order[k - 1] = order[j];
			order[j] = t;
		}
		struct tni_reasm *ra = tni_reasm_new(NULL, len);
		uint32_t got = 0;
		for (uint32_t k = 0; k < n; k++) {
			uint32_t f = order[k];
			cr_assert_eq(add(ra, off[f], off[f + 1] - off[f]), TNI_REASM_ADDED);
			got += off[f + 1] - off[f];
			cr_assert_eq(ra->got, got);
			/* A fragment already taken, sent again, is refused. */
			uint32_t g = order[tni_rng_below(&r, k + 1)];
			cr_assert_eq(add(ra, off[g], off[g + 1] - off[g]), TNI_REASM_OVERLAP);
			for (uint32_t q = 0; q + 1 < ra->n; q++)
				cr_assert_lt(ra->r[q].end, ra->r[q + 1].start, "ranges sorted, apart");
			cr_assert_eq(tni_reasm_whole(ra), k + 1 == n);
		}
		cr_assert_eq(ra->n, 1);
		cr_assert_eq(memcmp(tni_reasm_buf(ra), src, len), 0, "round %d", round);
		tni_reasm_free(NULL, ra);
	}
}
