/* What the transport offers the one layer above it, and the one interface
 * through which it calls up. An engine's sessions belong to exactly one
 * upper layer: the application's callbacks (tern_engine_create) or the
 * RPC layer (tern_rpc_create). The transport never calls anything else
 * above it. rpc/ includes this header and the public ones, nothing else
 * of the transport. */
#ifndef TNI_TRANSPORT_H
#define TNI_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tern/engine.h"
#include "tern/session.h"
#include "timer_wheel.h"

/* The upper layer's ops. on_session, on_message and on_send_done have the
 * signatures of the public tern_callbacks, so the application's callbacks
 * are an upper layer as they stand. */
struct tni_upper {
	/* ESTABLISHED, ACCEPTED; DEAD only for an end the owner is told of
	 * (not tern_session_close, not tern_engine_destroy). */
	void (*on_session)(struct tern_session *s, enum tern_session_event ev, int status, void *arg);
	void (*on_message)(struct tern_session *s, const struct tern_rx_msg *msg, void *arg);
	void (*on_send_done)(struct tern_session *s, void *cookie, int status, void *arg);
	/* Optional: every session's end, told or not, before on_session(DEAD). */
	void (*on_session_end)(struct tern_session *s, int status, void *arg);
	/* Optional: the start of every poll, after its clock reading and
	 * before anything is sent. */
	void (*on_poll)(void *arg);
	/* Optional: the session has been idle (nothing sent, received or
	 * outstanding) for TNI_IDLE_RELEASE_NS and gave back its window
	 * memory; the layer may give back its own per-session state. */
	void (*on_idle)(struct tern_session *s, void *arg);
	void *arg;
	/* The layer sends only through tni_session_send: the public
	 * tern_session_send is refused (TERN_ENOTOWNER) on its sessions,
	 * since the cookies it gets back must all be its own. */
	bool private_sends;
};

/* tern_engine_create with another upper layer than the config's callbacks. */
int tni_engine_create(const struct tern_engine_config *cfg, const struct tni_upper *up, struct tern_engine **out);

/* tern_session_send without the owner check: for the upper layer itself. */
int tni_session_send(struct tern_session *s, const void *buf, size_t len, void *cookie);

/* The session can still send and receive (not ended). */
bool tni_session_open(const struct tern_session *s);
/* The upper layer waits on the peer (an RPC call outstanding): hold, and
 * the session watches the peer's liveness as if keepalive were on, until
 * as many releases. */
void tni_session_hold_liveness(struct tern_session *s, bool hold);
struct tern_engine *tni_session_engine(const struct tern_session *s);
/* One pointer per session for the upper layer's own state. */
void *tni_session_upper_data(const struct tern_session *s);
void tni_session_set_upper_data(struct tern_session *s, void *data);
/* Map a time on the peer's clock (a deadline it sent) to ours: the least
 * (our receive time - its send stamp) seen on the session, which is the
 * clock offset plus the quickest one-way trip. Time spent queued or lost
 * on the way is therefore not credited to the peer. */
uint64_t tni_session_peer_to_local(const struct tern_session *s, uint64_t peer_ns);
/* The peer's clock now, estimated the same way (what we tell it). */
uint64_t tni_session_local_to_peer(const struct tern_session *s, uint64_t local_ns);

/* The calling thread created e. */
bool tni_engine_on_owner(const struct tern_engine *e);
/* The engine's clock as of its last reading (the current poll's). */
uint64_t tni_engine_clock(const struct tern_engine *e);
/* Inside a poll, past on_poll: tni_engine_clock is this poll's reading,
 * and a message queued now leaves before the poll ends. */
bool tni_engine_in_poll(const struct tern_engine *e);
/* Timers on the engine's wheel (owner thread only). */
void tni_engine_timer_arm(struct tern_engine *e, struct tni_timer *t, uint64_t at_ns);
/* Read the clock, run the upper layer's on_poll, and send what sessions
 * have queued now rather than at the next poll: for a caller that will
 * only wait next (a synchronous call). */
void tni_engine_transmit_now(struct tern_engine *e);
/* Process now the acks held back until the answers they came with left
 * (docs/architecture.md, "Acks held back"): for an upper layer out of a
 * resource that an ack gives back (a call slot, a request entry), before
 * it gives up. May call on_send_done, also from within on_message. */
void tni_engine_release_acks(struct tern_engine *e);
/* Count a message the upper layer could not parse (stats.bad_header). */
void tni_engine_count_bad_message(struct tern_engine *e);

#endif
