/* Conformance with rpcgen, byte for byte: the same values of
 * tests/xdr/alltypes.x's `everything` (every type terngen reads) encoded
 * by rpcgen's routines over libtirpc's xdrmem and by terngen's; the bytes
 * compared, and each side's output decoded by the other. */
#include <criterion/criterion.h>
#include <stdio.h>

#include "xdr/spec.h"

#define SAMPLES 500

Test(xdr_rpcgen, the_same_values_encode_to_the_same_bytes)
{
	static uint8_t a[65536], b[65536];
	for (uint64_t seed = 0; seed < SAMPLES; seed++) {
		size_t na = rg_encode(seed, a, sizeof(a));
		size_t nb = tg_encode(seed, b, sizeof(b));
		cr_assert_gt(na, 0, "rpcgen could not encode sample %llu", (unsigned long long)seed);
		cr_assert_eq(nb, na, "sample %llu: terngen %zu bytes, rpcgen %zu", (unsigned long long)seed, nb, na);
		for (size_t i = 0; i < na; i++)
			cr_assert_eq(b[i], a[i], "sample %llu: byte %zu differs", (unsigned long long)seed, i);
	}
}

Test(xdr_rpcgen, each_decodes_the_other_ones_output)
{
	static uint8_t a[65536], b[65536];
	for (uint64_t seed = 0; seed < SAMPLES; seed++) {
		size_t na = rg_encode(seed, a, sizeof(a));
		size_t nb = tg_encode(seed, b, sizeof(b));
		cr_assert_eq(tg_decode_check(seed, a, na), 0, "terngen decoding rpcgen's sample %llu",
			     (unsigned long long)seed);
		cr_assert_eq(rg_decode_check(seed, b, nb), 0, "rpcgen decoding terngen's sample %llu",
			     (unsigned long long)seed);
	}
}

Test(xdr_rpcgen, the_samples_cover_every_arm_and_length)
{
	/* The conformance above means something only if the samples reach
	 * every union arm, empty and full variable data, and lists. */
	bool kinds[3] = { 0 }, statuses[3] = { 0 }, flags[2] = { 0 }, empty_list = 0, long_list = 0, full_ints = 0;
	for (uint64_t seed = 0; seed < SAMPLES; seed++) {
		struct spec sp;
		spec_fill(&sp, seed);
		kinds[sp.shape_kind == 0 ? 0 : sp.shape_kind == 1 ? 1 : 2] = true;
		statuses[sp.result_status == 0 ? 0 : sp.result_status == 1 ? 1 : 2] = true;
		flags[sp.flag_on] = true;
		empty_list |= sp.list_n == 0;
		long_list |= sp.list_n == 5;
		full_ints |= sp.nints == 8;
	}
	cr_assert(kinds[0] && kinds[1] && kinds[2] && statuses[0] && statuses[1] && statuses[2]);
	cr_assert(flags[0] && flags[1] && empty_list && long_list && full_ints);
}
