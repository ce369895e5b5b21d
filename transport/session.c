/* Session lifecycle: handshake, dispatch of packets, liveness, teardown. */
#include <stdlib.h>
#include <string.h>

#include "session_internal.h"
#include "tern/error.h"
#include "tern/session.h"

#define container_of(p, type, member) ((type *)((char *)(p) - offsetof(type, member)))

struct tern_session *tni_session_lookup(struct tern_engine *e, uint64_t sid)
{
	uint32_t idx = (uint32_t)(sid & TNI_SID_SLOT_MASK) - 1;
	if (idx >= e->cfg.max_sessions)
		return NULL;
	struct tern_session *s = e->sessions[idx];
	return s && s->sid == sid ? s : NULL;
}

static void on_rto_timer(struct tni_timer *t, uint64_t now);
static void on_ack_timer(struct tni_timer *t, uint64_t now);
static void on_alive_timer(struct tni_timer *t, uint64_t now);
static void on_idle_timer(struct tni_timer *t, uint64_t now);

static uint64_t keepalive_interval(const struct tern_engine *e)
{
	return e->cfg.dead_after_ns / 4;
}

/* The largest payload of a data packet to peer by this end's route: the
 * driver's path MTU (at most the one packet buffers hold) less the IP
 * (20 bytes more on IPv6), UDP and tern headers. The handshake then
 * lowers it to the peer's if that is smaller. */
/* How long this end's engine may go without a poll: its driver's figure
 * (drivers/driver.h, min_rto_ns), what it asks the peer to wait. */
static uint64_t own_stall(const struct tern_engine *e)
{
	return e->drv->min_rto_ns ? e->drv->min_rto_ns : TNI_COARSE_RTO_NS;
}

static uint32_t path_mss(struct tern_engine *e, const struct tern_addr *peer)
{
	uint32_t mtu = e->drv->ops->path_mtu ? e->drv->ops->path_mtu(e->drv, peer) : 0;
	if (!mtu || mtu > e->drv->mtu)
		mtu = e->drv->mtu;
	if (mtu < TNI_MIN_PATH_MTU)
		mtu = TNI_MIN_PATH_MTU;
	return mtu - TERN_WIRE_OUTER_V4 - TERN_WIRE_HDR_LEN - (peer->family == TERN_AF_INET6 ? 20 : 0);
}

/* The TTL of received datagrams costs the kernel drivers a control
 * message each, so they read it only while a session still waits for its
 * path's hop count (Swift's topology scaling, the peer's as much as ours:
 * we echo it). A path's hop count is taken from a session's first packets. */
static void want_hops(struct tern_session *s, bool on)
{
	struct tern_engine *e = s->e;
	if (!e->drv->ops->read_hops || s->wants_hops == on)
		return;
	s->wants_hops = on;
	if (on ? e->hops_wanted++ == 0 : --e->hops_wanted == 0)
		e->drv->ops->read_hops(e->drv, on);
}

void tni_session_hops_known(struct tern_session *s)
{
	want_hops(s, false);
}

static struct tern_session *session_new(struct tern_engine *e, const struct tern_addr *peer)
{
	if (!e->n_free)
		return NULL;
	uint32_t idx = e->free_slots[e->n_free - 1];
	struct tern_session *s = calloc(1, sizeof(*s));
	uint32_t w = e->cfg.window_pkts;
	if (s)
		s->rx.bits = calloc(w / 64 ? w / 64 : 1, sizeof(uint64_t));
	if (!s || !s->rx.bits) {
		if (s)
			free(s->rx.bits);
		free(s);
		return NULL;
	}
	s->e = e;
	/* Random above the slot: nobody off the path learns or guesses it
	 * from the ids of other sessions (docs/protocol.md). */
	s->sid = (tni_engine_random(e) & ~TNI_SID_SLOT_MASK) | (idx + 1);
	if (!(s->sid >> TNI_SID_SLOT_BITS))
		s->sid |= 1ull << TNI_SID_SLOT_BITS;
	s->peer = *peer;
	s->mss = path_mss(e, peer);
	s->isn = (uint32_t)tni_rng_next(&e->rng);
	s->created_ns = s->last_heard_ns = s->last_progress_ns = e->now;
	s->peer_off = INT64_MAX;
	tni_timer_init(&s->rto_timer, on_rto_timer);
	tni_timer_init(&s->ack_timer, on_ack_timer);
	tni_timer_init(&s->alive_timer, on_alive_timer);
	tni_timer_init(&s->pace_timer, tni_sender_on_pace_timer);
	tni_timer_init(&s->loss_timer, tni_sender_on_loss_timer);
	tni_timer_init(&s->idle_timer, on_idle_timer);
	/* The floor follows the path: this end's until the peer's handshake
	 * says what the other end needs. */
	uint64_t floor = e->cfg.min_rto_ns ? e->cfg.min_rto_ns : own_stall(e);
	tni_rtt_init(&s->rtt, e->cfg.init_rto_ns, floor < e->cfg.max_rto_ns ? floor : e->cfg.max_rto_ns,
		     e->cfg.max_rto_ns);
	struct tni_cc_params cp = { w, s->mss + TERN_WIRE_HDR_LEN + TERN_WIRE_OUTER_V4, e->cfg.link_bps,
				     e->cfg.cc_target_ns, e->cfg.cc_hop_ns, 0 };
	tni_cc_init(&s->cc, e->cfg.cc, &cp);
	tni_sender_init(s);
	e->sessions[idx] = s;
	e->n_free--;
	e->n_live++;
	tni_engine_sole_peer(e, NULL); /* a second session: its peer may be another */
	want_hops(s, true);
	e->stats.sessions_opened++;
	return s;
}

int tern_session_connect(struct tern_engine *e, const struct tern_addr *peer, struct tern_session **out)
{
	if (!e || !peer || !out)
		return TERN_EINVAL;
	if (!tni_on_owner(e))
		return TERN_EWRONGTHREAD;
	tni_engine_read_clock(e);
	struct tern_session *s = session_new(e, peer);
	if (!s)
		return e->n_live >= e->cfg.max_sessions ? TERN_ENOSESSION : TERN_ENOMEM;
	s->state = S_SYN_SENT;
	s->send_syn = true;
	tni_engine_want_tx(e, s);
	tni_timer_arm(&e->wheel, &s->rto_timer, e->now + tni_rtt_timeout(&s->rtt));
	*out = s;
	return 0;
}

static void send_handshake(struct tern_session *s, uint8_t type)
{
	struct tern_engine *e = s->e;
	struct tni_wire_hdr h;
	struct tni_pkt *p = tni_engine_pkt_for(e, s, &h);
	if (!p)
		return;
	h.type = type;
	h.flags = 0; /* a handshake always has its CRC: the peer's caps may be unknown */
	if (type == TERN_PKT_SYN) {
		h.dst_sid = 0; /* the server's id is what the SYN asks for */
		h.msg_id = s->cookie;
	}
	h.payload_len = TERN_WIRE_HANDSHAKE_LEN;
	uint64_t stall = own_stall(e);
	struct tni_wire_handshake hs = { s->isn, e->cfg.window_pkts, e->cfg.max_msg_size, 0,
					  tni_driver_rx_checked(e->drv, &s->peer) ? TERN_CAP_LINK_CHECKED : 0, s->mss,
					  (uint32_t)((stall + 999) / 1000 < UINT32_MAX ? (stall + 999) / 1000 : UINT32_MAX) };
	if (e->drv->ops->steer_port)
		hs.steer_port = e->drv->ops->steer_port(e->drv, &s->peer);
	tni_wire_handshake_put(p->data + TERN_WIRE_HDR_LEN, &hs);
	p->len = (uint32_t)tni_wire_encode(p->data, &h, NULL);
	tni_engine_queue_pkt(e, p);
}

/* The RTO floor of a session: the configured one, else the larger of what
 * the two ends need (docs/architecture.md, "Timers"). */
static uint64_t rto_floor(const struct tern_engine *e, uint32_t peer_stall_us)
{
	if (e->cfg.min_rto_ns)
		return e->cfg.min_rto_ns;
	uint64_t own = own_stall(e), peer = (uint64_t)peer_stall_us * 1000;
	return own > peer ? own : peer; /* tni_rtt_set_floor caps it at max_rto */
}

/* Someone now waits on the peer: its silence counts from now. */
static void liveness_start(struct tern_session *s)
{
	struct tern_engine *e = s->e;
	s->alive_from = e->now;
	if (!tni_timer_armed(&s->alive_timer))
		tni_timer_arm(&e->wheel, &s->alive_timer, e->now + keepalive_interval(e));
}

static void establish(struct tern_session *s, const struct tni_wire_pkt *p)
{
	struct tni_wire_handshake hs = tni_wire_handshake_get(p->payload);
	s->peer_sid = p->h.src_sid;
	s->peer_epoch = p->h.src_epoch;
	s->peer_rwnd = hs.window < s->e->cfg.window_pkts ? hs.window : s->e->cfg.window_pkts;
	s->peer_max_msg = hs.max_msg;
	s->steer_port = hs.steer_port;
	/* The path MTU both ends agree on: the smaller. A peer's figure below
	 * what any IP path carries is not believed (it would only make us
	 * send its data in crumbs). */
	uint32_t floor_mss = TNI_MIN_PATH_MTU - TERN_WIRE_OUTER_V4 - TERN_WIRE_HDR_LEN - 20;
	uint32_t peer_mss = hs.mss > floor_mss ? hs.mss : floor_mss;
	if (peer_mss < s->mss) {
		s->mss = peer_mss;
		s->cc.p.mss = s->mss + TERN_WIRE_HDR_LEN + TERN_WIRE_OUTER_V4;
	}
	/* The CRC goes only where our link checks what we send and the peer
	 * can tell that its link checked what it got. */
	s->hdr_flags = tni_driver_tx_checked(s->e->drv, &s->peer) && (hs.caps & TERN_CAP_LINK_CHECKED) ? TERN_FLAG_NO_CRC
													 : 0;
	tni_receiver_init(s, hs.isn);
	tni_rtt_set_floor(&s->rtt, rto_floor(s->e, hs.stall_us));
	s->link = (struct tni_peer_link){ .addr = s->peer, .peer_sid = s->peer_sid, .epoch = s->peer_epoch };
	tni_peers_add(&s->e->peers, &s->link); /* if full or a duplicate, not filed: removal then does nothing */
	s->state = S_ESTABLISHED;
	if (s->keepalive || s->liveness_refs)
		liveness_start(s);
}

/* A SYN from a known address with a new epoch makes that address's other
 * sessions ask for an answer: the peer may have restarted. */
#define RESTART_SWEEP_NS 10000000ull

static void ping_old(struct tni_peer_link *l, void *arg)
{
	struct tern_session *s = container_of(l, struct tern_session, link);
	if (s->state != S_ESTABLISHED)
		return;
	s->ping = true;
	tni_engine_want_tx(arg, s);
}

/* ---- SYN cookies (docs/protocol.md, "Handshake") ---- */

/* The answer that keeps nothing: smaller than the SYN it answers, so a
 * forged source gains no amplification. */
static void send_cookie(struct tern_engine *e, const struct tern_addr *to, const struct tni_wire_pkt *p)
{
	struct tni_pkt *pk = tni_engine_tx_alloc(e);
	if (!pk)
		return;
	struct tni_wire_hdr h = { .type = TERN_PKT_COOKIE, .dst_sid = p->h.src_sid, .src_epoch = e->epoch,
				   .ts = e->now,
				   .msg_id = tni_cookie_make(&e->cookies, e->now, to, p->h.src_sid, p->h.src_epoch) };
	pk->len = (uint32_t)tni_wire_encode(pk->data, &h, NULL);
	pk->peer = *to;
	tni_engine_queue_pkt(e, pk);
	e->stats.syn_cookies_sent++;
}

/* The client answered our SYN_ACK: its address is real, and the upper
 * layer learns of the session now. */
static void confirm(struct tern_session *s)
{
	struct tern_engine *e = s->e;
	s->unconfirmed = false;
	e->n_unconfirmed--;
	tni_timer_cancel(&e->wheel, &s->rto_timer);
	s->rtt.backoff = 0;
	if (e->up.on_session)
		e->up.on_session(s, TERN_SESSION_ACCEPTED, 0, e->up.arg);
}


void tni_session_on_syn(struct tern_engine *e, const struct tern_addr *from, const struct tni_wire_pkt *p)
{
	/* A retransmitted SYN finds its session (engine.peers). A SYN from
	 * the same address with a new epoch suggests the peer restarted, but
	 * anyone can send that: we only ping that address's other sessions,
	 * once per new epoch and at most every RESTART_SWEEP_NS. A live peer
	 * answers; a restarted one answers with a RST that echoes our id,
	 * which only the true peer knew. */
	struct tni_peer_link *l = tni_peers_find(&e->peers, from, p->h.src_sid);
	if (l && l->epoch == p->h.src_epoch) {
		struct tern_session *s = container_of(l, struct tern_session, link);
		s->send_syn_ack = true;
		tni_engine_want_tx(e, s);
		return;
	}
	tni_peers_sweep(&e->peers, from, p->h.src_epoch, e->now, RESTART_SWEEP_NS, ping_old, e);
	if (!e->cfg.accept) {
		tni_engine_send_rst(e, from, p->h.src_sid, 0);
		return;
	}
	/* A good cookie proves the source got our COOKIE: it is real. Any
	 * other SYN may be forged, and only syn_backlog of those get state. */
	bool proven = false;
	if (p->h.msg_id) {
		proven = tni_cookie_check(&e->cookies, e->now, from, p->h.src_sid, p->h.src_epoch, p->h.msg_id);
		if (proven)
			e->stats.syn_cookies_ok++;
		else
			e->stats.syn_cookies_bad++;
	}
	if (!proven && e->n_unconfirmed >= e->cfg.syn_backlog) {
		send_cookie(e, from, p);
		return;
	}
	struct tern_session *s = session_new(e, from);
	if (!s) {
		tni_engine_send_rst(e, from, p->h.src_sid, 0);
		return;
	}
	establish(s, p);
	s->last_heard_ns = e->now;
	s->send_syn_ack = true;
	tni_engine_want_tx(e, s);
	if (proven) {
		if (e->up.on_session)
			e->up.on_session(s, TERN_SESSION_ACCEPTED, 0, e->up.arg);
		return;
	}
	s->unconfirmed = true;
	e->n_unconfirmed++;
	tni_timer_arm(&e->wheel, &s->rto_timer, e->now + tni_rtt_timeout(&s->rtt));
}

static void on_rst(struct tern_session *s, const struct tni_wire_pkt *p)
{
	/* The RST echoes the id the packet it answers went to: 0 in our SYN,
	 * the peer's afterwards. Its destination, our id, was already right;
	 * the echo shows it answers a packet of this session. */
	uint64_t expect = s->state == S_SYN_SENT ? 0 : s->peer_sid;
	if (p->h.src_sid != expect) {
		s->e->stats.bad_peer++;
		return;
	}
	bool restarted = s->state == S_ESTABLISHED && p->h.src_epoch != s->peer_epoch;
	tni_session_kill(s, restarted ? TERN_EPEERRESTART : TERN_ECLOSED, true);
}

void tni_session_on_packet(struct tern_session *s, const struct tni_wire_pkt *p)
{
	struct tern_engine *e = s->e;
	if (s->state == S_DEAD)
		return;
	if (s->ack_hold) { /* an earlier packet's ack goes first */
		tni_sender_release_ack(s);
		if (s->state == S_DEAD)
			return;
	}
	if (p->h.type == TERN_PKT_RST) {
		on_rst(s, p);
		return;
	}
	/* Our id was right (the lookup); the sender must be the peer of the
	 * handshake, in the incarnation we know. */
	if (s->state == S_ESTABLISHED && (p->h.src_sid != s->peer_sid || p->h.src_epoch != s->peer_epoch)) {
		e->stats.bad_peer++;
		return;
	}
	if (s->state == S_SYN_SENT) {
		if (p->h.type == TERN_PKT_COOKIE) {
			/* The server kept no state: ask again, with its cookie. */
			if (p->h.msg_id != s->cookie) {
				s->cookie = p->h.msg_id;
				s->send_syn = true;
				tni_engine_want_tx(e, s);
			}
			return;
		}
		if (p->h.type != TERN_PKT_SYN_ACK)
			return; /* the peer retransmits once we are established */
		establish(s, p);
		/* An answer from another address than we sent to (a server with
		 * several): the socket must keep taking any. */
		if (p->from && tern_addr_equal(p->from, &s->peer))
			tni_engine_sole_peer(e, s);
		s->send_syn = false;
		s->cookie = 0;
		s->last_heard_ns = e->now;
		tni_timer_cancel(&e->wheel, &s->rto_timer);
		if (e->up.on_session)
			e->up.on_session(s, TERN_SESSION_ESTABLISHED, 0, e->up.arg);
		/* Confirm at once, so the server hears from us even if we are silent. */
		s->ack_now = true;
		tni_engine_want_tx(e, s);
		return;
	}
	if (__builtin_expect(s->unconfirmed, 0)) {
		confirm(s);
		if (s->state == S_DEAD)
			return; /* the upper layer refused it */
	}
	s->last_heard_ns = e->now;
	int64_t off = (int64_t)(e->now - p->h.ts);
	if (off < s->peer_off)
		s->peer_off = off;
	switch (p->h.type) {
	case TERN_PKT_SYN_ACK: /* our confirmation was lost */
		s->ack_now = true;
		tni_engine_want_tx(e, s);
		break;
	case TERN_PKT_DATA:
		if (!tni_sender_hold_ack(s, p))
			tni_sender_on_ack(s, p);
		if (s->state == S_ESTABLISHED)
			tni_receiver_on_data(s, p);
		break;
	case TERN_PKT_ACK:
		tni_sender_on_ack(s, p);
		if (p->h.flags & TERN_FLAG_ACK_REQ) {
			s->ack_now = true;
			tni_engine_want_tx(e, s);
		}
		break;
	case TERN_PKT_CLOSE:
		tni_session_kill(s, TERN_ECLOSED, true);
		break;
	default:
		break;
	}
}

static bool handshake_room(struct tern_engine *e)
{
	if (e->hs_poll != e->polls) {
		e->hs_poll = e->polls;
		e->hs_sent = 0;
	}
	return e->hs_sent++ < TNI_HANDSHAKES_PER_POLL;
}

void tni_session_transmit(struct tern_session *s)
{
	struct tern_engine *e = s->e;
	if (s->state == S_DEAD)
		return;
	if ((s->send_syn || s->send_syn_ack) && !handshake_room(e)) {
		tni_engine_want_tx(e, s); /* the next poll */
		return;
	}
	if (s->send_syn) {
		send_handshake(s, TERN_PKT_SYN);
		if (s->state == S_SYN_SENT)
			return;
	}
	if (s->send_syn_ack) {
		s->send_syn_ack = false;
		send_handshake(s, TERN_PKT_SYN_ACK);
	}
	if (tni_sender_transmit(s))
		tni_engine_want_tx(e, s);
	/* One flag at a time: a test of both compiled to one 16-bit load over
	 * ack_now, just stored as a byte, which store forwarding cannot serve:
	 * a stall on every transmit. */
	if (s->ping) {
		tni_receiver_send_ack(s, TERN_FLAG_ACK_REQ);
		s->ping = false;
	} else if (s->ack_now) {
		if (s->ack_hold_poll == e->polls)
			tni_engine_want_tx(e, s); /* next poll, unless data takes it first */
		else
			tni_receiver_send_ack(s, 0);
	}
}

void tni_session_kill(struct tern_session *s, int status, bool notify)
{
	struct tern_engine *e = s->e;
	/* What the peer acked is done, whatever ends the session (processing
	 * it may end it: the upper layer's on_send_done may close it). */
	tni_sender_release_ack(s);
	if (s->state == S_DEAD)
		return;
	s->state = S_DEAD;
	want_hops(s, false);
	/* The upper layer never heard of an unconfirmed session. */
	bool known = !s->unconfirmed;
	if (s->unconfirmed) {
		s->unconfirmed = false;
		e->n_unconfirmed--;
	}
	tni_timer_cancel(&e->wheel, &s->rto_timer);
	tni_timer_cancel(&e->wheel, &s->ack_timer);
	tni_timer_cancel(&e->wheel, &s->alive_timer);
	tni_timer_cancel(&e->wheel, &s->pace_timer);
	tni_timer_cancel(&e->wheel, &s->loss_timer);
	tni_timer_cancel(&e->wheel, &s->idle_timer);
	uint32_t idx = (uint32_t)(s->sid & TNI_SID_SLOT_MASK) - 1;
	e->sessions[idx] = NULL;
	e->free_slots[e->n_free++] = idx;
	e->n_live--;
	tni_engine_sole_peer(e, NULL);
	tni_peers_remove(&e->peers, &s->link);
	e->stats.sessions_dead++;
	tni_sender_fail_all(s, status);
	tni_receiver_free(s);
	if (known && e->up.on_session_end)
		e->up.on_session_end(s, status, e->up.arg);
	if (notify && known && e->up.on_session)
		e->up.on_session(s, TERN_SESSION_DEAD, status, e->up.arg);
	/* Freed at the end of the poll: callers up the stack may still hold s. */
	s->zombie_next = e->zombies;
	e->zombies = s;
}

void tni_session_free(struct tern_session *s)
{
	for (struct tni_tx_msg *m = s->e->tx_held; m; m = m->next)
		if (m->sess == s)
			m->sess = NULL;
	free(s->sb.e);
	free(s->slots);
	free(s->rx.bits);
	free(s);
}

int tern_session_close(struct tern_session *s)
{
	if (!s)
		return TERN_EINVAL;
	struct tern_engine *e = s->e;
	if (!tni_on_owner(e))
		return TERN_EWRONGTHREAD;
	if (s->state == S_DEAD)
		return 0;
	if (s->state == S_ESTABLISHED) {
		struct tni_wire_hdr h;
		struct tni_pkt *p = tni_engine_pkt_for(e, s, &h);
		if (p) {
			h.type = TERN_PKT_CLOSE;
			p->len = (uint32_t)tni_wire_encode(p->data, &h, NULL);
			tni_engine_queue_pkt(e, p);
			tni_engine_flush_tx(e);
		}
	}
	tni_session_kill(s, TERN_ECLOSED, false);
	return 0;
}

static void on_rto_timer(struct tni_timer *t, uint64_t now)
{
	struct tern_session *s = container_of(t, struct tern_session, rto_timer);
	struct tern_engine *e = s->e;
	if (s->unconfirmed) {
		/* Our SYN_ACK or the client's answer was lost, or the SYN was
		 * forged. An established client with nothing to send says no
		 * more unless asked, so ask until dead_after: backing off, and
		 * at least every keepalive interval (a longer gap in polling
		 * would read as a pause, and the wait would start over). Only
		 * syn_backlog sessions are ever unconfirmed, which bounds what
		 * a flood of forged SYNs can make us send. */
		uint64_t quiet = tni_engine_silent_since(e, s->created_ns, now);
		if (quiet >= e->cfg.dead_after_ns) {
			e->stats.syn_unconfirmed++;
			tni_session_kill(s, TERN_EPEERDEAD, false);
			return;
		}
		s->rtt.backoff++;
		s->send_syn_ack = true;
		tni_engine_want_tx(e, s);
		uint64_t next = s->rtt.rto, most = keepalive_interval(e);
		for (unsigned i = 0; i < s->rtt.backoff && next < most; i++)
			next *= 2;
		next = now + (next < most ? next : most);
		uint64_t end = now + (e->cfg.dead_after_ns - quiet);
		tni_timer_arm(&e->wheel, &s->rto_timer, next < end ? next : end);
		return;
	}
	if (s->state == S_SYN_SENT) {
		if (tni_engine_silent_since(e, s->created_ns, now) >= e->cfg.dead_after_ns) {
			tni_session_kill(s, TERN_EPEERDEAD, true);
			return;
		}
		s->rtt.backoff++;
		tni_engine_want_tx(e, s);
		tni_timer_arm(&e->wheel, &s->rto_timer, now + tni_rtt_timeout(&s->rtt));
		return;
	}
	if (tni_engine_silent_since(e, s->last_progress_ns, now) >= e->cfg.dead_after_ns) {
		tni_session_kill(s, TERN_EPEERDEAD, true);
		return;
	}
	tni_sender_on_rto(s);
}

static void on_ack_timer(struct tni_timer *t, uint64_t now)
{
	(void)now;
	struct tern_session *s = container_of(t, struct tern_session, ack_timer);
	s->ack_now = true;
	tni_engine_want_tx(s->e, s);
}

static void on_alive_timer(struct tni_timer *t, uint64_t now)
{
	struct tern_session *s = container_of(t, struct tern_session, alive_timer);
	struct tern_engine *e = s->e;
	if (!s->keepalive && !s->liveness_refs)
		return; /* nobody waits on the peer: no probes, no timer */
	uint64_t from = s->last_heard_ns > s->alive_from ? s->last_heard_ns : s->alive_from;
	uint64_t quiet = tni_engine_silent_since(e, from, now);
	if (quiet >= e->cfg.dead_after_ns) {
		tni_session_kill(s, TERN_EPEERDEAD, true);
		return;
	}
	if (quiet >= keepalive_interval(e)) {
		s->ping = true; /* ask for an answer so silence means death */
		tni_engine_want_tx(e, s);
	}
	tni_timer_arm(&e->wheel, &s->alive_timer, now + keepalive_interval(e));
}

/* Nothing moved for TNI_IDLE_RELEASE_NS: the window memory goes back. */
static void on_idle_timer(struct tni_timer *t, uint64_t now)
{
	struct tern_session *s = container_of(t, struct tern_session, idle_timer);
	struct tern_engine *e = s->e;
	if (s->state == S_DEAD)
		return;
	uint64_t quiet_until = s->last_data_ns + TNI_IDLE_RELEASE_NS;
	bool busy = s->sb.una != s->sb.nxt || s->txq_head || !tni_receiver_idle(s);
	if (quiet_until > now || busy) {
		tni_timer_arm(&e->wheel, &s->idle_timer, quiet_until > now ? quiet_until : now + TNI_IDLE_RELEASE_NS);
		return;
	}
	free(s->sb.e);
	s->sb.e = NULL;
	free(s->slots);
	s->slots = NULL;
	e->stats.sessions_idled++;
	if (e->up.on_idle)
		e->up.on_idle(s, e->up.arg);
}

int tern_session_set_keepalive(struct tern_session *s, bool on)
{
	if (!s)
		return TERN_EINVAL;
	if (!tni_on_owner(s->e))
		return TERN_EWRONGTHREAD;
	if (s->state == S_DEAD)
		return TERN_ECLOSED;
	bool was = s->keepalive || s->liveness_refs;
	s->keepalive = on;
	if (on && !was && s->state == S_ESTABLISHED)
		liveness_start(s);
	return 0;
}

void tni_session_hold_liveness(struct tern_session *s, bool hold)
{
	if (!hold) {
		if (s->liveness_refs)
			s->liveness_refs--;
		return;
	}
	if (s->liveness_refs++ == 0 && !s->keepalive && s->state == S_ESTABLISHED)
		liveness_start(s);
}

bool tni_session_open(const struct tern_session *s)
{
	return s->state != S_DEAD;
}

struct tern_engine *tni_session_engine(const struct tern_session *s)
{
	return s->e;
}

void *tni_session_upper_data(const struct tern_session *s)
{
	return s->upper_data;
}

void tni_session_set_upper_data(struct tern_session *s, void *data)
{
	s->upper_data = data;
}

uint64_t tni_session_peer_to_local(const struct tern_session *s, uint64_t peer_ns)
{
	/* No packet timed yet: the peer's clock taken as ours. */
	return s->peer_off == INT64_MAX ? peer_ns : peer_ns + (uint64_t)s->peer_off;
}

uint64_t tni_session_local_to_peer(const struct tern_session *s, uint64_t local_ns)
{
	return s->peer_off == INT64_MAX ? local_ns : local_ns - (uint64_t)s->peer_off;
}

void tern_session_set_user(struct tern_session *s, void *user)
{
	if (s)
		s->user = user;
}

void *tern_session_user(const struct tern_session *s)
{
	return s ? s->user : NULL;
}

int tern_session_peer(const struct tern_session *s, struct tern_addr *out)
{
	if (!s || !out)
		return TERN_EINVAL;
	*out = s->peer;
	return 0;
}

uint64_t tern_session_srtt(const struct tern_session *s)
{
	return s && s->rtt.has_sample ? s->rtt.srtt : 0;
}

unsigned tern_session_path_hops(const struct tern_session *s)
{
	return s ? s->cc.p.hops : 0;
}

uint32_t tern_session_mss(const struct tern_session *s)
{
	return s ? s->mss : 0;
}

uint16_t tern_session_steer_port(const struct tern_session *s)
{
	return s ? s->steer_port : 0;
}

bool tern_session_link_checked(const struct tern_session *s)
{
	return s && (s->hdr_flags & TERN_FLAG_NO_CRC);
}
