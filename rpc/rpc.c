/* The RPC endpoint: owns an engine, routes its messages to the client and
 * server halves, and manages RPC message buffers. */
#include <stdlib.h>
#include <string.h>

#include "../util/sized.h"
#include "rpc_internal.h"
#include "tern/error.h"
#include "tern/session.h"

void tern_rpc_config_init_sized(struct tern_rpc_config *cfg, size_t size)
{
	if (!cfg || size < sizeof(uint32_t))
		return;
	struct tern_rpc_config c = { .max_calls = 4096, .max_per_session = 64, .workers = 2 };
	c.size = (uint32_t)tni_sized_common(size, sizeof(c));
	memcpy(cfg, &c, c.size);
}

struct rpc_buf *tni_rpc_buf_new(struct tern_rpc *rpc, size_t len)
{
	if (len > rpc->max_msg_size - RPC_HDR_LEN)
		return NULL;
	struct rpc_buf *b = NULL;
	bool owner = rpc_on_owner(rpc);
	if (len <= RPC_SMALL_CAP) {
		/* Only the engine thread touches the pool; workers allocate whole
		 * small buffers so the engine can pool them when they come back. */
		if (owner && rpc->small_free) {
			b = rpc->small_free;
			rpc->small_free = b->next;
			rpc->small_count--;
		} else {
			b = malloc(sizeof(*b) + RPC_HDR_LEN + RPC_SMALL_CAP);
		}
		if (b)
			b->cap = RPC_SMALL_CAP;
	} else {
		/* Where the device can send it from without a copy. */
		b = tern_engine_alloc_buffer(rpc->e, sizeof(*b) + RPC_HDR_LEN + len);
		if (b)
			b->cap = (uint32_t)len;
	}
	if (b) {
		b->magic = RPC_BUF_MAGIC;
		b->next = NULL;
	}
	return b;
}

void tni_rpc_buf_release(struct tern_rpc *rpc, struct rpc_buf *b)
{
	if (!b)
		return;
	if (b->cap == RPC_SMALL_CAP && rpc->small_count < RPC_SMALL_KEEP && rpc_on_owner(rpc)) {
		b->next = rpc->small_free;
		rpc->small_free = b;
		rpc->small_count++;
		return;
	}
	b->magic = 0;
	if (b->cap == RPC_SMALL_CAP)
		free(b);
	else
		tern_engine_free_buffer(rpc->e, b);
}

void *tern_rpc_alloc(struct tern_rpc *rpc, size_t len)
{
	if (!rpc)
		return NULL;
	struct rpc_buf *b = tni_rpc_buf_new(rpc, len);
	return b ? rpc_buf_payload(b) : NULL;
}

void tern_rpc_free(struct tern_rpc *rpc, void *buf)
{
	if (rpc && buf)
		tni_rpc_buf_release(rpc, rpc_buf_of(buf));
}

struct rpc_sess *tni_rpc_sess(struct tern_rpc *rpc, struct tern_session *s)
{
	struct rpc_sess *have = tni_session_upper_data(s);
	if (have)
		return have;
	/* At most half full: at most min(max_per_session, max_calls) open. */
	uint32_t open = rpc->cfg.max_per_session < rpc->cfg.max_calls ? rpc->cfg.max_per_session : rpc->cfg.max_calls;
	uint64_t slots = 2;
	while (slots < 2ull * open)
		slots *= 2;
	struct rpc_sess *rs = slots <= (1ull << 31) ? calloc(1, sizeof(*rs)) : NULL;
	if (!rs)
		return NULL;
	rs->served_mask = (uint32_t)(slots - 1);
	rs->s = s;
	tni_session_set_upper_data(s, rs);
	return rs;
}

uint64_t *tni_rpc_sess_tables(struct rpc_sess *rs)
{
	if (!rs->recent) {
		size_t n = RPC_RECENT + (size_t)rs->served_mask + 1;
		rs->recent = calloc(n, sizeof(uint64_t));
		rs->served = rs->recent ? (struct tern_rpc_req **)(rs->recent + RPC_RECENT) : NULL;
	}
	return rs->recent;
}

static void sess_free(struct tern_session *s, struct rpc_sess *rs)
{
	free(rs->recent);
	free(rs);
	tni_session_set_upper_data(s, NULL);
}

/* The session idled: with nothing outstanding either way, its RPC state
 * goes too, and comes back with the next call or request. */
static void on_idle(struct tern_session *s, void *arg)
{
	(void)arg;
	struct rpc_sess *rs = tni_session_upper_data(s);
	if (rs && !rs->calls_out && !rs->n_served)
		sess_free(s, rs);
}

const struct rpc_handler *tni_rpc_handler_get(const struct tern_rpc *rpc, uint16_t type)
{
	const struct rpc_handler *page = rpc->handler_page[type >> 8];
	return page && page[type & 0xff].fn ? &page[type & 0xff] : NULL;
}

int tern_rpc_register(struct tern_rpc *rpc, uint16_t type, tern_rpc_handler handler, void *arg, unsigned flags)
{
	if (!rpc || (flags & ~(unsigned)TERN_RPC_WORKER))
		return TERN_EINVAL;
	if (!rpc_on_owner(rpc))
		return TERN_EWRONGTHREAD;
	if (!handler) {
		/* Unregister: later requests of the type get TERN_ENOHANDLER. */
		if (rpc->handler_page[type >> 8])
			rpc->handler_page[type >> 8][type & 0xff] = (struct rpc_handler){ 0 };
		return 0;
	}
	if ((flags & TERN_RPC_WORKER) && !rpc->cfg.workers)
		return TERN_EINVAL;
	struct rpc_handler **page = &rpc->handler_page[type >> 8];
	if (!*page && !(*page = calloc(256, sizeof(**page))))
		return TERN_ENOMEM;
	(*page)[type & 0xff] = (struct rpc_handler){ handler, arg, flags };
	return 0;
}

static void on_message(struct tern_session *s, const struct tern_rx_msg *m, void *user)
{
	struct tern_rpc *rpc = user;
	struct rpc_hdr h;
	if (tni_rpc_hdr_get(m->data, m->len, &h)) {
		tni_engine_count_bad_message(rpc->e);
		return;
	}
	const uint8_t *payload = (const uint8_t *)m->data + RPC_HDR_LEN;
	size_t len = m->len - RPC_HDR_LEN;
	if (h.kind == RPC_REQ)
		tni_rpc_server_on_request(rpc, s, &h, payload, len);
	else if (h.kind == RPC_RESP)
		tni_rpc_client_on_response(rpc, &h, payload, len);
	else
		tni_rpc_server_on_cancel(rpc, s, h.req_id);
}

/* Cookies say whose buffer the transport is done with (docs/architecture.md). */
static void on_send_done(struct tern_session *s, void *cookie, int status, void *user)
{
	(void)s;
	uintptr_t c = (uintptr_t)cookie;
	void *p = (void *)(c & ~(uintptr_t)RPC_COOKIE_MASK);
	switch (c & RPC_COOKIE_MASK) {
	case RPC_COOKIE_CALL:
		tni_rpc_client_send_done(p, status);
		break;
	case RPC_COOKIE_RESP:
		tni_rpc_server_send_done(p, status);
		break;
	default: /* a bare status answer */
		tni_rpc_buf_release(user, p);
		break;
	}
}

static void on_session(struct tern_session *s, enum tern_session_event ev, int status, void *user)
{
	struct tern_rpc *rpc = user;
	if (rpc->user_on_session)
		rpc->user_on_session(s, ev, status, rpc->user);
}

static void on_session_end(struct tern_session *s, int status, void *arg)
{
	struct tern_rpc *rpc = arg;
	tni_rpc_client_session_end(rpc, s, status);
	struct rpc_sess *rs = tni_session_upper_data(s);
	if (rs) {
		tni_rpc_server_session_end(rpc, rs);
		sess_free(s, rs);
	}
}

/* The start of every engine poll, after its clock reading. */
static void on_poll(void *arg)
{
	struct tern_rpc *rpc = arg;
	if (rpc->to_arm)
		tni_rpc_client_arm_deadlines(rpc);
	tni_rpc_workers_drain(rpc);
}

int tern_rpc_create(const struct tern_rpc_config *user, const struct tern_engine_config *engine, struct tern_rpc **out)
{
	struct tern_rpc_config cfg;
	tern_rpc_config_init(&cfg);
	if (user)
		tni_sized_copy(&cfg, sizeof(cfg), user, user->size);
	cfg.size = sizeof(cfg);
	struct tern_engine_config ec;
	tern_engine_config_init(&ec);
	if (engine)
		tni_sized_copy(&ec, sizeof(ec), engine, engine->size);
	ec.size = sizeof(ec);
	/* Independent calls never wait for one another. */
	ec.delivery = TERN_DELIVER_AS_COMPLETED;
	bool engine_ok = !engine || engine->size >= offsetof(struct tern_engine_config, driver) + sizeof(engine->driver);
	if (!out || !engine_ok || (user && user->size < sizeof(uint32_t)) || !cfg.max_calls || !cfg.max_per_session ||
	    cfg.workers > 64 || ec.max_msg_size <= RPC_HDR_LEN) {
		tern_driver_destroy(ec.driver); /* handed over, as to tern_engine_create */
		return TERN_EINVAL;
	}
	struct tern_rpc *rpc = calloc(1, sizeof(*rpc));
	if (!rpc) {
		tern_driver_destroy(ec.driver);
		return TERN_ENOMEM;
	}
	rpc->cfg = cfg;
	rpc->max_msg_size = ec.max_msg_size;
	rpc->user_on_session = ec.cb.on_session;
	rpc->user = ec.cb.user;
	struct tni_upper up = {
		.on_session = on_session,
		.on_message = on_message,
		.on_send_done = on_send_done,
		.on_session_end = on_session_end,
		.on_poll = on_poll,
		.on_idle = on_idle,
		.arg = rpc,
		.private_sends = true, /* every cookie on our sessions is one of ours */
	};
	int rc = tni_engine_create(&ec, &up, &rpc->e);
	if (!rc)
		rc = tni_rpc_client_init(rpc);
	if (!rc)
		rc = tni_rpc_server_init(rpc);
	if (!rc)
		rc = tni_rpc_workers_start(rpc);
	if (rc) {
		tern_rpc_destroy(rpc);
		return rc;
	}
	*out = rpc;
	return 0;
}

void tern_rpc_destroy(struct tern_rpc *rpc)
{
	if (!rpc)
		return;
	tni_rpc_workers_stop(rpc);
	if (rpc->e) {
		tni_rpc_workers_drain(rpc); /* answers workers left behind are dropped here */
		tern_engine_destroy(rpc->e);
	}
	while (rpc->small_free) {
		struct rpc_buf *b = rpc->small_free;
		rpc->small_free = b->next;
		free(b);
	}
	for (unsigned i = 0; i < 256; i++)
		free(rpc->handler_page[i]);
	free(rpc->calls);
	free(rpc->reqs);
	free(rpc->workers);
	free(rpc);
}

struct tern_engine *tern_rpc_engine(struct tern_rpc *rpc)
{
	return rpc ? rpc->e : NULL;
}

int tern_rpc_stats_sized(struct tern_rpc *rpc, struct tern_rpc_stats *out, size_t size)
{
	if (!rpc || !out)
		return TERN_EINVAL;
	if (!rpc_on_owner(rpc))
		return TERN_EWRONGTHREAD;
	tni_sized_copy(out, size, &rpc->stats, sizeof(rpc->stats));
	return 0;
}
