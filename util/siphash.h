/* SipHash-2-4 (Aumasson and Bernstein, 2012): a keyed 64-bit PRF, short
 * inputs fast. It signs what must not be forged without the key: the
 * handshake cookies (docs/protocol.md). */
#ifndef TERN_SIPHASH_H
#define TERN_SIPHASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct tni_sipkey {
	uint64_t k0, k1;
};

static inline uint64_t tni_sip_rotl(uint64_t x, unsigned b)
{
	return (x << b) | (x >> (64 - b));
}

#define TNI_SIPROUND(v0, v1, v2, v3)                                                                   \
	do {                                                                                            \
		v0 += v1;                                                                               \
		v1 = tni_sip_rotl(v1, 13);                                                              \
		v1 ^= v0;                                                                               \
		v0 = tni_sip_rotl(v0, 32);                                                              \
		v2 += v3;                                                                               \
		v3 = tni_sip_rotl(v3, 16);                                                              \
		v3 ^= v2;                                                                               \
		v0 += v3;                                                                               \
		v3 = tni_sip_rotl(v3, 21);                                                              \
		v3 ^= v0;                                                                               \
		v2 += v1;                                                                               \
		v1 = tni_sip_rotl(v1, 17);                                                              \
		v1 ^= v2;                                                                               \
		v2 = tni_sip_rotl(v2, 32);                                                              \
	} while (0)

/* The input's bytes are read as little-endian words, as the reference
 * defines them; every host tern builds for is little-endian (wire.h). */
static inline uint64_t tni_siphash24(const struct tni_sipkey *key, const void *in, size_t len)
{
	const uint8_t *p = in;
	uint64_t v0 = 0x736f6d6570736575ull ^ key->k0, v1 = 0x646f72616e646f6dull ^ key->k1;
	uint64_t v2 = 0x6c7967656e657261ull ^ key->k0, v3 = 0x7465646279746573ull ^ key->k1;
	size_t whole = len & ~(size_t)7;
	for (size_t i = 0; i < whole; i += 8) {
		uint64_t m;
		memcpy(&m, p + i, 8);
		v3 ^= m;
		TNI_SIPROUND(v0, v1, v2, v3);
		TNI_SIPROUND(v0, v1, v2, v3);
		v0 ^= m;
	}
	/* The last word: the leftover bytes, and the length in the top byte. */
	uint64_t b = (uint64_t)len << 56;
	for (size_t i = 0; i < (len & 7); i++)
		b |= (uint64_t)p[whole + i] << (8 * i);
	v3 ^= b;
	TNI_SIPROUND(v0, v1, v2, v3);
	TNI_SIPROUND(v0, v1, v2, v3);
	v0 ^= b;
	v2 ^= 0xff;
	for (int i = 0; i < 4; i++)
		TNI_SIPROUND(v0, v1, v2, v3);
	return v0 ^ v1 ^ v2 ^ v3;
}

#endif
