/* The calling side: call slots, deadlines, cancellation, responses. */
#include <stdlib.h>
#include <string.h>

#include "rpc_internal.h"
#include "tern/error.h"
#include "tern/session.h"

#define container_of(p, type, member) ((type *)((char *)(p) - offsetof(type, member)))

static void on_deadline(struct tni_timer *t, uint64_t now);

int tni_rpc_client_init(struct tern_rpc *rpc)
{
	rpc->calls = calloc(rpc->cfg.max_calls, sizeof(*rpc->calls));
	if (!rpc->calls)
		return TERN_ENOMEM;
	for (uint32_t i = rpc->cfg.max_calls; i-- > 0;) {
		struct rpc_call *c = &rpc->calls[i];
		c->rpc = rpc;
		c->id = i;
		tni_timer_init(&c->timer, on_deadline);
		c->next_free = rpc->free_calls;
		rpc->free_calls = c;
	}
	return 0;
}

/* A slot is reused once the call has ended and the transport let go of its
 * request buffer. Each of the two ends clears its own flag and then reads
 * only the other's: a test of both flags compiled to one 16-bit load of
 * the byte just stored and its neighbour, which store forwarding cannot
 * serve: a stall on every completed call. */
static void release(struct rpc_call *c)
{
	struct tern_rpc *rpc = c->rpc;
	tni_rpc_buf_release(rpc, c->buf);
	c->buf = NULL;
	c->s = NULL;
	c->id += 1ull << 32; /* new generation: late responses miss */
	c->next_free = rpc->free_calls;
	rpc->free_calls = c;
}

static void complete(struct rpc_call *c, int status, const void *resp, size_t len)
{
	c->active = false;
	tni_timer_stop(&c->timer); /* the slots live as long as the engine */
	struct rpc_sess *rs = c->s ? tni_session_upper_data(c->s) : NULL;
	if (rs) {
		if (--rs->calls_out == 0)
			tni_session_hold_liveness(c->s, false);
		if (c->sess_prev)
			c->sess_prev->sess_next = c->sess_next;
		else
			rs->calls = c->sess_next;
		if (c->sess_next)
			c->sess_next->sess_prev = c->sess_prev;
	}
	tern_rpc_cont cont = c->cont;
	void *arg = c->arg;
	if (!c->tx_pending)
		release(c);
	cont(status, resp, len, arg);
}

static void on_deadline(struct tni_timer *t, uint64_t now)
{
	(void)now;
	struct rpc_call *c = container_of(t, struct rpc_call, timer);
	if (c->active)
		complete(c, TERN_ETIMEDOUT, NULL, 0);
}

int tern_rpc_call(struct tern_rpc *rpc, struct tern_session *s, uint16_t type, void *req, size_t len,
		  uint64_t timeout_ns, tern_rpc_cont cont, void *arg, uint64_t *call_id)
{
	if (!rpc || !s || !cont || !req)
		return TERN_EINVAL;
	if (!rpc_on_owner(rpc))
		return TERN_EWRONGTHREAD;
	struct rpc_buf *b = rpc_buf_of(req);
	if (b->magic != RPC_BUF_MAGIC || len > b->cap)
		return TERN_EINVAL;
	if (tni_session_engine(s) != rpc->e)
		return TERN_EINVAL;
	if (!tni_session_open(s))
		return TERN_ECLOSED;
	struct rpc_sess *rs = tni_rpc_sess(rpc, s);
	if (!rs)
		return TERN_ENOMEM;
	if (!rpc->free_calls)
		tni_engine_release_acks(rpc->e); /* a slot waits only for its request's ack */
	if (rs->calls_out >= rpc->cfg.max_per_session || !rpc->free_calls)
		return TERN_EAGAIN;
	struct rpc_call *c = rpc->free_calls;
	/* The deadline goes on the wire too, so the server drops work the
	 * caller gave up on. Inside a poll the clock is this poll's and the
	 * request leaves in it: the deadline is set here. Between polls it
	 * counts from the next one, which sets it before sending anything. */
	struct tern_engine *e = rpc->e;
	bool now_known = timeout_ns && tni_engine_in_poll(e);
	uint64_t now = tni_engine_clock(e);
	struct rpc_hdr h = { .kind = RPC_REQ, .type = type, .req_id = c->id,
			     .word = now_known ? tni_rpc_deadline_put(now + timeout_ns, now) : 0 };
	tni_rpc_hdr_put(rpc_buf_msg(b), &h);
	int rc = tni_session_send(s, rpc_buf_msg(b), RPC_HDR_LEN + len, c);
	if (rc)
		return rc;
	rpc->free_calls = c->next_free;
	c->s = s;
	c->cont = cont;
	c->arg = arg;
	c->buf = b;
	c->active = c->tx_pending = true;
	if (rs->calls_out++ == 0)
		tni_session_hold_liveness(s, true); /* a dead server must end the call */
	c->sess_prev = NULL;
	c->sess_next = rs->calls;
	if (rs->calls)
		rs->calls->sess_prev = c;
	rs->calls = c;
	c->timeout_ns = timeout_ns;
	if (now_known) {
		tni_engine_timer_arm(e, &c->timer, now + timeout_ns);
	} else if (timeout_ns && !c->arm_pending) {
		c->arm_pending = true;
		c->next_arm = rpc->to_arm;
		rpc->to_arm = c;
	}
	rpc->stats.calls++;
	if (call_id)
		*call_id = c->id;
	return 0;
}

void tni_rpc_client_arm_deadlines(struct tern_rpc *rpc)
{
	struct tern_engine *e = rpc->e;
	while (rpc->to_arm) {
		struct rpc_call *c = rpc->to_arm;
		rpc->to_arm = c->next_arm;
		c->arm_pending = false;
		/* Ended already, or its slot reused by a call without deadline. */
		if (!c->active || !c->timeout_ns)
			continue;
		uint64_t now = tni_engine_clock(e), deadline = now + c->timeout_ns;
		tni_engine_timer_arm(e, &c->timer, deadline);
		/* Nothing was sent since the call: the request still lies in
		 * our buffer as the transport will first read it. */
		if (c->tx_pending) {
			uint32_t w = tni_rpc_deadline_put(deadline, now);
			memcpy(rpc_buf_msg(c->buf) + 4, &w, 4);
		}
	}
}

static struct rpc_call *find_call(struct tern_rpc *rpc, uint64_t id)
{
	uint32_t slot = (uint32_t)id;
	if (slot >= rpc->cfg.max_calls)
		return NULL;
	struct rpc_call *c = &rpc->calls[slot];
	return c->id == id && c->active ? c : NULL;
}

int tern_rpc_cancel(struct tern_rpc *rpc, uint64_t call_id)
{
	if (!rpc)
		return TERN_EINVAL;
	if (!rpc_on_owner(rpc))
		return TERN_EWRONGTHREAD;
	struct rpc_call *c = find_call(rpc, call_id);
	if (!c)
		return TERN_EINVAL;
	/* Tell the server, so it stops or never starts the work, and never
	 * sends the answer. Best effort: with no room to send it, the server
	 * answers and the answer is dropped here. */
	struct tern_session *s = c->s;
	struct rpc_hdr h = { .kind = RPC_CANCEL, .type = 0, .req_id = c->id };
	complete(c, TERN_ECANCELED, NULL, 0);
	struct rpc_buf *b = tni_session_open(s) ? tni_rpc_buf_new(rpc, 0) : NULL;
	if (b) {
		tni_rpc_hdr_put(rpc_buf_msg(b), &h);
		if (tni_session_send(s, rpc_buf_msg(b), RPC_HDR_LEN, (void *)((uintptr_t)b | RPC_COOKIE_STATUS)) == 0)
			rpc->stats.cancels_sent++;
		else
			tni_rpc_buf_release(rpc, b);
	}
	return 0;
}

void tni_rpc_client_on_response(struct tern_rpc *rpc, const struct rpc_hdr *h, const uint8_t *payload, size_t len)
{
	struct rpc_call *c = find_call(rpc, h->req_id);
	if (!c)
		return; /* ended already: timed out or cancelled */
	complete(c, tni_rpc_status_to_tern(h->word), payload, len);
}

void tni_rpc_client_send_done(struct rpc_call *c, int status)
{
	(void)status; /* a failure also ends the session, which ends the call */
	c->tx_pending = false;
	/* Acknowledged: the server has the request, so the buffer can go now. */
	tni_rpc_buf_release(c->rpc, c->buf);
	c->buf = NULL;
	if (!c->active)
		release(c);
}

void tni_rpc_client_session_end(struct tern_rpc *rpc, struct tern_session *s, int status)
{
	(void)rpc;
	struct rpc_sess *rs = tni_session_upper_data(s);
	while (rs && rs->calls)
		complete(rs->calls, status, NULL, 0); /* which unlinks it */
}

struct sync_result {
	bool done;
	int status;
	void *resp;
	size_t cap, len;
};

static void sync_cont(int status, const void *resp, size_t len, void *arg)
{
	struct sync_result *r = arg;
	r->done = true;
	r->status = status;
	r->len = len;
	if (resp && r->resp)
		memcpy(r->resp, resp, len < r->cap ? len : r->cap);
}

int tern_rpc_call_sync(struct tern_rpc *rpc, struct tern_session *s, uint16_t type, const void *req,
		       size_t len, uint64_t timeout_ns, void *resp, size_t resp_cap, size_t *resp_len)
{
	if (!rpc || (!req && len))
		return TERN_EINVAL;
	void *buf = tern_rpc_alloc(rpc, len);
	if (!buf)
		return len > rpc->max_msg_size - RPC_HDR_LEN ? TERN_EMSGSIZE : TERN_ENOMEM;
	if (len)
		memcpy(buf, req, len);
	struct sync_result r = { .resp = resp, .cap = resp_cap };
	int rc = tern_rpc_call(rpc, s, type, buf, len, timeout_ns, sync_cont, &r, NULL);
	if (rc) {
		tern_rpc_free(rpc, buf);
		return rc;
	}
	/* Nothing to batch it with: out now, not after the next poll's
	 * receive and timers. */
	tni_engine_transmit_now(rpc->e);
	while (!r.done) {
		rc = tern_engine_poll(rpc->e);
		if (rc < 0)
			return rc;
	}
	if (resp_len)
		*resp_len = r.len;
	return r.status;
}
