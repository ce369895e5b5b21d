/* Reassembly of one message (reasm.h). */
#include "reasm.h"

#include <stdlib.h>
#include <string.h>

struct tni_reasm *tni_reasm_new(struct tni_msgbuf_cache *bufs, uint32_t len)
{
	struct tni_reasm *ra = tni_msgbuf_alloc(bufs, sizeof(*ra) + (size_t)len);
	if (!ra)
		return NULL;
	ra->len = len;
	ra->got = 0;
	ra->n = 0;
	ra->cap = 2;
	ra->r = ra->inline_r;
	return ra;
}

void tni_reasm_free(struct tni_msgbuf_cache *bufs, struct tni_reasm *ra)
{
	if (!ra)
		return;
	if (ra->r != ra->inline_r)
		free(ra->r);
	tni_msgbuf_free(bufs, ra);
}

/* The first range that ends at or after off: where [off, ...) goes. */
static uint32_t lower_bound(const struct tni_reasm *ra, uint32_t off)
{
	uint32_t lo = 0, hi = ra->n;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (ra->r[mid].end < off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool grow(struct tni_reasm *ra)
{
	uint32_t cap = ra->cap * 2;
	struct tni_reasm_range *r = malloc(cap * sizeof(*r));
	if (!r)
		return false;
	memcpy(r, ra->r, ra->n * sizeof(*r));
	if (ra->r != ra->inline_r)
		free(ra->r);
	ra->r = r;
	ra->cap = cap;
	return true;
}

enum tni_reasm_result tni_reasm_add(struct tni_reasm *ra, uint32_t off, const void *data, uint32_t len)
{
	uint32_t end = off + len;
	/* The first range that ends at or after off; those before it end
	 * before off. In order, the common case, that is the last range or
	 * none, found without a search. */
	uint32_t i = ra->n && ra->r[ra->n - 1].end <= off ? ra->n - (ra->r[ra->n - 1].end == off) : lower_bound(ra, off);
	bool join_left = false;
	if (i < ra->n) {
		if (ra->r[i].start < end && off < ra->r[i].end)
			return TNI_REASM_OVERLAP;
		join_left = ra->r[i].end == off;
	}
	uint32_t j = join_left ? i + 1 : i; /* the first range after the fragment */
	if (j < ra->n && ra->r[j].start < end)
		return TNI_REASM_OVERLAP;
	bool join_right = j < ra->n && ra->r[j].start == end;
	if (!join_left && !join_right && ra->n == ra->cap && !grow(ra))
		return TNI_REASM_NOMEM;
	memcpy(tni_reasm_buf(ra) + off, data, len);
	ra->got += len;
	if (join_left && join_right) {
		ra->r[i].end = ra->r[j].end;
		memmove(&ra->r[j], &ra->r[j + 1], (ra->n - j - 1) * sizeof(ra->r[0]));
		ra->n--;
	} else if (join_left) {
		ra->r[i].end = end;
	} else if (join_right) {
		ra->r[j].start = off;
	} else {
		memmove(&ra->r[i + 1], &ra->r[i], (ra->n - i) * sizeof(ra->r[0]));
		ra->r[i] = (struct tni_reasm_range){ off, end };
		ra->n++;
	}
	return TNI_REASM_ADDED;
}
