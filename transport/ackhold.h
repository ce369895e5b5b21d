/* Acks held back: the cumulative ack, window and echoes a data packet
 * carries, kept from its arrival until the answer to that data has left,
 * so that the work they cause (RTT, congestion control, RACK, releasing
 * what they acknowledge) is not on the round trip's path
 * (docs/architecture.md, "Acks held back"). One entry per session at
 * most; an engine holds at most one receive burst's worth. */
#ifndef TERN_ACKHOLD_H
#define TERN_ACKHOLD_H

#include <stdbool.h>
#include <stdint.h>

#define TNI_ACKHOLD_MAX 32

/* What an ack without SACK blocks says, and when it came. */
struct tni_ack_info {
	uint64_t ts_echo;
	uint64_t rx_ns; /* our clock when it arrived: RTT samples count to then */
	uint32_t ack, rwnd, echo_delay;
	uint8_t echo_hops;
};

struct tni_ackhold {
	struct {
		void *owner; /* NULL: taken out of turn */
		struct tni_ack_info a;
	} e[TNI_ACKHOLD_MAX];
	unsigned head, n; /* entries [head, n) not yet visited */
};

static inline void tni_ackhold_init(struct tni_ackhold *h)
{
	h->head = h->n = 0;
}

static inline bool tni_ackhold_any(const struct tni_ackhold *h)
{
	return h->n != 0;
}

/* Hold a for owner: the handle (at least 1) the owner keeps to take it
 * out of turn, or 0 when full (the caller then processes it at once). */
unsigned tni_ackhold_put(struct tni_ackhold *h, void *owner, const struct tni_ack_info *a);
/* Take the entry of handle out of turn, into *a. */
void tni_ackhold_take(struct tni_ackhold *h, unsigned handle, struct tni_ack_info *a);
/* The owner of the oldest entry still held, and its handle; NULL when
 * none is (the hold is then empty again). */
void *tni_ackhold_oldest(struct tni_ackhold *h, unsigned *handle);

#endif
