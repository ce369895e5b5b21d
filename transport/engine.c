/* The per-core engine: receive burst, timers, transmit, all on one thread. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "../util/sized.h"
#include "session_internal.h"
#include "tern/error.h"
#include "tern/session.h"
#include "tern/udp.h"

#define DEFAULT_MAX_MSG (64u << 20)

void tern_engine_config_init_sized(struct tern_engine_config *cfg, size_t size)
{
	if (!cfg || size < sizeof(uint32_t))
		return;
	struct tern_engine_config c = { 0 };
	c.size = (uint32_t)tni_sized_common(size, sizeof(c));
	c.poll_mode = TERN_POLL_BUSY;
	c.spin_polls = 2000;
	c.max_block_ns = 10000000;
	c.window_pkts = 256;
	c.max_msg_size = DEFAULT_MAX_MSG;
	c.max_sessions = 1024;
	c.max_tx_msgs = 4096;
	c.cc = TERN_CC_AIMD;
	c.link_bps = 10000000000ull;
	c.cc_target_ns = 25000;
	c.cc_hop_ns = 1000;
	c.delivery = TERN_DELIVER_IN_ORDER;
	c.accept = true;
	c.init_rto_ns = 1000000;
	c.min_rto_ns = 0; /* the path's */
	c.max_rto_ns = 100000000;
	c.dead_after_ns = 2000000000ull;
	c.ack_delay_ns = 20000;
	c.syn_backlog = TNI_SYN_BACKLOG;
	/* Only the part the application knows of: its struct may be smaller. */
	memcpy(cfg, &c, c.size);
}

static int check_config(const struct tern_engine_config *c)
{
	if (c->window_pkts < 16 || c->window_pkts > 32768 || (c->window_pkts & (c->window_pkts - 1)))
		return TERN_EINVAL;
	if (c->max_sessions == 0 || c->max_sessions > TNI_MAX_SESSIONS || c->max_tx_msgs == 0)
		return TERN_EINVAL;
	if (!tern_cc_name(c->cc) || c->delivery > TERN_DELIVER_AS_COMPLETED || c->poll_mode > TERN_POLL_ADAPTIVE)
		return TERN_EINVAL;
	if (c->link_bps < 1000000 || c->cc_target_ns == 0)
		return TERN_EINVAL;
	if (c->max_rto_ns < c->min_rto_ns || c->max_rto_ns < c->init_rto_ns || c->init_rto_ns == 0 ||
	    c->dead_after_ns == 0)
		return TERN_EINVAL;
	return 0;
}

/* The application's config covers the driver field: it was initialised
 * (its size set) by an application that knows of drivers. */
static bool sized_for_driver(const struct tern_engine_config *c)
{
	return c && c->size >= offsetof(struct tern_engine_config, driver) + sizeof(c->driver);
}

int tern_engine_create(const struct tern_engine_config *cfg, struct tern_engine **out)
{
	/* The application's callbacks are the upper layer as they stand; an
	 * application built without them has none. */
	struct tni_upper up = { 0 };
	if (sized_for_driver(cfg) && cfg->size >= offsetof(struct tern_engine_config, cb) + sizeof(cfg->cb))
		up = (struct tni_upper){ .on_session = cfg->cb.on_session, .on_message = cfg->cb.on_message,
					 .on_send_done = cfg->cb.on_send_done, .arg = cfg->cb.user };
	return tni_engine_create(cfg, &up, out);
}

static uint64_t engine_random(void *e)
{
	return tni_engine_random(e);
}

int tni_engine_create(const struct tern_engine_config *user, const struct tni_upper *up, struct tern_engine **out)
{
	/* Nothing past the size is read: an uninitialised config's driver
	 * field is not a driver. */
	struct tern_driver *drv = sized_for_driver(user) ? user->driver : NULL;
	int rc = TERN_EINVAL;
	if (!sized_for_driver(user) || !up || !out)
		goto refuse;
	/* Fields the application was built without keep their defaults. */
	struct tern_engine_config cfg_all;
	tern_engine_config_init(&cfg_all);
	tni_sized_copy(&cfg_all, sizeof(cfg_all), user, user->size);
	cfg_all.size = sizeof(cfg_all);
	const struct tern_engine_config *cfg = &cfg_all;
	if ((rc = check_config(cfg)))
		goto refuse;
	if (!drv && (rc = tni_driver_open_default(cfg->poll_mode, cfg->log, cfg->log_user, &drv)))
		return rc;
	/* Room for a data packet: the path MTU less IPv4/UDP and our header. */
	if (drv->mtu < TERN_WIRE_OUTER_V4 + TERN_WIRE_HDR_LEN + 512) {
		rc = TERN_EINVAL;
		goto refuse;
	}
	struct tern_engine *e = calloc(1, sizeof(*e));
	if (!e) {
		rc = TERN_ENOMEM;
		goto refuse;
	}
	e->drv = drv;
	e->kind = drv->kind;
	e->cfg = *cfg;
	e->up = *up;
	e->owner = tni_thread_self();
	e->mask = cfg->window_pkts - 1;
	e->sessions = calloc(cfg->max_sessions, sizeof(*e->sessions));
	e->free_slots = calloc(cfg->max_sessions, sizeof(*e->free_slots));
	e->tx_msgs = calloc(cfg->max_tx_msgs, sizeof(*e->tx_msgs));
	if (!e->sessions || !e->free_slots || !e->tx_msgs) {
		rc = TERN_ENOMEM;
		goto fail;
	}
	/* Free slots as a stack, the lowest on top. */
	for (uint32_t i = 0; i < cfg->max_sessions; i++)
		e->free_slots[i] = cfg->max_sessions - 1 - i;
	e->n_free = cfg->max_sessions;
	for (uint32_t i = 0; i < cfg->max_tx_msgs; i++) {
		e->tx_msgs[i].next = e->tx_free;
		e->tx_free = &e->tx_msgs[i];
	}
	uint64_t seed = cfg->seed;
	if (!seed && getrandom(&seed, sizeof(seed), 0) != sizeof(seed)) {
		rc = tni_error_from_errno(errno);
		goto fail;
	}
	tni_rng_seed(&e->rng, seed);
	e->epoch = (uint32_t)tni_engine_random(e) | 1;
	uint64_t k0 = tni_engine_random(e), k1 = tni_engine_random(e);
	if (tni_peers_init(&e->peers, cfg->max_sessions, k0, k1)) {
		rc = TERN_ENOMEM;
		goto fail;
	}
	e->mss = drv->mtu - TERN_WIRE_OUTER_V4 - TERN_WIRE_HDR_LEN;
	/* What an honest peer can make us hold (docs/architecture.md). */
	e->rx_alloc_limit = (uint64_t)cfg->window_pkts * e->mss + 2ull * cfg->max_msg_size;
	e->now = e->resumed_ns = e->drv->ops->now_ns(e->drv);
	tni_cookie_init(&e->cookies, e->now, engine_random, e);
	/* Polled less often than this, the engine cannot judge its peers. */
	e->pause_ns = cfg->dead_after_ns / 2;
	tni_wheel_init(&e->wheel, e->now);
	tni_ackhold_init(&e->acks);
	*out = e;
	return 0;
fail:
	tni_peers_destroy(&e->peers);
	free(e->sessions);
	free(e->free_slots);
	free(e->tx_msgs);
	free(e);
refuse:
	/* The driver was handed over: it goes with the engine that failed. */
	tern_driver_destroy(drv);
	return rc;
}

/* Messages acked (or failed) while the device still read their buffers:
 * give each back once it has let go. force: the engine is going away. */
static bool release_held(struct tern_engine *e, bool force)
{
	bool busy = false;
	struct tni_tx_msg **pp = &e->tx_held;
	while (*pp) {
		struct tni_tx_msg *m = *pp;
		if (!tni_ext_ref_idle(&m->ext)) {
			busy = true;
			if (!force) {
				pp = &m->next;
				continue;
			}
		}
		*pp = m->next;
		tni_sender_msg_finish(e, m->sess, m, m->status);
	}
	if (e->tx_held && e->drv->ops->tx_cleanup)
		e->drv->ops->tx_cleanup(e->drv);
	return busy;
}

static void reap_zombies(struct tern_engine *e)
{
	while (e->zombies) {
		struct tern_session *s = e->zombies;
		e->zombies = s->zombie_next;
		tni_session_free(s);
	}
}

void tern_engine_destroy(struct tern_engine *e)
{
	if (!e)
		return;
	for (uint32_t i = 0; i < e->cfg.max_sessions; i++)
		if (e->sessions[i])
			tni_session_kill(e->sessions[i], TERN_ECLOSED, false);
	reap_zombies(e);
	for (unsigned i = 0; i < e->ntx; i++)
		e->drv->ops->free(e->drv, e->txbuf[i]);
	/* Sent packets that still point into message buffers: a NIC frees
	 * them once it is done, which tx_cleanup asks for. */
	for (unsigned i = 0; e->tx_held && i < 1000; i++)
		release_held(e, false);
	/* Past that, the owners get their buffers back, and the message table
	 * the late frees count down in is left allocated, not freed under them. */
	bool device_busy = release_held(e, true);
	e->drv->ops->destroy(e->drv);
	tni_peers_destroy(&e->peers);
	free(e->sessions);
	free(e->free_slots);
	if (!device_busy)
		free(e->tx_msgs);
	tni_msgbuf_cache_drain(&e->bufs);
	free(e);
}

void tni_engine_sole_peer(struct tern_engine *e, const struct tern_session *s)
{
	if (!e->drv->ops->sole_peer)
		return;
	if (!s) {
		if (e->sole_on)
			e->drv->ops->sole_peer(e->drv, NULL);
		e->sole_on = false;
		return;
	}
	if (!e->sole_on && !e->cfg.accept && e->n_live == 1 && s->state == S_ESTABLISHED)
		e->sole_on = e->drv->ops->sole_peer(e->drv, &s->peer) == 0;
}

void tni_engine_want_tx(struct tern_engine *e, struct tern_session *s)
{
	if (s->on_tx_list)
		return;
	s->on_tx_list = true;
	s->tx_next = NULL;
	if (e->tx_tail)
		e->tx_tail->tx_next = s;
	else
		e->tx_head = s;
	e->tx_tail = s;
}

void tni_engine_flush_tx(struct tern_engine *e)
{
	unsigned sent = 0;
	while (sent < e->ntx) {
		unsigned n = e->drv->ops->tx_burst(e->drv, e->txbuf + sent, e->ntx - sent);
		if (n == 0)
			break;
		sent += n;
	}
	/* A driver that takes nothing more is full: drop, as a switch would. */
	for (unsigned i = sent; i < e->ntx; i++)
		e->drv->ops->free(e->drv, e->txbuf[i]);
	e->ntx = 0;
}

void tni_engine_queue_pkt(struct tern_engine *e, struct tni_pkt *p)
{
	e->stats.tx_pkts++;
	e->stats.tx_bytes += p->len + p->ext_len;
	e->txbuf[e->ntx++] = p;
	if (e->ntx == TERN_TX_BATCH)
		tni_engine_flush_tx(e);
}

/* A packet to send, counted when the pool is empty. Drivers do not touch
 * ext_len outside attach, so it is cleared here for all of them. */
struct tni_pkt *tni_engine_tx_alloc(struct tern_engine *e)
{
	struct tni_pkt *p = e->drv->ops->alloc(e->drv);
	if (!p) {
		e->stats.tx_no_buffer++;
		return NULL;
	}
	p->ext_len = 0;
	p->src_port = 0;
	return p;
}

uint64_t tni_engine_random(struct tern_engine *e)
{
	if (e->cfg.seed)
		return tni_rng_next(&e->rng); /* reproducible runs */
	if (!e->secret_left) {
		/* The kernel's CSPRNG, a buffer at a time: session ids must not
		 * be predictable from ids an attacker saw, as a seeded PRNG's are. */
		if (getrandom(e->secret, sizeof(e->secret), 0) != sizeof(e->secret))
			return tni_rng_next(&e->rng); /* seeded from getrandom() at create */
		e->secret_left = sizeof(e->secret) / sizeof(e->secret[0]);
	}
	return e->secret[--e->secret_left];
}

void tni_engine_send_rst(struct tern_engine *e, const struct tern_addr *to, uint64_t dst_sid, uint64_t echo)
{
	struct tni_pkt *p = tni_engine_tx_alloc(e);
	if (!p)
		return;
	struct tni_wire_hdr h = { .type = TERN_PKT_RST, .dst_sid = dst_sid, .src_sid = echo,
				   .src_epoch = e->epoch, .ts = e->now };
	p->len = (uint32_t)tni_wire_encode(p->data, &h, NULL);
	p->peer = *to;
	tni_engine_queue_pkt(e, p);
}

static void count_decode_error(struct tern_engine *e, int rc)
{
	if (rc == TNI_EBADCRC)
		e->stats.bad_crc++;
	else
		e->stats.bad_header++;
}

static void on_packet(struct tern_engine *e, struct tni_pkt *pkt)
{
	struct tni_wire_pkt p;
	e->stats.rx_pkts++;
	e->stats.rx_bytes += pkt->len;
	int rc = tni_wire_decode_link(pkt->data, pkt->len, (e->drv->rx_link_checks || e->drv->loopback_checks) && pkt->link_checked, &p);
	if (rc) {
		count_decode_error(e, rc);
		return;
	}
	p.rx_hops = pkt->hops;
	p.from = &pkt->peer;
	if (p.h.type == TERN_PKT_SYN) {
		tni_session_on_syn(e, &pkt->peer, &p);
		return;
	}
	struct tern_session *s = tni_session_lookup(e, p.h.dst_sid);
	if (!s) {
		e->stats.unknown_session++;
		/* Tell a live peer its session is gone, echoing the id it sent
		 * to, so that only the true peer believes us. */
		if (p.h.type != TERN_PKT_RST && p.h.type != TERN_PKT_CLOSE && p.h.type != TERN_PKT_COOKIE)
			tni_engine_send_rst(e, &pkt->peer, p.h.src_sid, p.h.dst_sid);
		return;
	}
	tni_session_on_packet(s, &p);
}

static unsigned run_tx(struct tern_engine *e)
{
	if (!e->tx_head && !e->ntx)
		return 0;
	unsigned n = 0;
	struct tern_session *head = e->tx_head;
	e->tx_head = e->tx_tail = NULL;
	while (head) {
		struct tern_session *s = head;
		head = s->tx_next;
		s->on_tx_list = false;
		tni_session_transmit(s);
		n++;
	}
	tni_engine_flush_tx(e);
	return n;
}

void tni_engine_release_acks(struct tern_engine *e)
{
	unsigned h;
	struct tern_session *s;
	while ((s = tni_ackhold_oldest(&e->acks, &h)))
		tni_sender_release_ack(s);
}

/* Send what is queued; then the acks held back until it left, and what
 * they let out (a window-limited sender's next packets) in the same poll. */
static unsigned transmit(struct tern_engine *e)
{
	uint64_t before = e->stats.tx_pkts;
	unsigned n = run_tx(e);
	if (e->stats.tx_pkts != before && tni_ackhold_any(&e->acks)) {
		tni_engine_release_acks(e);
		n += run_tx(e);
	}
	return n;
}

/* A timer of a session with a held ack is due: that ack may stop it. */
static bool held_ack_timer_due(struct tern_engine *e)
{
	for (unsigned i = e->acks.head; i < e->acks.n; i++) {
		const struct tern_session *s = e->acks.e[i].owner;
		if (s && ((s->loss_timer.due && s->loss_timer.due <= e->now) ||
			  (s->rto_timer.due && s->rto_timer.due <= e->now)))
			return true;
	}
	return false;
}

void tni_engine_transmit_now(struct tern_engine *e)
{
	tni_engine_read_clock(e); /* stamps and timers below need it; a pause shows */
	if (e->up.on_poll)
		e->up.on_poll(e->up.arg);
	transmit(e);
}

bool tni_engine_on_owner(const struct tern_engine *e)
{
	return tni_on_owner(e);
}

uint64_t tni_engine_clock(const struct tern_engine *e)
{
	return e->now;
}

bool tni_engine_in_poll(const struct tern_engine *e)
{
	return e->in_poll;
}

void tni_engine_timer_arm(struct tern_engine *e, struct tni_timer *t, uint64_t at_ns)
{
	tni_timer_arm(&e->wheel, t, at_ns);
}

void tni_engine_count_bad_message(struct tern_engine *e)
{
	e->stats.bad_header++;
}

/* Adaptive mode, idle for a while: sleep in the driver until a packet
 * comes or the next timer is due. */
static void block(struct tern_engine *e)
{
	e->idle_polls = 0;
	uint64_t until = tni_wheel_next(&e->wheel);
	uint64_t now = e->drv->ops->now_ns(e->drv);
	uint64_t wait = until > now ? until - now : 0;
	if (wait > e->cfg.max_block_ns)
		wait = e->cfg.max_block_ns;
	if (wait) {
		e->stats.idle_blocks++;
		e->drv->ops->wait(e->drv, wait);
		/* Blocked in the driver is listening, not a pause. */
		e->now = e->drv->ops->now_ns(e->drv);
	}
}

int tern_engine_poll(struct tern_engine *e)
{
	if (!e)
		return TERN_EINVAL;
	if (!tni_on_owner(e))
		return TERN_EWRONGTHREAD;
	e->polls++;
	/* Idle polls of a lazy-clock driver read no clock; any that sends or
	 * receives does, before it stamps or times anything. */
	bool fresh = !e->drv->lazy_clock || e->tx_head || tni_ackhold_any(&e->acks) ||
		     ++e->clock_age >= TERN_IDLE_CLOCK_POLLS;
	if (fresh)
		tni_engine_read_clock(e);
	/* Acks held since the last poll: nothing was sent since, or they went
	 * with it (transmit). They are not kept past this poll's first send,
	 * and go now if nothing is queued: what the application queued since
	 * (an asynchronous caller's next request) leaves before them. */
	bool acks_held = tni_ackhold_any(&e->acks);
	if (acks_held && !e->tx_head) {
		tni_engine_release_acks(e);
		acks_held = false;
	}
	if (e->up.on_poll)
		e->up.on_poll(e->up.arg);
	if (!fresh && e->tx_head) { /* the upper layer queued answers */
		tni_engine_read_clock(e);
		fresh = true;
	}
	e->in_poll = true;
	/* What the application sent since the last poll leaves first, not
	 * after this poll's receive work. */
	unsigned tx = run_tx(e);
	if (acks_held) {
		tni_engine_release_acks(e);
		tx += run_tx(e); /* what they let out (a window-limited sender's next packets) */
	}
	struct tni_pkt *pkts[TERN_RX_BURST];
	unsigned n = e->drv->ops->rx_burst(e->drv, pkts, TERN_RX_BURST);
	e->stats.rx_polls += n != 0;
	if (n && !fresh)
		tni_engine_read_clock(e);
	for (unsigned i = 0; i < n; i++) {
		if (i + 1 < n)
			__builtin_prefetch(pkts[i + 1]->data);
		on_packet(e, pkts[i]);
		e->drv->ops->free(e->drv, pkts[i]);
		/* Answers to the first packets of a burst leave while the rest
		 * are handled, so the peer works on them meanwhile: sending all
		 * at the end made the two ends take turns (docs/architecture.md). */
		if ((i + 1) % TERN_RX_CHUNK == 0)
			tx += transmit(e);
	}
	/* Answers and acks leave before the timers run: the wheel is not on
	 * the round trip's path. What a timer sends goes in this poll too.
	 * The acks that came with this poll's data go once the answers have
	 * left; where none was sent (a synchronous caller's answer came), they
	 * wait for the next send or poll, unless a timer they may stop is due. */
	tx += transmit(e);
	bool released = false;
	if (tni_ackhold_any(&e->acks) && held_ack_timer_due(e)) {
		tni_engine_release_acks(e);
		released = true;
	}
	unsigned fired = tni_wheel_advance(&e->wheel, e->now);
	if ((fired || released) && e->tx_head)
		tx += run_tx(e);
	if (e->zombies)
		reap_zombies(e);
	if (e->tx_held)
		release_held(e, false);
	e->in_poll = false;
	unsigned work = n + fired + tx;
	if (work)
		e->idle_polls = 0;
	else if (e->cfg.poll_mode == TERN_POLL_ADAPTIVE && ++e->idle_polls >= e->cfg.spin_polls)
		block(e);
	return (int)work;
}

uint64_t tern_engine_next_deadline(struct tern_engine *e)
{
	if (e->tx_head)
		return e->now;
	return tni_wheel_next(&e->wheel);
}

uint64_t tern_engine_now(struct tern_engine *e)
{
	return e->drv->ops->now_ns(e->drv);
}

int tern_engine_stats_sized(struct tern_engine *e, struct tern_stats *out, size_t size)
{
	if (!e || !out)
		return TERN_EINVAL;
	if (!tni_on_owner(e))
		return TERN_EWRONGTHREAD;
	tni_engine_release_acks(e); /* counted as of every ack received */
	struct tern_stats st = e->stats;
	st.polls = e->polls;
	/* As many counters as the application knows of. */
	tni_sized_copy(out, size, &st, sizeof(st));
	return 0;
}

struct xstat_count {
	void (*fn)(const char *, uint64_t, void *);
	void *arg;
	int n;
};

static void xstat_counted(const char *name, uint64_t v, void *arg)
{
	struct xstat_count *c = arg;
	c->n++;
	c->fn(name, v, c->arg);
}

int tern_engine_driver_stats(struct tern_engine *e, void (*fn)(const char *name, uint64_t value, void *arg), void *arg)
{
	if (!e || !fn)
		return TERN_EINVAL;
	if (!tni_on_owner(e))
		return TERN_EWRONGTHREAD;
	struct xstat_count c = { fn, arg, 0 };
	if (e->drv->ops->xstats)
		e->drv->ops->xstats(e->drv, xstat_counted, &c);
	return c.n;
}

struct xstat_find {
	const char *name;
	uint64_t *value;
	bool found;
};

static void xstat_match(const char *name, uint64_t v, void *arg)
{
	struct xstat_find *f = arg;
	if (!f->found && strcmp(name, f->name) == 0) {
		*f->value = v;
		f->found = true;
	}
}

int tern_engine_driver_stat(struct tern_engine *e, const char *name, uint64_t *value)
{
	if (!name || !value)
		return TERN_EINVAL;
	struct xstat_find f = { name, value, false };
	int rc = tern_engine_driver_stats(e, xstat_match, &f);
	if (rc < 0)
		return rc;
	return f.found ? 0 : TERN_EINVAL;
}

enum tern_driver_kind tern_engine_driver(const struct tern_engine *e)
{
	return e->kind;
}

void *tern_engine_alloc_buffer(struct tern_engine *e, size_t len)
{
	if (!e)
		return NULL;
	if (e->drv->ops->buf_alloc)
		return e->drv->ops->buf_alloc(e->drv, len);
	return tni_msgbuf_alloc(&e->bufs, len);
}

void tern_engine_free_buffer(struct tern_engine *e, void *buf)
{
	if (!e || !buf)
		return;
	if (e->drv->ops->buf_free)
		e->drv->ops->buf_free(e->drv, buf);
	else
		tni_msgbuf_free(&e->bufs, buf);
}

int tern_engine_local_addr(struct tern_engine *e, struct tern_addr *out)
{
	if (!e || !out)
		return TERN_EINVAL;
	return e->drv->ops->local_addr(e->drv, out);
}
