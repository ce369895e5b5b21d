/* Reassembly of one message: its buffer, and which byte ranges of it
 * have arrived. A fragment that overlaps bytes already received is
 * refused, so no byte is counted twice, and a message is whole only when
 * every byte came in a packet. */
#ifndef TNI_REASM_H
#define TNI_REASM_H

#include <stdbool.h>
#include <stdint.h>

#include "msgbuf.h"

struct tni_reasm_range {
	uint32_t start, end; /* bytes [start, end) */
};

/* One allocation: this header, then the message's bytes. The ranges are
 * sorted, disjoint and never touching (neighbours merge); two fit inline,
 * which in-order arrival never exceeds, and more are allocated as
 * out-of-order islands appear. */
struct tni_reasm {
	uint32_t len, got;
	uint32_t n, cap;
	struct tni_reasm_range *r;
	struct tni_reasm_range inline_r[2];
};

enum tni_reasm_result {
	TNI_REASM_ADDED = 0,    /* the bytes are new: copied and recorded */
	TNI_REASM_OVERLAP = 1,  /* some of them had arrived already: nothing taken */
	TNI_REASM_NOMEM = -1,   /* no memory to record another island: nothing taken */
};

/* A reassembly for a message of len bytes, its memory from bufs (msgbuf.h;
 * NULL: none kept); NULL when out of memory. */
struct tni_reasm *tni_reasm_new(struct tni_msgbuf_cache *bufs, uint32_t len);
void tni_reasm_free(struct tni_msgbuf_cache *bufs, struct tni_reasm *ra);
static inline uint8_t *tni_reasm_buf(struct tni_reasm *ra)
{
	return (uint8_t *)(ra + 1);
}
/* Take len bytes at off (the caller checked off + len <= the message). */
enum tni_reasm_result tni_reasm_add(struct tni_reasm *ra, uint32_t off, const void *data, uint32_t len);
static inline bool tni_reasm_whole(const struct tni_reasm *ra)
{
	return ra->got == ra->len;
}

#endif
