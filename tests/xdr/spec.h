/* One value of tests/xdr/alltypes.x's `everything`, in plain C, drawn from
 * a seed: the rpcgen side and the terngen side each build it in their own
 * types, so the two encoders get the same value. */
#ifndef TERN_TEST_XDR_SPEC_H
#define TERN_TEST_XDR_SPEC_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

struct spec {
	int32_t i;
	uint32_t u;
	int64_t h;
	uint64_t uh;
	bool b;
	float f;
	double d;
	int color;
	uint8_t fixed[5];
	uint8_t var[16];
	uint32_t var_len;
	uint8_t big[300];
	uint32_t big_len;
	char s[33], n[33];
	int32_t q[4];
	int32_t ints[8];
	uint32_t nints;
	int32_t pts[2][2];
	int32_t more[8][2];
	uint32_t nmore;
	int shape_kind;
	int32_t cx, cy;
	uint32_t sides;
	int result_status;
	int64_t value;
	char why[65];
	bool flag_on;
	double level;
	uint32_t list_n;
	uint64_t ids[5];
	char labels[5][33];
	bool has_maybe;
	int32_t mx, my;
	uint32_t nnames;
	char names[4][33];
};

static inline uint64_t spec_rng(uint64_t *s)
{
	*s = *s * 6364136223846793005ull + 1442695040888963407ull;
	return *s >> 17;
}

static inline void spec_str(char *dst, unsigned max, uint64_t *s)
{
	unsigned n = (unsigned)(spec_rng(s) % (max + 1));
	for (unsigned k = 0; k < n; k++)
		dst[k] = (char)('a' + spec_rng(s) % 26);
	dst[n] = 0;
}

static inline void spec_fill(struct spec *sp, uint64_t seed)
{
	uint64_t s = seed * 2654435761u + 1;
	memset(sp, 0, sizeof(*sp));
	sp->i = (int32_t)spec_rng(&s);
	sp->u = (uint32_t)spec_rng(&s);
	sp->h = (int64_t)(spec_rng(&s) << 20 ^ spec_rng(&s));
	sp->uh = spec_rng(&s) << 30 ^ spec_rng(&s);
	sp->b = spec_rng(&s) & 1;
	sp->f = (float)(spec_rng(&s) % 100000) / 7.0f - 5000.0f;
	sp->d = (double)(spec_rng(&s) % 10000000) / 3.0 - 1e6;
	static const int colors[] = { 0, 1, 0x10 };
	sp->color = colors[spec_rng(&s) % 3];
	for (int k = 0; k < 5; k++)
		sp->fixed[k] = (uint8_t)spec_rng(&s);
	sp->var_len = (uint32_t)(spec_rng(&s) % 17);
	for (uint32_t k = 0; k < sp->var_len; k++)
		sp->var[k] = (uint8_t)spec_rng(&s);
	sp->big_len = (uint32_t)(spec_rng(&s) % 301);
	for (uint32_t k = 0; k < sp->big_len; k++)
		sp->big[k] = (uint8_t)spec_rng(&s);
	spec_str(sp->s, 32, &s);
	spec_str(sp->n, 32, &s);
	for (int k = 0; k < 4; k++)
		sp->q[k] = (int32_t)spec_rng(&s);
	sp->nints = (uint32_t)(spec_rng(&s) % 9);
	for (uint32_t k = 0; k < sp->nints; k++)
		sp->ints[k] = (int32_t)spec_rng(&s);
	for (int k = 0; k < 2; k++)
		sp->pts[k][0] = (int32_t)spec_rng(&s), sp->pts[k][1] = (int32_t)spec_rng(&s);
	sp->nmore = (uint32_t)(spec_rng(&s) % 9);
	for (uint32_t k = 0; k < sp->nmore; k++)
		sp->more[k][0] = (int32_t)spec_rng(&s), sp->more[k][1] = (int32_t)spec_rng(&s);
	sp->shape_kind = colors[spec_rng(&s) % 3];
	sp->cx = (int32_t)spec_rng(&s);
	sp->cy = (int32_t)spec_rng(&s);
	sp->sides = (uint32_t)spec_rng(&s);
	static const int statuses[] = { 0, 1, 2, -7 };
	sp->result_status = statuses[spec_rng(&s) % 4];
	sp->value = (int64_t)spec_rng(&s);
	spec_str(sp->why, 64, &s);
	sp->flag_on = spec_rng(&s) & 1;
	sp->level = (double)(spec_rng(&s) % 1000) / 8.0;
	sp->list_n = (uint32_t)(spec_rng(&s) % 6);
	for (uint32_t k = 0; k < sp->list_n; k++) {
		sp->ids[k] = spec_rng(&s);
		spec_str(sp->labels[k], 32, &s);
	}
	sp->has_maybe = spec_rng(&s) & 1;
	sp->mx = (int32_t)spec_rng(&s);
	sp->my = (int32_t)spec_rng(&s);
	sp->nnames = (uint32_t)(spec_rng(&s) % 5);
	for (uint32_t k = 0; k < sp->nnames; k++)
		spec_str(sp->names[k], 32, &s);
}

/* Each side: encode sample seed into buf (its length, 0 on failure), and
 * decode buf and say whether it is sample seed (0) or how it differs. */
size_t rg_encode(uint64_t seed, uint8_t *buf, size_t cap);
int rg_decode_check(uint64_t seed, const uint8_t *buf, size_t len);
size_t tg_encode(uint64_t seed, uint8_t *buf, size_t cap);
int tg_decode_check(uint64_t seed, const uint8_t *buf, size_t len);

#endif
