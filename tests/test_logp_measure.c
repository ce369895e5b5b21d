/* tern-bench's LogP measurement (bench/logp_measure.c, bench/logp_peer.c)
 * run against a driver whose per-packet CPU costs, wire latency and
 * serialization the test sets (tests/costdrv.c): what it reports must be
 * what the driver charges, within 10%. */
#include <criterion/criterion.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "bench/logp.h"
#include "bench/logp_measure.h"
#include "bench/logp_peer.h"
#include "costdrv.h"
#include "tern/tern.h"
#include "transport/wire.h"

#define RPC_HDR 16
/* The delay target must exceed the path's unloaded round trip (here some
 * 1 ms), or congestion control takes the wire's latency for a queue and
 * keeps the window at its floor (docs/congestion.md). */
#define CC_TARGET_NS 2000000ull

struct server {
	struct tern_driver *drv;
	atomic_int state; /* 0 starting, 1 up, -1 failed, 2 stop */
	pthread_t t;
};

static void echo(struct tern_rpc_req *req, void *arg)
{
	size_t n = tern_rpc_req_len(req);
	void *out = tern_rpc_alloc(arg, n);
	cr_assert_not_null(out);
	memcpy(out, tern_rpc_req_data(req), n);
	tern_rpc_respond(req, out, n);
}

static void *server_main(void *arg)
{
	struct server *sv = arg;
	struct tern_rpc_config rc;
	tern_rpc_config_init(&rc);
	rc.workers = 0;
	struct tern_engine_config ec;
	tern_engine_config_init(&ec);
	ec.driver = sv->drv;
	ec.dead_after_ns = 60000000000ull;
	ec.cc_target_ns = CC_TARGET_NS;
	struct tern_rpc *rpc;
	struct logp_peer lp;
	if (tern_rpc_create(&rc, &ec, &rpc) || tern_rpc_register(rpc, 1, echo, rpc, 0) ||
	    logp_peer_register(&lp, rpc)) {
		atomic_store(&sv->state, -1);
		return NULL;
	}
	atomic_store(&sv->state, 1);
	while (atomic_load_explicit(&sv->state, memory_order_relaxed) != 2) {
		tern_engine_poll(tern_rpc_engine(rpc));
		logp_peer_after_poll(&lp);
	}
	tern_rpc_destroy(rpc);
	return NULL;
}

/* Packets of a message of size bytes (request or answer). */
static double packets(double size)
{
	return ceil((size + RPC_HDR) / (1500 - COSTDRV_IP_UDP - TERN_WIRE_HDR_LEN));
}

/* Bytes the wire carries for it. */
static double wire_bytes(double size)
{
	return size + RPC_HDR + packets(size) * (TERN_WIRE_HDR_LEN + COSTDRV_IP_UDP);
}

/* A CPU cost the driver charged, as the measurement saw it: not below 90%
 * of it, and not above 110% of it plus tern's own share (what the same
 * measurement saw with free sends and receives). The share is a few
 * hundred ns in a plain build; a sanitizer build inflates it, and not by
 * the same amount in the two runs, so it bounds, and is not subtracted. */
static void near_cost(double got, double cost, double own, const char *what)
{
	cr_log_info("%s: measured %.2f us, charged %.2f us, tern's own %.2f us (%.1f%% over the charge)", what,
		    got / 1e3, cost / 1e3, own / 1e3, 100 * (got - cost) / cost);
	cr_expect(got >= 0.9 * cost && got <= 1.1 * cost + own, "%s: measured %.0f ns, charged %.0f ns, own %.0f ns",
		  what, got, cost, own);
}

static void near(double got, double want, const char *what)
{
	cr_log_info("%s: measured %.2f us, known %.2f us (%.1f%%)", what, got / 1e3, want / 1e3,
		    100 * (got - want) / want);
	cr_expect(fabs(got - want) <= 0.10 * want, "%s: measured %.0f ns, known %.0f ns", what, got, want);
}

#define N_SIZES 3
static const size_t sizes[N_SIZES] = { 64, 4096, 16384 };

/* The measurement over a fresh pair of engines joined by the driver. */
static void run(const struct costdrv_params *cp, struct logp_point *pt)
{
	struct tern_driver *da, *db;
	cr_assert_eq(costdrv_pair(cp, &da, &db), 0);
	struct server sv = { .drv = db };
	cr_assert_eq(pthread_create(&sv.t, NULL, server_main, &sv), 0);
	while (atomic_load(&sv.state) == 0)
		;
	cr_assert_eq(atomic_load(&sv.state), 1);

	struct tern_rpc_config rc;
	tern_rpc_config_init(&rc);
	rc.workers = 0;
	struct tern_engine_config ec;
	tern_engine_config_init(&ec);
	ec.driver = da;
	ec.dead_after_ns = 60000000000ull;
	ec.cc_target_ns = CC_TARGET_NS;
	struct logp_client c = { 0 };
	cr_assert_eq(tern_rpc_create(&rc, &ec, &c.rpc), 0);
	struct tern_addr to = { .family = TERN_AF_INET, .ip = { 10, 9, 0, 2 }, .port = 2000 };
	cr_assert_eq(tern_session_connect(tern_rpc_engine(c.rpc), &to, &c.s), 0);
	logp_params_default(&c.par);
	c.par.batch = 40;
	c.par.min_batches = 3;
	c.par.max_batches = 8;
	c.par.flood = 60;
	c.par.depth = 16;
	c.par.phase_ns = 1500000000ull;
	c.timer_ns = logp_calibrate_timer();
	cr_assert_eq(logp_warm_up(&c, 50), 0);
	for (int i = 0; i < N_SIZES; i++) {
		double ci[4];
		cr_assert_eq(logp_measure_size(&c, sizes[i], &pt[i], ci), 0, "size %zu", sizes[i]);
		logp_derive(&pt[i], true);
		cr_log_info("send %llu ns, receive %llu ns a packet; size %zu: rtt %.1f o_s %.1f o_r %.1f g %.1f L %.1f us",
			    (unsigned long long)cp->send_ns, (unsigned long long)cp->recv_ns, sizes[i], pt[i].rtt / 1e3,
			    pt[i].o_s / 1e3, pt[i].o_r / 1e3, pt[i].g / 1e3, pt[i].L / 1e3);
	}
	struct tern_stats st;
	tern_engine_stats(tern_rpc_engine(c.rpc), &st);
	cr_log_info("client: %llu data packets, %llu retransmits (%llu TLP, %llu RTO)",
		    (unsigned long long)st.tx_data_pkts, (unsigned long long)st.retransmits,
		    (unsigned long long)st.tlp_probes, (unsigned long long)st.rto_fired);
	tern_rpc_destroy(c.rpc);
	atomic_store(&sv.state, 2);
	pthread_join(sv.t, NULL);
}

Test(logp_measure, known_costs_of_a_driver_are_recovered_within_ten_percent, .timeout = 240)
{
	/* Sends and receives of 50 us a packet: well above what tern's own
	 * work varies by, in a sanitizer build too. A 300 us wire, long enough
	 * that no acknowledgement comes back while a 16 KiB message is still
	 * being sent (its receive would count in o_s). Two wires: a fast one
	 * (200 MB/s) for o_s, o_r and L, on which a message is all there
	 * soon after its first packet, and a slow one (10 MB/s) that is the
	 * bottleneck of a flood of 4 KiB and 16 KiB messages, for g and G. */
	struct costdrv_params fast = { .send_ns = 50000, .recv_ns = 50000, .wire_ns = 300000, .ns_per_byte = 5 };
	struct costdrv_params slow = fast;
	slow.ns_per_byte = 100;
	/* The fast wire with free sends and receives: what tern itself spends
	 * in o_s and o_r (a sanitizer build spends much more), to be taken
	 * off, so that what is left is what the driver charged. */
	struct costdrv_params free_cpu = fast;
	free_cpu.send_ns = free_cpu.recv_ns = 0;
	struct logp_point pt[N_SIZES], own[N_SIZES], again[N_SIZES], wire[N_SIZES];
	/* Each twice: tern's own share the larger of two (it bounds), the
	 * measurement with costs the smaller (interference only adds). */
	run(&free_cpu, own);
	run(&free_cpu, again);
	for (int i = 0; i < N_SIZES; i++) {
		own[i].o_s = fmax(own[i].o_s, again[i].o_s);
		own[i].o_r = fmax(own[i].o_r, again[i].o_r);
	}
	run(&fast, pt);
	run(&fast, again);
	for (int i = 0; i < N_SIZES; i++) {
		pt[i].o_s = fmin(pt[i].o_s, again[i].o_s);
		pt[i].o_r = fmin(pt[i].o_r, again[i].o_r);
	}
	run(&slow, wire);

	/* A 64 B request is one packet: one send, one receive; larger ones
	 * cost as many as they have packets. */
	const char *os_name[N_SIZES] = { "o_s at 64 B", "o_s at 4 KiB", "o_s at 16 KiB" };
	const char *or_name[N_SIZES] = { "o_r at 64 B", "o_r at 4 KiB", "o_r at 16 KiB" };
	for (int i = 0; i < N_SIZES; i++) {
		near_cost(pt[i].o_s, packets((double)sizes[i]) * (double)fast.send_ns, own[i].o_s, os_name[i]);
		near_cost(pt[i].o_r, packets((double)sizes[i]) * (double)fast.recv_ns, own[i].o_r, or_name[i]);
	}
	/* L: the wire's latency and the request's serialization on it. */
	near(pt[0].L, (double)fast.wire_ns + wire_bytes(64) * fast.ns_per_byte, "L");
	/* g where the wire is the bottleneck: its time per message. */
	for (int i = 1; i < N_SIZES; i++)
		near(wire[i].g, wire_bytes((double)sizes[i]) * slow.ns_per_byte, i == 1 ? "g at 4 KiB" : "g at 16 KiB");
	/* G: the slope the wire gives g over those sizes. */
	struct logp_point known[2];
	for (int i = 0; i < 2; i++)
		known[i] = (struct logp_point){ .size = (double)sizes[i + 1],
						.g = wire_bytes((double)sizes[i + 1]) * slow.ns_per_byte };
	double G, g0, Gk, g0k;
	cr_assert_eq(logp_fit_G(wire + 1, 2, &G, &g0), 0);
	cr_assert_eq(logp_fit_G(known, 2, &Gk, &g0k), 0);
	near(G * 1000, Gk * 1000, "G (per kB)");
}
