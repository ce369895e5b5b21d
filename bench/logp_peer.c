/* The peer's side of tern-bench logp (logp_peer.h). */
#include "logp_peer.h"

#include <string.h>

#include "bench_util.h"

static void put_le64(uint8_t *b, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le64(const uint8_t *b)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v |= (uint64_t)b[i] << (8 * i);
	return v;
}

static void answer_empty(struct tern_rpc *rpc, struct tern_rpc_req *req)
{
	void *out = tern_rpc_alloc(rpc, 0);
	if (out)
		tern_rpc_respond(req, out, 0);
	else
		tern_rpc_respond_error(req, 12);
}

static void sink(struct tern_rpc_req *req, void *arg)
{
	struct logp_peer *p = arg;
	answer_empty(p->rpc, req);
}

static void arm(struct tern_rpc_req *req, void *arg)
{
	struct logp_peer *p = arg;
	if (tern_rpc_req_len(req) != 8) {
		tern_rpc_respond_error(req, 22);
		return;
	}
	uint64_t ns = get_le64(tern_rpc_req_data(req));
	p->arm_ns = ns == 0 ? 1 : ns > LOGP_MAX_ARM_NS ? LOGP_MAX_ARM_NS : ns;
	/* Answered in this poll, which sends it before the wait begins. */
	answer_empty(p->rpc, req);
}

static void timed(struct tern_rpc_req *req, void *arg)
{
	struct logp_peer *p = arg;
	uint64_t got = bench_now_ns();
	uint64_t v = UINT64_MAX, pkts = 0;
	if (p->timing && !p->got) {
		v = got - p->t0;
		p->got = true;
		struct tern_stats st; /* after the clock stopped */
		if (tern_engine_stats(tern_rpc_engine(p->rpc), &st) == 0)
			pkts = st.rx_pkts - p->rx0;
	}
	uint8_t *out = tern_rpc_alloc(p->rpc, 16);
	if (!out) {
		tern_rpc_respond_error(req, 12);
		return;
	}
	/* The time, and the packets received while timing it. */
	put_le64(out, v);
	put_le64(out + 8, pkts);
	tern_rpc_respond(req, out, 16);
}

int logp_peer_register(struct logp_peer *p, struct tern_rpc *rpc)
{
	memset(p, 0, sizeof(*p));
	p->rpc = rpc;
	int rc = tern_rpc_register(rpc, BENCH_SINK, sink, p, 0);
	if (!rc)
		rc = tern_rpc_register(rpc, BENCH_ARM, arm, p, 0);
	if (!rc)
		rc = tern_rpc_register(rpc, BENCH_TIMED, timed, p, 0);
	return rc;
}

void logp_peer_after_poll(struct logp_peer *p)
{
	if (!p->arm_ns)
		return;
	uint64_t until = bench_now_ns() + p->arm_ns;
	p->arm_ns = 0;
	/* The wait: long enough that the timed message is here when we look. */
	while (bench_now_ns() < until)
		;
	struct tern_engine *e = tern_rpc_engine(p->rpc);
	p->got = false;
	p->timing = true;
	struct tern_stats st;
	p->rx0 = tern_engine_stats(e, &st) == 0 ? st.rx_pkts : 0;
	p->t0 = bench_now_ns();
	/* Every poll until the handler runs: a large message takes several
	 * bursts to receive. The clock stops in the handler, before the
	 * answer goes out. */
	while (!p->got && bench_now_ns() - p->t0 < 1000000000ull)
		tern_engine_poll(e);
	p->timing = false;
}
