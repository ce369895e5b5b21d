#include "crc32c.h"

#include <string.h>

#define POLY_REFLECTED 0x82f63b78u

/* The table is built at compile time so there is no mutable global. */
#define T1(c) (((c) & 1) ? (((c) >> 1) ^ POLY_REFLECTED) : ((c) >> 1))
#define T8(c) T1(T1(T1(T1(T1(T1(T1(T1((uint32_t)(c)))))))))
#define R4(i) T8(i), T8((i) + 1), T8((i) + 2), T8((i) + 3)
#define R16(i) R4(i), R4((i) + 4), R4((i) + 8), R4((i) + 12)
#define R64(i) R16(i), R16((i) + 16), R16((i) + 32), R16((i) + 48)
static const uint32_t crc_table[256] = { R64(0), R64(64), R64(128), R64(192) };

uint32_t tni_crc32c_sw(uint32_t crc, const void *data, size_t len)
{
	const uint8_t *p = data;
	crc = ~crc;
	while (len--)
		crc = crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

#if defined(__x86_64__)
#include <nmmintrin.h>

__attribute__((target("sse4.2"))) static inline uint64_t hw_run(uint64_t c, const uint8_t *p, size_t len)
{
	while (len >= 8) {
		uint64_t v;
		memcpy(&v, p, 8);
		c = _mm_crc32_u64(c, v);
		p += 8;
		len -= 8;
	}
	uint32_t c32 = (uint32_t)c;
	while (len--)
		c32 = _mm_crc32_u8(c32, *p++);
	return c32;
}

__attribute__((target("sse4.2"))) uint32_t tni_crc32c_hw(uint32_t crc, const void *data, size_t len)
{
	return ~(uint32_t)hw_run(~crc, data, len);
}

__attribute__((target("sse4.2"))) static uint32_t hole_hw(const uint8_t *p, size_t len, size_t hole)
{
	uint64_t c = hw_run(0xffffffffu, p, hole);
	c = _mm_crc32_u32((uint32_t)c, 0);
	return ~(uint32_t)hw_run(c, p + hole + 4, len - hole - 4);
}

int tni_crc32c_hw_available(void)
{
	return __builtin_cpu_supports("sse4.2");
}
#else
uint32_t tni_crc32c_hw(uint32_t crc, const void *data, size_t len)
{
	return tni_crc32c_sw(crc, data, len);
}

int tni_crc32c_hw_available(void)
{
	return 0;
}
#endif

uint32_t tni_crc32c(uint32_t crc, const void *data, size_t len)
{
	if (tni_crc32c_hw_available())
		return tni_crc32c_hw(crc, data, len);
	return tni_crc32c_sw(crc, data, len);
}

uint32_t tni_crc32c_hole(const void *data, size_t len, size_t hole)
{
	static const uint8_t zero[4];
	const uint8_t *p = data;
#if defined(__x86_64__)
	if (tni_crc32c_hw_available())
		return hole_hw(p, len, hole);
#endif
	uint32_t c = tni_crc32c_sw(0, p, hole);
	c = tni_crc32c_sw(c, zero, sizeof(zero));
	return tni_crc32c_sw(c, p + hole + 4, len - hole - 4);
}
