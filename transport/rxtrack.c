#include "rxtrack.h"

void tni_rxtrack_init(struct tni_rxtrack *t, uint64_t *bits, uint32_t window, uint32_t isn)
{
	*t = (struct tni_rxtrack){ .bits = bits, .window = window, .nxt = isn, .highest = isn, .last = isn };
}

static bool bit_get(const struct tni_rxtrack *t, uint32_t psn)
{
	uint32_t i = psn & (t->window - 1);
	return t->bits[i / 64] >> (i % 64) & 1;
}

static void bit_put(struct tni_rxtrack *t, uint32_t psn, bool v)
{
	uint32_t i = psn & (t->window - 1);
	if (v)
		t->bits[i / 64] |= 1ull << (i % 64);
	else
		t->bits[i / 64] &= ~(1ull << (i % 64));
}

enum tni_rx_class tni_rxtrack_classify(const struct tni_rxtrack *t, uint32_t psn)
{
	int32_t d = tni_seq_diff(psn, t->nxt);
	if (d < 0)
		return TNI_RX_DUP;
	if (d >= (int32_t)t->window)
		return TNI_RX_BEYOND;
	return bit_get(t, psn) ? TNI_RX_DUP : TNI_RX_NEW;
}

bool tni_rxtrack_add(struct tni_rxtrack *t, uint32_t psn)
{
	t->last = psn;
	if (psn == t->nxt && t->highest == t->nxt) {
		t->nxt = t->highest = psn + 1;
		return true;
	}
	bit_put(t, psn, true);
	if (tni_seq_diff(psn + 1, t->highest) > 0)
		t->highest = psn + 1;
	while (t->nxt != t->highest && bit_get(t, t->nxt)) {
		bit_put(t, t->nxt, false);
		t->nxt++;
	}
	return false;
}

/* The first psn in [from, end) whose bit is want, or end: a word at a time. */
static uint32_t find_bit(const struct tni_rxtrack *t, uint32_t from, uint32_t end, bool want)
{
	while (tni_seq_diff(from, end) < 0) {
		uint32_t i = from & (t->window - 1);
		uint32_t bit = i % 64;
		uint64_t w = t->bits[i / 64];
		if (!want)
			w = ~w;
		w >>= bit;
		uint32_t span = 64 - bit;
		if (span > t->window - i)
			span = t->window - i; /* a window under 64 uses the low bits of one word */
		if (span > end - from)
			span = end - from;
		if (span < 64)
			w &= (1ull << span) - 1;
		if (w)
			return from + (uint32_t)__builtin_ctzll(w);
		from += span;
	}
	return end;
}

unsigned tni_rxtrack_sacks(struct tni_rxtrack *t, struct tni_wire_sack *out, unsigned max)
{
	unsigned k = 0;
	if (t->dsack_pending && k < max) {
		out[k++] = (struct tni_wire_sack){ t->dsack_psn, t->dsack_psn + 1 };
		t->dsack_pending = false;
	}
	if (k == max || !tni_rxtrack_holes(t))
		return k;
	struct tni_wire_sack newest = { 0, 0 }, other[TERN_WIRE_MAX_SACK];
	bool have_newest = false;
	unsigned n = 0, room = max - k;
	uint32_t psn = t->nxt;
	while (psn != t->highest && !(have_newest && n >= room)) {
		uint32_t s = find_bit(t, psn, t->highest, true);
		if (s == t->highest)
			break;
		uint32_t e = find_bit(t, s, t->highest, false);
		struct tni_wire_sack b = { s, e };
		if (tni_seq_diff(t->last, s) >= 0 && tni_seq_diff(t->last, e) < 0) {
			newest = b;
			have_newest = true;
		} else if (n < room && n < TERN_WIRE_MAX_SACK) {
			other[n++] = b;
		}
		psn = e;
	}
	if (have_newest)
		out[k++] = newest;
	for (unsigned i = 0; i < n && k < max; i++)
		out[k++] = other[i];
	return k;
}
