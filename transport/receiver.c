/* The receiving half of a session: the receive window, duplicate
 * suppression, reassembly, in-order or as-completed delivery, and ACKs
 * with SACK ranges. */
#include <stdlib.h>
#include <string.h>

#include "session_internal.h"

void tni_receiver_init(struct tern_session *s, uint32_t peer_isn)
{
	s->rcv_nxt = s->rcv_highest = peer_isn;
	s->deliver_next = 0;
}

static bool bit_get(const struct tern_session *s, uint32_t psn)
{
	uint32_t i = psn & s->e->mask;
	return s->rcv_bits[i / 64] >> (i % 64) & 1;
}

static void bit_set(struct tern_session *s, uint32_t psn, bool v)
{
	uint32_t i = psn & s->e->mask;
	if (v)
		s->rcv_bits[i / 64] |= 1ull << (i % 64);
	else
		s->rcv_bits[i / 64] &= ~(1ull << (i % 64));
}

static void deliver(struct tern_session *s, const void *data, size_t len, uint64_t msg_id)
{
	struct tern_engine *e = s->e;
	e->stats.msgs_delivered++;
	struct tern_rx_msg m = { data, len, msg_id };
	if (e->up.on_message)
		e->up.on_message(s, &m, e->up.arg);
}

static void slot_clear(struct tern_session *s, struct tni_rx_slot *slot)
{
	if (slot->ra)
		s->rx_alloc -= slot->len;
	tni_reasm_free(slot->ra);
	*slot = (struct tni_rx_slot){ 0 };
}

/* In-order mode: hand over every whole message that is next in line. */
static void deliver_ready(struct tern_session *s)
{
	for (;;) {
		struct tni_rx_slot *slot = &s->slots[s->deliver_next & s->e->mask];
		if (slot->state != RX_COMPLETE || slot->msg_id != s->deliver_next || s->state == S_DEAD)
			return;
		s->deliver_next++;
		deliver(s, tni_reasm_buf(slot->ra), slot->len, slot->msg_id);
		slot_clear(s, slot);
	}
}

/* Checks that cannot fail later, so a packet we accept is never lost. */
static bool fragment_fits(struct tern_session *s, const struct tni_wire_hdr *h)
{
	if (h->msg_len > s->e->cfg.max_msg_size)
		return false;
	if (s->e->cfg.delivery == TERN_DELIVER_IN_ORDER && h->msg_id < s->deliver_next)
		return false;
	const struct tni_rx_slot *slot = &s->slots[h->msg_id & s->e->mask];
	if (slot->state == RX_FREE)
		return true;
	return slot->msg_id == h->msg_id && slot->len == h->msg_len && slot->state == RX_PARTIAL;
}

/* Returns false when memory for reassembly could not be had. */
static bool take_fragment(struct tern_session *s, const struct tni_wire_pkt *p)
{
	struct tern_engine *e = s->e;
	const struct tni_wire_hdr *h = &p->h;
	struct tni_rx_slot *slot = &s->slots[h->msg_id & e->mask];
	bool in_order = e->cfg.delivery == TERN_DELIVER_IN_ORDER;
	bool whole = h->frag_off == 0 && h->payload_len == h->msg_len;
	if (slot->state == RX_FREE && whole && (!in_order || h->msg_id == s->deliver_next)) {
		/* Zero copy: the handler reads the message in the receive buffer. */
		if (in_order)
			s->deliver_next++;
		deliver(s, p->payload, h->msg_len, h->msg_id);
		if (in_order)
			deliver_ready(s);
		return true;
	}
	if (slot->state == RX_FREE) {
		/* An honest peer never reaches the limit; past it we drop without
		 * acking, so nothing is lost, only slowed. */
		if (s->rx_alloc + h->msg_len > e->rx_alloc_limit) {
			e->stats.rx_no_memory++;
			return false;
		}
		struct tni_reasm *ra = tni_reasm_new(h->msg_len);
		if (!ra) {
			e->stats.rx_no_memory++;
			return false;
		}
		s->rx_alloc += h->msg_len;
		*slot = (struct tni_rx_slot){ .msg_id = h->msg_id, .ra = ra, .len = h->msg_len, .state = RX_PARTIAL };
	}
	switch (tni_reasm_add(slot->ra, h->frag_off, p->payload, h->payload_len)) {
	case TNI_REASM_ADDED:
		break;
	case TNI_REASM_OVERLAP:
		/* An honest peer never sends it: its fragments have their own
		 * bytes and a resent one its old psn. Taken (acked) and dropped. */
		e->stats.rx_overlaps++;
		return true;
	case TNI_REASM_NOMEM:
		e->stats.rx_no_memory++;
		return false;
	}
	e->stats.rx_copy_bytes += h->payload_len;
	if (!tni_reasm_whole(slot->ra))
		return true;
	if (in_order) {
		slot->state = RX_COMPLETE;
		deliver_ready(s);
	} else {
		deliver(s, tni_reasm_buf(slot->ra), slot->len, slot->msg_id);
		slot_clear(s, slot);
	}
	return true;
}

static void want_ack(struct tern_session *s)
{
	s->ack_now = true;
	s->ack_hold_poll = 0;
	tni_engine_want_tx(s->e, s);
}

/* In order and complete so far: the ACK may ride on what we send next, if
 * that leaves by the end of the next poll (docs/architecture.md). */
static void want_ack_soon(struct tern_session *s)
{
	if (!s->ack_now) {
		s->ack_now = true;
		s->ack_hold_poll = s->e->polls;
	}
	tni_engine_want_tx(s->e, s);
}

void tni_receiver_on_data(struct tern_session *s, const struct tni_wire_pkt *p)
{
	struct tern_engine *e = s->e;
	const struct tni_wire_hdr *h = &p->h;
	int32_t d = tni_seq_diff(h->psn, s->rcv_nxt);
	s->echo_ts = h->ts;
	s->echo_rx_ns = e->now;
	s->echo_hops = p->rx_hops;
	if (d < 0 || (d < (int32_t)e->cfg.window_pkts && bit_get(s, h->psn))) {
		e->stats.dup_pkts++;
		s->dsack_psn = h->psn; /* told in the ack: the sender sent it twice for nothing */
		s->dsack_pending = true;
		want_ack(s); /* the sender missed our ack */
		return;
	}
	if (d >= (int32_t)e->cfg.window_pkts) {
		e->stats.out_of_window++;
		want_ack(s);
		return;
	}
	if (!fragment_fits(s, h)) {
		e->stats.bad_header++;
		return;
	}
	bool had_holes = s->rcv_highest != s->rcv_nxt;
	if (!take_fragment(s, p))
		return; /* not acked: the sender will try again */
	s->last_rx_psn = h->psn;
	if (d != 0 || had_holes) {
		bit_set(s, h->psn, true);
		if (tni_seq_diff(h->psn + 1, s->rcv_highest) > 0)
			s->rcv_highest = h->psn + 1;
		while (s->rcv_nxt != s->rcv_highest && bit_get(s, s->rcv_nxt)) {
			bit_set(s, s->rcv_nxt, false);
			s->rcv_nxt++;
		}
		want_ack(s); /* loss news: at once */
		return;
	}
	/* The next packet with nothing above it: no bit to set and clear. */
	s->rcv_nxt = s->rcv_highest = h->psn + 1;
	if ((h->flags & TERN_FLAG_ACK_REQ) || ++s->unacked_rx >= 2)
		want_ack_soon(s);
	else if (!tni_timer_armed(&s->ack_timer))
		tni_timer_arm(&e->wheel, &s->ack_timer, e->now + e->cfg.ack_delay_ns);
}

/* Received runs above the cumulative ack, the one holding the newest
 * packet first (RFC 2018), then the rest from the lowest up. */
static unsigned build_sacks(struct tern_session *s, struct tni_wire_sack *out)
{
	struct tni_wire_sack runs[TERN_WIRE_MAX_SACK * 2];
	unsigned n = 0;
	uint32_t psn = s->rcv_nxt;
	while (psn != s->rcv_highest && n < TERN_WIRE_MAX_SACK * 2) {
		if (!bit_get(s, psn)) {
			psn++;
			continue;
		}
		uint32_t start = psn;
		while (psn != s->rcv_highest && bit_get(s, psn))
			psn++;
		runs[n++] = (struct tni_wire_sack){ start, psn };
	}
	unsigned first = 0;
	for (unsigned i = 0; i < n; i++)
		if (tni_seq_diff(s->last_rx_psn, runs[i].start) >= 0 && tni_seq_diff(s->last_rx_psn, runs[i].end) < 0)
			first = i;
	unsigned k = 0;
	/* DSACK first (RFC 2883): a block at or below the cumulative ack, or
	 * inside a block, names a packet that arrived twice. */
	if (s->dsack_pending) {
		out[k++] = (struct tni_wire_sack){ s->dsack_psn, s->dsack_psn + 1 };
		s->dsack_pending = false;
	}
	if (n)
		out[k++] = runs[first];
	for (unsigned i = 0; i < n && k < TERN_WIRE_MAX_SACK; i++)
		if (i != first)
			out[k++] = runs[i];
	return k;
}

void tni_receiver_send_ack(struct tern_session *s, uint8_t flags)
{
	struct tern_engine *e = s->e;
	struct tni_wire_hdr h;
	struct tni_pkt *p = tni_engine_pkt_for(e, s, &h);
	if (!p)
		return;
	struct tni_wire_sack sacks[TERN_WIRE_MAX_SACK];
	h.type = TERN_PKT_ACK;
	h.flags |= flags;
	h.psn = s->snd_nxt;
	h.n_sack = (uint8_t)build_sacks(s, sacks);
	p->len = (uint32_t)tni_wire_encode(p->data, &h, sacks);
	tni_engine_queue_pkt(e, p);
	e->stats.acks_sent++;
	s->ack_now = false;
	s->ack_hold_poll = 0;
	s->unacked_rx = 0;
	tni_timer_stop(&s->ack_timer);
}

void tni_receiver_free(struct tern_session *s)
{
	for (uint32_t i = 0; i < s->e->cfg.window_pkts; i++)
		if (s->slots[i].ra)
			slot_clear(s, &s->slots[i]);
}
