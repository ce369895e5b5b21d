/* The sender's scoreboard: one entry per packet sent and not yet
 * cumulatively acked, in a ring indexed by psn. Besides its state, each
 * entry is on one of two lists or on none:
 *  - in flight: the send-time list, oldest (re)transmission first, which
 *    RACK and the RTO walk from the front and stop at the first packet
 *    too young to call lost;
 *  - lost: the retransmission queue, in the order losses were found.
 * A SACKed entry is on no list; its link points past the run of SACKed
 * entries it starts (compressed as it is followed), so a SACK block that
 * repeats what earlier ACKs said costs nothing per packet. Every
 * operation costs what it changes, never the window. */
#ifndef TNI_SCOREBOARD_H
#define TNI_SCOREBOARD_H

#include <stdbool.h>
#include <stdint.h>

#include "wire.h"

enum tni_sb_state { TNI_SB_INFLIGHT = 1, TNI_SB_SACKED = 2, TNI_SB_LOST = 3 };

struct tni_sb_entry {
	void *msg;        /* the owner's message this packet carries bytes of */
	uint64_t sent_ns; /* last (re)transmission */
	uint32_t off;     /* of the bytes in msg */
	/* psn links: the entry's list while in flight or lost; while SACKed,
	 * next is a psn above it that is not SACKed, or the end of the window. */
	uint32_t prev, next;
	uint16_t len;
	uint8_t state;
	uint8_t retx : 7; /* retransmissions so far (saturating) */
	/* Last found lost by RACK's guess, which reordering can prove wrong;
	 * not by the RTO, nor resent as a probe. */
	uint8_t guessed : 1;
};

/* A list of psns, counted so that no psn value needs to mean "none". */
struct tni_sb_list {
	uint32_t head, tail, n;
};

struct tni_scoreboard {
	struct tni_sb_entry *e; /* mask + 1 entries; NULL while the owner holds none (nothing outstanding) */
	uint32_t mask;
	uint32_t una, nxt; /* entries are [una, nxt) */
	struct tni_sb_list sent, lost;
	/* Entries tni_sb_ack has looked at, all told: what its tests bound. */
	uint64_t steps;
};

/* What one ACK newly covered (tni_sb_ack). */
struct tni_sb_acked {
	uint32_t newly;       /* packets acked or SACKed for the first time */
	uint64_t newest_sent; /* latest send time among them (RACK's xmit time) */
	uint32_t newest_psn;  /* the packet sent then */
	uint32_t highest;     /* highest psn SACKed by this ACK, valid if sacked */
	bool sacked;
};

/* entries: mask + 1 of them (a power of two), owned by the caller. */
void tni_sb_init(struct tni_scoreboard *sb, struct tni_sb_entry *entries, uint32_t mask, uint32_t isn);

static inline struct tni_sb_entry *tni_sb_at(const struct tni_scoreboard *sb, uint32_t psn)
{
	return &sb->e[psn & sb->mask];
}
static inline uint32_t tni_sb_outstanding(const struct tni_scoreboard *sb)
{
	return sb->nxt - sb->una;
}

/* A new packet, sent now: the next psn, in flight. The caller checked
 * that the window has room. */
uint32_t tni_sb_push(struct tni_scoreboard *sb, void *msg, uint32_t off, uint16_t len, uint64_t now);
/* psn (lost, or in flight and probed) sent again now: in flight, newest.
 * An entry is readable until the psn a window above it is pushed. */
void tni_sb_resend(struct tni_scoreboard *sb, uint32_t psn, uint64_t now);
/* psn, in flight, found lost: onto the retransmission queue. guessed:
 * by RACK's reckoning rather than a timeout. */
void tni_sb_mark_lost(struct tni_scoreboard *sb, uint32_t psn, bool guessed);
/* The entry of a psn sent not more than a window ago, acked or not; NULL
 * when it is older or was never sent. */
const struct tni_sb_entry *tni_sb_recent(const struct tni_scoreboard *sb, uint32_t psn);
/* psn, lost, found not lost after all (an undone RTO): in flight again,
 * at its place by send time. Rare; costs the walk to that place. */
void tni_sb_unlose(struct tni_scoreboard *sb, uint32_t psn);

/* An ACK: everything below cum, and the SACK ranges (clipped to the
 * window; a range that is inverted or outside it is ignored). cum must lie
 * in [una, nxt]. Entries below the new una are left for the caller to
 * read until the next push overwrites them. */
void tni_sb_ack(struct tni_scoreboard *sb, uint32_t cum, const struct tni_wire_sack *r, unsigned n,
		struct tni_sb_acked *out);

/* The oldest send in flight (RACK, the RTO), the newest (the tail probe),
 * and the first packet to resend; each only when its list is not empty. */
static inline uint32_t tni_sb_oldest(const struct tni_scoreboard *sb)
{
	return sb->sent.head;
}
static inline uint32_t tni_sb_newest(const struct tni_scoreboard *sb)
{
	return sb->sent.tail;
}
static inline uint32_t tni_sb_first_lost(const struct tni_scoreboard *sb)
{
	return sb->lost.head;
}
static inline uint32_t tni_sb_inflight(const struct tni_scoreboard *sb)
{
	return sb->sent.n;
}
static inline uint32_t tni_sb_lost(const struct tni_scoreboard *sb)
{
	return sb->lost.n;
}
/* The entry after psn on its list (in flight or lost). */
static inline uint32_t tni_sb_next(const struct tni_scoreboard *sb, uint32_t psn)
{
	return tni_sb_at(sb, psn)->next;
}

#endif
