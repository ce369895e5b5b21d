/* Engine and session internals shared by the transport's files. */
#ifndef TERN_SESSION_INTERNAL_H
#define TERN_SESSION_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "ackhold.h"
#include "cc.h"
#include "cookie.h"
#include "../drivers/driver.h"
#include "../util/rng.h"
#include "peers.h"
#include "rack.h"
#include "reasm.h"
#include "rtt.h"
#include "rxtrack.h"
#include "scoreboard.h"
#include "tern/engine.h"
#include "../util/thread_self.h"
#include "timer_wheel.h"
#include "transport.h"
#include "wire.h"

#define TERN_RX_BURST 32
#define TERN_RX_CHUNK 8 /* received packets handled between two transmits */
#define TERN_TX_BATCH 64
#define TERN_TX_BUDGET 64 /* packets one session may send per poll */
/* A lazy-clock driver's idle polls read the clock once in this many, so a
 * timer fires at most this many idle polls late: far less than one tick
 * of the wheel. */
#define TERN_IDLE_CLOCK_POLLS 8
/* A session with nothing sent, received or outstanding this long gives
 * back its scoreboard and reassembly slots (docs/architecture.md, Memory). */
#define TNI_IDLE_RELEASE_NS 100000000ull
#define TNI_HANDSHAKES_PER_POLL 128
/* Accepted sessions not yet confirmed by their client, by default: past
 * them a SYN gets a cookie and no state (docs/protocol.md, "Handshake"). */
#define TNI_SYN_BACKLOG 64

/* A message queued for sending; the user's buffer is read at each
 * (re)transmission, so it is never copied whole. */
struct tni_tx_msg {
	struct tni_tx_msg *next;
	const uint8_t *buf;
	void *cookie;
	uint64_t msg_id;
	uint32_t len;
	uint32_t sent;     /* bytes cut into packets so far */
	uint32_t last_psn; /* valid once segmented */
	bool segmented;
	/* Packets the device may still read from buf (driver attach): the
	 * message is released only when they are gone as well as acked. */
	struct tni_ext_ref ext;
	int status;                 /* while held for ext */
	struct tern_session *sess;  /* while held; NULL once the session is gone */
};

enum rx_slot_state { RX_FREE = 0, RX_PARTIAL = 1, RX_COMPLETE = 2 };

/* A message being reassembled, or held back for in-order delivery. */
struct tni_rx_slot {
	uint64_t msg_id;
	struct tni_reasm *ra; /* the bytes, and which of them arrived */
	uint32_t len;
	uint8_t state;
};

enum session_state { S_SYN_SENT = 1, S_ESTABLISHED = 2, S_DEAD = 3 };

struct tern_session {
	struct tern_engine *e;
	/* Our id (random above the slot bits; docs/protocol.md) and the
	 * peer's: every packet to us carries ours, every packet from the peer
	 * its own. */
	uint64_t sid, peer_sid;
	uint32_t peer_epoch;
	struct tern_addr peer;
	uint8_t state;
	uint16_t steer_port; /* our UDP source port towards the peer, as it asked; 0: the engine's */
	/* TERN_FLAG_NO_CRC when both links check (docs/protocol.md); else 0.
	 * tni_engine_pkt_for puts it in every packet of the session. */
	uint8_t hdr_flags;
	bool on_tx_list, send_syn, send_syn_ack, ack_now, ping;
	/* Server side: accepted, but the client has not answered our SYN_ACK
	 * yet; the upper layer does not know of the session until it does. */
	bool unconfirmed;
	bool wants_hops; /* no hop count from the peer's packets yet (engine.hops_wanted) */
	/* Client side: the cookie the server's COOKIE gave us, sent back in
	 * msg_id of our SYNs; 0: none. */
	uint64_t cookie;
	void *user;
	struct tern_session *tx_next, *zombie_next;
	uint64_t created_ns, last_heard_ns, last_progress_ns;
	/* Liveness is watched (alive_timer) only while someone waits on the
	 * peer: the application (keepalive) or the upper layer (liveness_refs);
	 * silence counts from alive_from at the earliest. */
	bool keepalive;
	uint32_t liveness_refs;
	uint64_t alive_from;

	/* sender */
	uint32_t mss; /* payload per data packet on this path */
	uint32_t isn, peer_rwnd, peer_max_msg;
	uint32_t recovery_point; /* sb.nxt when the last window reduction was made */
	bool in_recovery;
	uint64_t next_msg_id;
	/* What was sent and is not yet acked: psns [sb.una, sb.nxt). */
	struct tni_scoreboard sb;
	struct tni_rack rack;
	/* RACK's reorder timeout: when a packet sent before one delivered is
	 * due to be called lost; 0 when none waits (the loss timer then
	 * serves the tail probe). */
	uint64_t loss_at;
	struct tni_tx_msg *txq_head, *txq_tail, *tx_cursor;
	struct tni_rtt rtt;
	struct tni_cc cc;
	/* Eifel (RFC 3522): the state before the last RTO, kept until an ack
	 * tells whether that timeout was spurious. */
	struct tni_cc cc_before_rto;
	uint64_t rto_at;
	bool rto_undo;
	/* The ack of a data packet held back until the answer to it left
	 * (the engine's acks; ackhold.h): its handle there, 0 when none. */
	uint8_t ack_hold;
	/* Pacing: the next packet may leave at next_send_ns; pace_timer wakes
	 * the session then (the engine's wheel is the pacer, Carousel-style). */
	uint64_t next_send_ns;

	/* receiver: which psns arrived (and the duplicate to report) */
	struct tni_rxtrack rx;
	uint32_t unacked_rx;
	/* An ACK wanted in this poll for in-order data may wait for the next
	 * poll's sends, which carry it (an RPC's next request acks the last
	 * answer): 0 when it may not wait. */
	uint64_t ack_hold_poll;
	struct tni_rx_slot *slots;
	uint64_t deliver_next;
	uint64_t rx_alloc;      /* bytes held in reassembly buffers */
	uint64_t echo_ts, echo_rx_ns;
	uint8_t echo_hops; /* links the peer's latest data packet crossed */

	struct tni_timer rto_timer, ack_timer, alive_timer, pace_timer;
	/* Window memory is held while data flows: allocated at the first send
	 * (scoreboard) or the first message that needs reassembly (slots), and
	 * given back by idle_timer once nothing moved for TNI_IDLE_RELEASE_NS. */
	struct tni_timer idle_timer;
	uint64_t last_data_ns;
	/* RACK's reorder timeout (loss_at), else the tail loss probe (RFC
	 * 8985): a probe timeout after the last send resends the newest packet
	 * in flight once, so a lost tail costs a few round trips, not an RTO.
	 * probes: sent since the last ack of new data. */
	struct tni_timer loss_timer;
	uint8_t probes;
	void *upper_data; /* the upper layer's per-session state (the RPC layer's) */
	/* Filed in the engine's peers table while established: a SYN it
	 * answered, sent again, finds it. */
	struct tni_peer_link link;
	/* Least (our clock at receipt - the peer's send stamp) seen: the
	 * clock offset plus the quickest one-way trip (tni_session_peer_to_local). */
	int64_t peer_off;
};

struct tern_engine {
	struct tern_engine_config cfg;
	uintptr_t owner; /* tni_thread_self() of the creating thread */
	struct tern_driver *drv;
	struct tni_timer_wheel wheel;
	struct tni_rng rng;
	enum tern_driver_kind kind;
	uint32_t idle_polls;
	/* Inside tern_engine_poll, past the upper layer's on_poll: the clock
	 * was read in this poll, and what is queued now leaves in it. */
	bool in_poll;
	/* The driver sends to one peer alone (tni_engine_sole_peer). */
	bool sole_on;
	uint32_t clock_age; /* polls since the clock was last read (lazy_clock) */
	uint64_t polls; /* tern_engine_poll calls so far; the first is 1 */
	/* Handshake packets sent in poll hs_poll: at most TNI_HANDSHAKES_PER_POLL,
	 * so that thousands of connects at once reach the peer in bursts its
	 * socket can hold, not in one that its receive buffer drops. */
	uint64_t hs_poll;
	uint32_t hs_sent;
	struct tni_cookie_jar cookies; /* for SYNs past the backlog */
	uint32_t n_unconfirmed; /* sessions with unconfirmed set */
	uint32_t hops_wanted;   /* sessions with wants_hops: the driver reads TTLs while non-zero */
	uint32_t epoch, mask, mss;
	struct tni_msgbuf_cache bufs; /* message buffers, and reassembly of large messages */
	uint64_t rx_alloc_limit; /* per session: window * mss + 2 * max_msg_size */
	uint64_t now;
	/* The first clock reading after a pause in polling (docs/architecture.md,
	 * "Pauses in polling"): a peer's silence before it is not counted against it. */
	uint64_t resumed_ns;
	uint64_t pause_ns; /* a gap this long between readings is a pause */

	struct tern_session **sessions;
	uint32_t *free_slots; /* a stack of the free indexes of sessions */
	uint32_t n_free;
	struct tni_peers peers; /* established sessions by their peer */
	/* Unpredictable bits for session ids and epochs: getrandom(), drawn
	 * a buffer at a time; the seeded generator when cfg.seed is set. */
	uint64_t secret[32];
	unsigned secret_left;
	uint32_t n_live;

	struct tni_tx_msg *tx_msgs, *tx_free;
	struct tni_tx_msg *tx_held; /* ended, waiting for the device to let go of buf */
	struct tern_session *tx_head, *tx_tail, *zombies;
	struct tni_pkt *txbuf[TERN_TX_BATCH];
	unsigned ntx;
	struct tern_stats stats;
	/* Acks of this poll's data held back until what answers it left,
	 * and those of the last poll until the next send or poll. */
	struct tni_ackhold acks;
	/* The layer above, the only one the transport calls (transport.h). */
	struct tni_upper up;
};

static inline bool tni_on_owner(const struct tern_engine *e)
{
	return tni_thread_self() == e->owner;
}

/* Read the clock into e->now. A gap of pause_ns or more since the last
 * reading means no one polled the engine: it marks a pause. */
static inline void tni_engine_read_clock(struct tern_engine *e)
{
	uint64_t now = e->drv->ops->now_ns(e->drv);
	if (__builtin_expect(now >= e->now + e->pause_ns, 0))
		e->resumed_ns = now;
	e->now = now;
	e->clock_age = 0;
}

/* How long the peer has been silent since t, counting only time the engine
 * was polled since its last pause. */
static inline uint64_t tni_engine_silent_since(const struct tern_engine *e, uint64_t t, uint64_t now)
{
	uint64_t from = t > e->resumed_ns ? t : e->resumed_ns;
	return now > from ? now - from : 0;
}

/* sender.c: hand a message back to its owner (s NULL: the session is gone) */
void tni_sender_msg_finish(struct tern_engine *e, struct tern_session *s, struct tni_tx_msg *m, int status);

/* engine.c */
void tni_engine_want_tx(struct tern_engine *e, struct tern_session *s);
/* A client engine (it accepts no sessions) whose one session s was just
 * established, with a peer that answered from the address we sent to:
 * the driver may take it as its sole peer (ops->sole_peer; the kernel
 * drivers connect their socket, so a send skips the route lookup). s
 * NULL: a session came or went, any peer again. */
void tni_engine_sole_peer(struct tern_engine *e, const struct tern_session *s);
void tni_engine_queue_pkt(struct tern_engine *e, struct tni_pkt *p);
void tni_engine_flush_tx(struct tern_engine *e);
/* A packet to send; NULL when the pool is empty (counted). */
struct tni_pkt *tni_engine_tx_alloc(struct tern_engine *e);
/* A packet with the common fields of s filled in, payload room at data +
 * tni_wire_hdr_len(n_sack); NULL when the pool is empty (counted).
 * Inline, so that h never exists outside registers and the packet. */
static inline struct tni_pkt *tni_engine_pkt_for(struct tern_engine *e, struct tern_session *s,
						   struct tni_wire_hdr *h)
{
	struct tni_pkt *p = tni_engine_tx_alloc(e);
	if (!p)
		return NULL;
	*h = (struct tni_wire_hdr){
		.dst_sid = s->peer_sid,
		.src_sid = s->sid,
		.src_epoch = e->epoch,
		.ack = s->rx.nxt,
		.rwnd = e->cfg.window_pkts,
		.ts = e->now,
		.ts_echo = s->echo_ts,
		.echo_delay = s->echo_ts ? (uint32_t)(e->now - s->echo_rx_ns) : 0,
		.echo_hops = s->echo_hops,
		.flags = s->hdr_flags,
	};
	p->peer = s->peer;
	p->src_port = s->steer_port;
	return p;
}
/* A RST to dst_sid, proving itself with echo: the id the packet it
 * answers was sent to (0 for a SYN). */
void tni_engine_send_rst(struct tern_engine *e, const struct tern_addr *to, uint64_t dst_sid, uint64_t echo);
/* 64 unpredictable bits (see secret). */
uint64_t tni_engine_random(struct tern_engine *e);

/* The low bits of a session id name its slot in the engine's table. */
#define TNI_SID_SLOT_BITS 24
#define TNI_MAX_SESSIONS (1u << 20)
#define TNI_SID_SLOT_MASK ((1ull << TNI_SID_SLOT_BITS) - 1)

/* session.c */
struct tern_session *tni_session_lookup(struct tern_engine *e, uint64_t sid);
void tni_session_on_packet(struct tern_session *s, const struct tni_wire_pkt *p);
void tni_session_on_syn(struct tern_engine *e, const struct tern_addr *from, const struct tni_wire_pkt *p);
void tni_session_kill(struct tern_session *s, int status, bool notify);
/* The session's path hop count arrived: the driver may stop reading TTLs. */
void tni_session_hops_known(struct tern_session *s);
void tni_session_transmit(struct tern_session *s);
void tni_session_free(struct tern_session *s);
/* Data was sent or received: the window memory stays while this goes on. */
static inline void tni_session_data_moved(struct tern_session *s)
{
	s->last_data_ns = s->e->now;
	if (!tni_timer_armed(&s->idle_timer))
		tni_timer_arm(&s->e->wheel, &s->idle_timer, s->e->now + TNI_IDLE_RELEASE_NS);
}

/* sender.c */
void tni_sender_init(struct tern_session *s);
void tni_sender_on_ack(struct tern_session *s, const struct tni_wire_pkt *p);
/* Hold back the ack of data packet p (ackhold.h) if nothing waits on it;
 * false: process it now. */
bool tni_sender_hold_ack(struct tern_session *s, const struct tni_wire_pkt *p);
/* Process the ack held back for s, if any, now. */
void tni_sender_release_ack(struct tern_session *s);
/* Send what window and congestion control allow; true if the budget ran out. */
bool tni_sender_transmit(struct tern_session *s);
void tni_sender_on_rto(struct tern_session *s);
void tni_sender_fail_all(struct tern_session *s, int status);
void tni_sender_on_pace_timer(struct tni_timer *t, uint64_t now);
void tni_sender_on_loss_timer(struct tni_timer *t, uint64_t now);

/* receiver.c */
void tni_receiver_init(struct tern_session *s, uint32_t peer_isn);
void tni_receiver_on_data(struct tern_session *s, const struct tni_wire_pkt *p);
void tni_receiver_send_ack(struct tern_session *s, uint8_t flags);
void tni_receiver_free(struct tern_session *s);
/* Nothing held for reassembly or in-order delivery. */
static inline bool tni_receiver_idle(const struct tern_session *s)
{
	return s->rx_alloc == 0;
}

#endif
