/* The sending half of a session: segmentation, the SACK scoreboard, loss
 * detection (3-packet threshold and RACK time), RTO, completion. */
#include <string.h>

#include "session_internal.h"
#include "tern/error.h"
#include "tern/session.h"

#define DUP_THRESH 3
#define MIN_REO_WND_NS 1000
/* Two ticks of the timer wheel: a shorter probe timeout cannot be kept. */
#define MIN_PTO_NS 2048

void tni_sender_init(struct tern_session *s)
{
	s->snd_una = s->snd_nxt = s->isn;
	s->peer_rwnd = 0;
	s->reo_mult = 1;
	s->reo_round = s->isn;
}

int tern_session_send(struct tern_session *s, const void *buf, size_t len, void *cookie)
{
	if (!s)
		return TERN_EINVAL;
	if (s->e->up.private_sends)
		return TERN_ENOTOWNER;
	return tni_session_send(s, buf, len, cookie);
}

int tni_session_send(struct tern_session *s, const void *buf, size_t len, void *cookie)
{
	if (!s || (!buf && len))
		return TERN_EINVAL;
	struct tern_engine *e = s->e;
	if (!tni_on_owner(e))
		return TERN_EWRONGTHREAD;
	if (s->state == S_DEAD)
		return TERN_ECLOSED;
	uint32_t limit = e->cfg.max_msg_size;
	if (s->state == S_ESTABLISHED && s->peer_max_msg < limit)
		limit = s->peer_max_msg;
	if (len > limit)
		return TERN_EMSGSIZE;
	struct tni_tx_msg *m = e->tx_free;
	if (!m)
		return TERN_EAGAIN;
	e->tx_free = m->next;
	/* Field by field, not a whole-struct reset per message: ext is idle
	 * on every free entry, and status and sess are set when held. */
	m->next = NULL;
	m->buf = buf;
	m->cookie = cookie;
	m->msg_id = s->next_msg_id++;
	m->len = (uint32_t)len;
	m->sent = 0;
	m->segmented = false;
	if (s->txq_tail)
		s->txq_tail->next = m;
	else
		s->txq_head = m;
	s->txq_tail = m;
	if (!s->tx_cursor)
		s->tx_cursor = m;
	tni_engine_want_tx(e, s);
	return 0;
}

void tni_sender_msg_finish(struct tern_engine *e, struct tern_session *s, struct tni_tx_msg *m, int status)
{
	void *cookie = m->cookie;
	m->next = e->tx_free;
	e->tx_free = m;
	if (status == 0)
		e->stats.msgs_sent++;
	if (e->up.on_send_done)
		e->up.on_send_done(s, cookie, status, e->up.arg);
}

/* Acked or failed. If the device still reads from the buffer (attached
 * packets not yet sent or freed), the caller gets it back only then. */
static void msg_release(struct tern_session *s, struct tni_tx_msg *m, int status)
{
	struct tern_engine *e = s->e;
	if (!tni_ext_ref_idle(&m->ext)) {
		e->stats.tx_attach_held++;
		m->status = status;
		m->sess = s;
		m->next = e->tx_held;
		e->tx_held = m;
		return;
	}
	tni_sender_msg_finish(e, s, m, status);
}

void tni_sender_fail_all(struct tern_session *s, int status)
{
	while (s->txq_head) {
		struct tni_tx_msg *m = s->txq_head;
		s->txq_head = m->next;
		msg_release(s, m, status);
	}
	s->txq_tail = s->tx_cursor = NULL;
}

static struct tni_sb_entry *sb_at(struct tern_session *s, uint32_t psn)
{
	return &s->sb[psn & s->e->mask];
}

static void send_data(struct tern_session *s, uint32_t psn, bool last)
{
	struct tern_engine *e = s->e;
	struct tni_sb_entry *sb = sb_at(s, psn);
	struct tni_wire_hdr h;
	struct tni_pkt *p = tni_engine_pkt_for(e, s, &h);
	if (!p)
		return; /* counted; the packet stays in flight and RTO recovers it */
	h.type = TERN_PKT_DATA;
	h.flags |= last ? TERN_FLAG_ACK_REQ : 0;
	h.psn = psn;
	h.msg_id = sb->msg->msg_id;
	h.msg_len = sb->msg->len;
	h.frag_off = sb->off;
	h.payload_len = sb->len;
	const uint8_t *payload = sb->msg->buf + sb->off;
	/* Large payloads go from the message buffer itself where the driver
	 * can chain it (DPDK external mbufs); the rest is copied, and counted. */
	p->len = TERN_WIRE_HDR_LEN; /* what the attached payload follows */
	if (e->drv->attach_min && sb->len >= e->drv->attach_min && e->drv->ops->attach &&
	    e->drv->ops->attach(e->drv, p, payload, sb->len, &sb->msg->ext)) {
		e->stats.tx_attach_bytes += sb->len;
		p->len = (uint32_t)tni_wire_encode_split(p->data, &h, NULL, payload);
	} else {
		memcpy(p->data + TERN_WIRE_HDR_LEN, payload, sb->len);
		e->stats.tx_copy_bytes += sb->len;
		p->len = (uint32_t)tni_wire_encode(p->data, &h, NULL);
	}
	tni_engine_queue_pkt(e, p);
	e->stats.tx_data_pkts++;
	sb->sent_ns = e->now;
	/* The data packet carries our cumulative ack; SACK news (and a
	 * duplicate to report) still needs an ACK of its own. */
	if (s->rcv_highest == s->rcv_nxt && !s->dsack_pending) {
		s->ack_now = false;
		s->unacked_rx = 0;
		tni_timer_stop(&s->ack_timer);
	}
}

static uint32_t send_limit(const struct tern_session *s)
{
	uint32_t w = s->e->cfg.window_pkts;
	return s->peer_rwnd < w ? s->peer_rwnd : w;
}

static bool can_send_more(const struct tern_session *s)
{
	return tni_cc_can_send(&s->cc, s->inflight);
}

#define container_of(p, type, member) ((type *)((char *)(p) - offsetof(type, member)))

void tni_sender_on_pace_timer(struct tni_timer *t, uint64_t now)
{
	(void)now;
	struct tern_session *s = container_of(t, struct tern_session, pace_timer);
	tni_engine_want_tx(s->e, s);
}

/* Whether the pacer lets a packet leave now. Sessions whose algorithm asks
 * for no rate never get here with a wait: the common case costs one call. */
static bool pace_allows(struct tern_session *s, uint64_t rate)
{
	if (!rate || s->e->now >= s->next_send_ns)
		return true;
	if (!tni_timer_armed(&s->pace_timer))
		tni_timer_arm(&s->e->wheel, &s->pace_timer, s->next_send_ns);
	return false;
}

static void pace_sent(struct tern_session *s, uint64_t rate, uint32_t payload)
{
	if (!rate)
		return;
	uint64_t wire = (uint64_t)payload + TERN_WIRE_HDR_LEN + TERN_WIRE_OUTER_V4;
	uint64_t from = s->next_send_ns > s->e->now ? s->next_send_ns : s->e->now;
	s->next_send_ns = from + wire * 1000000000ull / rate;
}

static uint32_t next_lost(struct tern_session *s)
{
	for (uint32_t psn = s->snd_una; psn != s->snd_nxt; psn++)
		if (sb_at(s, psn)->state == SB_LOST)
			return psn;
	return s->snd_nxt;
}

static void arm_rto(struct tern_session *s)
{
	if (!tni_timer_armed(&s->rto_timer))
		tni_timer_arm(&s->e->wheel, &s->rto_timer, s->e->now + tni_rtt_timeout(&s->rtt));
}

/* The probe timeout from now (RFC 8985, 7.2): two smoothed round trips,
 * plus the RTT's variation, which keeps probes from firing on a path whose
 * round trips jitter with wake-ups (the kernel's, docs/uring.md). The tail packet
 * asks for an ack (ACK_REQ), which the peer sends by the end of its next
 * poll instead of after its ack delay, so no delayed-ack allowance is
 * needed: a response held back for the 20 us ack delay would otherwise
 * make a probe wait five round trips. */
static void arm_tlp(struct tern_session *s)
{
	if (s->tlp_out || !s->rtt.has_sample)
		return; /* one probe per tail; before any sample, the RTO */
	uint64_t pto = 2 * s->rtt.srtt + s->rtt.rttvar;
	if (pto < MIN_PTO_NS)
		pto = MIN_PTO_NS;
	tni_timer_arm(&s->e->wheel, &s->tlp_timer, s->e->now + pto);
}

void tni_sender_on_tlp_timer(struct tni_timer *t, uint64_t now)
{
	(void)now;
	struct tern_session *s = container_of(t, struct tern_session, tlp_timer);
	struct tern_engine *e = s->e;
	if (s->state != S_ESTABLISHED || !s->inflight || s->tlp_out)
		return;
	/* The newest packet still in flight: its ack, or a SACK above a hole,
	 * is what lets RACK find what else was lost. */
	uint32_t psn = s->snd_nxt;
	do
		psn--;
	while (psn != s->snd_una && sb_at(s, psn)->state != SB_INFLIGHT);
	struct tni_sb_entry *sb = sb_at(s, psn);
	if (sb->state != SB_INFLIGHT)
		return;
	sb->retx++;
	s->tlp_out = true;
	e->stats.retransmits++;
	e->stats.tlp_probes++;
	send_data(s, psn, true);
	tni_engine_want_tx(e, s); /* flushed in this poll */
}

bool tni_sender_transmit(struct tern_session *s)
{
	struct tern_engine *e = s->e;
	if (s->state != S_ESTABLISHED)
		return false;
	unsigned budget = TERN_TX_BUDGET;
	if (!s->inflight && !s->lost_pending)
		s->last_progress_ns = e->now; /* idle until now: the dead clock starts here */
	uint64_t rate = s->cc.pace_bps;
	while (s->lost_pending && can_send_more(s) && budget && pace_allows(s, rate)) {
		uint32_t psn = next_lost(s);
		struct tni_sb_entry *sb = sb_at(s, psn);
		sb->state = SB_INFLIGHT;
		sb->retx++;
		s->lost_pending--;
		s->inflight++;
		budget--;
		e->stats.retransmits++;
		send_data(s, psn, s->lost_pending == 0 && !can_send_more(s));
		pace_sent(s, rate, sb->len);
	}
	uint32_t limit = send_limit(s);
	while (s->tx_cursor && budget && (s->snd_nxt - s->snd_una) < limit && can_send_more(s) &&
	       pace_allows(s, rate)) {
		struct tni_tx_msg *m = s->tx_cursor;
		uint32_t frag = m->len - m->sent < s->mss ? m->len - m->sent : s->mss;
		uint32_t psn = s->snd_nxt++;
		struct tni_sb_entry *sb = sb_at(s, psn);
		*sb = (struct tni_sb_entry){ .msg = m, .off = m->sent, .len = (uint16_t)frag, .state = SB_INFLIGHT };
		m->sent += frag;
		if (m->sent == m->len) {
			m->segmented = true;
			m->last_psn = psn;
			s->tx_cursor = m->next;
		}
		s->inflight++;
		budget--;
		/* Ask for a prompt ack on the last packet this turn sends: the
		 * peer then acks by the end of its next poll, so the probe timeout
		 * needs no allowance for its ack delay. An RPC ping-pong still sends
		 * no standalone acks: the answer, or the next request, leaves within
		 * that poll and carries the ack. */
		bool last = !s->tx_cursor || !budget || (s->snd_nxt - s->snd_una) >= limit || !can_send_more(s);
		send_data(s, psn, last);
		pace_sent(s, rate, frag);
	}
	if (s->inflight) {
		arm_rto(s);
		/* The probe timeout counts from the last data sent: a turn that
		 * sent only an ack (the peer's probe, answered) must not put it
		 * off, or a lost answer waits twice as long. */
		if (budget < TERN_TX_BUDGET || !tni_timer_armed(&s->tlp_timer))
			arm_tlp(s);
	}
	return budget == 0;
}

static void mark_lost(struct tern_session *s, struct tni_sb_entry *sb)
{
	sb->state = SB_LOST;
	s->inflight--;
	s->lost_pending++;
}

/* Found lost: three later packets SACKed (first sends only, since a
 * retransmission's position says nothing of its send time), or sent more
 * than a reordering window before a packet that arrived (RACK). */
static void detect_losses(struct tern_session *s)
{
	uint64_t reo_wnd = s->rtt.has_sample ? s->rtt.min_rtt / 4 * s->reo_mult : MIN_REO_WND_NS;
	if (s->rtt.has_sample && reo_wnd > s->rtt.srtt)
		reo_wnd = s->rtt.srtt; /* RFC 8985: never more than a round trip */
	if (reo_wnd < MIN_REO_WND_NS)
		reo_wnd = MIN_REO_WND_NS;
	bool found = false;
	uint32_t first_lost = 0;
	for (uint32_t psn = s->snd_una; psn != s->snd_nxt; psn++) {
		struct tni_sb_entry *sb = sb_at(s, psn);
		if (sb->state != SB_INFLIGHT)
			continue;
		bool by_count = !s->reordering_seen && s->have_sacked && !sb->retx &&
				tni_seq_diff(s->highest_sacked, psn) >= DUP_THRESH;
		bool by_time = sb->sent_ns + reo_wnd < s->rack_xmit_ns;
		if (by_count || by_time) {
			mark_lost(s, sb);
			if (!found)
				first_lost = psn;
			found = true;
		}
	}
	if (!found)
		return;
	s->e->stats.fast_retransmits++;
	/* One window reduction per round trip of losses. */
	if (!s->in_recovery || tni_seq_diff(first_lost, s->recovery_point) >= 0) {
		/* 16 recoveries without a reported duplicate: the reordering
		 * that widened the window has passed (RFC 8985, 6.2). */
		if (s->reo_mult > 1 && ++s->reo_quiet >= 16) {
			s->reo_mult = 1;
			s->reo_quiet = 0;
		}
		s->cc.ops->on_loss(&s->cc, s->e->now);
		s->in_recovery = true;
		s->recovery_point = s->snd_nxt;
	}
}

static uint32_t ack_one(struct tern_session *s, struct tni_sb_entry *sb)
{
	uint32_t newly = 0;
	if (sb->state == SB_INFLIGHT) {
		s->inflight--;
		newly = 1;
	} else if (sb->state == SB_LOST) {
		s->lost_pending--;
		newly = 1;
	}
	if (newly && sb->sent_ns > s->rack_xmit_ns)
		s->rack_xmit_ns = sb->sent_ns;
	sb->state = SB_SACKED;
	return newly;
}

static void complete_messages(struct tern_session *s)
{
	while (s->txq_head && s->txq_head->segmented && tni_seq_diff(s->snd_una, s->txq_head->last_psn) > 0) {
		struct tni_tx_msg *m = s->txq_head;
		s->txq_head = m->next;
		if (!s->txq_head)
			s->txq_tail = NULL;
		msg_release(s, m, 0);
		if (s->state == S_DEAD)
			return;
	}
}

/* The first ack of new data after an RTO: if it echoes a packet sent
 * before the timeout, the originals were only late. Restore the window and
 * send nothing more again. If a real loss hides behind the undo, RACK or
 * the next RTO still finds it. */
static void check_spurious_rto(struct tern_session *s, uint64_t ts_echo)
{
	s->rto_undo = false;
	if (!ts_echo || ts_echo >= s->rto_at)
		return;
	s->cc = s->cc_before_rto;
	s->rtt.backoff = 0;
	s->in_recovery = false;
	s->e->stats.rto_spurious++;
	for (uint32_t psn = s->snd_una; psn != s->snd_nxt; psn++) {
		struct tni_sb_entry *sb = sb_at(s, psn);
		if (sb->state == SB_LOST && sb->sent_ns < s->rto_at) {
			sb->state = SB_INFLIGHT;
			s->lost_pending--;
			s->inflight++;
		}
	}
}

/* The first SACK block reports a duplicate (DSACK, RFC 2883) when it lies
 * below the cumulative ack or inside the next block: a packet we sent
 * again had arrived after all. RACK then waits longer before it calls a
 * late packet lost: one more step per round trip with such news. */
static void check_dsack(struct tern_session *s, const struct tni_wire_pkt *p)
{
	struct tni_wire_sack b = tni_wire_sack_get(p, 0);
	bool below = tni_seq_diff(b.end, p->h.ack) <= 0;
	bool inside = false;
	if (!below && p->h.n_sack > 1) {
		struct tni_wire_sack c = tni_wire_sack_get(p, 1);
		inside = tni_seq_diff(b.start, c.start) >= 0 && tni_seq_diff(b.end, c.end) <= 0;
	}
	if (!below && !inside)
		return;
	s->e->stats.dsacks++;
	s->reordering_seen = true;
	s->reo_quiet = 0;
	if (tni_seq_diff(s->snd_una, s->reo_round) >= 0 && s->reo_mult < 64) {
		s->reo_mult++;
		s->reo_round = s->snd_nxt;
	}
}

void tni_sender_on_ack(struct tern_session *s, const struct tni_wire_pkt *p)
{
	struct tern_engine *e = s->e;
	const struct tni_wire_hdr *h = &p->h;
	if (tni_seq_diff(h->ack, s->snd_nxt) > 0)
		return; /* acks what we never sent */
	uint32_t w = e->cfg.window_pkts;
	s->peer_rwnd = h->rwnd < w ? h->rwnd : w;
	if (h->n_sack)
		check_dsack(s, p);
	uint32_t newly = 0;
	while (tni_seq_diff(h->ack, s->snd_una) > 0) {
		newly += ack_one(s, sb_at(s, s->snd_una));
		s->snd_una++;
	}
	for (unsigned i = 0; i < h->n_sack; i++) {
		struct tni_wire_sack b = tni_wire_sack_get(p, i);
		if (tni_seq_diff(b.start, s->snd_una) < 0)
			b.start = s->snd_una;
		if (tni_seq_diff(b.end, s->snd_nxt) > 0)
			b.end = s->snd_nxt;
		for (uint32_t psn = b.start; tni_seq_diff(psn, b.end) < 0; psn++)
			newly += ack_one(s, sb_at(s, psn));
		if (tni_seq_diff(b.end, b.start) > 0 &&
		    (!s->have_sacked || tni_seq_diff(b.end - 1, s->highest_sacked) > 0)) {
			s->highest_sacked = b.end - 1;
			s->have_sacked = true;
		}
	}
	if (s->have_sacked && tni_seq_diff(s->highest_sacked, s->snd_una) < 0)
		s->have_sacked = false;
	if (s->in_recovery && tni_seq_diff(s->snd_una, s->recovery_point) >= 0)
		s->in_recovery = false;
	if (newly && s->rto_undo)
		check_spurious_rto(s, h->ts_echo);
	if (h->echo_hops)
		s->cc.p.hops = h->echo_hops; /* our path, as the peer saw it */
	if (newly) {
		if (h->ts_echo && h->ts_echo <= e->now) {
			uint64_t rtt = e->now - h->ts_echo;
			uint64_t fabric = rtt > h->echo_delay ? rtt - h->echo_delay : rtt;
			tni_rtt_sample(&s->rtt, rtt);
			s->cc.ops->on_rtt(&s->cc, rtt, fabric, e->now);
		}
		s->rtt.backoff = 0;
		s->cc.ops->on_ack(&s->cc, newly, e->now);
		s->last_progress_ns = e->now;
		detect_losses(s);
		complete_messages(s);
		if (s->state == S_DEAD)
			return;
	}
	if (newly)
		s->tlp_out = false; /* the tail moved: a new probe may follow */
	if (s->inflight == 0 && s->lost_pending == 0) {
		tni_timer_stop(&s->rto_timer);
		tni_timer_stop(&s->tlp_timer);
	} else if (newly) {
		tni_timer_arm(&e->wheel, &s->rto_timer, e->now + tni_rtt_timeout(&s->rtt));
		if (s->inflight)
			arm_tlp(s);
	}
	if (s->lost_pending || s->tx_cursor)
		tni_engine_want_tx(e, s);
}

void tni_sender_on_rto(struct tern_session *s)
{
	struct tern_engine *e = s->e;
	uint64_t rto = tni_rtt_timeout(&s->rtt);
	uint64_t oldest = UINT64_MAX;
	bool any = false;
	for (uint32_t psn = s->snd_una; psn != s->snd_nxt; psn++) {
		struct tni_sb_entry *sb = sb_at(s, psn);
		if (sb->state != SB_INFLIGHT)
			continue;
		/* Only what has been out a whole RTO is presumed lost: packets
		 * sent since are still on their way. */
		if (sb->sent_ns + rto <= e->now) {
			mark_lost(s, sb);
			any = true;
		} else if (sb->sent_ns < oldest) {
			oldest = sb->sent_ns;
		}
	}
	if (any) {
		e->stats.rto_fired++;
		if (!s->rto_undo) { /* keep the state from before the first of a series */
			s->cc_before_rto = s->cc;
			s->rto_undo = true;
		}
		s->rto_at = e->now;
		s->rtt.backoff++;
		s->cc.ops->on_timeout(&s->cc, e->now);
		s->in_recovery = true;
		s->recovery_point = s->snd_nxt;
		tni_engine_want_tx(e, s);
	}
	if (s->inflight || s->lost_pending) {
		uint64_t at = any || oldest == UINT64_MAX ? e->now + tni_rtt_timeout(&s->rtt) : oldest + rto;
		tni_timer_arm(&e->wheel, &s->rto_timer, at);
	}
}
