/* A small seeded PRNG (xoshiro256**): deterministic runs from one seed. */
#ifndef TERN_RNG_H
#define TERN_RNG_H

#include <stdint.h>

struct tni_rng {
	uint64_t s[4];
};

static inline uint64_t tni_splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static inline void tni_rng_seed(struct tni_rng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = tni_splitmix64(&seed);
}

static inline uint64_t tni_rng_next(struct tni_rng *r)
{
	uint64_t *s = r->s;
	uint64_t x = s[1] * 5;
	uint64_t result = ((x << 7) | (x >> 57)) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = (s[3] << 45) | (s[3] >> 19);
	return result;
}

/* Uniform in [0, 1). */
static inline double tni_rng_double(struct tni_rng *r)
{
	return (double)(tni_rng_next(r) >> 11) * 0x1.0p-53;
}

/* Uniform in [0, n), n > 0 (the bias is below 2^-32 for n < 2^32). */
static inline uint64_t tni_rng_below(struct tni_rng *r, uint64_t n)
{
	return (uint64_t)(((unsigned __int128)tni_rng_next(r) * n) >> 64);
}

#endif
