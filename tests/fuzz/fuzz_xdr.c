/* libFuzzer target over terngen's decoders for tests/xdr/alltypes.x (every
 * XDR type): truncated and over-long input, bad discriminants and enum
 * values, lengths past their bounds, optional-data chains. Whatever
 * decodes must encode back to exactly the bytes it came from (XDR has one
 * encoding per value), and the arena bounds every allocation. */
#include <stdint.h>
#include <string.h>

#include "alltypes.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t mem[1 << 16];
static uint8_t out[1 << 17];

#define ROUND_TRIP(T)                                                                       \
	do {                                                                                \
		struct tern_xdr_arena a = { mem, sizeof(mem), 0 };                          \
		struct tern_xdr_dec d;                                                      \
		T v;                                                                        \
		tern_xdr_dec_init(&d, data, size, &a);                                      \
		if (T##_decode(&d, &v) != 0)                                                \
			break;                                                              \
		if (d.p < data || d.p > data + size || a.used > a.cap)                      \
			__builtin_trap();                                                   \
		size_t n = (size_t)(d.p - data);                                            \
		if (T##_size(&v) != n)                                                      \
			__builtin_trap(); /* the size of what decoded is what it took */    \
		struct tern_xdr_enc e;                                                      \
		tern_xdr_enc_init(&e, out, sizeof(out));                                    \
		if (T##_encode(&e, &v) != 0 || (size_t)(e.p - out) != n || memcmp(out, data, n)) \
			__builtin_trap(); /* decoded, then encoded differently */           \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > sizeof(out))
		return 0;
	ROUND_TRIP(everything);
	ROUND_TRIP(node);
	ROUND_TRIP(result);
	ROUND_TRIP(shape);
	ROUND_TRIP(flag);
	return 0;
}
