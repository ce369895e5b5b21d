/* The receive tracker: which psns arrived, within a window above the
 * cumulative point, and the SACK blocks that tell the sender (RFC 2018
 * order, with a duplicate first as a DSACK, RFC 2883). The arrivals are a
 * ring of bits: a duplicate is one bit test, and the SACK builder walks
 * 64 psns per word, stopping once it has the blocks it can send. */
#ifndef TNI_RXTRACK_H
#define TNI_RXTRACK_H

#include <stdbool.h>
#include <stdint.h>

#include "wire.h"

struct tni_rxtrack {
	uint64_t *bits; /* window bits, owned by the caller */
	uint32_t window; /* a power of two */
	uint32_t nxt;     /* every psn below it arrived */
	uint32_t highest; /* one past the highest psn that arrived */
	uint32_t last;    /* the newest arrival: its block goes first */
	uint32_t dsack_psn;
	bool dsack_pending;
};

enum tni_rx_class {
	TNI_RX_NEW = 0,    /* within the window, not seen */
	TNI_RX_DUP = 1,    /* below nxt, or seen */
	TNI_RX_BEYOND = 2, /* past the window */
};

/* bits: window / 64 words (one when the window is smaller), zeroed. */
void tni_rxtrack_init(struct tni_rxtrack *t, uint64_t *bits, uint32_t window, uint32_t isn);
enum tni_rx_class tni_rxtrack_classify(const struct tni_rxtrack *t, uint32_t psn);
/* A duplicate arrived: the next SACK reports it. */
static inline void tni_rxtrack_dup(struct tni_rxtrack *t, uint32_t psn)
{
	t->dsack_psn = psn;
	t->dsack_pending = true;
}
/* psn (classified new) arrived; nxt moves over what is now contiguous.
 * Returns true when it was the next in order with nothing above it, the
 * common case, which touches no bit. */
bool tni_rxtrack_add(struct tni_rxtrack *t, uint32_t psn);
static inline bool tni_rxtrack_holes(const struct tni_rxtrack *t)
{
	return t->highest != t->nxt;
}
/* Up to max SACK blocks (the DSACK, the newest arrival's block, then the
 * rest from the lowest up); the DSACK is reported once. */
unsigned tni_rxtrack_sacks(struct tni_rxtrack *t, struct tni_wire_sack *out, unsigned max);

#endif
