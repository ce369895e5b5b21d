/* tern-bench memif: tern RPC over DPDK memif beside a raw memif ping-pong
 * and echo (frames bounced by the peer, no tern work) in the same run.
 * Both ports live in this process, joined by one memif socket; the peer
 * runs on its own thread. */
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bench_util.h"
#include "hist.h"
#include "tern/tern.h"
#include "tern_config.h"

#if TERN_HAVE_DPDK
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#define SRV_IP "10.216.0.1"
#define CLI_IP "10.216.0.2"
#define BURST 32

struct memif_run {
	struct tern_dpdk_port *sp, *cp;
	struct tern_dpdk_port_info si, ci;
	atomic_bool stop;
	atomic_int ready;
	size_t size;
	struct rte_mempool *pool;
};

/* ---- raw: the peer bounces every frame back as it is ---- */

static void *raw_bounce(void *arg)
{
	struct memif_run *r = arg;
	struct rte_mbuf *m[BURST];
	while (!atomic_load_explicit(&r->stop, memory_order_relaxed)) {
		uint16_t n = rte_eth_rx_burst(r->si.port_id, 0, m, BURST);
		uint16_t k = 0;
		for (int t = 0; k < n && t < 100; t++)
			k += rte_eth_tx_burst(r->si.port_id, 0, m + k, (uint16_t)(n - k));
		for (; k < n; k++)
			rte_pktmbuf_free(m[k]);
	}
	return NULL;
}

static struct rte_mbuf *raw_frame(struct memif_run *r)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(r->pool);
	if (m) {
		/* The size a tern request of r->size bytes has on the wire. */
		size_t len = 42 + 76 + 16 + r->size;
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

/* Frames per second with depth frames in flight. */
static double raw_rate(struct memif_run *r, unsigned depth, double seconds)
{
	struct rte_mbuf *m[BURST];
	unsigned inflight = 0;
	uint64_t done = 0, t0 = bench_now_ns(), until = t0 + (uint64_t)(seconds * 1e9);
	while (bench_now_ns() < until) {
		while (inflight < depth) {
			struct rte_mbuf *f = raw_frame(r);
			if (!f || rte_eth_tx_burst(r->ci.port_id, 0, &f, 1) == 0) {
				if (f)
					rte_pktmbuf_free(f);
				break;
			}
			inflight++;
		}
		uint16_t n = rte_eth_rx_burst(r->ci.port_id, 0, m, BURST);
		rte_pktmbuf_free_bulk(m, n);
		inflight -= n;
		done += n;
	}
	/* Drain what is still out. */
	uint64_t quiet = bench_now_ns() + 10000000;
	while (inflight && bench_now_ns() < quiet) {
		uint16_t n = rte_eth_rx_burst(r->ci.port_id, 0, m, BURST);
		rte_pktmbuf_free_bulk(m, n);
		inflight -= n;
	}
	return (double)done / ((double)(bench_now_ns() - t0) / 1e9);
}

/* ---- tern: an RPC echo server engine on the peer's thread ---- */

/* An RPC endpoint on queue 0 of p, polled by the calling thread. */
static int memif_rpc(struct tern_dpdk_port *p, struct tern_rpc **out)
{
	struct tern_rpc_config rc;
	tern_rpc_config_init(&rc);
	rc.engine.driver = TERN_DRIVER_DPDK;
	rc.engine.dpdk_port = p;
	rc.workers = 0;
	return tern_rpc_create(&rc, out);
}

static void *tern_server(void *arg)
{
	struct memif_run *r = arg;
	struct tern_rpc *rpc;
	if (memif_rpc(r->sp, &rpc) || tern_rpc_register(rpc, 1, bench_echo, rpc, 0)) {
		atomic_store(&r->ready, -1);
		return NULL;
	}
	atomic_store(&r->ready, 1);
	struct tern_engine *e = tern_rpc_engine(rpc);
	while (!atomic_load_explicit(&r->stop, memory_order_relaxed))
		tern_engine_poll(e);
	tern_rpc_destroy(rpc);
	return NULL;
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

static int tern_side(struct memif_run *r, unsigned count, unsigned depth, double seconds, struct hist *h,
		     double *rate, double *frames_per_call)
{
	struct tern_rpc *rpc;
	int rcode = memif_rpc(r->cp, &rpc);
	if (rcode)
		return rcode;
	struct tern_addr to;
	tern_addr_resolve(SRV_IP, 7100, &to);
	struct tern_session *s;
	if ((rcode = tern_session_connect(tern_rpc_engine(rpc), &to, &s)))
		goto out;
	static uint8_t req[1 << 16], resp[1 << 16];
	size_t rl;
	for (unsigned i = 0; i < 1000; i++) /* warm: ARP, handshake, caches */
		if ((rcode = tern_rpc_call_sync(rpc, s, 1, req, r->size, 1000000000ull, resp, sizeof(resp), &rl)))
			goto out;
	for (unsigned i = 0; i < count; i++) {
		uint64_t t0 = bench_now_ns();
		if ((rcode = tern_rpc_call_sync(rpc, s, 1, req, r->size, 1000000000ull, resp, sizeof(resp), &rl)))
			goto out;
		hist_add(h, bench_now_ns() - t0);
	}
	struct rate_ctx c = { 0 };
	struct tern_engine *e = tern_rpc_engine(rpc);
	struct tern_stats before, after;
	tern_engine_stats(e, &before);
	uint64_t t0 = bench_now_ns(), until = t0 + (uint64_t)(seconds * 1e9);
	while (bench_now_ns() < until) {
		while (c.inflight < depth) {
			void *q = tern_rpc_alloc(rpc, r->size);
			if (!q || tern_rpc_call(rpc, s, 1, q, r->size, 1000000000ull, rate_cont, &c, NULL)) {
				tern_rpc_free(rpc, q);
				break;
			}
			c.inflight++;
		}
		tern_engine_poll(e);
	}
	*rate = (double)c.done / ((double)(bench_now_ns() - t0) / 1e9);
	tern_engine_stats(e, &after);
	*frames_per_call = c.done ? (double)(after.nic_tx_frames - before.nic_tx_frames) / (double)c.done : 0;
	struct bench_stall st = { 0 };
	while (c.inflight) {
		tern_engine_poll(e);
		bench_stall_check(&st, "the last calls");
	}
out:
	tern_rpc_destroy(rpc);
	return rcode;
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
		"  --count N      round trips timed, each method (default 100000)\n"
		"  --size BYTES   request and answer size (default 32)\n"
		"  --depth N      calls / frames in flight for the rate (default 16)\n"
		"  --seconds S    length of each rate run (default 2)\n"
		"  --zero-copy    the memif client in zero-copy mode\n"
		"  --cpu          poll both ends from one thread and report the CPU time\n"
		"                 of one round trip, raw and tern (no rate run)\n"
		"  --json         one JSON object per method, then the ratios\n"
		"  --help         this text\n");
}

int bench_memif(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "count", required_argument, 0, 'n' }, { "size", required_argument, 0, 's' },
		{ "depth", required_argument, 0, 'D' }, { "seconds", required_argument, 0, 'S' },
		{ "zero-copy", no_argument, 0, 'z' }, { "json", no_argument, 0, 'j' },
		{ "cpu", no_argument, 0, 'c' },
		{ "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 },
	};
	unsigned long count = 100000;
	unsigned depth = 16;
	double seconds = 2;
	int zc = 0, json = 0, cpu = 0, c, li = 0;
	struct memif_run r = { .size = 32 };
	char *end;
	while ((c = getopt_long(argc, argv, "h", lo, &li)) != -1) {
		switch (c) {
		case 'n': count = strtoul(optarg, &end, 10); if (*end || !count) goto bad; break;
		case 's': r.size = strtoul(optarg, &end, 10); if (*end || r.size > 1300) goto bad; break;
		case 'D': depth = (unsigned)strtoul(optarg, &end, 10); if (*end || !depth || depth > 256) goto bad; break;
		case 'S': seconds = strtod(optarg, &end); if (*end || !(seconds > 0 && seconds <= 600)) goto bad; break;
		case 'z': zc = 1; break;
		case 'j': json = 1; break;
		case 'c': cpu = 1; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	char sock[64], eal[512];
	snprintf(sock, sizeof(sock), "/tmp/tern-bench-memif-%d.sock", getpid());
	snprintf(eal, sizeof(eal),
		 "--no-huge -m 512 --no-pci --single-file-segments --file-prefix=tern-bench-%d "
		 "--log-level=lib.eal:warning --log-level=pmd.net.memif:warning "
		 "--vdev=net_memif0,role=server,socket=%s --vdev=net_memif1,role=client,socket=%s%s",
		 getpid(), sock, sock, zc ? ",zero-copy=yes" : "");
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
		rc = tern_cpu(&r, (unsigned)count, &tern_ns);
		if (rc)
			fprintf(stderr, "tern-bench memif: calls failed: %s\n", tern_strerror(rc));
		else if (json)
			printf("{\"bench\":\"memif_cpu\",\"mode\":\"%s\",\"size\":%zu,\"n\":%lu,\"raw_ns\":%.1f,"
			       "\"tern_ns\":%.1f}\n",
			       zc ? "zero-copy" : "copy", r.size, count, raw_ns, tern_ns);
		else
			printf("tern-bench memif --cpu: %zu B, %lu round trips, both ends on one thread (%s mode)\n"
			       "  raw memif round trip  %8.1f ns of CPU\n  tern RPC round trip   %8.1f ns of CPU "
			       "(%.2fx)\n",
			       r.size, count, zc ? "zero-copy" : "copy", raw_ns, tern_ns, tern_ns / raw_ns);
		goto teardown;
	}
	static struct hist raw_h, tern_h;
	hist_init(&raw_h);
	hist_init(&tern_h);
	pthread_t t;
	pthread_create(&t, NULL, raw_bounce, &r);
	unsigned long raw_lost = raw_pingpong(&r, 1000, &raw_h); /* warm */
	hist_init(&raw_h);
	raw_lost += raw_pingpong(&r, (unsigned)count, &raw_h);
	if (raw_lost)
		fprintf(stderr, "tern-bench memif: %lu raw frames had no echo within 10 ms and were sent again\n",
			raw_lost);
	double raw_fps = raw_rate(&r, depth, seconds);
	atomic_store(&r.stop, true);
	pthread_join(t, NULL);
	atomic_store(&r.stop, false);
	pthread_create(&t, NULL, tern_server, &r);
	while (!atomic_load(&r.ready))
		;
	double rpc_rate = 0, fpc = 0;
	rc = atomic_load(&r.ready) < 0 ? TERN_ENOMEM
				       : tern_side(&r, (unsigned)count, depth, seconds, &tern_h, &rpc_rate, &fpc);
	atomic_store(&r.stop, true);
	pthread_join(t, NULL);
	if (rc) {
		fprintf(stderr, "tern-bench memif: calls failed: %s\n", tern_strerror(rc));
		return 1;
	}
	double lat_ratio = (double)hist_pct(&tern_h, 50) / (double)hist_pct(&raw_h, 50);
	double rate_ratio = rpc_rate / raw_fps;
	const char *mode = zc ? "zero-copy" : "copy";
	if (json) {
		const struct hist *hs[2] = { &raw_h, &tern_h };
		const char *names[2] = { "raw memif", "tern rpc" };
		double rates[2] = { raw_fps, rpc_rate };
		for (int i = 0; i < 2; i++)
			printf("{\"bench\":\"memif\",\"method\":\"%s\",\"mode\":\"%s\",\"size\":%zu,\"n\":%lu,\"p50_us\":%.3f,"
			       "\"p99_us\":%.3f,\"p999_us\":%.3f,\"max_us\":%.3f,\"depth\":%u,\"rate_per_s\":%.0f}\n",
			       names[i], mode, r.size, count, hist_pct(hs[i], 50) / 1e3, hist_pct(hs[i], 99) / 1e3,
			       hist_pct(hs[i], 99.9) / 1e3, hist_pct(hs[i], 100) / 1e3, depth, rates[i]);
		printf("{\"bench\":\"memif_ratio\",\"mode\":\"%s\",\"p50_ratio\":%.3f,\"rate_ratio\":%.3f,"
		       "\"client_frames_per_call\":%.3f}\n",
		       mode, lat_ratio, rate_ratio, fpc);
	} else {
		printf("tern-bench memif: %zu B requests over DPDK memif (%s mode), %lu round trips each, rate with %u "
		       "in flight for %.1f s\n",
		       r.size, mode, count, depth, seconds);
		printf("%-22s %9s %9s %9s %9s %14s\n", "method (us)", "p50", "p99", "p99.9", "max", "rate (/s)");
		printf("%-22s %9.2f %9.2f %9.2f %9.2f %14.0f\n", "raw memif ping-pong", hist_pct(&raw_h, 50) / 1e3,
		       hist_pct(&raw_h, 99) / 1e3, hist_pct(&raw_h, 99.9) / 1e3, hist_pct(&raw_h, 100) / 1e3, raw_fps);
		printf("%-22s %9.2f %9.2f %9.2f %9.2f %14.0f\n", "tern RPC", hist_pct(&tern_h, 50) / 1e3,
		       hist_pct(&tern_h, 99) / 1e3, hist_pct(&tern_h, 99.9) / 1e3, hist_pct(&tern_h, 100) / 1e3,
		       rpc_rate);
		printf("tern / raw: median round trip %.2fx, rate %.0f%%\n", lat_ratio, rate_ratio * 100);
		printf("client frames sent per call in the rate run: %.3f (1 = every ack rode on a request)\n", fpc);
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
	rte_eal_cleanup();
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
