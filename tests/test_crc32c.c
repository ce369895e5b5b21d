#include <criterion/criterion.h>
#include <string.h>

#include "transport/crc32c.h"
#include "util/rng.h"

/* RFC 3720 appendix B.4 and the usual check value. */
static void known_answers(uint32_t (*f)(uint32_t, const void *, size_t))
{
	uint8_t buf[32];
	cr_assert_eq(f(0, "123456789", 9), 0xe3069283u);
	memset(buf, 0, 32);
	cr_assert_eq(f(0, buf, 32), 0x8a9136aau);
	memset(buf, 0xff, 32);
	cr_assert_eq(f(0, buf, 32), 0x62a8ab43u);
	for (int i = 0; i < 32; i++)
		buf[i] = (uint8_t)i;
	cr_assert_eq(f(0, buf, 32), 0x46dd794eu);
	for (int i = 0; i < 32; i++)
		buf[i] = (uint8_t)(31 - i);
	cr_assert_eq(f(0, buf, 32), 0x113fdb5cu);
	cr_assert_eq(f(0, buf, 0), 0u);
}

Test(crc32c, table_known_answers) { known_answers(tni_crc32c_sw); }
Test(crc32c, dispatch_known_answers) { known_answers(tni_crc32c); }

Test(crc32c, hardware_known_answers)
{
	if (!tni_crc32c_hw_available())
		cr_skip_test("no SSE4.2 on this CPU");
	known_answers(tni_crc32c_hw);
}

Test(crc32c, hw_matches_table_any_length_alignment_and_split)
{
	struct tni_rng r;
	tni_rng_seed(&r, 42);
	static uint8_t buf[4096 + 16];
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)tni_rng_next(&r);
	for (int iter = 0; iter < 2000; iter++) {
		size_t off = tni_rng_below(&r, 16), len = tni_rng_below(&r, 4096);
		size_t cut = len ? tni_rng_below(&r, len) : 0;
		uint32_t whole = tni_crc32c_sw(0, buf + off, len);
		cr_assert_eq(tni_crc32c_hw(0, buf + off, len), whole);
		uint32_t split = tni_crc32c(tni_crc32c(0, buf + off, cut), buf + off + cut, len - cut);
		cr_assert_eq(split, whole, "len %zu cut %zu", len, cut);
	}
}

/* The packet CRC reads its own field as zeros: one pass must equal the
 * three-piece sum, wherever the hole is and however long the packet. */
Test(crc32c, hole_equals_the_crc_with_the_field_zeroed)
{
	struct tni_rng r;
	tni_rng_seed(&r, 7);
	static uint8_t buf[2048], copy[2048];
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)tni_rng_next(&r);
	for (int iter = 0; iter < 2000; iter++) {
		size_t len = 4 + tni_rng_below(&r, sizeof(buf) - 4), hole = tni_rng_below(&r, len - 3);
		memcpy(copy, buf, len);
		memset(copy + hole, 0, 4);
		cr_assert_eq(tni_crc32c_hole(buf, len, hole), tni_crc32c_sw(0, copy, len), "len %zu hole %zu", len,
			     hole);
	}
}
