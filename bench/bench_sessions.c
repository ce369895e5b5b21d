/* tern-bench sessions: what N sessions on one engine cost, for N from a
 * thousand up: setup time per session, memory per idle session end, CPU
 * and packets while they sit idle, and the call rate with all N calling in
 * turn. Both engines run in this thread, over the simulator or over a
 * kernel UDP driver on 127.0.0.1. */
#include <getopt.h>
#include <malloc.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "bench_util.h"
#include "plot.h"
#include "tern/sim.h"
#include "tern/tern.h"

#define ECHO 1
#define MAX_COUNTS 8

struct sess_cfg {
	int driver;
	size_t counts[MAX_COUNTS];
	unsigned n_counts;
	double idle_s, call_s;
	unsigned depth;
	bool json;
	const char *plot;
};

struct sess_row {
	size_t n;
	unsigned established;
	double setup_us_cpu, setup_us_wall;
	double bytes_per_end;
	double idle_cpu_ns; /* per session-second */
	double keepalive_pps; /* packets per session-second, both ways */
	double calls_per_s;
	size_t called; /* sessions that completed a call */
	unsigned long long errors;
};

struct world {
	const struct sess_cfg *c;
	struct tern_sim_net *net;
	struct tern_rpc *rpc[2];
	struct tern_engine *eng[2];
	struct tern_session **s;
	uint8_t *called;
	size_t n, next, n_called;
	unsigned inflight;
	unsigned long long calls, errors;
	bool calling;
	unsigned accepted;
};

static uint64_t cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static size_t heap_used(void)
{
	struct mallinfo2 mi = mallinfo2();
	return mi.uordblks + mi.hblkhd;
}

static void on_session(struct tern_session *s, enum tern_session_event ev, int status, void *user)
{
	(void)s;
	(void)status;
	struct world *w = user;
	if (ev == TERN_SESSION_ACCEPTED)
		w->accepted++;
}

static int make_side(struct world *w, int side)
{
	struct tern_rpc_config rc;
	tern_rpc_config_init(&rc);
	rc.workers = 0;
	rc.max_calls = w->c->depth + 64;
	struct tern_engine_config ec;
	tern_engine_config_init(&ec);
	ec.max_sessions = (uint32_t)w->n + 16;
	ec.cb.on_session = on_session;
	ec.cb.user = w;
	int rc_;
	if (w->c->driver == TERN_DRIVER_SIM)
		rc_ = tern_sim_driver_open(w->net, (uint32_t)side + 1, &ec.driver);
	else
		rc_ = bench_udp_driver(w->c->driver, 0, &ec.driver);
	if (rc_ || tern_rpc_create(&rc, &ec, &w->rpc[side]))
		return -1;
	w->eng[side] = tern_rpc_engine(w->rpc[side]);
	return side == 1 ? tern_rpc_register(w->rpc[1], ECHO, bench_echo, w->rpc[1], 0) : 0;
}

/* Drive both engines: simulated time up to until_ns, or wall time. */
static void run_for(struct world *w, uint64_t ns, bool (*done)(void *), void *arg)
{
	if (w->net) {
		tern_sim_run(w->net, w->eng, 2, tern_sim_now(w->net) + ns, done, arg);
		return;
	}
	uint64_t until = bench_now_ns() + ns;
	while (bench_now_ns() < until && !(done && done(arg)))
		for (int k = 0; k < 64; k++) {
			tern_engine_poll(w->eng[0]);
			tern_engine_poll(w->eng[1]);
		}
}

static bool all_established(void *arg)
{
	struct world *w = arg;
	return w->accepted >= w->n;
}

static void issue(struct world *w);

struct call_ctx {
	struct world *w;
	size_t idx;
};

static void done_cb(int status, const void *resp, size_t len, void *arg)
{
	(void)resp;
	(void)len;
	struct call_ctx *cc = arg;
	struct world *w = cc->w;
	w->inflight--;
	if (status) {
		w->errors++;
	} else {
		w->calls++;
		if (!w->called[cc->idx]) {
			w->called[cc->idx] = 1;
			w->n_called++;
		}
	}
	free(cc);
	if (w->calling)
		issue(w);
}

/* The next session in turn gets a call. */
static void issue(struct world *w)
{
	for (size_t tries = 0; tries < w->n; tries++) {
		size_t i = w->next;
		w->next = (w->next + 1) % w->n;
		void *q = tern_rpc_alloc(w->rpc[0], 16);
		struct call_ctx *cc = malloc(sizeof(*cc));
		if (!q || !cc) {
			tern_rpc_free(w->rpc[0], q);
			free(cc);
			return;
		}
		memset(q, 0, 16);
		*cc = (struct call_ctx){ w, i };
		if (tern_rpc_call(w->rpc[0], w->s[i], ECHO, q, 16, 1000000000ull, done_cb, cc, NULL) == 0) {
			w->inflight++;
			return;
		}
		tern_rpc_free(w->rpc[0], q);
		free(cc);
	}
}

static bool all_called(void *arg)
{
	struct world *w = arg;
	return w->n_called >= w->n;
}

static bool drained(void *arg)
{
	struct world *w = arg;
	return w->inflight == 0;
}

static int run_one(const struct sess_cfg *c, size_t n, struct sess_row *row)
{
	struct world w = { .c = c, .n = n };
	*row = (struct sess_row){ .n = n };
	int rc = -1;
	w.s = calloc(n, sizeof(*w.s));
	w.called = calloc(n, 1);
	if (!w.s || !w.called)
		goto out;
	if (c->driver == TERN_DRIVER_SIM) {
		struct tern_sim_config sc;
		tern_sim_config_init(&sc);
		sc.seed = 1;
		if (tern_sim_create(&sc, &w.net))
			goto out;
	}
	if (make_side(&w, 0) || make_side(&w, 1))
		goto out;
	struct tern_addr to;
	if (w.net) {
		to = tern_addr_sim(2);
	} else {
		tern_engine_local_addr(w.eng[1], &to);
		tern_addr_resolve("127.0.0.1", to.port, &to);
	}

	/* Setup: N connects, then until the server has accepted them all. */
	size_t heap0 = heap_used();
	uint64_t c0 = cpu_ns(), t0 = bench_now_ns();
	for (size_t i = 0; i < n; i++)
		if (tern_session_connect(w.eng[0], &to, &w.s[i]))
			goto out;
	run_for(&w, 30ull * 1000000000ull, all_established, &w);
	row->established = w.accepted;
	row->setup_us_cpu = (double)(cpu_ns() - c0) / 1e3 / (double)n;
	row->setup_us_wall = (double)(bench_now_ns() - t0) / 1e3 / (double)n;
	run_for(&w, 10000000ull, NULL, NULL); /* the last confirmations settle */
	row->bytes_per_end = (double)(heap_used() - heap0) / (2.0 * (double)n);

	/* Idle: nothing asked of the sessions. On a kernel path the engines
	 * are polled a thousand times a second, as an idle server would. */
	struct tern_stats a0, b0, a1, b1;
	tern_engine_stats(w.eng[0], &a0);
	tern_engine_stats(w.eng[1], &b0);
	uint64_t i0 = cpu_ns();
	uint64_t idle_ns = (uint64_t)(c->idle_s * 1e9);
	if (w.net) {
		run_for(&w, idle_ns, NULL, NULL);
	} else {
		uint64_t until = bench_now_ns() + idle_ns;
		while (bench_now_ns() < until) {
			tern_engine_poll(w.eng[0]);
			tern_engine_poll(w.eng[1]);
			usleep(1000);
		}
	}
	uint64_t idle_cpu = cpu_ns() - i0;
	tern_engine_stats(w.eng[0], &a1);
	tern_engine_stats(w.eng[1], &b1);
	double sess_s = (double)n * c->idle_s;
	row->idle_cpu_ns = (double)idle_cpu / sess_s;
	row->keepalive_pps = (double)(a1.tx_pkts - a0.tx_pkts + b1.tx_pkts - b0.tx_pkts) / sess_s;

	/* Calls: depth in flight, each to the next session in turn, until
	 * every session has completed one and call_s has passed. */
	w.calling = true;
	uint64_t s0 = w.net ? tern_sim_now(w.net) : bench_now_ns();
	for (unsigned k = 0; k < c->depth && k < n; k++)
		issue(&w);
	run_for(&w, (uint64_t)(c->call_s * 1e9), NULL, NULL);
	if (w.n_called < n)
		run_for(&w, 30ull * 1000000000ull, all_called, &w);
	uint64_t s1 = w.net ? tern_sim_now(w.net) : bench_now_ns();
	w.calling = false;
	row->calls_per_s = (double)w.calls / ((double)(s1 - s0) / 1e9);
	row->called = w.n_called;
	row->errors = w.errors;
	run_for(&w, 2000000000ull, drained, &w);
	rc = 0;
out:
	for (int k = 0; k < 2; k++)
		tern_rpc_destroy(w.rpc[k]);
	tern_sim_destroy(w.net);
	free(w.s);
	free(w.called);
	return rc;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: tern-bench sessions [options]\n"
		   "\n"
		   "N sessions between two engines in this thread, for each N: the CPU\n"
		   "time to open them (per session), the heap per idle session end, the CPU\n"
		   "and packets they cost while idle (per session-second), and the rate of\n"
		   "16-byte echo calls with every session calling in turn (until each has\n"
		   "completed one). Over the simulator, times are simulated except CPU.\n"
		   "\n"
		   "options:\n"
		   "  --driver NAME   sim, uring, sockets or auto (default sim)\n"
		   "  --counts LIST   session counts (default 1000,4000,16000,64000)\n"
		   "  --idle S        seconds idle (default 10 on sim, 2 otherwise)\n"
		   "  --calls S       seconds of calls at least (default 0.1 on sim, 1 otherwise)\n"
		   "  --depth N       calls in flight (default 256)\n"
		   "  --json          one JSON object per count\n"
		   "  --plot FILE     setup time per session over N, as SVG\n"
		   "  --help          this text\n");
}

int bench_sessions(int argc, char **argv)
{
	struct sess_cfg c = { .driver = TERN_DRIVER_SIM, .depth = 256, .idle_s = -1, .call_s = -1 };
	const char *counts = "1000,4000,16000,64000";
	static const struct option opts[] = {
		{ "driver", required_argument, 0, 'd' }, { "counts", required_argument, 0, 'n' },
		{ "idle", required_argument, 0, 'i' },   { "calls", required_argument, 0, 'c' },
		{ "depth", required_argument, 0, 'D' },  { "json", no_argument, 0, 'j' },
		{ "plot", required_argument, 0, 'p' },   { "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 },
	};
	optind = 1;
	int o;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'd':
			c.driver = bench_driver_arg(optarg, true);
			if (c.driver < 0) {
				fprintf(stderr, "tern-bench sessions: unknown driver '%s'\n", optarg);
				return 2;
			}
			break;
		case 'n':
			counts = optarg;
			break;
		case 'i':
			c.idle_s = atof(optarg);
			break;
		case 'c':
			c.call_s = atof(optarg);
			break;
		case 'D':
			c.depth = (unsigned)atoi(optarg);
			break;
		case 'j':
			c.json = true;
			break;
		case 'p':
			c.plot = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	int nc = bench_size_list(counts, c.counts, MAX_COUNTS, 1000000, false);
	if (nc < 0 || c.depth == 0 || c.idle_s == 0 || c.call_s == 0) {
		usage(stderr);
		return 2;
	}
	c.n_counts = (unsigned)nc;
	c.driver = bench_resolve_driver(c.driver);
	bool sim = c.driver == TERN_DRIVER_SIM;
	if (c.idle_s < 0)
		c.idle_s = sim ? 10 : 2;
	if (c.call_s < 0)
		c.call_s = sim ? 0.1 : 1;
	const char *dname = sim ? "sim" : c.driver == TERN_DRIVER_URING ? "uring" : "sockets";
	if (!c.json) {
		printf("tern-bench sessions: driver %s, idle %.1f s, calls %.1f s or until every session has called, %u in flight\n",
		       dname, c.idle_s, c.call_s, c.depth);
		printf("%9s %9s %12s %12s %12s %12s %13s %12s %9s\n", "sessions", "opened", "setup us/s", "(cpu us/s)",
		       "bytes/end", "idle ns/s-s", "pkts/s-s idle", "calls/s", "called");
	}
	struct sess_row rows[MAX_COUNTS];
	double xs[MAX_COUNTS], ys[MAX_COUNTS];
	unsigned done = 0;
	int status = 0;
	for (unsigned k = 0; k < c.n_counts; k++) {
		struct sess_row *r = &rows[done];
		if (run_one(&c, c.counts[k], r)) {
			fprintf(stderr, "tern-bench sessions: %zu sessions could not be set up\n", c.counts[k]);
			status = 1;
			continue;
		}
		if (c.json)
			printf("{\"bench\":\"sessions\",\"driver\":\"%s\",\"sessions\":%zu,\"established\":%u,\"setup_us_per_session\":%.3f,"
			       "\"setup_cpu_us_per_session\":%.3f,\"bytes_per_idle_session_end\":%.0f,"
			       "\"idle_cpu_ns_per_session_second\":%.1f,\"idle_pkts_per_session_second\":%.4f,"
			       "\"calls_per_second\":%.0f,\"sessions_called\":%zu,\"errors\":%llu}\n",
			       dname, r->n, r->established, r->setup_us_wall, r->setup_us_cpu, r->bytes_per_end,
			       r->idle_cpu_ns, r->keepalive_pps, r->calls_per_s, r->called, r->errors);
		else
			printf("%9zu %9u %12.2f %12.2f %12.0f %12.1f %13.4f %12.0f %9zu\n", r->n, r->established,
			       r->setup_us_wall, r->setup_us_cpu, r->bytes_per_end, r->idle_cpu_ns, r->keepalive_pps,
			       r->calls_per_s, r->called);
		fflush(stdout);
		if (r->established < r->n || r->called < r->n)
			status = 1;
		xs[done] = (double)r->n;
		ys[done] = r->setup_us_cpu;
		done++;
	}
	if (!c.json && done)
		printf("setup: wall and CPU time per session to open them all; bytes/end: heap per session end,\n"
		       "idle; idle ns/s-s: CPU per session-second idle; pkts/s-s: packets per session-second idle.\n");
	if (c.plot && done) {
		struct plot_series sr = { "CPU per session opened (us)", xs, ys, done };
		int prc = plot_svg(c.plot, "tern-bench sessions: setup cost over N", "sessions", "us per session", true,
				   &sr, 1);
		if (prc) {
			fprintf(stderr, "tern-bench sessions: cannot write %s: %s\n", c.plot, strerror(-prc));
			status = 1;
		}
	}
	return status;
}
