/* tern-bench lat: tern RPC round trips over kernel UDP on loopback, with
 * baselines run in the same process and interleaved round by round, so
 * that the ratios hold on a noisy machine. */
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bench_peer.h"
#include "bench_util.h"
#include "hist.h"
#include "plot.h"
#include "bench_simdrv.h"
#include "tern/sim.h"
#include "tern/tern.h"

#define ECHO 1
#define NM 4 /* tern, the raw path, busy and blocking kernel UDP */

struct lat_opts {
	int driver;
	int uring_setup;
	size_t size;
	unsigned long count;
	unsigned rounds;
	int json;
	double rate; /* open loop: calls per second; 0 for closed loop */
	const char *plot;
	int no_baseline;
	const char *peer; /* HOST[:PORT] of a tern-bench serve; NULL: start one here */
	struct bench_client cl;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: tern-bench lat [options]\n"
		"\n"
		"Round-trip latency of a tern RPC to a peer (tern-bench serve, busy\n"
		"polling: --peer, or one started here as a second process on 127.0.0.1)\n"
		"beside, in the same run and interleaved, datagrams the peer reflects:\n"
		"  raw io_uring UDP     the same kernel path with no tern work\n"
		"  kernel UDP, busy     sendto, then recv(MSG_DONTWAIT) in a loop: the\n"
		"                       kernel's floor for a round trip, with no library\n"
		"  kernel UDP, blocking sendto/recv\n"
		"Prints percentiles and tern's ratio to each baseline's median.\n"
		"\n"
		"options:\n"
		"  --peer HOST[:PORT]  a tern-bench serve to measure against (port default\n"
		"                  7700); without it, one is started here on 127.0.0.1 with\n"
		"                  the same driver\n"
		"  --driver NAME   uring, sockets, dpdk, sim or auto (default auto: what tern\n"
		"                  picks for a busy-polling engine, sockets): this side's;\n"
		"                  sim runs tern alone in simulated time (no baselines there)\n"
		"  --uring-setup M auto, defer-taskrun, coop-taskrun, plain or sqpoll (tern's ring)\n"
		"  --size BYTES    request and response size, 0..1400 (default 64)\n"
		"  --count N       round trips per method (default 200000)\n"
		"  --rounds N      interleaved rounds (default 10)\n"
		"  --rate R        open loop: start a call every 1/R s and measure from when\n"
		"                  it should have started, so a stall counts against every\n"
		"                  call it delays (no coordinated omission); default: closed\n"
		"                  loop, one call after another\n"
		"  --baseline      run the three baselines beside tern (the default)\n"
		"  --no-baseline   tern alone\n"
		"  --json          one JSON object per method instead of the table\n"
		"  --plot FILE     write the latency CDFs to FILE as SVG\n"
		"  --help          this text\n");
	bench_client_usage(f);
}

/* ---- tern as one more method ---- */

struct tern_lat {
	struct bench_client *cl;
	size_t size;
	struct bench_peer *peer;
	struct tern_rpc *cli;
	struct tern_session *s; /* NULL once it died: the next call reconnects */
	struct tern_addr srv;
	unsigned long reconnects;
	int last_error;
	uint8_t buf[1500];
};

static void on_client_session(struct tern_session *s, enum tern_session_event ev, int status, void *user)
{
	struct tern_lat *t = user;
	if (ev == TERN_SESSION_DEAD && s == t->s) {
		t->s = NULL;
		t->last_error = status;
	}
}

static struct tern_rpc *lat_rpc(struct tern_lat *t)
{
	struct tern_rpc_config rc;
	tern_rpc_config_init(&rc);
	rc.workers = 0;
	struct tern_engine_config ec;
	tern_engine_config_init(&ec);
	/* While a baseline is measured this engine is not polled, for as
	 * long as a round takes: not a dead peer. */
	ec.dead_after_ns = 60000000000ull;
	ec.cb.on_session = on_client_session;
	ec.cb.user = t;
	/* A client: it accepts no sessions, so with its one peer the kernel
	 * drivers send through a connected socket (docs/uring.md). */
	ec.accept = false;
	if (bench_client_open(t->cl, 0, 1, t->peer, &ec.driver))
		return NULL;
	struct tern_rpc *rpc;
	return tern_rpc_create(&rc, &ec, &rpc) ? NULL : rpc;
}

/* Connects to the peer's first engine and asks it where its reflector is. */
static int tern_start(struct baseline *b, size_t size)
{
	struct tern_lat *t = b->state;
	t->size = size;
	if (!(t->cli = lat_rpc(t)))
		return -1;
	t->srv = t->peer->tern[0];
	if (tern_session_connect(tern_rpc_engine(t->cli), &t->srv, &t->s))
		return -1;
	int rc = bench_peer_info(t->cli, t->s, t->peer);
	if (rc)
		fprintf(stderr, "tern-bench lat: the peer did not describe itself: %s\n", tern_strerror(rc));
	return rc ? -1 : 0;
}

static uint64_t tern_round_trip(struct baseline *b)
{
	struct tern_lat *t = b->state;
	if (!t->s) {
		/* The session ended (reported at the end); a new one, untimed. */
		t->reconnects++;
		if (tern_session_connect(tern_rpc_engine(t->cli), &t->srv, &t->s))
			return 0;
	}
	uint64_t t0 = bench_now_ns();
	int rc = tern_rpc_call_sync(t->cli, t->s, BENCH_ECHO, t->buf, t->size, 1000000000ull, t->buf, sizeof(t->buf), NULL);
	return rc ? 0 : bench_now_ns() - t0;
}

static void tern_stop(struct baseline *b)
{
	struct tern_lat *t = b->state;
	tern_rpc_destroy(t->cli);
	if (t->reconnects)
		fprintf(stderr, "tern-bench lat: the tern session ended %lu times (last: %s) and was opened again\n",
			t->reconnects, tern_strerror(t->last_error));
}

/* ---- the run ---- */

static int parse(int argc, char **argv, struct lat_opts *o)
{
	static const struct option lo[] = {
		{ "driver", required_argument, 0, 'd' }, { "size", required_argument, 0, 's' },
		{ "count", required_argument, 0, 'n' }, { "rounds", required_argument, 0, 'r' },
		{ "json", no_argument, 0, 'j' }, { "help", no_argument, 0, 'h' },
		{ "uring-setup", required_argument, 0, 'U' }, { "rate", required_argument, 0, 'R' },
		{ "plot", required_argument, 0, 'P' }, { "baseline", no_argument, 0, 'B' },
		{ "no-baseline", no_argument, 0, 'b' }, { "peer", required_argument, 0, 'p' }, BENCH_CLIENT_LONGOPTS,
		{ 0, 0, 0, 0 },
	};
	*o = (struct lat_opts){ .driver = TERN_DRIVER_AUTO, .size = 64, .count = 200000, .rounds = 10 };
	int c;
	char *end = NULL;
	int li = 0;
	while ((c = getopt_long(argc, argv, "h", lo, &li)) != -1) {
		int taken = bench_client_opt(&o->cl, c, optarg);
		if (taken < 0)
			goto bad;
		if (taken)
			continue;
		switch (c) {
		case 'd':
			o->driver = bench_client_driver_arg(optarg, true);
			if (o->driver < 0)
				goto bad;
			break;
		case 's': o->size = strtoull(optarg, &end, 10); if (*end || o->size > 1400) goto bad; break;
		case 'n': o->count = strtoul(optarg, &end, 10); if (*end || o->count < 100) goto bad; break;
		case 'r': o->rounds = (unsigned)strtoul(optarg, &end, 10); if (*end || !o->rounds) goto bad; break;
		case 'j': o->json = 1; break;
		case 'p': o->peer = optarg; break;
		case 'P': o->plot = optarg; break;
		case 'B': o->no_baseline = 0; break;
		case 'b': o->no_baseline = 1; break;
		case 'R': o->rate = strtod(optarg, &end); if (*end || o->rate <= 0 || o->rate > 1e7) goto bad; break;
		case 'U': o->uring_setup = tern_uring_setup_parse(optarg); if (o->uring_setup < 0) goto bad; break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return -1;
		}
	}
	return 0;
bad:
	fprintf(stderr, "tern-bench lat: bad value \'%s\' for --%s\n", optarg, lo[li].name);
	return -1;
}

int bench_lat(int argc, char **argv)
{
	struct lat_opts o;
	if (parse(argc, argv, &o))
		return 2;
	o.driver = bench_resolve_driver(o.driver);
	if (o.driver == TERN_DRIVER_SIM) {
		o.no_baseline = 1; /* the baselines are kernel paths; the simulator has no raw mode */
		if (o.rate > 0) {
			fprintf(stderr, "tern-bench lat: --rate is for kernel drivers\n");
			return 2;
		}
	}
	static struct bench_peer peer;
	bool local = false, dpdk = o.driver == TERN_DRIVER_DPDK;
	o.cl.driver = o.driver;
	o.cl.uring_setup = o.uring_setup;
	struct tern_lat tl = { .cl = &o.cl, .peer = &peer };
	struct baseline m[NM];
	m[0] = (struct baseline){ .name = "tern RPC", .start = tern_start, .round_trip = tern_round_trip,
				  .stop = tern_stop, .state = &tl };
	/* The raw path of this side's driver; a kernel one has blocking UDP
	 * too (a DPDK port has no kernel path). */
	int have_raw = (dpdk ? baseline_dpdk_init(&m[1], &o.cl) : baseline_uring_init(&m[1])) == 0;
	baseline_busy_init(&m[2]);
	baseline_blocking_init(&m[3]);
	m[1].remote = m[2].remote = m[3].remote = &peer.raw; /* filled in when tern starts, first */
	static struct hist lat[NM];
	int ok[NM];
	unsigned long per = o.count / o.rounds;
	if (o.driver == TERN_DRIVER_SIM) {
		for (int i = 0; i < NM; i++)
			hist_init(&lat[i]);
		if (simdrv_lat(o.size, o.count, &lat[0]))
			return 1;
		ok[0] = 1;
		ok[1] = ok[2] = ok[3] = 0;
		m[0].name = "tern RPC (simulated)";
		goto report;
	}
	if (bench_client_peer(&o.cl, "lat", o.peer, 1, &peer))
		return o.peer ? 2 : 1;
	local = peer.pid != 0;
	for (int i = 0; i < NM; i++) {
		hist_init(&lat[i]);
		bool want = (i == 0 || !o.no_baseline) && !(dpdk && i >= 2);
		ok[i] = want && (i != 1 || have_raw) && m[i].start(&m[i], o.size) == 0;
		if (!ok[i] && want)
			fprintf(stderr, "tern-bench lat: %s unavailable\n", m[i].name);
	}
	if (!ok[0]) {
		bench_client_close(&o.cl);
		bench_peer_stop(&peer);
		return 1;
	}
	/* Warm up each, then interleave rounds; only the method measured spins. */
	for (int i = 0; i < NM; i++)
		atomic_store(&m[i].idle, true);
	for (int i = 0; i < NM; i++) {
		atomic_store(&m[i].idle, false);
		unsigned lost = 0;
		for (int k = 0; ok[i] && k < 2000 && lost < 5; k++)
			lost = m[i].round_trip(&m[i]) ? 0 : lost + 1;
		if (lost >= 5) {
			/* Each try waits a second: give up on the method, not the run. */
			fprintf(stderr, "tern-bench lat: %s: no answer from the peer; left out\n", m[i].name);
			m[i].stop(&m[i]);
			ok[i] = 0;
		}
		atomic_store(&m[i].idle, true);
	}
	if (!ok[0]) {
		bench_client_close(&o.cl);
		bench_peer_stop(&peer);
		return 1;
	}
	struct progress prog = { 0 };
	for (unsigned r = 0; r < o.rounds; r++) {
		progress_update(&prog, "lat rounds", r, o.rounds);
		for (int i = 0; i < NM; i++) {
			atomic_store(&m[i].idle, false);
			/* Untimed calls first, while the peer's threads of the method
			 * before stop spinning (serve: within 20 ms of their last
			 * packet), so no method pays for the switch. */
			for (uint64_t until = bench_now_ns() + 30000000ull; ok[i] && bench_now_ns() < until;)
				m[i].round_trip(&m[i]);
			uint64_t interval = o.rate > 0 ? (uint64_t)(1e9 / o.rate) : 0;
			uint64_t next = bench_now_ns();
			for (unsigned long k = 0; ok[i] && k < per; k++) {
				uint64_t late = 0;
				if (interval) {
					/* Open loop: wait for the intended start; if we are
					 * behind, the delay is part of this call's latency. */
					uint64_t now = bench_now_ns();
					while (now < next)
						now = bench_now_ns();
					late = now - next;
					next += interval;
				}
				uint64_t t = m[i].round_trip(&m[i]);
				if (t)
					hist_add(&lat[i], t + late);
			}
			atomic_store(&m[i].idle, true);
		}
	}
	progress_update(&prog, "lat rounds", o.rounds, o.rounds);
	for (int i = 0; i < NM; i++) {
		atomic_store(&m[i].idle, false);
		if (ok[i])
			m[i].stop(&m[i]);
	}
	bench_client_close(&o.cl);
	bench_peer_stop(&peer);
report:;
	double med0 = hist_pct(&lat[0], 50) / 1e3;
	if (!o.json && o.driver == TERN_DRIVER_SIM) {
		printf("tern-bench lat: %zu B RPC round trips on the simulated network (10 Gb/s, 2 us), simulated time,\n"
		       "%lu calls, closed loop; baselines are for kernel drivers\n", o.size, o.count);
		printf("%-22s %9s %9s %9s %9s %9s %11s\n", "method (us)", "p50", "p90", "p99", "p99.9", "max", "tern/this");
	} else if (!o.json) {
		char pa[64];
		printf("tern-bench lat: %zu B round trips to %s (%s, driver %s there), driver %s here, %lu per method\n"
		       "in %u interleaved rounds, %s\n",
		       o.size, tern_addr_format(&peer.tern[0], pa, sizeof(pa)),
		       local ? "a tern-bench serve started here" : "tern-bench serve", peer.driver,
		       tern_driver_name((enum tern_driver_kind)o.driver), per * o.rounds, o.rounds,
		       o.rate > 0 ? "open loop" : "closed loop");
		printf("%-22s %9s %9s %9s %9s %9s %11s\n", "method (us)", "p50", "p90", "p99", "p99.9", "max", "tern/this");
	}
	for (int i = 0; i < NM; i++) {
		const struct hist *h = &lat[i];
		if (!ok[i] || !h->count)
			continue;
		double p50 = hist_pct(h, 50) / 1e3, p90 = hist_pct(h, 90) / 1e3, p99 = hist_pct(h, 99) / 1e3,
		       p999 = hist_pct(h, 99.9) / 1e3, max = h->max / 1e3;
		if (o.json)
			printf("{\"bench\":\"lat\",\"method\":\"%s\",\"driver\":\"%s\",\"size\":%zu,\"loop\":\"%s\","
			       "\"n\":%llu,\"p50_us\":%.3f,\"p90_us\":%.3f,\"p99_us\":%.3f,\"p999_us\":%.3f,"
			       "\"max_us\":%.3f,\"tern_ratio\":%.3f}\n",
			       m[i].name, tern_driver_name((enum tern_driver_kind)o.driver), o.size,
			       o.rate > 0 ? "open" : "closed", (unsigned long long)h->count, p50, p90, p99, p999, max,
			       med0 / p50);
		else
			printf("%-22s %9.2f %9.2f %9.2f %9.2f %9.2f %11.3f\n", m[i].name, p50, p90, p99, p999, max,
			       med0 / p50);
	}
	if (o.plot) {
		/* Latency at each percentile, as HdrHistogram plots it: the
		 * percentile axis spaced by 1/(1-p), so 90, 99, 99.9 and 99.99
		 * lie equally apart and the tail gets the room. */
		static double xs[NM][400], ys[NM][400];
		struct plot_series ser[NM];
		size_t ns = 0;
		for (int i = 0; i < NM; i++) {
			if (!ok[i] || !lat[i].count)
				continue;
			size_t k = 0;
			for (double p = 0; p <= 99.9991 && k < 400;
			     p += p < 90 ? 1 : p < 99 ? 0.1 : p < 99.9 ? 0.01 : p < 99.99 ? 0.001 : 0.0001) {
				xs[ns][k] = p;
				ys[ns][k++] = fmax(hist_pct(&lat[i], p) / 1e3, 0.001);
			}
			ser[ns] = (struct plot_series){ m[i].name, xs[ns], ys[ns], k };
			ns++;
		}
		int rc = plot_svg_axes(o.plot, "Round-trip latency by percentile", "percentile", "microseconds",
				       PLOT_PCT_TAIL, PLOT_LOG, ser, ns);
		if (rc)
			fprintf(stderr, "tern-bench lat: cannot write %s: %s\n", o.plot, strerror(-rc));
	}
	return 0;
}
