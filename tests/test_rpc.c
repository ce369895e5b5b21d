/* The RPC layer over the simulated network. */
#include <criterion/criterion.h>
#include <stdio.h>

#include "harness.h"
#include "rpc/rpc_internal.h"
#include "transport/session_internal.h"
#include "transport/wire.h"

#define MS 1000000ull
#define SEC 1000000000ull

enum { T_ECHO = 1, T_NEVER = 2, T_FAIL = 3, T_BIG = 4, T_CALLBACK = 5, T_PING = 6 };

struct world {
	struct tern_sim_net *net;
	struct tern_rpc *rpc[2]; /* [0] client node 1, [1] server node 2 */
	struct tern_engine *eng[2];
	struct tern_session *client, *server;
	unsigned handler_runs, pings, accepted;
	struct tern_rpc_req *parked;
	int last_status, done;
	size_t last_len;
	uint8_t last_resp[64];
	int server_call_status;
};
static struct world W;

static void on_session(struct tern_session *s, enum tern_session_event ev, int status, void *user)
{
	(void)status;
	struct world *w = user;
	w->accepted += ev == TERN_SESSION_ACCEPTED;
	if (ev == TERN_SESSION_ACCEPTED && !w->server)
		w->server = s;
	if (ev == TERN_SESSION_DEAD && s == w->server)
		w->server = NULL;
	if (ev == TERN_SESSION_DEAD && s == w->client)
		w->client = NULL;
}

static void h_echo(struct tern_rpc_req *req, void *arg)
{
	struct world *w = arg;
	w->handler_runs++;
	size_t n = tern_rpc_req_len(req);
	void *out = tern_rpc_alloc(w->rpc[1], n);
	memcpy(out, tern_rpc_req_data(req), n);
	cr_assert_eq(tern_rpc_respond(req, out, n), 0);
}

static void h_never(struct tern_rpc_req *req, void *arg)
{
	((struct world *)arg)->parked = req; /* answered later, or never */
}

static void h_fail(struct tern_rpc_req *req, void *arg)
{
	(void)arg;
	tern_rpc_respond_error(req, 42);
}

static void h_big(struct tern_rpc_req *req, void *arg)
{
	struct world *w = arg;
	uint32_t n;
	memcpy(&n, tern_rpc_req_data(req), 4);
	void *out = tern_rpc_alloc(w->rpc[1], n);
	cr_assert_not_null(out);
	content_fill(out, n, n);
	tern_rpc_respond(req, out, n);
}

static void server_call_done(int status, const void *resp, size_t len, void *arg)
{
	(void)resp;
	(void)len;
	((struct world *)arg)->server_call_status = status;
}

/* The server calls its client back on the same session before answering. */
static void h_callback(struct tern_rpc_req *req, void *arg)
{
	struct world *w = arg;
	void *q = tern_rpc_alloc(w->rpc[1], 4);
	memcpy(q, "ping", 4);
	w->server_call_status = 1;
	cr_assert_eq(tern_rpc_call(w->rpc[1], tern_rpc_req_session(req), T_PING, q, 4, 100 * MS, server_call_done, w, NULL), 0);
	void *out = tern_rpc_alloc(w->rpc[1], 2);
	memcpy(out, "ok", 2);
	tern_rpc_respond(req, out, 2);
}

static void h_ping(struct tern_rpc_req *req, void *arg)
{
	struct world *w = arg;
	w->pings++;
	tern_rpc_respond(req, tern_rpc_alloc(w->rpc[0], 0), 0);
}

static unsigned client_max_calls; /* 0: the default */
static uint32_t any_max_per_session; /* 0: the default */
static uint32_t any_max_sessions; /* 0: the default */

static void open_world(double loss, uint32_t client_max_msg)
{
	memset(&W, 0, sizeof(W));
	struct tern_sim_config sc;
	tern_sim_config_init(&sc);
	sc.seed = 5;
	sc.link.loss = loss;
	cr_assert_eq(tern_sim_create(&sc, &W.net), 0);
	for (int i = 0; i < 2; i++) {
		struct tern_rpc_config rc;
		tern_rpc_config_init(&rc);
		rc.workers = 0;
		struct tern_engine_config ec;
		tern_engine_config_init(&ec);
		cr_assert_eq(tern_sim_driver_open(W.net, (uint32_t)i + 1, &ec.driver), 0);
		ec.seed = 100 + (uint64_t)i;
		ec.cb.on_session = on_session;
		ec.cb.user = &W;
		if (i == 0 && client_max_msg)
			ec.max_msg_size = client_max_msg;
		if (i == 0 && client_max_calls)
			rc.max_calls = client_max_calls;
		if (any_max_per_session)
			rc.max_per_session = any_max_per_session;
		if (any_max_sessions)
			ec.max_sessions = any_max_sessions;
		cr_assert_eq(tern_rpc_create(&rc, &ec, &W.rpc[i]), 0);
		W.eng[i] = tern_rpc_engine(W.rpc[i]);
	}
	tern_rpc_register(W.rpc[1], T_ECHO, h_echo, &W, 0);
	tern_rpc_register(W.rpc[1], T_NEVER, h_never, &W, 0);
	tern_rpc_register(W.rpc[1], T_FAIL, h_fail, &W, 0);
	tern_rpc_register(W.rpc[1], T_BIG, h_big, &W, 0);
	tern_rpc_register(W.rpc[1], T_CALLBACK, h_callback, &W, 0);
	tern_rpc_register(W.rpc[0], T_PING, h_ping, &W, 0);
	struct tern_addr srv = tern_addr_sim(2);
	cr_assert_eq(tern_session_connect(W.eng[0], &srv, &W.client), 0);
}

static void close_world(void)
{
	tern_rpc_destroy(W.rpc[0]);
	tern_rpc_destroy(W.rpc[1]);
	tern_sim_destroy(W.net);
}

static void cont(int status, const void *resp, size_t len, void *arg)
{
	struct world *w = arg;
	w->done++;
	w->last_status = status;
	w->last_len = len;
	if (resp)
		memcpy(w->last_resp, resp, len < sizeof(w->last_resp) ? len : sizeof(w->last_resp));
}

static bool one_done(void *arg)
{
	return ((struct world *)arg)->done >= 1;
}

static int call(uint16_t type, const void *data, size_t len, uint64_t timeout, uint64_t *id)
{
	void *q = tern_rpc_alloc(W.rpc[0], len);
	cr_assert_not_null(q);
	memcpy(q, data, len);
	W.done = 0;
	int rc = tern_rpc_call(W.rpc[0], W.client, type, q, len, timeout, cont, &W, id);
	if (rc)
		tern_rpc_free(W.rpc[0], q);
	return rc;
}

static int run_one(uint64_t limit)
{
	tern_sim_run(W.net, W.eng, 2, tern_sim_now(W.net) + limit, one_done, &W);
	return W.done ? W.last_status : 1;
}

Test(rpc, echo_and_statuses)
{
	open_world(0, 0);
	cr_assert_eq(call(T_ECHO, "hello", 5, 100 * MS, NULL), 0);
	cr_assert_eq(run_one(100 * MS), 0);
	cr_assert_eq(W.last_len, 5);
	cr_assert_eq(memcmp(W.last_resp, "hello", 5), 0);
	cr_assert_eq(call(99, "x", 1, 100 * MS, NULL), 0);
	cr_assert_eq(run_one(100 * MS), TERN_ENOHANDLER);
	cr_assert_eq(call(T_FAIL, "x", 1, 100 * MS, NULL), 0);
	cr_assert_eq(run_one(100 * MS), TERN_EREMOTE);
	int32_t code;
	memcpy(&code, W.last_resp, 4);
	cr_assert_eq(code, 42);
	close_world();
}

Test(rpc, deadline_cancel_and_late_answers)
{
	open_world(0, 0);
	uint64_t t0 = tern_sim_now(W.net);
	cr_assert_eq(call(T_NEVER, "x", 1, 5 * MS, NULL), 0);
	cr_assert_eq(run_one(1 * SEC), TERN_ETIMEDOUT);
	uint64_t took = tern_sim_now(W.net) - t0;
	cr_assert(took >= 5 * MS && took < 6 * MS, "timed out after %llu us", (unsigned long long)(took / 1000));
	/* The late answer is dropped quietly. */
	tern_rpc_respond(W.parked, tern_rpc_alloc(W.rpc[1], 1), 1);
	tern_sim_run(W.net, W.eng, 2, tern_sim_now(W.net) + 10 * MS, NULL, NULL);
	cr_assert_eq(W.done, 1);

	uint64_t id;
	cr_assert_eq(call(T_NEVER, "x", 1, 0, &id), 0);
	tern_sim_run(W.net, W.eng, 2, tern_sim_now(W.net) + 1 * MS, NULL, NULL);
	cr_assert_eq(tern_rpc_cancel(W.rpc[0], id), 0);
	cr_assert_eq(W.done, 1);
	cr_assert_eq(W.last_status, TERN_ECANCELED);
	cr_assert_eq(tern_rpc_cancel(W.rpc[0], id), TERN_EINVAL);
	tern_rpc_respond(W.parked, tern_rpc_alloc(W.rpc[1], 1), 1);
	tern_sim_run(W.net, W.eng, 2, tern_sim_now(W.net) + 10 * MS, NULL, NULL);
	cr_assert_eq(W.done, 1);
	close_world();
}

/* Deadlines are armed by the poll after the call: one cancelled before
 * that poll never fires, and one set before it runs its whole length. */
Test(rpc, a_deadline_set_between_polls_runs_from_the_next_poll)
{
	open_world(0, 0);
	uint64_t id;
	cr_assert_eq(call(T_NEVER, "x", 1, 1 * MS, &id), 0);
	cr_assert_eq(tern_rpc_cancel(W.rpc[0], id), 0);
	cr_assert_eq(W.done, 1);
	cr_assert_eq(W.last_status, TERN_ECANCELED);
	tern_sim_run(W.net, W.eng, 2, tern_sim_now(W.net) + 20 * MS, NULL, NULL);
	cr_assert_eq(W.done, 1, "the continuation ran again: %d", W.last_status);
	uint64_t t0 = tern_sim_now(W.net);
	cr_assert_eq(call(T_NEVER, "x", 1, 3 * MS, NULL), 0);
	cr_assert_eq(run_one(1 * SEC), TERN_ETIMEDOUT);
	uint64_t took = tern_sim_now(W.net) - t0;
	cr_assert(took >= 3 * MS && took < 4 * MS, "timed out after %llu us", (unsigned long long)(took / 1000));
	close_world();
}

Test(rpc, peer_gone_ends_calls_within_their_deadline)
{
	open_world(0, 0);
	cr_assert_eq(call(T_ECHO, "x", 1, 100 * MS, NULL), 0);
	cr_assert_eq(run_one(100 * MS), 0);
	struct tern_sim_link cut = { .loss = 1.0 };
	tern_sim_set_link(W.net, 2, &cut);
	tern_sim_set_link(W.net, 1, &cut);
	cr_assert_eq(call(T_ECHO, "x", 1, 500 * MS, NULL), 0);
	cr_assert_eq(run_one(10 * SEC), TERN_ETIMEDOUT);
	/* No deadline: the session's death ends the call. */
	cr_assert_eq(call(T_ECHO, "x", 1, 0, NULL), 0);
	cr_assert_eq(run_one(10 * SEC), TERN_EPEERDEAD);
	cr_assert_null(W.client);
	close_world();
}

Test(rpc, large_requests_and_responses)
{
	open_world(0.01, 4u << 20);
	static uint8_t big[3u << 20];
	content_fill(big, sizeof(big), 7);
	void *q = tern_rpc_alloc(W.rpc[0], sizeof(big));
	memcpy(q, big, sizeof(big));
	W.done = 0;
	cr_assert_eq(tern_rpc_call(W.rpc[0], W.client, T_ECHO, q, sizeof(big), 10 * SEC, cont, &W, NULL), 0);
	cr_assert_eq(run_one(10 * SEC), 0);
	cr_assert_eq(W.last_len, sizeof(big));
	uint32_t n = 2u << 20;
	cr_assert_eq(call(T_BIG, &n, 4, 10 * SEC, NULL), 0);
	cr_assert_eq(run_one(10 * SEC), 0);
	cr_assert_eq(W.last_len, n);
	/* A response larger than the caller accepts: told, not hung. */
	n = 5u << 20;
	cr_assert_eq(call(T_BIG, &n, 4, 10 * SEC, NULL), 0);
	cr_assert_eq(run_one(10 * SEC), TERN_EMSGSIZE);
	/* A request larger than we accept is refused at once. */
	cr_assert_null(tern_rpc_alloc(W.rpc[0], 5u << 20));
	close_world();
}

Test(rpc, many_calls_under_loss_run_each_handler_once)
{
	open_world(0.1, 0);
	enum { N = 2000 };
	unsigned ok = 0;
	for (unsigned i = 0; i < N; i++) {
		uint32_t v = i;
		cr_assert_eq(call(T_ECHO, &v, 4, 10 * SEC, NULL), 0);
		if (run_one(10 * SEC) == 0 && memcmp(W.last_resp, &v, 4) == 0)
			ok++;
	}
	cr_assert_eq(ok, N);
	cr_assert_eq(W.handler_runs, N);
	struct tern_stats cs;
	tern_engine_stats(W.eng[0], &cs);
	cr_assert_gt(cs.retransmits, 0, "loss made the client retransmit requests");
	close_world();
}

/* The client keeps as many calls out as the server serves per session.
 * The next request's ack frees the slot of the answer it acknowledges,
 * so the server must handle that ack before it looks for a slot for the
 * request (docs/benchmarks.md: an ack handled later refused calls). */
static unsigned pipe_done, pipe_failed;
static void pipe_cont(int status, const void *resp, size_t len, void *arg)
{
	(void)resp;
	(void)len;
	(void)arg;
	pipe_done++;
	pipe_failed += status != 0;
}

static bool pipe_progress(void *arg)
{
	return pipe_done != *(unsigned *)arg;
}

/* An 8-byte echo call from the client, ending in cont; the buffer goes
 * back if the call is refused. */
static int echo8(tern_rpc_cont cont, int fill)
{
	void *q = tern_rpc_alloc(W.rpc[0], 8);
	cr_assert_not_null(q);
	memset(q, fill, 8);
	int rc = tern_rpc_call(W.rpc[0], W.client, T_ECHO, q, 8, 10 * SEC, cont, NULL, NULL);
	if (rc)
		tern_rpc_free(W.rpc[0], q);
	return rc;
}

Test(rpc, a_full_pipeline_is_never_refused)
{
	open_world(0, 0);
	struct tern_rpc_config defaults;
	tern_rpc_config_init(&defaults);
	const unsigned depth = defaults.max_per_session, total = 3000;
	unsigned issued = 0;
	pipe_done = pipe_failed = 0;
	while (pipe_done < total) {
		while (issued < total && issued - pipe_done < depth) {
			cr_assert_eq(echo8(pipe_cont, 7), 0);
			issued++;
		}
		unsigned before = pipe_done;
		tern_sim_run(W.net, W.eng, 2, tern_sim_now(W.net) + SEC, pipe_progress, &before);
		cr_assert_neq(pipe_done, before, "no progress");
	}
	cr_assert_eq(pipe_failed, 0, "%u calls refused", pipe_failed);
	close_world();
}

/* A client with every call slot in use issues the next call from the
 * continuation of the last: the answer's ack has ended that call's
 * request, so its slot is free by then. */
static unsigned chain_left, chain_refused;
static void chain_cont(int status, const void *resp, size_t len, void *arg)
{
	pipe_cont(status, resp, len, arg);
	if (!chain_left)
		return;
	chain_left--;
	if (echo8(chain_cont, 3))
		chain_refused++;
}

Test(rpc, a_call_from_a_continuation_finds_the_slot_it_freed)
{
	client_max_calls = 8;
	open_world(0, 0);
	pipe_done = pipe_failed = chain_refused = 0;
	chain_left = 2000;
	unsigned started = 0;
	/* Fill every slot, then let the continuations keep them full. */
	for (; started < client_max_calls; started++)
		if (echo8(chain_cont, 3))
			break;
	cr_assert_eq(started, client_max_calls, "every slot in use");
	unsigned want = started + 2000;
	while (pipe_done < want - chain_refused) {
		unsigned before = pipe_done;
		tern_sim_run(W.net, W.eng, 2, tern_sim_now(W.net) + SEC, pipe_progress, &before);
		cr_assert_neq(pipe_done, before, "no progress");
	}
	cr_assert_eq(chain_refused, 0, "%u calls refused from a continuation", chain_refused);
	cr_assert_eq(pipe_failed, 0);
	close_world();
}

/* The transport holds a request's ack (which frees its call slot) and an
 * answer's ack (which frees the server's entry) until the next send: with
 * one slot each way, the next call must still find them (the RPC layer has
 * the held acks processed when it runs out). */
Test(rpc, back_to_back_calls_with_one_slot_each_way_are_never_refused)
{
	client_max_calls = 1;
	any_max_per_session = 1;
	open_world(0, 0);
	for (int i = 0; i < 50; i++) {
		cr_assert_eq(call(T_ECHO, "hello", 5, 100 * MS, NULL), 0, "call %d got its slot", i);
		cr_assert_eq(run_one(100 * MS), 0, "call %d served, not refused as busy", i);
		cr_assert_eq(W.last_len, 5);
	}
	close_world();
}

Test(rpc, replayed_or_reused_request_never_runs_twice)
{
	open_world(0, 0);
	cr_assert_eq(call(T_ECHO, "once", 4, 100 * MS, NULL), 0);
	cr_assert_eq(run_one(100 * MS), 0);
	cr_assert_eq(W.handler_runs, 1);
	struct tern_session *srv = W.server, *cli = W.client;
	uint8_t pkt[256], msg[RPC_HDR_LEN + 4];
	struct rpc_hdr rh = { .kind = RPC_REQ, .type = T_ECHO, .req_id = 0 };
	tni_rpc_hdr_put(msg, &rh);
	memcpy(msg + RPC_HDR_LEN, "once", 4);
	/* 1. The same packet again (old psn), as a replayed raw datagram. */
	struct tni_wire_hdr h = { .type = TERN_PKT_DATA, .dst_sid = srv->sid, .src_sid = cli->sid,
				   .src_epoch = srv->peer_epoch, .psn = cli->isn,
				   .ack = srv->sb.nxt, .rwnd = 256, .msg_id = 0, .msg_len = sizeof(msg),
				   .payload_len = sizeof(msg) };
	memcpy(pkt + TERN_WIRE_HDR_LEN, msg, sizeof(msg));
	size_t len = tni_wire_encode(pkt, &h, NULL);
	cr_assert_eq(tern_sim_inject(W.net, 1, 2, pkt, len), 0);
	/* 2. The same request id in a new packet and message (a confused or
	 * hostile client): the RPC layer's own check stops it. */
	h.psn = cli->sb.nxt;
	h.msg_id = cli->next_msg_id;
	len = tni_wire_encode(pkt, &h, NULL);
	cr_assert_eq(tern_sim_inject(W.net, 1, 2, pkt, len), 0);
	tern_sim_run(W.net, W.eng, 2, tern_sim_now(W.net) + 10 * MS, NULL, NULL);
	cr_assert_eq(W.handler_runs, 1);
	struct tern_stats ss;
	tern_engine_stats(W.eng[1], &ss);
	cr_assert_geq(ss.dup_pkts, 1);
	close_world();
}

/* Requests the server holds open, by injection order. */
static struct tern_rpc_req *open_reqs[64];
static unsigned n_open;

static void h_hold(struct tern_rpc_req *req, void *arg)
{
	struct world *w = arg;
	w->handler_runs++;
	open_reqs[n_open++] = req;
}

/* A request with id req_id as the client's next message, sent raw. */
static void inject_request(uint64_t req_id, uint32_t k)
{
	struct tern_session *srv = W.server, *cli = W.client;
	uint8_t pkt[256], msg[RPC_HDR_LEN + 1] = { 0 };
	struct rpc_hdr rh = { .kind = RPC_REQ, .type = T_NEVER + 100, .req_id = req_id };
	tni_rpc_hdr_put(msg, &rh);
	struct tni_wire_hdr h = { .type = TERN_PKT_DATA, .dst_sid = srv->sid, .src_sid = cli->sid,
				   .src_epoch = srv->peer_epoch, .psn = cli->sb.nxt + k,
				   .ack = srv->sb.una, .rwnd = 256, .msg_id = cli->next_msg_id + k,
				   .msg_len = sizeof(msg), .payload_len = sizeof(msg) };
	memcpy(pkt + TERN_WIRE_HDR_LEN, msg, sizeof(msg));
	size_t len = tni_wire_encode(pkt, &h, NULL);
	cr_assert_eq(tern_sim_inject(W.net, 1, 2, pkt, len), 0);
}

/* The server finds a repeated id among many open requests whose ids
 * crowd the same slots of its table, also after some of them ended. */
Test(rpc, a_repeated_id_among_many_open_requests_never_runs_twice)
{
	open_world(0, 0);
	tern_rpc_register(W.rpc[1], T_NEVER + 100, h_hold, &W, 0);
	n_open = 0;
	cr_assert_eq(call(T_ECHO, "hi", 2, 100 * MS, NULL), 0);
	cr_assert_eq(run_one(100 * MS), 0);
	W.handler_runs = 0;
	struct rpc_sess *rs = W.server->upper_data;
	/* 40 ids in two neighbouring home slots: long, interleaved probe runs. */
	uint64_t ids[40];
	unsigned n = 0;
	for (uint64_t id = 1; n < 40; id++) {
		uint32_t home = (uint32_t)((id * 0x9e3779b97f4a7c15ull) >> 32) & rs->served_mask;
		if (home == 7 || home == 8)
			ids[n++] = id;
	}
	uint32_t k = 0;
	for (unsigned i = 0; i < 40; i++)
		inject_request(ids[i], k++);
	tern_sim_run(W.net, W.eng, 2, tern_sim_now(W.net) + 10 * MS, NULL, NULL);
	cr_assert_eq(W.handler_runs, 40);
	cr_assert_eq(rs->n_served, 40);
	/* End every third: the answer goes out and the client's ack ends it. */
	for (unsigned i = 0; i < 40; i += 3)
		cr_assert_eq(tern_rpc_respond(open_reqs[i], tern_rpc_alloc(W.rpc[1], 1), 1), 0);
	tern_sim_run(W.net, W.eng, 2, tern_sim_now(W.net) + 100 * MS, NULL, NULL);
	cr_assert_eq(rs->n_served, 40 - 14);
	/* Each open id again, as a new message: none runs. */
	for (unsigned i = 0; i < 40; i++)
		if (i % 3)
			inject_request(ids[i], k++);
	tern_sim_run(W.net, W.eng, 2, tern_sim_now(W.net) + 10 * MS, NULL, NULL);
	cr_assert_eq(W.handler_runs, 40);
	/* The rest end as well, and the table is empty. */
	for (unsigned i = 0; i < 40; i++)
		if (i % 3)
			cr_assert_eq(tern_rpc_respond(open_reqs[i], tern_rpc_alloc(W.rpc[1], 1), 1), 0);
	tern_sim_run(W.net, W.eng, 2, tern_sim_now(W.net) + 100 * MS, NULL, NULL);
	cr_assert_eq(rs->n_served, 0);
	for (uint32_t i = 0; i <= rs->served_mask; i++)
		cr_assert_null(rs->served[i]);
	close_world();
}

/* max_per_session has no upper bound of its own; the table of open
 * requests is sized by what can really be open (max_calls). */
Test(rpc, a_huge_per_session_limit_still_serves, .timeout = 20)
{
	any_max_per_session = UINT32_MAX;
	open_world(0, 0);
	any_max_per_session = 0;
	cr_assert_eq(call(T_ECHO, "big", 3, 100 * MS, NULL), 0);
	cr_assert_eq(run_one(100 * MS), 0);
	cr_assert_eq(W.last_len, 3);
	close_world();
}

Test(rpc, server_calls_its_client_on_the_same_session)
{
	open_world(0, 0);
	cr_assert_eq(call(T_CALLBACK, "x", 1, 100 * MS, NULL), 0);
	cr_assert_eq(run_one(100 * MS), 0);
	tern_sim_run(W.net, W.eng, 2, tern_sim_now(W.net) + 10 * MS, NULL, NULL);
	cr_assert_eq(W.pings, 1);
	cr_assert_eq(W.server_call_status, 0);
	close_world();
}

Test(rpc, steady_ping_pong_sends_no_standalone_acks)
{
	open_world(0, 0);
	cr_assert_eq(call(T_ECHO, "warm", 4, 100 * MS, NULL), 0);
	cr_assert_eq(run_one(100 * MS), 0);
	struct tern_stats c0, s0, c1, s1;
	tern_engine_stats(W.eng[0], &c0);
	tern_engine_stats(W.eng[1], &s0);
	/* Closed loop as a client library would run it: the next call leaves
	 * soon after the previous answer (here at once, on the same clock). */
	for (int i = 0; i < 1000; i++) {
		cr_assert_eq(call(T_ECHO, "abcdefgh", 8, 100 * MS, NULL), 0);
		cr_assert_eq(run_one(100 * MS), 0);
	}
	tern_engine_stats(W.eng[0], &c1);
	tern_engine_stats(W.eng[1], &s1);
	uint64_t acks = (c1.acks_sent - c0.acks_sent) + (s1.acks_sent - s0.acks_sent);
	uint64_t pkts = (c1.tx_pkts - c0.tx_pkts) + (s1.tx_pkts - s0.tx_pkts);
	printf("[ping-pong] 1000 calls: %llu packets, %llu standalone acks\n", (unsigned long long)pkts,
	       (unsigned long long)acks);
	cr_assert_eq(acks, 0);
	cr_assert_eq(pkts, 2000);
	close_world();
}

/* A call the server's handler holds without answering (W.parked). */
static uint64_t park_call(void)
{
	uint64_t id;
	cr_assert_eq(call(T_NEVER, "x", 1, 0, &id), 0);
	tern_sim_run(W.net, W.eng, 2, tern_sim_now(W.net) + 1 * MS, NULL, NULL);
	return id;
}

Test(rpc, closing_the_session_ends_its_calls)
{
	open_world(0, 0);
	park_call();
	cr_assert_eq(tern_session_close(W.client), 0);
	cr_assert_eq(W.done, 1);
	cr_assert_eq(W.last_status, TERN_ECLOSED);
	W.client = NULL;
	close_world();
}

/* A session the RPC layer owns takes no bare messages: the RPC layer reads
 * every send cookie on its sessions as its own, so a foreign one was read
 * as a call slot (a global-buffer-overflow under ASan). The call is refused
 * and the session keeps serving calls. */
Test(rpc, a_bare_send_on_an_rpc_session_is_refused)
{
	open_world(0, 0);
	cr_assert_eq(call(T_ECHO, "x", 1, 100 * MS, NULL), 0);
	cr_assert_eq(run_one(100 * MS), 0);
	static char my_cookie;
	static uint8_t buf[64];
	cr_assert_eq(tern_session_send(W.client, buf, sizeof(buf), &my_cookie), TERN_ENOTOWNER);
	cr_assert_eq(tern_session_send(W.server, buf, sizeof(buf), &my_cookie), TERN_ENOTOWNER);
	tern_sim_run(W.net, W.eng, 2, tern_sim_now(W.net) + 10 * MS, NULL, NULL);
	cr_assert_eq(call(T_ECHO, "y", 1, 100 * MS, NULL), 0);
	cr_assert_eq(run_one(100 * MS), 0);
	cr_assert_eq(W.last_resp[0], 'y');
	cr_assert_eq(W.handler_runs, 2);
	close_world();
}

/* Polls the client alone for a while, in 10 us steps: the server's
 * packets wait in its queue (tern_sim_run would step 1 ns at a time past
 * a packet nobody takes). */
static void run_client_only(uint64_t ns)
{
	uint64_t end = tern_sim_now(W.net) + ns;
	for (uint64_t t = tern_sim_now(W.net); t < end; t += 10000) {
		tern_engine_poll(W.eng[0]);
		tern_sim_advance(W.net, t);
	}
}

/* The server is not polled while the request waits in its queue, as an
 * overloaded server would not be: when it gets to it, the caller's
 * deadline has passed, and the handler does not run. The same stall with
 * a deadline still ahead runs it. */
Test(rpc, a_server_past_the_callers_deadline_does_not_run_the_handler)
{
	open_world(0, 0);
	cr_assert_eq(call(T_ECHO, "a", 1, 100 * MS, NULL), 0);
	cr_assert_eq(run_one(100 * MS), 0);
	cr_assert_eq(W.handler_runs, 1);

	cr_assert_eq(call(T_ECHO, "b", 1, 2 * MS, NULL), 0);
	run_client_only(10 * MS);
	cr_assert_eq(W.done, 1);
	cr_assert_eq(W.last_status, TERN_ETIMEDOUT);
	tern_sim_run(W.net, W.eng, 2, tern_sim_now(W.net) + 10 * MS, NULL, NULL);
	cr_assert_eq(W.handler_runs, 1, "the handler ran past the caller's deadline");
	struct tern_rpc_stats st;
	cr_assert_eq(tern_rpc_stats(W.rpc[1], &st), 0);
	cr_assert_eq(st.requests_expired, 1);

	cr_assert_eq(call(T_ECHO, "c", 1, 100 * MS, NULL), 0);
	run_client_only(10 * MS);
	cr_assert_eq(W.done, 0);
	cr_assert_eq(run_one(100 * MS), 0);
	cr_assert_eq(W.handler_runs, 2);
	cr_assert_eq(W.last_resp[0], 'c');
	cr_assert_eq(tern_rpc_stats(W.rpc[1], &st), 0);
	cr_assert_eq(st.requests_expired, 1);
	close_world();
}

/* A handler that answers later sees the caller's cancel, and its answer
 * is not sent; one whose caller's deadline passes sees that too. */
Test(rpc, a_cancel_reaches_a_handler_that_asks)
{
	open_world(0, 0);
	uint64_t id = park_call();
	cr_assert_not_null(W.parked);
	cr_assert_not(tern_rpc_req_cancelled(W.parked));
	cr_assert_eq(tern_rpc_req_deadline(W.parked), 0);
	cr_assert_eq(tern_rpc_cancel(W.rpc[0], id), 0);
	cr_assert_eq(W.last_status, TERN_ECANCELED);
	tern_sim_run(W.net, W.eng, 2, tern_sim_now(W.net) + 1 * MS, NULL, NULL);
	cr_assert(tern_rpc_req_cancelled(W.parked), "the cancel did not reach the server");
	struct tern_stats c0, c1;
	tern_engine_stats(W.eng[0], &c0);
	cr_assert_eq(tern_rpc_respond(W.parked, tern_rpc_alloc(W.rpc[1], 1), 1), TERN_ECANCELED);
	tern_sim_run(W.net, W.eng, 2, tern_sim_now(W.net) + 10 * MS, NULL, NULL);
	tern_engine_stats(W.eng[0], &c1);
	cr_assert_eq(c1.msgs_delivered, c0.msgs_delivered, "the cancelled call's answer was sent");
	struct tern_rpc_stats st;
	tern_rpc_stats(W.rpc[1], &st);
	cr_assert_eq(st.requests_cancelled, 1);
	cr_assert_eq(st.answers_dropped, 1);
	tern_rpc_stats(W.rpc[0], &st);
	cr_assert_eq(st.cancels_sent, 1);

	/* A deadline: the parked request learns of it when it passes. */
	W.parked = NULL;
	cr_assert_eq(call(T_NEVER, "y", 1, 5 * MS, NULL), 0);
	tern_sim_run(W.net, W.eng, 2, tern_sim_now(W.net) + 1 * MS, NULL, NULL);
	cr_assert_not_null(W.parked);
	uint64_t dl = tern_rpc_req_deadline(W.parked), now = tern_engine_now(W.eng[1]);
	cr_assert(dl > now && dl <= now + 5 * MS, "deadline %llu, now %llu", (unsigned long long)dl,
		  (unsigned long long)now);
	cr_assert_not(tern_rpc_req_cancelled(W.parked));
	cr_assert_eq(run_one(1 * SEC), TERN_ETIMEDOUT);
	tern_sim_run(W.net, W.eng, 2, tern_sim_now(W.net) + 1 * MS, NULL, NULL);
	cr_assert(tern_rpc_req_cancelled(W.parked));
	cr_assert_eq(tern_rpc_respond(W.parked, tern_rpc_alloc(W.rpc[1], 1), 1), TERN_ETIMEDOUT);
	close_world();
}

/* What a session costs, measured, not typed: the heap's growth for 1,000
 * sessions between two engines (both ends counted, so per end) when just
 * opened, while each carries a call (window and RPC state held), and once
 * they have been idle past TNI_IDLE_RELEASE_NS, which gives it all back.
 * The figures go to the log for docs/architecture.md ("Memory"). */
Test(rpc, an_idle_session_costs_at_most_2048_bytes_an_end, .timeout = 60)
{
#ifdef UNDER_ASAN
	cr_skip_test("ASan's allocator does not report to mallinfo2");
#endif
	enum { N = 1000 };
	any_max_sessions = N + 8;
	open_world(0, 0); /* one session, connecting */
	cr_assert_eq(call(T_ECHO, "x", 1, 100 * MS, NULL), 0);
	cr_assert_eq(run_one(100 * MS), 0);
	static struct tern_session *s[N];
	struct tern_addr srv = tern_addr_sim(2);
	size_t before = heap_used();
	for (int i = 0; i < N; i++)
		cr_assert_eq(tern_session_connect(W.eng[0], &srv, &s[i]), 0);
	tern_sim_run(W.net, W.eng, 2, tern_sim_now(W.net) + 10 * MS, NULL, NULL);
	cr_assert_eq(W.accepted, N + 1);
	size_t opened = heap_used() - before;
	W.done = 0;
	for (int i = 0; i < N; i++) {
		void *q = tern_rpc_alloc(W.rpc[0], 1);
		cr_assert_eq(tern_rpc_call(W.rpc[0], s[i], T_ECHO, q, 1, 0, cont, &W, NULL), 0);
	}
	tern_sim_run(W.net, W.eng, 2, tern_sim_now(W.net) + 10 * MS, NULL, NULL);
	cr_assert_eq(W.done, N);
	size_t busy = heap_used() - before;
	tern_sim_run(W.net, W.eng, 2, tern_sim_now(W.net) + 300 * MS, NULL, NULL);
	/* The engines' pools of small RPC buffers grew with the 1,000 calls
	 * at once: a cache bounded per engine (RPC_SMALL_KEEP), whatever the
	 * number of sessions, so not a session's cost. */
	size_t pooled = 0;
	for (int k = 0; k < 2; k++)
		pooled += W.rpc[k]->small_count * (sizeof(struct rpc_buf) + RPC_SMALL_CAP);
	size_t idle = heap_used() - before - pooled;
	printf("[memory] per session end: %zu bytes opened, %zu bytes after a call (window and RPC state held), "
	       "%zu bytes idle again; window %u packets; and %zu bytes of pooled RPC buffers in all\n",
	       opened / (2 * N), busy / (2 * N), idle / (2 * N), 256u, pooled);
	cr_assert_gt(opened / (2 * N), 64, "the figure is implausibly small");
	cr_assert_leq(opened / (2 * N), 2048);
	cr_assert_leq(idle / (2 * N), 2048, "idle again, a session end holds %zu bytes", idle / (2 * N));
	cr_assert_gt(busy, idle + N * 2048, "a busy session holds its window and RPC state");
	close_world();
}

/* A config whose size was never set (no _init call) is refused, not read
 * as defaults; a driver handed over with a refused config is let go. */
Test(rpc, an_uninitialised_config_is_refused)
{
	struct tern_sim_config sc;
	struct tern_sim_net *net;
	tern_sim_config_init(&sc);
	cr_assert_eq(tern_sim_create(&sc, &net), 0);
	struct tern_engine_config ec;
	memset(&ec, 0, sizeof(ec));
	struct tern_rpc *rpc;
	cr_assert_eq(tern_rpc_create(NULL, &ec, &rpc), TERN_EINVAL);
	struct tern_rpc_config rc;
	memset(&rc, 0, sizeof(rc));
	tern_engine_config_init(&ec);
	cr_assert_eq(tern_sim_driver_open(net, 1, &ec.driver), 0);
	cr_assert_eq(tern_rpc_create(&rc, &ec, &rpc), TERN_EINVAL);
	/* The node is free again: the refused call let its driver go. */
	tern_engine_config_init(&ec);
	cr_assert_eq(tern_sim_driver_open(net, 1, &ec.driver), 0);
	cr_assert_eq(tern_rpc_create(NULL, &ec, &rpc), 0);
	tern_rpc_destroy(rpc);
	tern_sim_destroy(net);
}
