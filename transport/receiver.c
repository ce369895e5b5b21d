/* The receiving half of a session: the receive window and duplicates
 * (rxtrack.h), reassembly (reasm.h), in-order or as-completed delivery,
 * and when to ACK. */
#include <stdlib.h>
#include <string.h>

#include "session_internal.h"

void tni_receiver_init(struct tern_session *s, uint32_t peer_isn)
{
	tni_rxtrack_init(&s->rx, s->rx.bits, s->e->cfg.window_pkts, peer_isn);
	s->deliver_next = 0;
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
	tni_reasm_free(&s->e->bufs, slot->ra);
	*slot = (struct tni_rx_slot){ 0 };
}

/* Read in place of the slots while a session holds none: all free. */
static const struct tni_rx_slot no_slot;

static const struct tni_rx_slot *slot_peek(const struct tern_session *s, uint64_t msg_id)
{
	return s->slots ? &s->slots[msg_id & s->e->mask] : &no_slot;
}

/* In-order mode: hand over every whole message that is next in line. */
static void deliver_ready(struct tern_session *s)
{
	if (!s->slots)
		return;
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
	const struct tni_rx_slot *slot = slot_peek(s, h->msg_id);
	if (slot->state == RX_FREE)
		return true;
	return slot->msg_id == h->msg_id && slot->len == h->msg_len && slot->state == RX_PARTIAL;
}

/* Returns false when memory for reassembly could not be had. */
static bool take_fragment(struct tern_session *s, const struct tni_wire_pkt *p)
{
	struct tern_engine *e = s->e;
	const struct tni_wire_hdr *h = &p->h;
	const struct tni_rx_slot *peek = slot_peek(s, h->msg_id);
	bool in_order = e->cfg.delivery == TERN_DELIVER_IN_ORDER;
	bool whole = h->frag_off == 0 && h->payload_len == h->msg_len;
	if (peek->state == RX_FREE && whole && (!in_order || h->msg_id == s->deliver_next)) {
		/* Zero copy: the handler reads the message in the receive buffer. */
		if (in_order)
			s->deliver_next++;
		deliver(s, p->payload, h->msg_len, h->msg_id);
		if (in_order)
			deliver_ready(s);
		return true;
	}
	if (!s->slots) {
		/* The first message since idle that needs reassembly. */
		s->slots = calloc(e->cfg.window_pkts, sizeof(*s->slots));
		if (!s->slots) {
			e->stats.rx_no_memory++;
			return false;
		}
	}
	struct tni_rx_slot *slot = &s->slots[h->msg_id & e->mask];
	if (slot->state == RX_FREE) {
		/* An honest peer never reaches the limit; past it we drop without
		 * acking, so nothing is lost, only slowed. */
		if (s->rx_alloc + h->msg_len > e->rx_alloc_limit) {
			e->stats.rx_no_memory++;
			return false;
		}
		struct tni_reasm *ra = tni_reasm_new(&e->bufs, h->msg_len);
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
	s->echo_ts = h->ts;
	s->echo_rx_ns = e->now;
	if (p->rx_hops) { /* else the driver did not read it: the last one stands */
		s->echo_hops = p->rx_hops;
		if (s->wants_hops)
			tni_session_hops_known(s);
	}
	switch (tni_rxtrack_classify(&s->rx, h->psn)) {
	case TNI_RX_DUP:
		e->stats.dup_pkts++;
		tni_rxtrack_dup(&s->rx, h->psn); /* told in the ack: the sender sent it twice for nothing */
		want_ack(s); /* the sender missed our ack */
		return;
	case TNI_RX_BEYOND:
		e->stats.out_of_window++;
		want_ack(s);
		return;
	case TNI_RX_NEW:
		break;
	}
	if (!fragment_fits(s, h)) {
		e->stats.bad_header++;
		return;
	}
	if (!take_fragment(s, p))
		return; /* not acked: the sender will try again */
	tni_session_data_moved(s);
	if (!tni_rxtrack_add(&s->rx, h->psn)) {
		want_ack(s); /* loss news: at once */
		return;
	}
	/* The next packet in order with nothing above it. */
	if ((h->flags & TERN_FLAG_ACK_REQ) || ++s->unacked_rx >= 2)
		want_ack_soon(s);
	else if (!tni_timer_armed(&s->ack_timer))
		tni_timer_arm(&e->wheel, &s->ack_timer, e->now + e->cfg.ack_delay_ns);
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
	h.psn = s->sb.nxt;
	h.n_sack = (uint8_t)tni_rxtrack_sacks(&s->rx, sacks, TERN_WIRE_MAX_SACK);
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
	for (uint32_t i = 0; s->slots && i < s->e->cfg.window_pkts; i++)
		if (s->slots[i].ra)
			slot_clear(s, &s->slots[i]);
}
