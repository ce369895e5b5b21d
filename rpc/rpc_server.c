/* The serving side: handler dispatch, responses kept until the caller has
 * them (at-most-once), errors for unknown types and overload. */
#include <stdlib.h>
#include <string.h>

#include "rpc_internal.h"
#include "tern/error.h"
#include "tern/session.h"

#define container_of(p, type, member) ((type *)((char *)(p) - offsetof(type, member)))

static void on_deadline(struct tni_timer *t, uint64_t now);

int tni_rpc_server_init(struct tern_rpc *rpc)
{
	rpc->reqs = calloc(rpc->cfg.max_calls, sizeof(*rpc->reqs));
	if (!rpc->reqs)
		return TERN_ENOMEM;
	for (uint32_t i = rpc->cfg.max_calls; i-- > 0;) {
		rpc->reqs[i].rpc = rpc;
		tni_timer_init(&rpc->reqs[i].timer, on_deadline);
		rpc->reqs[i].next_free = rpc->free_reqs;
		rpc->free_reqs = &rpc->reqs[i];
	}
	return 0;
}

static uint32_t recent_slot(uint64_t req_id)
{
	return (uint32_t)((req_id * 0x9e3779b97f4a7c15ull) >> 56) % RPC_RECENT;
}

static uint32_t served_home(const struct rpc_sess *rs, uint64_t req_id)
{
	return (uint32_t)((req_id * 0x9e3779b97f4a7c15ull) >> 32) & rs->served_mask;
}

/* On every request: inlined into both callers. */
static inline __attribute__((always_inline)) bool seen(const struct rpc_sess *rs, uint64_t req_id)
{
	if (!rs->recent)
		return false; /* nothing served since the session last idled */
	if (rs->recent[recent_slot(req_id)] == req_id + 1)
		return true;
	for (uint32_t i = served_home(rs, req_id); rs->served[i]; i = (i + 1) & rs->served_mask)
		if (rs->served[i]->req_id == req_id)
			return true;
	return false;
}

static void enlist(struct rpc_sess *rs, struct tern_rpc_req *req)
{
	uint32_t i = served_home(rs, req->req_id);
	while (rs->served[i])
		i = (i + 1) & rs->served_mask;
	rs->served[i] = req;
	rs->n_served++;
}

/* Linear-probe deletion: entries after the hole that may not pass it are
 * moved back into it, so every probe still ends at its entry. */
static void unlist(struct rpc_sess *rs, struct tern_rpc_req *req)
{
	uint32_t mask = rs->served_mask, i = served_home(rs, req->req_id);
	while (rs->served[i] != req) {
		if (!rs->served[i])
			return;
		i = (i + 1) & mask;
	}
	for (uint32_t j = (i + 1) & mask; rs->served[j]; j = (j + 1) & mask) {
		uint32_t home = served_home(rs, rs->served[j]->req_id);
		/* Movable unless its home lies in (i, j], cyclically. */
		if (((j - home) & mask) >= ((j - i) & mask)) {
			rs->served[i] = rs->served[j];
			i = j;
		}
	}
	rs->served[i] = NULL;
	rs->n_served--;
}

/* Done with req_id on this session: a request with it is not served again. */
static void remember(struct rpc_sess *rs, uint64_t req_id)
{
	if (tni_rpc_sess_tables(rs))
		rs->recent[recent_slot(req_id)] = req_id + 1;
}

static void req_release(struct tern_rpc_req *req)
{
	struct tern_rpc *rpc = req->rpc;
	if (req->rs) {
		unlist(req->rs, req);
		remember(req->rs, req->req_id);
	}
	tni_timer_stop(&req->timer); /* the entries live as long as the rpc */
	tni_rpc_buf_release(rpc, req->copy);
	tni_rpc_buf_release(rpc, req->resp);
	/* A free entry has no buffers; taking it sets what it reads first,
	 * and the answer sets the rest (no whole-struct reset per request). */
	req->state = REQ_FREE;
	req->copy = req->resp = NULL;
	req->next_free = rpc->free_reqs;
	rpc->free_reqs = req;
}

/* An answer that needs no handler: small, sent and forgotten. */
static void send_status(struct tern_rpc *rpc, struct tern_session *s, const struct rpc_hdr *req, uint32_t status)
{
	struct rpc_buf *b = tni_rpc_buf_new(rpc, 0);
	if (!b)
		return;
	struct rpc_hdr h = { .kind = RPC_RESP, .type = req->type, .word = status, .req_id = req->req_id };
	tni_rpc_hdr_put(rpc_buf_msg(b), &h);
	if (tni_session_send(s, rpc_buf_msg(b), RPC_HDR_LEN, (void *)((uintptr_t)b | RPC_COOKIE_STATUS)) != 0)
		tni_rpc_buf_release(rpc, b);
}

void tni_rpc_server_on_request(struct tern_rpc *rpc, struct tern_session *s, const struct rpc_hdr *h,
				const uint8_t *payload, size_t len)
{
	struct rpc_sess *rs = tni_rpc_sess(rpc, s);
	if (!rs)
		return; /* out of memory: the caller's deadline or the session's end tells it */
	if (!tni_rpc_sess_tables(rs)) {
		send_status(rpc, s, h, RPC_ST_BUSY);
		return;
	}
	/* The transport delivers each message once; this guards the rest
	 * (a peer that sends a request id twice): never run a handler twice. */
	if (seen(rs, h->req_id))
		return;
	/* The caller's deadline on our clock. The mapping credits the caller
	 * only with the quickest trip seen on the session, so time the
	 * request spent queued or being retransmitted counts against it. */
	uint64_t deadline = 0, now = tni_engine_clock(rpc->e);
	if (h->word) {
		uint64_t theirs = tni_rpc_deadline_get(h->word, tni_session_local_to_peer(s, now));
		deadline = tni_session_peer_to_local(s, theirs);
		if (deadline <= now) {
			/* The caller has given up: no handler, no answer. */
			rpc->stats.requests_expired++;
			remember(rs, h->req_id);
			return;
		}
	}
	const struct rpc_handler *hd = tni_rpc_handler_get(rpc, h->type);
	if (!hd) {
		send_status(rpc, s, h, RPC_ST_NO_HANDLER);
		return;
	}
	if (!rpc->free_reqs || rs->n_served >= rpc->cfg.max_per_session)
		tni_engine_release_acks(rpc->e); /* answers acked give back their entries */
	struct tern_rpc_req *req = rpc->free_reqs;
	if (!req || rs->n_served >= rpc->cfg.max_per_session) {
		send_status(rpc, s, h, RPC_ST_BUSY);
		return;
	}
	rpc->free_reqs = req->next_free;
	req->rs = rs;
	req->req_id = h->req_id;
	req->type = h->type;
	req->state = REQ_RUNNING;
	req->data = payload;
	req->len = len;
	req->deadline = deadline;
	atomic_store_explicit(&req->cancelled, false, memory_order_relaxed);
	enlist(rs, req);
	rpc->stats.requests_served++;
	if (hd->flags & TERN_RPC_WORKER) {
		req->copy = tni_rpc_buf_new(rpc, len);
		if (!req->copy) {
			req_release(req);
			send_status(rpc, s, h, RPC_ST_BUSY);
			return;
		}
		memcpy(rpc_buf_payload(req->copy), payload, len);
		req->data = rpc_buf_payload(req->copy);
		if (deadline)
			tni_engine_timer_arm(rpc->e, &req->timer, deadline);
		if (!tni_rpc_workers_submit(rpc, req)) {
			req_release(req);
			send_status(rpc, s, h, RPC_ST_BUSY);
		}
		return;
	}
	hd->fn(req, hd->arg);
	if (req->state == REQ_RUNNING) {
		req->data = NULL; /* answered later: the receive buffer is gone */
		if (deadline)
			tni_engine_timer_arm(rpc->e, &req->timer, deadline);
	}
}

static void on_deadline(struct tni_timer *t, uint64_t now)
{
	(void)now;
	/* Armed only while the request is open (req_release stops it). */
	struct tern_rpc_req *req = container_of(t, struct tern_rpc_req, timer);
	atomic_store_explicit(&req->cancelled, true, memory_order_release);
}

void tni_rpc_server_on_cancel(struct tern_rpc *rpc, struct tern_session *s, uint64_t req_id)
{
	struct rpc_sess *rs = tni_session_upper_data(s);
	if (!rs || !rs->served)
		rs = rs ? rs : tni_rpc_sess(rpc, s); /* a cancel before any request: remembered below */
	if (!rs)
		return;
	for (uint32_t i = served_home(rs, req_id); rs->served && rs->served[i]; i = (i + 1) & rs->served_mask) {
		struct tern_rpc_req *req = rs->served[i];
		if (req->req_id != req_id)
			continue;
		if (req->state == REQ_RUNNING || req->state == REQ_QUEUED) {
			atomic_store_explicit(&req->cancelled, true, memory_order_release);
			rpc->stats.requests_cancelled++;
		}
		return;
	}
	/* Not open: answered already, or the cancel overtook its request (the
	 * session delivers messages as each completes). Either way the id is
	 * done with, so a request that comes after it is not served. */
	if (!seen(rs, req_id)) {
		remember(rs, req_id);
		rpc->stats.requests_cancelled++;
	}
}

void tni_rpc_server_drop(struct tern_rpc_req *req)
{
	req->rpc->stats.answers_dropped++;
	req_release(req);
}

/* Engine thread: put an answer on the wire, or drop it if the caller is gone. */
static int send_response(struct tern_rpc_req *req)
{
	struct tern_rpc *rpc = req->rpc;
	if (!req->rs) {
		req_release(req);
		return TERN_ECLOSED;
	}
	if (!req->resp || atomic_load_explicit(&req->cancelled, memory_order_acquire)) {
		/* Cancelled, or past the caller's deadline: nobody waits for it. */
		int rc = req->deadline && tni_engine_clock(rpc->e) >= req->deadline ? TERN_ETIMEDOUT : TERN_ECANCELED;
		tni_rpc_server_drop(req);
		return rc;
	}
	struct rpc_hdr h = { .kind = RPC_RESP, .type = req->type, .word = req->resp_status, .req_id = req->req_id };
	tni_rpc_hdr_put(rpc_buf_msg(req->resp), &h);
	req->state = REQ_SENT;
	int rc = tni_session_send(req->rs->s, rpc_buf_msg(req->resp), RPC_HDR_LEN + req->resp_len,
				   (void *)((uintptr_t)req | RPC_COOKIE_RESP));
	if (rc == 0)
		return 0;
	/* Too big for the session, or no room: tell the caller why. */
	struct tern_session *s = req->rs->s;
	struct rpc_hdr orig = { .type = req->type, .req_id = req->req_id };
	req_release(req);
	send_status(rpc, s, &orig, rc == TERN_EMSGSIZE ? RPC_ST_TOO_BIG : RPC_ST_BUSY);
	return rc;
}

static int answer(struct tern_rpc_req *req, void *resp, size_t len, uint32_t status)
{
	struct rpc_buf *b = resp ? rpc_buf_of(resp) : NULL;
	if (!req || req->state != REQ_RUNNING || (b && (b->magic != RPC_BUF_MAGIC || len > b->cap))) {
		if (req && b && b->magic == RPC_BUF_MAGIC)
			tni_rpc_buf_release(req->rpc, b);
		return TERN_EINVAL;
	}
	req->resp = b;
	req->resp_len = len;
	req->resp_status = status;
	if (!rpc_on_owner(req->rpc)) {
		req->state = REQ_QUEUED;
		tni_rpc_workers_answer(req->rpc, req);
		return 0;
	}
	return send_response(req);
}

int tern_rpc_respond(struct tern_rpc_req *req, void *resp, size_t len)
{
	if (!resp)
		return TERN_EINVAL;
	return answer(req, resp, len, RPC_ST_OK);
}

int tern_rpc_respond_error(struct tern_rpc_req *req, int32_t code)
{
	if (!req)
		return TERN_EINVAL;
	void *b = tern_rpc_alloc(req->rpc, sizeof(code));
	if (!b)
		return TERN_ENOMEM;
	memcpy(b, &code, sizeof(code));
	return answer(req, b, sizeof(code), RPC_ST_APP_ERROR);
}

int tni_rpc_respond_status(struct tern_rpc_req *req, int status, void *payload, size_t len)
{
	if (!req)
		return TERN_EINVAL;
	if (!payload) { /* an answer needs a buffer to carry its header */
		payload = tern_rpc_alloc(req->rpc, 0);
		len = 0;
		if (!payload)
			return TERN_ENOMEM;
	}
	return answer(req, payload, len, tni_rpc_status_from_tern(status));
}

void tni_rpc_server_send_queued(struct tern_rpc_req *req)
{
	send_response(req);
}

void tni_rpc_server_send_done(struct tern_rpc_req *req, int status)
{
	(void)status; /* acknowledged, or the session ended: either way we are done */
	req_release(req);
}

void tni_rpc_server_session_end(struct tern_rpc *rpc, struct rpc_sess *rs)
{
	(void)rpc;
	/* Requests still being served finish into the void. */
	for (uint32_t i = 0; rs->served && i <= rs->served_mask; i++)
		if (rs->served[i]) {
			rs->served[i]->rs = NULL;
			rs->served[i] = NULL;
		}
	rs->n_served = 0;
}

const void *tern_rpc_req_data(const struct tern_rpc_req *req)
{
	return req ? req->data : NULL;
}

size_t tern_rpc_req_len(const struct tern_rpc_req *req)
{
	return req ? req->len : 0;
}

uint16_t tern_rpc_req_type(const struct tern_rpc_req *req)
{
	return req ? req->type : 0;
}

struct tern_session *tern_rpc_req_session(const struct tern_rpc_req *req)
{
	return req && req->rs ? req->rs->s : NULL;
}

bool tern_rpc_req_cancelled(const struct tern_rpc_req *req)
{
	return req && atomic_load_explicit(&((struct tern_rpc_req *)req)->cancelled, memory_order_acquire);
}

uint64_t tern_rpc_req_deadline(const struct tern_rpc_req *req)
{
	return req ? req->deadline : 0;
}
