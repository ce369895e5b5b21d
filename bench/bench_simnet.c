/* tern-bench sim scenarios: streams over a faulty link, and N-to-1 incast
 * through one bottleneck, on the simulated network. Time is simulated, so
 * the figures are those of the protocol, not of this host. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "hist.h"
#include "tern/sim.h"
#include "tern/tern.h"

#define MAX_SENDERS 1024

struct simnet {
	struct tern_sim_net *net;
	struct tern_engine *eng[MAX_SENDERS + 1];
	unsigned n;                 /* senders; engine n is the receiver */
	uint64_t delivered[MAX_SENDERS];
	uint8_t *buf;
	size_t msg;
	struct hist qdelay;
	/* The bottleneck's busy time: the serialization of every packet that
	 * falls wholly in [win_start, win_end). Counted when a packet is
	 * queued, which is when the simulator tells, but by when it leaves:
	 * bytes queued are not bytes sent while the queue grows. In time, as
	 * the simulator serializes (whole nanoseconds), so it cannot pass the
	 * window. */
	uint64_t busy_ns, win_start, win_end, bw_bps;
	unsigned queued[MAX_SENDERS], done[MAX_SENDERS];
	struct tern_session *s[MAX_SENDERS];
};

static void observe(void *arg, uint32_t dst, uint64_t qd, uint32_t len)
{
	struct simnet *sn = arg;
	if (dst == 0) { /* the receiver's link: the bottleneck */
		uint64_t now = tern_sim_now(sn->net);
		if (now >= sn->win_start)
			hist_add(&sn->qdelay, qd);
		uint64_t start = now + qd;
		uint64_t end = start + (sn->bw_bps ? (uint64_t)len * 8 * 1000000000ull / sn->bw_bps : 0);
		if (start >= sn->win_start && end <= sn->win_end)
			sn->busy_ns += end - start;
	}
}

static void on_msg(struct tern_session *s, const struct tern_rx_msg *m, void *user)
{
	struct simnet *sn = user;
	struct tern_addr a;
	tern_session_peer(s, &a);
	uint32_t node = tern_addr_sim_node(&a);
	if (node >= 1 && node <= sn->n)
		sn->delivered[node - 1] += m->len;
}

static void on_done(struct tern_session *s, void *cookie, int status, void *user)
{
	(void)s;
	(void)status;
	struct simnet *sn = user;
	sn->done[(uintptr_t)cookie]++;
}

/* n senders on nodes 1..n and the receiver on node 0, one session each to
 * it; faults on the receiver's link only (that is where incast queues).
 * The receiver is engine n. */
static struct simnet *simnet_open(unsigned senders, size_t msg, int cc, uint64_t seed, uint64_t bw_bps,
				  uint32_t queue_bytes, double loss, double reorder)
{
	struct simnet *sn = calloc(1, sizeof(*sn));
	if (!sn)
		return NULL;
	sn->n = senders;
	sn->msg = msg;
	sn->buf = calloc(1, msg ? msg : 1);
	hist_init(&sn->qdelay);
	struct tern_sim_config sc;
	tern_sim_config_init(&sc);
	sc.seed = seed;
	sc.link.bandwidth_bps = bw_bps;
	sc.link.queue_bytes = queue_bytes;
	sc.observe = observe;
	sn->bw_bps = bw_bps;
	sc.observe_arg = sn;
	sc.pool_pkts = senders > 32 ? 1024 : 4096;
	if (!sn->buf || tern_sim_create(&sc, &sn->net)) {
		free(sn->buf);
		free(sn);
		return NULL;
	}
	struct tern_sim_link l = sc.link;
	l.loss = loss;
	l.reorder = reorder;
	l.reorder_delay_ns = reorder > 0 ? 20000 : 0;
	tern_sim_set_link(sn->net, 0, &l);
	for (unsigned i = 0; i <= senders; i++) {
		struct tern_engine_config ec;
		tern_engine_config_init(&ec);
		ec.seed = seed * 1000 + i;
		ec.cc = (enum tern_cc_algo)cc;
		ec.delivery = TERN_DELIVER_AS_COMPLETED;
		ec.dead_after_ns = 60000000000ull;
		ec.max_sessions = senders + 8;
		ec.cb = (struct tern_callbacks){ .on_message = on_msg, .on_send_done = on_done, .user = sn };
		if (tern_sim_driver_open(sn->net, i == senders ? 0 : i + 1, &ec.driver) ||
		    tern_engine_create(&ec, &sn->eng[i])) {
			while (i-- > 0)
				tern_engine_destroy(sn->eng[i]);
			tern_sim_destroy(sn->net);
			free(sn->buf);
			free(sn);
			return NULL;
		}
	}
	struct tern_addr rcv = tern_addr_sim(0);
	for (unsigned i = 0; i < senders; i++)
		tern_session_connect(sn->eng[i], &rcv, &sn->s[i]);
	return sn;
}

static void simnet_close(struct simnet *sn)
{
	for (unsigned i = 0; i <= sn->n; i++)
		tern_engine_destroy(sn->eng[i]);
	tern_sim_destroy(sn->net);
	free(sn->buf);
	free(sn);
}

static uint64_t senders_retransmits(struct simnet *sn, unsigned senders)
{
	uint64_t n = 0;
	for (unsigned i = 0; i < senders; i++) {
		struct tern_stats es;
		tern_engine_stats(sn->eng[i], &es);
		n += es.retransmits;
	}
	return n;
}

/* Keep up to four messages in flight on sender i's session. */
static void simnet_fill(struct simnet *sn, unsigned i)
{
	while (sn->queued[i] - sn->done[i] < 4 && tern_session_send(sn->s[i], sn->buf, sn->msg, (void *)(uintptr_t)i) == 0)
		sn->queued[i]++;
}

int bench_sim_scenario(const char *scenario, unsigned senders, size_t msg, double loss, double reorder,
		       int cc, double ms, uint64_t seed, uint64_t bw_bps, uint32_t queue_bytes, int json,
		       struct hist *qdelay_out)
{
	struct simnet *sn = simnet_open(senders, msg, cc, seed, bw_bps, queue_bytes, loss, reorder);
	if (!sn)
		return 1;
	uint64_t t0 = tern_sim_now(sn->net), until = t0 + (uint64_t)(ms * 1e6);
	uint64_t warm = t0 + (uint64_t)(ms * 1e6 / 10);
	uint64_t base[MAX_SENDERS] = { 0 };
	bool warmed = false;
	sn->win_start = warm;
	sn->win_end = until;
	struct tern_sim_stats st0 = { 0 };
	uint64_t retx0 = 0;
	while (tern_sim_now(sn->net) < until) {
		for (unsigned i = 0; i < senders; i++)
			simnet_fill(sn, i);
		uint64_t step = tern_sim_now(sn->net) + 20000;
		tern_sim_run(sn->net, sn->eng, senders + 1, step < until ? step : until, NULL, NULL);
		if (!warmed && tern_sim_now(sn->net) >= warm) {
			warmed = true; /* measure the steady state, after slow start */
			memcpy(base, sn->delivered, sizeof(base));
			tern_sim_stats(sn->net, &st0);
			retx0 = senders_retransmits(sn, senders);
		}
	}
	struct tern_sim_stats st;
	tern_sim_stats(sn->net, &st);
	double secs = (double)(until - warm) / 1e9, total = 0, sq = 0;
	for (unsigned i = 0; i < senders; i++) {
		double b = (double)(sn->delivered[i] - base[i]);
		total += b;
		sq += b * b;
	}
	double jain = sq > 0 ? total * total / (senders * sq) : 0;
	/* Utilization of the bottleneck: the share of the time it was sending,
	 * headers included; goodput is the payload alone. */
	double util = bw_bps ? (double)sn->busy_ns / (double)(until - warm) : 0;
	uint64_t retx = senders_retransmits(sn, senders) - retx0;
	uint64_t data_sent = st.data_sent - st0.data_sent, data_lost = st.data_lost - st0.data_lost;
	double loss_rate = data_sent ? (double)data_lost / (double)data_sent : 0;
	const char *ccn = tern_cc_name((enum tern_cc_algo)cc);
	if (json)
		printf("{\"bench\":\"sim\",\"scenario\":\"%s\",\"cc\":\"%s\",\"senders\":%u,\"msg\":%zu,"
		       "\"goodput_gbps\":%.3f,\"utilization\":%.4f,\"jain\":%.4f,\"data_sent\":%llu,\"data_lost\":%llu,"
		       "\"loss_rate\":%.5f,\"retransmits\":%llu,\"qdelay_p50_us\":%.3f,\"qdelay_p99_us\":%.3f}\n",
		       scenario, ccn, senders, msg, total * 8 / secs / 1e9, util, jain, (unsigned long long)data_sent,
		       (unsigned long long)data_lost, loss_rate, (unsigned long long)retx,
		       hist_pct(&sn->qdelay, 50) / 1e3, hist_pct(&sn->qdelay, 99) / 1e3);
	else
		printf("%-10s %-5s %7u %10.3f %8.1f%% %7.3f %10llu %9.3f%% %10llu %10.2f %10.2f\n", scenario, ccn,
		       senders, total * 8 / secs / 1e9, util * 100, jain, (unsigned long long)data_sent, loss_rate * 100,
		       (unsigned long long)retx, hist_pct(&sn->qdelay, 50) / 1e3, hist_pct(&sn->qdelay, 99) / 1e3);
	if (qdelay_out)
		*qdelay_out = sn->qdelay;
	simnet_close(sn);
	return 0;
}

/* A flow joins and leaves: flow 0 sends throughout, flow 1 from a third to
 * two thirds of the run. Per phase: goodput, each flow's share, Jain's
 * index over the active flows, data loss, retransmissions and queueing
 * delay. */
int bench_sim_join(size_t msg, int cc, double ms, uint64_t seed, uint64_t bw_bps, uint32_t queue_bytes, int json)
{
	struct simnet *sn = simnet_open(2, msg, cc, seed, bw_bps, queue_bytes, 0, 0);
	if (!sn)
		return 1;
	uint64_t t0 = tern_sim_now(sn->net), third = (uint64_t)(ms * 1e6 / 3);
	const char *names[3] = { "alone", "joined", "left" };
	for (int phase = 0; phase < 3; phase++) {
		uint64_t start = t0 + phase * third, end = start + third;
		uint64_t d0[2] = { sn->delivered[0], sn->delivered[1] };
		struct tern_sim_stats st0, st1;
		tern_sim_stats(sn->net, &st0);
		uint64_t retx0 = senders_retransmits(sn, 2);
		hist_init(&sn->qdelay);
		while (tern_sim_now(sn->net) < end) {
			simnet_fill(sn, 0);
			if (phase == 1)
				simnet_fill(sn, 1); /* flow 1 sends only in the middle phase */
			uint64_t step = tern_sim_now(sn->net) + 20000;
			tern_sim_run(sn->net, sn->eng, 3, step < end ? step : end, NULL, NULL);
		}
		tern_sim_stats(sn->net, &st1);
		uint64_t sent = st1.data_sent - st0.data_sent, lost = st1.data_lost - st0.data_lost;
		double loss = sent ? (double)lost / (double)sent : 0;
		unsigned long long retx = (unsigned long long)(senders_retransmits(sn, 2) - retx0);
		double secs = (double)third / 1e9;
		double g[2] = { (double)(sn->delivered[0] - d0[0]), (double)(sn->delivered[1] - d0[1]) };
		double total = g[0] + g[1], jain = 1.0;
		if (phase == 1 && g[0] + g[1] > 0)
			jain = total * total / (2 * (g[0] * g[0] + g[1] * g[1]));
		const char *ccn = tern_cc_name((enum tern_cc_algo)cc);
		if (json)
			printf("{\"bench\":\"sim\",\"scenario\":\"join\",\"cc\":\"%s\",\"phase\":\"%s\",\"goodput_gbps\":%.3f,"
			       "\"flow0_share\":%.4f,\"flow1_share\":%.4f,\"jain\":%.4f,\"loss_rate\":%.5f,"
			       "\"retransmits\":%llu,\"qdelay_p50_us\":%.3f,\"qdelay_p99_us\":%.3f}\n",
			       ccn, names[phase], total * 8 / secs / 1e9, total ? g[0] / total : 0, total ? g[1] / total : 0,
			       jain, loss, retx, hist_pct(&sn->qdelay, 50) / 1e3, hist_pct(&sn->qdelay, 99) / 1e3);
		else
			printf("%-6s %-7s %10.3f %10.3f %10.3f %8.3f %9.3f%% %10llu %10.2f %10.2f\n", ccn, names[phase],
			       total * 8 / secs / 1e9, total ? g[0] / total : 0, total ? g[1] / total : 0, jain,
			       100 * loss, retx, hist_pct(&sn->qdelay, 50) / 1e3, hist_pct(&sn->qdelay, 99) / 1e3);
	}
	simnet_close(sn);
	return 0;
}
