/* The sending half of a session: segmentation, transmission and
 * retransmission, pacing, the timers (RACK's reorder timeout, the tail
 * probe, the RTO, with Eifel's undo) and completion. What was sent is
 * the scoreboard's (scoreboard.h); what is lost, RACK's (rack.h). */
#include <stdlib.h>
#include <string.h>

#include "session_internal.h"
#include "tern/error.h"
#include "tern/session.h"

/* Two ticks of the timer wheel: a shorter probe timeout cannot be kept. */
#define MIN_PTO_NS 2048
/* Tail probes in a row without an answer before the RTO takes over. */
#define MAX_PROBES 4

void tni_sender_init(struct tern_session *s)
{
	tni_sb_init(&s->sb, s->sb.e, s->e->mask, s->isn);
	tni_rack_init(&s->rack, s->isn);
	s->peer_rwnd = 0;
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
	if (!e->tx_free)
		tni_engine_release_acks(e); /* entries wait for acks held back */
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

static void send_data(struct tern_session *s, uint32_t psn, bool last)
{
	struct tern_engine *e = s->e;
	struct tni_sb_entry *sb = tni_sb_at(&s->sb, psn);
	struct tni_tx_msg *m = sb->msg;
	struct tni_wire_hdr h;
	struct tni_pkt *p = tni_engine_pkt_for(e, s, &h);
	if (!p)
		return; /* counted; the packet stays in flight and RTO recovers it */
	h.type = TERN_PKT_DATA;
	h.flags |= last ? TERN_FLAG_ACK_REQ : 0;
	h.psn = psn;
	h.msg_id = m->msg_id;
	h.msg_len = m->len;
	h.frag_off = sb->off;
	h.payload_len = sb->len;
	const uint8_t *payload = m->buf + sb->off;
	/* Large payloads go from the message buffer itself where the driver
	 * can chain it (DPDK external mbufs); the rest is copied, and counted. */
	p->len = TERN_WIRE_HDR_LEN; /* what the attached payload follows */
	if (e->drv->attach_min && sb->len >= e->drv->attach_min && e->drv->ops->attach &&
	    e->drv->ops->attach(e->drv, p, payload, sb->len, &m->ext)) {
		e->stats.tx_attach_bytes += sb->len;
		p->len = (uint32_t)tni_wire_encode_split(p->data, &h, NULL, payload);
	} else {
		memcpy(p->data + TERN_WIRE_HDR_LEN, payload, sb->len);
		e->stats.tx_copy_bytes += sb->len;
		p->len = (uint32_t)tni_wire_encode(p->data, &h, NULL);
	}
	tni_engine_queue_pkt(e, p);
	e->stats.tx_data_pkts++;
	tni_session_data_moved(s);
	/* The data packet carries our cumulative ack; SACK news (and a
	 * duplicate to report) still needs an ACK of its own. */
	if (!tni_rxtrack_holes(&s->rx) && !s->rx.dsack_pending) {
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
	return tni_cc_can_send(&s->cc, tni_sb_inflight(&s->sb));
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

/* While data is in flight one timer guards it, the first of:
 *  - RACK's reorder timeout, when a packet awaits it (the loss timer);
 *  - the tail probe's timeout (RFC 8985, 7.2) from now, for up to
 *    MAX_PROBES probes in a row (the loss timer);
 *  - the RTO, the last resort: once the probes went unanswered, or before
 *    any RTT sample. restart: from now, else only if not running.
 * One timer, not three, is re-armed per send: the wheel's work per round
 * trip does not grow as the RTO floor shrinks.
 * The tail packet of every turn asks for an ack (ACK_REQ), which the peer
 * sends by the end of its next poll instead of after its ack delay, so the
 * probe timeout needs no delayed-ack allowance: a response held back for
 * the 20 us ack delay would otherwise make a probe wait five round trips. */
static void arm_timers(struct tern_session *s, bool restart)
{
	struct tern_engine *e = s->e;
	if (s->loss_at || (s->probes < MAX_PROBES && s->rtt.has_sample && tni_sb_inflight(&s->sb))) {
		uint64_t at = s->loss_at ? s->loss_at : e->now + tni_rack_pto(&s->rtt, MIN_PTO_NS);
		tni_timer_arm(&e->wheel, &s->loss_timer, at);
		tni_timer_stop(&s->rto_timer);
		return;
	}
	tni_timer_stop(&s->loss_timer);
	if (!restart && tni_timer_armed(&s->rto_timer))
		return;
	/* Never sooner than two probe timeouts: it comes after the probes. */
	uint64_t rto = tni_rtt_timeout(&s->rtt);
	if (s->rtt.has_sample) {
		uint64_t pto2 = 2 * tni_rack_pto(&s->rtt, MIN_PTO_NS);
		rto = rto > pto2 ? rto : pto2;
	}
	tni_timer_arm(&e->wheel, &s->rto_timer, e->now + rto);
}

static void detect_losses(struct tern_session *s);

void tni_sender_on_loss_timer(struct tni_timer *t, uint64_t now)
{
	struct tern_session *s = container_of(t, struct tern_session, loss_timer);
	struct tern_engine *e = s->e;
	if (s->state != S_ESTABLISHED)
		return;
	if (s->loss_at) {
		if (s->loss_at > now) {
			arm_timers(s, false);
			return;
		}
		s->loss_at = 0;
		detect_losses(s);
		if (tni_sb_lost(&s->sb))
			tni_engine_want_tx(e, s);
		if (tni_sb_inflight(&s->sb) || tni_sb_lost(&s->sb))
			arm_timers(s, false);
		return;
	}
	if (!tni_sb_inflight(&s->sb) || s->probes >= MAX_PROBES)
		return;
	/* The newest packet in flight: its ack, or a SACK above a hole, is
	 * what lets RACK find what else was lost. */
	uint32_t psn = tni_sb_newest(&s->sb);
	tni_sb_resend(&s->sb, psn, e->now);
	s->probes++;
	e->stats.retransmits++;
	e->stats.tlp_probes++;
	send_data(s, psn, true);
	/* The next probe, or after the last the RTO, counts from this one
	 * (RFC 8985, 7.3). */
	arm_timers(s, true);
	tni_engine_want_tx(e, s); /* flushed in this poll */
}

bool tni_sender_transmit(struct tern_session *s)
{
	struct tern_engine *e = s->e;
	if (s->state != S_ESTABLISHED)
		return false;
	unsigned budget = TERN_TX_BUDGET;
	if (!tni_sb_inflight(&s->sb) && !tni_sb_lost(&s->sb))
		s->last_progress_ns = e->now; /* idle until now: the dead clock starts here */
	uint64_t rate = s->cc.pace_bps;
	while (tni_sb_lost(&s->sb) && can_send_more(s) && budget && pace_allows(s, rate)) {
		uint32_t psn = tni_sb_first_lost(&s->sb);
		tni_sb_resend(&s->sb, psn, e->now);
		budget--;
		e->stats.retransmits++;
		send_data(s, psn, tni_sb_lost(&s->sb) == 0 && !can_send_more(s));
		pace_sent(s, rate, tni_sb_at(&s->sb, psn)->len);
	}
	uint32_t limit = send_limit(s);
	if (s->tx_cursor && !s->sb.e) {
		/* Data flows again: the scoreboard comes back. */
		s->sb.e = calloc(s->e->cfg.window_pkts, sizeof(*s->sb.e));
		if (!s->sb.e) {
			e->stats.tx_no_memory++;
			return true; /* tried again next poll */
		}
	}
	while (s->tx_cursor && budget && tni_sb_outstanding(&s->sb) < limit && can_send_more(s) &&
	       pace_allows(s, rate)) {
		struct tni_tx_msg *m = s->tx_cursor;
		uint32_t frag = m->len - m->sent < s->mss ? m->len - m->sent : s->mss;
		uint32_t psn = tni_sb_push(&s->sb, m, m->sent, (uint16_t)frag, e->now);
		m->sent += frag;
		if (m->sent == m->len) {
			m->segmented = true;
			m->last_psn = psn;
			s->tx_cursor = m->next;
		}
		budget--;
		/* Ask for a prompt ack on the last packet this turn sends: the
		 * peer then acks by the end of its next poll, so the probe timeout
		 * needs no allowance for its ack delay. An RPC ping-pong still sends
		 * no standalone acks: the answer, or the next request, leaves within
		 * that poll and carries the ack. */
		bool last = !s->tx_cursor || !budget || tni_sb_outstanding(&s->sb) >= limit || !can_send_more(s);
		send_data(s, psn, last);
		pace_sent(s, rate, frag);
	}
	/* The probe timeout counts from the last data sent: a turn that sent
	 * only an ack (the peer's probe, answered) must not put it off, or a
	 * lost answer waits twice as long. */
	if (tni_sb_inflight(&s->sb) &&
	    (budget < TERN_TX_BUDGET || (!tni_timer_armed(&s->loss_timer) && !tni_timer_armed(&s->rto_timer))))
		arm_timers(s, false);
	return budget == 0;
}

/* RACK and the 3-packet rule (rack.h); one window reduction per round
 * trip of losses. */
static void detect_losses(struct tern_session *s)
{
	if (!tni_sb_inflight(&s->sb)) {
		s->loss_at = 0; /* nothing left to call lost: a ping-pong's every ack */
		return;
	}
	struct tni_rack_result r;
	tni_rack_detect(&s->rack, &s->sb, &s->rtt, s->e->now, &r);
	s->loss_at = r.timeout_at;
	if (!r.lost)
		return;
	s->e->stats.fast_retransmits++;
	if (!s->in_recovery || tni_seq_diff(r.first_lost, s->recovery_point) >= 0) {
		tni_rack_on_recovery(&s->rack);
		s->cc.ops->on_loss(&s->cc, s->e->now);
		s->in_recovery = true;
		s->recovery_point = s->sb.nxt;
	}
}

static void complete_messages(struct tern_session *s)
{
	while (s->txq_head && s->txq_head->segmented && tni_seq_diff(s->sb.una, s->txq_head->last_psn) > 0) {
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
 * send nothing more again, and let the RTO floor learn how late the peer
 * was, so that its next stall of that length costs no timeout. If a real
 * loss hides behind the undo, RACK or the next RTO still finds it. */
static void check_spurious_rto(struct tern_session *s, uint64_t ts_echo, uint64_t at)
{
	s->rto_undo = false;
	if (!ts_echo || ts_echo >= s->rto_at)
		return;
	s->cc = s->cc_before_rto;
	tni_rtt_on_late(&s->rtt, at - ts_echo, at);
	s->rtt.backoff = 0;
	s->in_recovery = false;
	s->e->stats.rto_spurious++;
	uint32_t psn = tni_sb_first_lost(&s->sb);
	for (uint32_t i = 0, n = tni_sb_lost(&s->sb); i < n; i++) {
		uint32_t next = tni_sb_next(&s->sb, psn);
		if (tni_sb_at(&s->sb, psn)->sent_ns < s->rto_at)
			tni_sb_unlose(&s->sb, psn);
		psn = next;
	}
}

/* An ack: what it says (a), its SACK blocks, and when it came (a->rx_ns,
 * which RTT samples and RACK count to; timers count from now). */
static void apply_ack(struct tern_session *s, const struct tni_ack_info *ai, const struct tni_wire_sack *blocks,
		      unsigned n)
{
	struct tern_engine *e = s->e;
	if (tni_seq_diff(ai->ack, s->sb.nxt) > 0)
		return; /* acks what we never sent */
	uint32_t w = e->cfg.window_pkts;
	s->peer_rwnd = ai->rwnd < w ? ai->rwnd : w;
	/* A duplicate the peer reports: the reordering window learns. */
	if (tni_rack_is_dsack(ai->ack, blocks, n)) {
		e->stats.dsacks++;
		if (tni_rack_dsack_shows_reordering(&s->sb, blocks[0].start))
			tni_rack_on_dsack(&s->rack, s->sb.una, s->sb.nxt);
	}
	uint32_t cum = tni_seq_diff(ai->ack, s->sb.una) > 0 ? ai->ack : s->sb.una;
	struct tni_sb_acked a;
	tni_sb_ack(&s->sb, cum, blocks, n, &a);
	uint64_t at = ai->rx_ns;
	tni_rack_on_ack(&s->rack, &s->sb, &a, ai->ts_echo, s->rtt.has_sample ? s->rtt.min_rtt : 0, at);
	if (s->in_recovery && tni_seq_diff(s->sb.una, s->recovery_point) >= 0)
		s->in_recovery = false;
	if (a.newly && s->rto_undo)
		check_spurious_rto(s, ai->ts_echo, at);
	if (ai->echo_hops)
		s->cc.p.hops = ai->echo_hops; /* our path, as the peer saw it */
	if (a.newly) {
		if (ai->ts_echo && ai->ts_echo <= at) {
			uint64_t rtt = at - ai->ts_echo;
			uint64_t fabric = rtt > ai->echo_delay ? rtt - ai->echo_delay : rtt;
			tni_rtt_sample(&s->rtt, rtt, at);
			s->cc.ops->on_rtt(&s->cc, rtt, fabric, at);
		}
		s->rtt.backoff = 0;
		s->cc.ops->on_ack(&s->cc, a.newly, at);
		s->last_progress_ns = e->now;
		detect_losses(s);
		complete_messages(s);
		if (s->state == S_DEAD)
			return;
		s->probes = 0; /* the tail moved: probes start again */
	}
	if (!tni_sb_inflight(&s->sb) && !tni_sb_lost(&s->sb)) {
		tni_timer_stop(&s->rto_timer);
		tni_timer_stop(&s->loss_timer);
		s->loss_at = 0;
	} else if (a.newly) {
		arm_timers(s, true);
	}
	if (tni_sb_lost(&s->sb) || s->tx_cursor)
		tni_engine_want_tx(e, s);
}

static void ack_info(const struct tni_wire_hdr *h, uint64_t now, struct tni_ack_info *ai)
{
	*ai = (struct tni_ack_info){ .ts_echo = h->ts_echo, .rx_ns = now, .ack = h->ack, .rwnd = h->rwnd,
				     .echo_delay = h->echo_delay, .echo_hops = h->echo_hops };
}

void tni_sender_on_ack(struct tern_session *s, const struct tni_wire_pkt *p)
{
	struct tni_ack_info ai;
	ack_info(&p->h, s->e->now, &ai);
	struct tni_wire_sack blocks[TERN_WIRE_MAX_SACK];
	unsigned n = p->h.n_sack < TERN_WIRE_MAX_SACK ? p->h.n_sack : TERN_WIRE_MAX_SACK;
	for (unsigned i = 0; i < n; i++)
		blocks[i] = tni_wire_sack_get(p, i);
	apply_ack(s, &ai, blocks, n);
}

bool tni_sender_hold_ack(struct tern_session *s, const struct tni_wire_pkt *p)
{
	struct tern_engine *e = s->e;
	/* Held only at a turn of a conversation: the ack covers all we sent
	 * (a request's answer, the next request after an answer), with no
	 * SACK news, nothing queued that the window it opens would let out,
	 * no recovery or timeout under way. A stream's acks, which clock out
	 * its next packets, are processed at once. (An earlier packet's held
	 * ack was processed before this packet: tni_session_on_packet.) */
	if (p->h.ack != s->sb.nxt || p->h.ack == s->sb.una || p->h.n_sack || s->tx_cursor || tni_sb_lost(&s->sb) ||
	    s->in_recovery || s->rto_undo)
		return false;
	struct tni_ack_info ai;
	ack_info(&p->h, e->now, &ai);
	s->ack_hold = tni_ackhold_put(&e->acks, s, &ai);
	return s->ack_hold != 0;
}

void tni_sender_release_ack(struct tern_session *s)
{
	if (!s->ack_hold)
		return;
	struct tni_ack_info ai;
	tni_ackhold_take(&s->e->acks, s->ack_hold, &ai);
	s->ack_hold = 0;
	apply_ack(s, &ai, NULL, 0);
}

void tni_sender_on_rto(struct tern_session *s)
{
	struct tern_engine *e = s->e;
	uint64_t rto = tni_rtt_timeout(&s->rtt);
	uint64_t oldest = UINT64_MAX;
	bool any = false;
	/* Only what has been out a whole RTO is presumed lost: packets sent
	 * since are still on their way. Oldest first, up to the first of them. */
	while (tni_sb_inflight(&s->sb)) {
		uint32_t psn = tni_sb_oldest(&s->sb);
		uint64_t sent = tni_sb_at(&s->sb, psn)->sent_ns;
		if (sent + rto > e->now) {
			oldest = sent;
			break;
		}
		tni_sb_mark_lost(&s->sb, psn, false);
		any = true;
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
		s->recovery_point = s->sb.nxt;
		tni_engine_want_tx(e, s);
	}
	if (tni_sb_inflight(&s->sb) || tni_sb_lost(&s->sb)) {
		uint64_t at = any || oldest == UINT64_MAX ? e->now + tni_rtt_timeout(&s->rtt) : oldest + rto;
		tni_timer_arm(&e->wheel, &s->rto_timer, at);
	}
}
