/* tern-bench memif: tern RPC over DPDK memif beside a raw memif ping-pong
 * and echo (frames bounced by the peer, no tern work) in the same run.
 * Both ports live in this process, joined by one memif socket; the peer
 * runs on its own thread, bouncing raw frames or polling a tern server
 * as the client asks. The two methods alternate in rounds, so a VM whose
 * speed drifts during the run slows both alike. */
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bench_util.h"
#include "hist.h"
#include "tern/dpdk.h"
#include "tern/tern.h"
#include "tern_config.h"
#include "transport/wire.h"

#if TERN_HAVE_DPDK
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#define SRV_IP "10.216.0.1"
#define CLI_IP "10.216.0.2"
#define BURST 32

/* What the peer thread does. */
enum peer_mode { PEER_RAW = 1, PEER_TERN = 2, PEER_STOP = 3 };

struct memif_run {
	struct tern_dpdk_port *sp, *cp;
	struct tern_dpdk_port_info si, ci;
	atomic_int want; /* the mode the client asks for */
	atomic_int cur;  /* the mode the peer is in */
	atomic_int ready;
	size_t size;
	size_t raw_hdr; /* tern header bytes a raw frame stands for (--header-sizes) */
	struct rte_mempool *pool;
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}


/* ---- raw: the peer bounces every frame back as it is ---- */

static void raw_bounce(struct memif_run *r)
{
	struct rte_mbuf *m[BURST];
	uint16_t n = rte_eth_rx_burst(r->si.port_id, 0, m, BURST);
	uint16_t k = 0;
	for (int t = 0; k < n && t < 100; t++)
		k += rte_eth_tx_burst(r->si.port_id, 0, m + k, (uint16_t)(n - k));
	for (; k < n; k++)
		rte_pktmbuf_free(m[k]);
}

static struct rte_mbuf *raw_frame(struct memif_run *r)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(r->pool);
	if (m) {
		/* The size a tern request of r->size bytes has on the wire:
		 * Ethernet, IPv4, UDP, tern's header, the RPC header, payload. */
		size_t len = 42 + r->raw_hdr + 16 + r->size;
		uint8_t *d = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)len);
		memset(d, 0x5a, len);
	}
	return m;
}

static void raw_send(struct memif_run *r, struct rte_mbuf *m)
{
	while (rte_eth_tx_burst(r->ci.port_id, 0, &m, 1) == 0)
		;
}

/* One frame at a time. memif can drop a frame (seen in zero-copy mode
 * right after the link comes up), and the raw side has no retransmission:
 * a frame with no echo after RAW_LOST_NS is counted lost and sent anew. */
#define RAW_LOST_NS 10000000ull
static unsigned long raw_pingpong(struct memif_run *r, unsigned count, struct hist *h)
{
	struct rte_mbuf *m[BURST];
	unsigned long lost = 0;
	struct bench_stall st = { 0 };
	for (unsigned i = 0; i < count;) {
		struct rte_mbuf *f = raw_frame(r);
		if (!f) {
			bench_stall_check(&st, "a raw memif frame");
			continue;
		}
		uint64_t t0 = bench_now_ns();
		raw_send(r, f);
		uint16_t n;
		while ((n = rte_eth_rx_burst(r->ci.port_id, 0, m, BURST)) == 0 && bench_now_ns() - t0 < RAW_LOST_NS)
			;
		if (n == 0) {
			lost++;
			bench_stall_check(&st, "a raw memif echo");
			continue;
		}
		st = (struct bench_stall){ 0 };
		hist_add(h, bench_now_ns() - t0);
		rte_pktmbuf_free_bulk(m, n);
		i++;
	}
	return lost;
}

/* The rate loops read the clock once in this many turns: a clock read
 * costs 30 ns here, a turn of the tern loop often little more. */
#define CLOCK_EVERY 16

/* Send new frames until depth are in flight (or the ring is full). */
static void raw_fill(struct memif_run *r, unsigned depth, unsigned *inflight)
{
	while (*inflight < depth) {
		struct rte_mbuf *f = raw_frame(r);
		if (!f || rte_eth_tx_burst(r->ci.port_id, 0, &f, 1) == 0) {
			if (f)
				rte_pktmbuf_free(f);
			return;
		}
		(*inflight)++;
	}
}

/* Echoes back at the client, freed; how many. */
static uint16_t raw_take(struct memif_run *r)
{
	struct rte_mbuf *m[BURST];
	uint16_t n = rte_eth_rx_burst(r->ci.port_id, 0, m, BURST);
	rte_pktmbuf_free_bulk(m, n);
	return n;
}

/* Frames echoed with depth frames in flight for seconds; *ns: how long. */
static uint64_t raw_rate(struct memif_run *r, unsigned depth, double seconds, uint64_t *ns)
{
	unsigned inflight = 0;
	uint64_t done = 0, t0 = bench_now_ns(), until = t0 + (uint64_t)(seconds * 1e9);
	for (unsigned it = 0; (++it % CLOCK_EVERY) || bench_now_ns() < until;) {
		raw_fill(r, depth, &inflight);
		uint16_t n = raw_take(r);
		inflight -= n;
		done += n;
	}
	*ns = bench_now_ns() - t0;
	/* Drain what is still out. */
	uint64_t quiet = bench_now_ns() + 10000000;
	while (inflight && bench_now_ns() < quiet)
		inflight -= raw_take(r);
	return done;
}

/* ---- tern: an RPC echo server engine on the peer's thread ---- */

/* An RPC endpoint on queue 0 of p, polled by the calling thread. */
static int memif_rpc(struct tern_dpdk_port *p, struct tern_rpc **out)
{
	struct tern_rpc_config rc;
	tern_rpc_config_init(&rc);
	rc.workers = 0;
	struct tern_engine_config ec;
	tern_engine_config_init(&ec);
	int r = tern_dpdk_driver_open(p, 0, &ec.driver);
	return r ? r : tern_rpc_create(&rc, &ec, out);
}

/* The peer thread: owns the tern server, and bounces raw frames or polls
 * the server as the client asks. */
static void *peer(void *arg)
{
	struct memif_run *r = arg;
	struct tern_rpc *rpc = NULL;
	if (memif_rpc(r->sp, &rpc) || tern_rpc_register(rpc, 1, bench_echo, rpc, 0)) {
		tern_rpc_destroy(rpc);
		atomic_store(&r->ready, -1);
		return NULL;
	}
	struct tern_engine *e = tern_rpc_engine(rpc);
	int cur = 0;
	atomic_store(&r->ready, 1);
	for (;;) {
		int m = atomic_load_explicit(&r->want, memory_order_acquire);
		if (m != cur)
			atomic_store_explicit(&r->cur, cur = m, memory_order_release);
		if (m == PEER_STOP)
			break;
		if (m == PEER_RAW)
			raw_bounce(r);
		else
			tern_engine_poll(e);
	}
	tern_rpc_destroy(rpc);
	return NULL;
}

static void peer_mode(struct memif_run *r, int m)
{
	struct bench_stall st = { 0 };
	atomic_store_explicit(&r->want, m, memory_order_release);
	while (atomic_load_explicit(&r->cur, memory_order_acquire) != m)
		bench_stall_check(&st, "the peer thread");
}

struct rate_ctx {
	unsigned long done;
	unsigned inflight;
};

static void rate_cont(int status, const void *resp, size_t len, void *arg)
{
	(void)resp;
	(void)len;
	struct rate_ctx *c = arg;
	c->inflight--;
	if (status == 0)
		c->done++;
}

struct tern_client {
	struct tern_rpc *rpc;
	struct tern_engine *e;
	struct tern_session *s;
};

static int tern_client_open(struct memif_run *r, struct tern_client *c)
{
	*c = (struct tern_client){ 0 };
	int rc = memif_rpc(r->cp, &c->rpc);
	if (rc)
		return rc;
	c->e = tern_rpc_engine(c->rpc);
	struct tern_addr to;
	tern_addr_resolve(SRV_IP, 7100, &to);
	return tern_session_connect(c->e, &to, &c->s);
}

static int tern_lat(struct memif_run *r, struct tern_client *c, unsigned n, struct hist *h)
{
	static uint8_t req[1 << 16], resp[1 << 16];
	size_t rl;
	for (unsigned i = 0; i < n; i++) {
		uint64_t t0 = bench_now_ns();
		int rc = tern_rpc_call_sync(c->rpc, c->s, 1, req, r->size, 1000000000ull, resp, sizeof(resp), &rl);
		if (rc)
			return rc;
		if (h)
			hist_add(h, bench_now_ns() - t0);
	}
	return 0;
}

/* Before the peer leaves tern for raw frames: long enough for the last
 * answer's delayed ack, so no timer is left for the raw round to fire. */
static void tern_quiet(struct tern_client *c)
{
	uint64_t until = bench_now_ns() + 100000;
	while (bench_now_ns() < until)
		tern_engine_poll(c->e);
}

/* Issue calls until depth are in flight; the first refusal stops it and
 * is returned (TERN_EAGAIN: a full table, not a failure). */
static int tern_fill(struct memif_run *r, struct tern_client *c, unsigned depth, struct rate_ctx *rc)
{
	while (rc->inflight < depth) {
		void *q = tern_rpc_alloc(c->rpc, r->size);
		if (!q)
			return TERN_EAGAIN;
		int err = tern_rpc_call(c->rpc, c->s, 1, q, r->size, 1000000000ull, rate_cont, rc, NULL);
		if (err) {
			tern_rpc_free(c->rpc, q);
			return err;
		}
		rc->inflight++;
	}
	return 0;
}

/* Calls answered with depth in flight for seconds; *ns: how long, *frames:
 * frames the client sent meanwhile, *rx, *rx_polls: packets it received and
 * polls that received any. */
static uint64_t tern_rate(struct memif_run *r, struct tern_client *c, unsigned depth, double seconds,
			  uint64_t *ns, uint64_t *frames, uint64_t *rx, uint64_t *rx_polls)
{
	struct rate_ctx rc = { 0 };
	struct tern_stats before, after;
	uint64_t frames0 = 0, frames1 = 0;
	tern_engine_stats(c->e, &before);
	tern_engine_driver_stat(c->e, "nic_tx_frames", &frames0);
	uint64_t t0 = bench_now_ns(), until = t0 + (uint64_t)(seconds * 1e9);
	for (unsigned it = 0; (++it % CLOCK_EVERY) || bench_now_ns() < until;) {
		tern_fill(r, c, depth, &rc);
		tern_engine_poll(c->e);
	}
	*ns = bench_now_ns() - t0;
	uint64_t done = rc.done;
	tern_engine_stats(c->e, &after);
	tern_engine_driver_stat(c->e, "nic_tx_frames", &frames1);
	*frames = frames1 - frames0;
	*rx = after.rx_pkts - before.rx_pkts;
	*rx_polls = after.rx_polls - before.rx_polls;
	struct bench_stall st = { 0 };
	while (rc.inflight) {
		tern_engine_poll(c->e);
		bench_stall_check(&st, "the last calls");
	}
	return done;
}

/* min, median, max of v[0..n) (sorted in place) */
static void spread(double *v, unsigned n, double out[3])
{
	qsort(v, n, sizeof(*v), cmp_double);
	out[0] = v[0];
	out[1] = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	out[2] = v[n - 1];
}

struct memif_result {
	struct hist raw_h, tern_h;
	double raw_fps, tern_rps, fpc, rx_per_poll;
	double lat_spread[3], rate_spread[3];
	unsigned long raw_lost;
};

/* Latency then rate, each in rounds that alternate which method goes
 * first; the peer thread follows the client's mode. */
static int run_rounds(struct memif_run *r, unsigned long count, unsigned rounds, unsigned depth, double seconds,
		      struct memif_result *res)
{
	static struct hist rh, th;
	double lat_ratio[1000], rate_ratio[1000];
	struct tern_client c;
	peer_mode(r, PEER_RAW);
	res->raw_lost = raw_pingpong(r, 1000, &rh); /* warm */
	peer_mode(r, PEER_TERN);
	int rc = tern_client_open(r, &c);
	if (!rc)
		rc = tern_lat(r, &c, 1000, NULL); /* warm: ARP, handshake, caches */
	hist_init(&res->raw_h);
	hist_init(&res->tern_h);
	for (unsigned k = 0; !rc && k < rounds; k++) {
		unsigned n = (unsigned)(count / rounds + (k < count % rounds));
		hist_init(&rh);
		hist_init(&th);
		for (unsigned step = 0; !rc && step < 2; step++) {
			if ((k + step) % 2 == 0) {
				peer_mode(r, PEER_RAW);
				res->raw_lost += raw_pingpong(r, n, &rh);
			} else {
				peer_mode(r, PEER_TERN);
				rc = tern_lat(r, &c, n, &th);
				tern_quiet(&c);
			}
		}
		hist_merge(&res->raw_h, &rh);
		hist_merge(&res->tern_h, &th);
		lat_ratio[k] = (double)hist_pct(&th, 50) / (double)hist_pct(&rh, 50);
	}
	uint64_t raw_done = 0, raw_ns = 0, tern_done = 0, tern_ns = 0, frames = 0, rx = 0, rx_polls = 0;
	for (unsigned k = 0; !rc && k < rounds; k++) {
		uint64_t rd = 0, rn = 1, td = 0, tn = 1, f = 0, x = 0, xp = 0;
		for (unsigned step = 0; step < 2; step++) {
			if ((k + step) % 2 == 0) {
				peer_mode(r, PEER_RAW);
				rd = raw_rate(r, depth, seconds / rounds, &rn);
			} else {
				peer_mode(r, PEER_TERN);
				td = tern_rate(r, &c, depth, seconds / rounds, &tn, &f, &x, &xp);
				tern_quiet(&c);
			}
		}
		raw_done += rd;
		raw_ns += rn;
		tern_done += td;
		tern_ns += tn;
		frames += f;
		rx += x;
		rx_polls += xp;
		/* No raw echo at all says nothing of tern: call that round 0. */
		rate_ratio[k] = rd ? ((double)td / (double)tn) / ((double)rd / (double)rn) : 0;
	}
	if (!rc) {
		res->raw_fps = (double)raw_done / ((double)raw_ns / 1e9);
		res->tern_rps = (double)tern_done / ((double)tern_ns / 1e9);
		res->fpc = tern_done ? (double)frames / (double)tern_done : 0;
		res->rx_per_poll = rx_polls ? (double)rx / (double)rx_polls : 0;
		spread(lat_ratio, rounds, res->lat_spread);
		spread(rate_ratio, rounds, res->rate_spread);
	}
	/* The client goes first, while the peer still polls the server. */
	tern_rpc_destroy(c.rpc);
	return rc;
}

/* ---- --cpu: both ends polled by this thread, so a round trip costs only
 * CPU work (no waiting on the other core); repeatable under callgrind ---- */

__attribute__((noinline)) static double raw_cpu(struct memif_run *r, unsigned count)
{
	struct rte_mbuf *m[BURST];
	struct bench_stall st = { 0 };
	uint64_t t0 = bench_now_ns();
	for (unsigned i = 0; i < count; i++) {
		struct rte_mbuf *f = raw_frame(r);
		if (!f) {
			bench_stall_check(&st, "a raw memif frame");
			continue;
		}
		raw_send(r, f);
		uint16_t n;
		while ((n = rte_eth_rx_burst(r->si.port_id, 0, m, BURST)) == 0)
			bench_stall_check(&st, "a raw memif frame at the peer");
		/* A memif client refills its rx ring only when it polls, so the
		 * echo may have to wait for a client poll. */
		struct rte_mbuf *e[BURST];
		uint16_t k = 0, got = 0;
		while (k < n || !got) {
			if (k < n)
				k += rte_eth_tx_burst(r->si.port_id, 0, m + k, (uint16_t)(n - k));
			uint16_t g = rte_eth_rx_burst(r->ci.port_id, 0, e, BURST);
			rte_pktmbuf_free_bulk(e, g);
			got += g;
			bench_stall_check(&st, "a raw memif echo");
		}
	}
	return (double)(bench_now_ns() - t0) / count;
}

static void cpu_cont(int status, const void *resp, size_t len, void *arg)
{
	(void)resp;
	(void)len;
	*(int *)arg = status == 0 ? 1 : status;
}

/* ns of CPU per echoed frame with depth frames in flight, both ports
 * polled here: what the raw echo rate costs, without the waiting. */
__attribute__((noinline)) static double raw_pipe_cpu(struct memif_run *r, unsigned count, unsigned depth)
{
	struct bench_stall st = { 0 };
	unsigned inflight = 0, done = 0;
	uint64_t t0 = bench_now_ns();
	while (done < count) {
		raw_fill(r, depth, &inflight);
		raw_bounce(r);
		uint16_t n = raw_take(r);
		inflight -= n;
		done += n;
		bench_stall_check(&st, "raw memif echoes");
	}
	double ns = (double)(bench_now_ns() - t0) / done;
	uint64_t quiet = bench_now_ns() + 10000000;
	while (inflight && bench_now_ns() < quiet) {
		raw_bounce(r);
		inflight -= raw_take(r);
	}
	return ns;
}

/* ns of CPU per RPC round trip, both engines polled here. */
__attribute__((noinline)) static int tern_cpu(struct memif_run *r, unsigned count, double *ns)
{
	struct tern_rpc *srv = NULL, *cli = NULL;
	struct tern_session *s;
	struct tern_addr to;
	int rc = memif_rpc(r->sp, &srv);
	if (!rc)
		rc = tern_rpc_register(srv, 1, bench_echo, srv, 0);
	if (!rc)
		rc = memif_rpc(r->cp, &cli);
	tern_addr_resolve(SRV_IP, 7100, &to);
	if (!rc)
		rc = tern_session_connect(tern_rpc_engine(cli), &to, &s);
	struct tern_engine *se = srv ? tern_rpc_engine(srv) : NULL, *ce = cli ? tern_rpc_engine(cli) : NULL;
	uint64_t t0 = 0;
	for (unsigned i = 0; !rc && i < count + 1000; i++) {
		if (i == 1000) /* warm: ARP, handshake, caches */
			t0 = bench_now_ns();
		int done = 0;
		void *q = tern_rpc_alloc(cli, r->size);
		if (!q) {
			rc = TERN_ENOMEM;
			break;
		}
		if ((rc = tern_rpc_call(cli, s, 1, q, r->size, 1000000000ull, cpu_cont, &done, NULL))) {
			tern_rpc_free(cli, q);
			break;
		}
		struct bench_stall st = { 0 };
		while (!done) {
			tern_engine_poll(ce);
			tern_engine_poll(se);
			bench_stall_check(&st, "an RPC answer");
		}
		if (done < 0)
			rc = done;
	}
	*ns = rc ? 0 : (double)(bench_now_ns() - t0) / count;
	if (cli)
		tern_rpc_destroy(cli);
	if (srv)
		tern_rpc_destroy(srv);
	return rc;
}

/* ns of CPU per RPC with depth calls in flight, both engines polled
 * here: what the rate run costs the two threads together. */
__attribute__((noinline)) static int tern_pipe_cpu(struct memif_run *r, unsigned count, unsigned depth, double *ns)
{
	struct tern_rpc *srv = NULL;
	struct tern_client c = { 0 };
	int rc = memif_rpc(r->sp, &srv);
	if (!rc)
		rc = tern_rpc_register(srv, 1, bench_echo, srv, 0);
	if (!rc)
		rc = tern_client_open(r, &c);
	struct tern_engine *se = srv ? tern_rpc_engine(srv) : NULL;
	struct rate_ctx rx = { 0 };
	struct bench_stall st = { 0 };
	uint64_t t0 = 0;
	unsigned long warm = 1000;
	while (!rc && rx.done < count + warm) {
		if (!t0 && rx.done >= warm)
			t0 = bench_now_ns();
		if ((rc = tern_fill(r, &c, depth, &rx)) == TERN_EAGAIN)
			rc = 0;
		tern_engine_poll(c.e);
		tern_engine_poll(se);
		bench_stall_check(&st, "RPC answers");
	}
	*ns = rc ? 0 : (double)(bench_now_ns() - t0) / (double)(rx.done - warm);
	while (!rc && rx.inflight) {
		tern_engine_poll(c.e);
		tern_engine_poll(se);
		bench_stall_check(&st, "the last calls");
	}
	if (c.rpc)
		tern_rpc_destroy(c.rpc);
	if (srv)
		tern_rpc_destroy(srv);
	return rc;
}

/* Hugepages take about 60 MB here (two ports' pools, the memif rings). */
#define HUGE_NEED_MB 128

/* ---- --header-sizes: what the header's size costs ----
 * The raw round trip and echo with frames as large as a tern call's would
 * be with each header size, alternated in rounds, and tern's own header
 * codec per packet: an upper bound on what a smaller codec could save. */

__attribute__((noinline)) static double codec_ns(unsigned count)
{
	static uint8_t pkt[256];
	struct tni_wire_hdr h = { .type = TERN_PKT_DATA, .flags = TERN_FLAG_NO_CRC, .dst_sid = 0x1234567800000001ull,
				   .src_sid = 0x8765432100000002ull, .src_epoch = 9, .psn = 1, .ack = 1, .rwnd = 256,
				   .msg_len = 48, .payload_len = 48 };
	struct tni_wire_pkt p;
	volatile uint64_t sink = 0;
	uint64_t t0 = bench_now_ns();
	for (unsigned i = 0; i < count; i++) {
		h.psn = i;
		h.ts = i;
		size_t len = tni_wire_encode(pkt, &h, NULL);
		if (tni_wire_decode_link(pkt, len, true, &p) == 0)
			sink += p.h.psn;
	}
	(void)sink;
	return (double)(bench_now_ns() - t0) / count;
}

static void header_probe(struct memif_run *r, unsigned count, unsigned depth, const size_t *sizes, int n, int json)
{
	enum { ROUNDS = 5 };
	double rt[4][ROUNDS], pipe[4][ROUNDS];
	size_t keep = r->raw_hdr;
	for (int k = 0; k < ROUNDS; k++)
		for (int i = 0; i < n; i++) {
			r->raw_hdr = sizes[i];
			rt[i][k] = raw_cpu(r, count);
			pipe[i][k] = raw_pipe_cpu(r, count, depth);
		}
	r->raw_hdr = keep;
	double codec = codec_ns(count * 10);
	if (!json)
		printf("tern-bench memif --header-sizes: raw memif, both ends on one thread, median of %d rounds\n"
		       "  header  frame  bytes/call  raw round trip  raw per call (%u in flight)\n",
		       ROUNDS, depth);
	for (int i = 0; i < n; i++) {
		qsort(rt[i], ROUNDS, sizeof(double), cmp_double);
		qsort(pipe[i], ROUNDS, sizeof(double), cmp_double);
		size_t frame = 42 + sizes[i] + 16 + r->size;
		if (json)
			printf("{\"bench\":\"memif_hdr\",\"header\":%zu,\"frame\":%zu,\"bytes_per_call\":%zu,"
			       "\"raw_rt_ns\":%.1f,\"raw_pipe_ns\":%.1f,\"depth\":%u}\n",
			       sizes[i], frame, 2 * frame, rt[i][ROUNDS / 2], pipe[i][ROUNDS / 2], depth);
		else
			printf("  %6zu  %5zu  %10zu  %11.1f ns  %11.1f ns\n", sizes[i], frame, 2 * frame, rt[i][ROUNDS / 2],
			       pipe[i][ROUNDS / 2]);
	}
	if (json)
		printf("{\"bench\":\"memif_hdr_codec\",\"header\":%d,\"codec_ns\":%.1f}\n", TERN_WIRE_HDR_LEN, codec);
	else
		printf("  tern's %d-byte header, encode + decode (no CRC): %.1f ns per packet, %.1f per call\n",
		       TERN_WIRE_HDR_LEN, codec, 2 * codec);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: tern-bench memif [options]\n"
		"\n"
		"tern RPC over DPDK memif, beside a raw memif ping-pong and echo (the\n"
		"peer bounces frames, no tern work) in the same run. Both ports are in\n"
		"this process, joined by one memif socket; the peer has its own thread.\n"
		"Needs DPDK (root, or a user allowed to use it).\n"
		"\n"
		"options:\n"
		"  --count N      round trips timed, each method; at least --rounds\n"
		"                 (default 100000)\n"
		"  --size BYTES   request and answer size (default 32)\n"
		"  --depth N      calls / frames in flight for the rate (default 16)\n"
		"  --seconds S    length of each method's rate run, all rounds (default 2)\n"
		"  --rounds N     alternate raw and tern in N rounds each, for latency and\n"
		"                 for rate, so drift in the VM's speed hits both (default 20)\n"
		"  --zero-copy    the memif client in zero-copy mode\n"
		"  --no-huge      4 KB pages even if hugepages are free (by default the\n"
		"                 run uses hugepages when a hugetlbfs is mounted and\n"
		"                 128 MB of them are free, as DPDK normally runs;\n"
		"                 --zero-copy always uses 4 KB pages)\n"
		"  --header-sizes A,B  with --cpu: also the raw round trip and echo with\n"
		"                 frames as they would be with a tern header of A, B, ...\n"
		"                 bytes, alternated in 5 rounds, and the CPU of tern's\n"
		"                 header codec per packet (the header-size decision,\n"
		"                 docs/protocol.md)\n"
		"  --cpu          poll both ends from one thread and report the CPU time\n"
		"                 of one round trip, and of one call with --depth in\n"
		"                 flight, raw and tern (no timed two-thread runs)\n"
		"  --json         one JSON object per method, then the ratios\n"
		"  --help         this text\n");
}

int bench_memif(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "count", required_argument, 0, 'n' }, { "size", required_argument, 0, 's' },
		{ "depth", required_argument, 0, 'D' }, { "seconds", required_argument, 0, 'S' },
		{ "zero-copy", no_argument, 0, 'z' }, { "json", no_argument, 0, 'j' },
		{ "cpu", no_argument, 0, 'c' }, { "rounds", required_argument, 0, 'R' },
		{ "no-huge", no_argument, 0, 'H' }, { "help", no_argument, 0, 'h' },
		{ "header-sizes", required_argument, 0, 'X' },
		{ 0, 0, 0, 0 },
	};
	unsigned long count = 100000;
	unsigned depth = 16;
	double seconds = 2;
	unsigned rounds = 20;
	int zc = 0, json = 0, cpu = 0, no_huge = 0, c, li = 0;
	struct memif_run r = { .size = 32, .raw_hdr = TERN_WIRE_HDR_LEN };
	size_t hdr_sizes[4];
	int n_hdr = 0;
	char *end;
	while ((c = getopt_long(argc, argv, "h", lo, &li)) != -1) {
		switch (c) {
		case 'n': count = strtoul(optarg, &end, 10); if (*end || !count) goto bad; break;
		case 's': r.size = strtoul(optarg, &end, 10); if (*end || r.size > 1300) goto bad; break;
		case 'D': depth = (unsigned)strtoul(optarg, &end, 10); if (*end || !depth || depth > 256) goto bad; break;
		case 'S': seconds = strtod(optarg, &end); if (*end || !(seconds > 0 && seconds <= 600)) goto bad; break;
		case 'R': rounds = (unsigned)strtoul(optarg, &end, 10); if (*end || !rounds || rounds > 1000) goto bad; break;
		case 'z': zc = 1; break;
		case 'j': json = 1; break;
		case 'c': cpu = 1; break;
		case 'H': no_huge = 1; break;
		case 'X':
			n_hdr = bench_size_list(optarg, hdr_sizes, 4, 512, false);
			if (n_hdr < 1)
				goto bad;
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!cpu && count < rounds) {
		fprintf(stderr, "tern-bench memif: --count must be at least --rounds (%u)\n", rounds);
		return 2;
	}
	char sock[64], eal[512];
	snprintf(sock, sizeof(sock), "/tmp/tern-bench-memif-%d.sock", getpid());
	/* Hugepages where the host has them, as DPDK is deployed: on 4 KB
	 * pages every mbuf and memif buffer costs TLB misses, which took 7%
	 * of tern's rate here and 3% of raw's (docs/benchmarks.md, tenth
	 * round). Otherwise the --no-huge line of the design brief, and always
	 * for zero-copy: memif needs single-file segments for it, which DPDK
	 * 22.11 refuses beside --huge-unlink (and hugepage files left behind
	 * by a crash would hold the memory). */
	bool huge = !no_huge && !zc && bench_hugepages_free_mb() >= HUGE_NEED_MB;
	snprintf(eal, sizeof(eal),
		 "%s --no-pci --file-prefix=tern-bench-%d "
		 "--log-level=lib.eal:warning --log-level=pmd.net.memif:warning "
		 "--vdev=net_memif0,role=server,socket=%s --vdev=net_memif1,role=client,socket=%s%s",
		 huge ? "--huge-unlink" : "--no-huge -m 512 --single-file-segments", getpid(), sock, sock,
		 zc ? ",zero-copy=yes" : "");
	const char *pages = huge ? "huge" : "4k", *pages_text = huge ? "hugepages" : "4 KB pages";
	int rc = tern_dpdk_init_str(eal);
	struct tern_dpdk_port_config pc;
	tern_dpdk_port_config_init(&pc);
	pc.device = "net_memif0";
	pc.ip = SRV_IP;
	pc.udp_port = 7100;
	if (!rc)
		rc = tern_dpdk_port_create(&pc, &r.sp);
	pc.device = "net_memif1";
	pc.ip = CLI_IP;
	pc.udp_port = 7200;
	if (!rc)
		rc = tern_dpdk_port_create(&pc, &r.cp);
	r.pool = rc ? NULL : rte_pktmbuf_pool_create("tern_bench_raw", 4095, 256, 0, 2048 + 128, SOCKET_ID_ANY);
	if (rc || !r.pool) {
		fprintf(stderr, "tern-bench memif: cannot start DPDK memif: %s\n", tern_strerror(rc ? rc : TERN_ENOMEM));
		return 1;
	}
	tern_dpdk_port_info(r.sp, &r.si);
	tern_dpdk_port_info(r.cp, &r.ci);
	struct bench_stall st = { 0 };
	while (!(r.si.link_up && r.ci.link_up)) {
		tern_dpdk_port_info(r.sp, &r.si);
		tern_dpdk_port_info(r.cp, &r.ci);
		bench_stall_check(&st, "the memif link");
	}
	if (cpu) {
		double raw_ns = raw_cpu(&r, (unsigned)count), tern_ns = 0;
		double raw_pipe = 0, tern_pipe = 0;
		rc = tern_cpu(&r, (unsigned)count, &tern_ns);
		if (!rc) {
			raw_pipe = raw_pipe_cpu(&r, (unsigned)count, depth);
			rc = tern_pipe_cpu(&r, (unsigned)count, depth, &tern_pipe);
		}
		if (!rc && n_hdr)
			header_probe(&r, (unsigned)count, depth, hdr_sizes, n_hdr, json);
		if (rc)
			fprintf(stderr, "tern-bench memif: calls failed: %s\n", tern_strerror(rc));
		else if (json)
			printf("{\"bench\":\"memif_cpu\",\"mode\":\"%s\",\"pages\":\"%s\",\"size\":%zu,\"n\":%lu,"
			       "\"raw_ns\":%.1f,\"tern_ns\":%.1f,\"depth\":%u,\"raw_pipe_ns\":%.1f,\"tern_pipe_ns\":%.1f}\n",
			       zc ? "zero-copy" : "copy", pages, r.size, count, raw_ns, tern_ns, depth, raw_pipe,
			       tern_pipe);
		else
			printf("tern-bench memif --cpu: %zu B, %lu round trips, both ends on one thread (%s mode, %s)\n"
			       "  raw memif round trip  %8.1f ns of CPU\n  tern RPC round trip   %8.1f ns of CPU "
			       "(%.2fx)\n"
			       "  with %u in flight, per call: raw echo %.1f ns, tern RPC %.1f ns of CPU (%.2fx)\n",
			       r.size, count, zc ? "zero-copy" : "copy", pages_text, raw_ns, tern_ns, tern_ns / raw_ns, depth,
			       raw_pipe, tern_pipe, tern_pipe / raw_pipe);
		goto teardown;
	}
	static struct memif_result res;
	pthread_t t;
	pthread_create(&t, NULL, peer, &r);
	struct bench_stall st2 = { 0 };
	while (!atomic_load(&r.ready))
		bench_stall_check(&st2, "the peer thread");
	rc = atomic_load(&r.ready) < 0 ? TERN_ENOMEM : run_rounds(&r, count, rounds, depth, seconds, &res);
	if (atomic_load(&r.ready) > 0)
		peer_mode(&r, PEER_STOP);
	pthread_join(t, NULL);
	if (res.raw_lost)
		fprintf(stderr, "tern-bench memif: %lu raw frames had no echo within 10 ms and were sent again\n",
			res.raw_lost);
	if (rc) {
		fprintf(stderr, "tern-bench memif: calls failed: %s\n", tern_strerror(rc));
		goto teardown;
	}
	double lat_ratio = (double)hist_pct(&res.tern_h, 50) / (double)hist_pct(&res.raw_h, 50);
	double rate_ratio = res.raw_fps > 0 ? res.tern_rps / res.raw_fps : 0;
	const char *mode = zc ? "zero-copy" : "copy";
	if (json) {
		const struct hist *hs[2] = { &res.raw_h, &res.tern_h };
		const char *names[2] = { "raw memif", "tern rpc" };
		double rates[2] = { res.raw_fps, res.tern_rps };
		for (int i = 0; i < 2; i++)
			printf("{\"bench\":\"memif\",\"method\":\"%s\",\"mode\":\"%s\",\"pages\":\"%s\",\"size\":%zu,"
			       "\"n\":%lu,\"p50_us\":%.3f,\"p99_us\":%.3f,\"p999_us\":%.3f,\"max_us\":%.3f,\"depth\":%u,"
			       "\"rate_per_s\":%.0f}\n",
			       names[i], mode, pages, r.size, count, hist_pct(hs[i], 50) / 1e3, hist_pct(hs[i], 99) / 1e3,
			       hist_pct(hs[i], 99.9) / 1e3, hist_pct(hs[i], 100) / 1e3, depth, rates[i]);
		printf("{\"bench\":\"memif_ratio\",\"mode\":\"%s\",\"rounds\":%u,\"p50_ratio\":%.3f,\"rate_ratio\":%.3f,"
		       "\"p50_ratio_rounds\":[%.3f,%.3f,%.3f],\"rate_ratio_rounds\":[%.3f,%.3f,%.3f],"
		       "\"client_frames_per_call\":%.3f,\"client_rx_per_poll\":%.2f}\n",
		       mode, rounds, lat_ratio, rate_ratio, res.lat_spread[0], res.lat_spread[1], res.lat_spread[2],
		       res.rate_spread[0], res.rate_spread[1], res.rate_spread[2], res.fpc, res.rx_per_poll);
	} else {
		printf("tern-bench memif: %zu B requests over DPDK memif (%s mode, %s), %lu round trips each, rate "
		       "with %u in flight for %.1f s each; raw and tern alternate in %u rounds\n",
		       r.size, mode, pages_text, count, depth, seconds, rounds);
		printf("%-22s %9s %9s %9s %9s %14s\n", "method (us)", "p50", "p99", "p99.9", "max", "rate (/s)");
		printf("%-22s %9.2f %9.2f %9.2f %9.2f %14.0f\n", "raw memif ping-pong", hist_pct(&res.raw_h, 50) / 1e3,
		       hist_pct(&res.raw_h, 99) / 1e3, hist_pct(&res.raw_h, 99.9) / 1e3, hist_pct(&res.raw_h, 100) / 1e3,
		       res.raw_fps);
		printf("%-22s %9.2f %9.2f %9.2f %9.2f %14.0f\n", "tern RPC", hist_pct(&res.tern_h, 50) / 1e3,
		       hist_pct(&res.tern_h, 99) / 1e3, hist_pct(&res.tern_h, 99.9) / 1e3, hist_pct(&res.tern_h, 100) / 1e3,
		       res.tern_rps);
		printf("tern / raw: median round trip %.2fx, rate %.0f%%\n", lat_ratio, rate_ratio * 100);
		printf("per round (min / median / max): median round trip %.2fx / %.2fx / %.2fx, rate %.0f%% / %.0f%% / "
		       "%.0f%%\n",
		       res.lat_spread[0], res.lat_spread[1], res.lat_spread[2], res.rate_spread[0] * 100,
		       res.rate_spread[1] * 100, res.rate_spread[2] * 100);
		printf("client frames sent per call in the rate run: %.3f (1 = every ack rode on a request)\n", res.fpc);
		/* 16 in flight would arrive as bursts of 16 if the ends took turns. */
		printf("client packets per receiving poll in the rate run: %.2f (of %u in flight)\n", res.rx_per_poll,
		       depth);
	}
teardown:
	tern_dpdk_port_destroy(r.cp);
	/* memif's control thread handles the client's disconnect first. */
	uint64_t until = bench_now_ns() + 2000000000ull;
	do
		tern_dpdk_port_info(r.sp, &r.si);
	while (r.si.link_up && bench_now_ns() < until);
	tern_dpdk_port_destroy(r.sp);
	rte_mempool_free(r.pool);
	/* No rte_eal_cleanup(): in DPDK 22.11 it unmaps hugepage memory while
	 * the interrupt thread may still be finishing memif's unregistration
	 * of the closed ports, and 7 runs of 10 crashed there. The exit frees
	 * all of it: the hugepage files are unlinked (--huge-unlink), and the
	 * run directory goes below. */
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf /var/run/dpdk/tern-bench-%d", getpid());
	if (system(cmd) != 0)
		fprintf(stderr, "tern-bench memif: could not remove /var/run/dpdk/tern-bench-%d\n", getpid());
	return rc ? 1 : 0;
bad:
	fprintf(stderr, "tern-bench memif: bad value '%s' for --%s\n", optarg, lo[li].name);
	return 2;
}
#else
int bench_memif(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "tern-bench memif: tern was built without DPDK\n");
	return 1;
}
#endif
