/* tern-bench tput and scale: small-RPC rate with several calls in flight
 * per session, several sessions, and several engines (a thread and a
 * socket each). */
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "baseline_tcp.h"
#include "bench_peer.h"
#include "bench_simdrv.h"
#include "bench_util.h"
#include "tern/sim.h"
#include "tern/tern.h"

#define ECHO 1
#define MAX_ENGINES 16
#define MAX_SESSIONS 1024

struct tput_cfg {
	int driver;
	unsigned engines, sessions, depth;
	size_t size;
	double seconds;
	const struct bench_peer *peer; /* serve, remote or started here */
	struct bench_client *cl;       /* this side's driver */
};

struct pair_run {
	const struct tput_cfg *c;
	unsigned idx;
	pthread_t cli_thread;
	atomic_bool stop;
	atomic_ullong calls, errors;
	struct tern_rpc *cli;
	struct tern_session *s[MAX_SESSIONS];
	unsigned inflight;
	/* DPDK: frames on this engine's queue, and of them those that were
	 * another engine's (handed over in software) */
	uint64_t rx_frames, handoffs;
};

static struct tern_rpc *make_rpc(const struct tput_cfg *c, unsigned idx)
{
	struct tern_rpc_config rc;
	tern_rpc_config_init(&rc);
	rc.workers = 0;
	struct tern_engine_config ec;
	tern_engine_config_init(&ec);
	ec.max_sessions = MAX_SESSIONS + 16;
	if (bench_client_open(c->cl, idx, c->engines, c->peer, &ec.driver))
		return NULL;
	struct tern_rpc *rpc;
	return tern_rpc_create(&rc, &ec, &rpc) ? NULL : rpc;
}

struct call {
	struct pair_run *p;
	unsigned idx;
};

static void issue(struct pair_run *p, unsigned idx);

static void done(int status, const void *resp, size_t len, void *arg)
{
	(void)resp;
	(void)len;
	struct call *c = arg;
	struct pair_run *p = c->p;
	p->inflight--;
	if (status)
		atomic_fetch_add_explicit(&p->errors, 1, memory_order_relaxed);
	else
		atomic_fetch_add_explicit(&p->calls, 1, memory_order_relaxed);
	if (!atomic_load_explicit(&p->stop, memory_order_relaxed))
		issue(p, c->idx); /* keep depth calls in flight on this session */
	free(c);
}

static void issue(struct pair_run *p, unsigned idx)
{
	void *q = tern_rpc_alloc(p->cli, p->c->size);
	struct call *c = malloc(sizeof(*c));
	if (!q || !c) {
		free(c);
		tern_rpc_free(p->cli, q);
		return;
	}
	*c = (struct call){ p, idx };
	if (tern_rpc_call(p->cli, p->s[idx], ECHO, q, p->c->size, 1000000000ull, done, c, NULL)) {
		tern_rpc_free(p->cli, q);
		free(c);
		return;
	}
	p->inflight++;
}

static void *client_main(void *arg)
{
	struct pair_run *p = arg;
	if (!(p->cli = make_rpc(p->c, p->idx)))
		return NULL;
	/* Client engine i calls the peer's engine i (modulo its count). */
	struct tern_addr to = p->c->peer->tern[p->idx % p->c->peer->engines];
	struct tern_engine *e = tern_rpc_engine(p->cli);
	for (unsigned i = 0; i < p->c->sessions; i++)
		tern_session_connect(e, &to, &p->s[i]);
	for (unsigned i = 0; i < p->c->sessions; i++)
		for (unsigned k = 0; k < p->c->depth; k++)
			issue(p, i);
	while (!atomic_load_explicit(&p->stop, memory_order_relaxed))
		tern_engine_poll(e);
	uint64_t until = bench_now_ns() + 1000000000ull;
	while (p->inflight && bench_now_ns() < until)
		tern_engine_poll(e);
	tern_engine_driver_stat(e, "nic_rx_frames", &p->rx_frames);
	tern_engine_driver_stat(e, "steer_handoffs", &p->handoffs);
	tern_rpc_destroy(p->cli);
	return NULL;
}

/* Calls per second over all engines, measured after a warm-up; per[i]
 * engine i's. */
static double run_tput(const struct tput_cfg *c, double *err_rate, double *per, struct pair_run **out)
{
	static struct pair_run pairs[MAX_ENGINES];
	for (unsigned i = 0; i < c->engines; i++) {
		memset(&pairs[i], 0, sizeof(pairs[i]));
		pairs[i].c = c;
		pairs[i].idx = i;
		pthread_create(&pairs[i].cli_thread, NULL, client_main, &pairs[i]);
	}
	usleep(300000); /* handshakes and warm-up */
	uint64_t c0 = 0, e0 = 0, c1 = 0, e1 = 0, pc0[MAX_ENGINES];
	for (unsigned i = 0; i < c->engines; i++) {
		pc0[i] = atomic_load(&pairs[i].calls);
		c0 += pc0[i];
		e0 += atomic_load(&pairs[i].errors);
	}
	uint64_t t0 = bench_now_ns();
	usleep((useconds_t)(c->seconds * 1e6));
	uint64_t t1 = bench_now_ns();
	for (unsigned i = 0; i < c->engines; i++) {
		uint64_t pc1 = atomic_load(&pairs[i].calls);
		per[i] = (double)(pc1 - pc0[i]) / ((double)(t1 - t0) / 1e9);
		c1 += pc1;
		e1 += atomic_load(&pairs[i].errors);
	}
	for (unsigned i = 0; i < c->engines; i++)
		atomic_store(&pairs[i].stop, true);
	for (unsigned i = 0; i < c->engines; i++)
		pthread_join(pairs[i].cli_thread, NULL);
	double secs = (double)(t1 - t0) / 1e9;
	*err_rate = (double)(e1 - e0) / secs;
	*out = pairs;
	return (double)(c1 - c0) / secs;
}

static void usage(FILE *f, const char *cmd)
{
	fprintf(f,
		"usage: tern-bench %s [options]\n"
		"\n"
		"%s\n"
		"\n"
		"options:\n"
		"  --peer HOST[:PORT]  a tern-bench serve to call (port default 7700); client\n"
		"                    engine i calls its engine i modulo its engines. Without\n"
		"                    it, one is started here on 127.0.0.1 as a second process\n"
		"                    with as many engines as the most asked for\n"
		"  --driver NAME     uring, sockets, dpdk, sim or auto (default auto: sockets,\n"
		"                    as tern picks for busy polling): this\n"
		"                    side's; with dpdk one queue per engine, and a line per\n"
		"                    engine tells how its answers landed\n"
		"  --engines N       client engines, a thread each%s\n"
		"  --sessions N      sessions per client engine%s\n"
		"  --depth N         calls in flight per session (default 8)\n"
		"  --size BYTES      request and response size, up to 1 MiB (default 32)\n"
		"  --seconds S       measuring time per row (default 2; sim: 0.02 simulated)\n"
		"  --no-baseline     tern alone, without the TCP echo beside each row\n"
		"  --json            one JSON object per row\n"
		"  --help            this text\n",
		cmd,
		strcmp(cmd, "tput") == 0
			? "Small-RPC rate against a peer (tern-bench serve): each client engine\n"
			  "keeps DEPTH calls in flight on each of its sessions. Counts completed\n"
			  "calls per second."
			: "Throughput as engines and sessions grow: every combination of the\n"
			  "--engines and --sessions lists is a row, against a peer (tern-bench\n"
			  "serve). Each engine is a thread with its own socket; on a 2-core\n"
			  "machine, more than one busy-polling engine shares the cores, and the\n"
			  "table shows what that costs.",
		strcmp(cmd, "tput") == 0 ? " (default 1)" : ", a list (default 1,2,4)",
		strcmp(cmd, "tput") == 0 ? " (default 4)" : ", a list (default 1,8,64)");
	bench_client_usage(f);
}

static int parse_list(const char *s, unsigned *out, unsigned max_n, unsigned max_v)
{
	unsigned n = 0;
	char *end;
	while (*s && n < max_n) {
		unsigned long v = strtoul(s, &end, 10);
		if (end == s || !v || v > max_v || (*end && *end != ','))
			return -1;
		out[n++] = (unsigned)v;
		s = *end ? end + 1 : end;
	}
	return n ? (int)n : -1;
}

/* The peer: --peer, or a serve started here with as many engines as the
 * most asked for; its description from its first engine. */
static int peer_start(const char *cmd, const char *arg, struct tput_cfg *c, const unsigned *engines, int n_eng,
		      struct bench_peer *peer)
{
	unsigned most = 1;
	for (int i = 0; i < n_eng; i++)
		most = engines[i] > most ? engines[i] : most;
	if (bench_client_peer(c->cl, cmd, arg, most, peer))
		return -1;
	struct tput_cfg probe = *c;
	probe.peer = peer;
	probe.engines = most;
	struct tern_rpc *rpc = make_rpc(&probe, 0);
	struct tern_session *s = NULL;
	int rc = rpc ? tern_session_connect(tern_rpc_engine(rpc), &peer->tern[0], &s) : TERN_ENOMEM;
	if (rc == 0)
		rc = bench_peer_info(rpc, s, peer);
	if (rpc)
		tern_rpc_destroy(rpc);
	if (rc) {
		fprintf(stderr, "tern-bench %s: the peer did not describe itself: %s\n", cmd, tern_strerror(rc));
		bench_client_close(c->cl);
		bench_peer_stop(peer);
	}
	return rc ? -1 : 0;
}

static int bench_rate(int argc, char **argv, bool scale)
{
	static const struct option lo[] = {
		{ "driver", required_argument, 0, 'd' }, { "engines", required_argument, 0, 'e' },
		{ "sessions", required_argument, 0, 's' }, { "depth", required_argument, 0, 'D' },
		{ "size", required_argument, 0, 'z' }, { "seconds", required_argument, 0, 't' },
		{ "json", no_argument, 0, 'j' }, { "help", no_argument, 0, 'h' }, { "peer", required_argument, 0, 'p' },
		{ "no-baseline", no_argument, 0, 'b' }, BENCH_CLIENT_LONGOPTS, { 0, 0, 0, 0 },
	};
	static struct bench_client cl;
	const char *cmd = scale ? "scale" : "tput";
	const char *peer_arg = NULL;
	static struct bench_peer peer;
	struct tput_cfg c = { .driver = TERN_DRIVER_AUTO, .depth = 8, .size = 32, .seconds = 0 };
	unsigned engines[8] = { 1, 2, 4 }, sessions[8] = { 1, 8, 64 };
	int n_eng = scale ? 3 : 1, n_ses = scale ? 3 : 1, json = 0, no_baseline = 0, ch, li = 0;
	if (!scale) {
		engines[0] = 1;
		sessions[0] = 4;
	}
	char *end;
	while ((ch = getopt_long(argc, argv, "h", lo, &li)) != -1) {
		int taken = bench_client_opt(&cl, ch, optarg);
		if (taken < 0)
			goto bad;
		if (taken)
			continue;
		switch (ch) {
		case 'd':
			c.driver = bench_client_driver_arg(optarg, true);
			if (c.driver < 0)
				goto bad;
			break;
		case 'e': if ((n_eng = parse_list(optarg, engines, scale ? 8 : 1, MAX_ENGINES)) < 0) goto bad; break;
		case 's': if ((n_ses = parse_list(optarg, sessions, scale ? 8 : 1, MAX_SESSIONS)) < 0) goto bad; break;
		case 'D': c.depth = (unsigned)strtoul(optarg, &end, 10); if (*end || !c.depth || c.depth > 64) goto bad; break;
		case 'z': c.size = strtoull(optarg, &end, 10); if (*end || c.size > (1u << 20)) goto bad; break;
		case 't': c.seconds = strtod(optarg, &end); if (*end || c.seconds <= 0 || c.seconds > 600) goto bad; break;
		case 'j': json = 1; break;
		case 'p': peer_arg = optarg; break;
		case 'b': no_baseline = 1; break;
		case 'h': usage(stdout, cmd); return 0;
		default: usage(stderr, cmd); return 2;
		}
	}
	c.driver = bench_resolve_driver(c.driver);
	bool sim = c.driver == TERN_DRIVER_SIM;
	if (c.seconds == 0)
		c.seconds = sim ? 0.02 : 2; /* simulated seconds hold many more calls */
	cl.driver = c.driver;
	c.cl = &cl;
	if (!sim && peer_start(cmd, peer_arg, &c, engines, n_eng, &peer))
		return 1;
	c.peer = &peer;
	if (!json && !sim) {
		char pa[64];
		printf("tern-bench %s: peer %s (%s, driver %s there, %u engine%s)\n", cmd,
		       tern_addr_format(&peer.tern[0], pa, sizeof(pa)),
		       peer.pid ? "a tern-bench serve started here" : "tern-bench serve", peer.driver, peer.engines,
		       peer.engines > 1 ? "s" : "");
	}
	/* The baseline: a TCP echo to the same peer, one connection per
	 * session, as many in flight (kernel drivers; no kernel path on a
	 * DPDK port). */
	bool tcp = !sim && !no_baseline && c.driver != TERN_DRIVER_DPDK && peer.tcp.sin_port != 0;
	if (!json)
		printf("tern-bench %s: %zu B calls over %s, %u in flight per session, %.2f %ss per row%s\n"
		       "%8s %9s %14s %16s %10s%s\n",
		       cmd, c.size, sim ? "the simulated network" : tern_driver_name((enum tern_driver_kind)c.driver),
		       c.depth, c.seconds, sim ? "simulated " : "",
		       tcp ? ";\nbeside a TCP echo to the peer, a connection per session, as many in flight" : "",
		       "engines", "sessions", "calls/s", "calls/s/engine", "errors/s",
		       tcp ? "    TCP echo/s  tern/TCP" : "");
	struct progress prog = { 0 };
	for (int i = 0; i < n_eng; i++)
		for (int k = 0; k < n_ses; k++) {
			progress_update(&prog, cmd, (unsigned)(i * n_ses + k), (unsigned)(n_eng * n_ses));
			c.engines = engines[i];
			c.sessions = sessions[k];
			double err = 0, per[MAX_ENGINES] = { 0 };
			struct pair_run *pr = NULL;
			double rate = sim ? simdrv_tput(c.engines, c.sessions, c.depth, c.size, c.seconds)
					  : run_tput(&c, &err, per, &pr);
			double trate = tcp ? tcp_echo_rate(&peer.tcp, c.engines * c.sessions, c.depth, c.size ? c.size : 1,
							   c.seconds)
					   : -1;
			if (json) {
				printf("{\"bench\":\"%s\",\"driver\":\"%s\",\"engines\":%u,\"sessions\":%u,\"depth\":%u,"
				       "\"size\":%zu,\"calls_per_s\":%.0f,\"calls_per_s_per_engine\":%.0f,\"errors_per_s\":%.1f",
				       cmd, tern_driver_name((enum tern_driver_kind)c.driver), c.engines, c.sessions, c.depth,
				       c.size, rate, rate / c.engines, err);
				if (trate > 0)
					printf(",\"tcp_echo_per_s\":%.0f,\"tern_tcp_ratio\":%.3f", trate, rate / trate);
				if (pr) {
					printf(",\"engine_calls_per_s\":[");
					for (unsigned e = 0; e < c.engines; e++)
						printf("%s%.0f", e ? "," : "", per[e]);
					printf("]");
				}
				if (pr && c.driver == TERN_DRIVER_DPDK) {
					printf(",\"engine_rx_frames\":[");
					for (unsigned e = 0; e < c.engines; e++)
						printf("%s%llu", e ? "," : "", (unsigned long long)pr[e].rx_frames);
					printf("],\"engine_handoffs\":[");
					for (unsigned e = 0; e < c.engines; e++)
						printf("%s%llu", e ? "," : "", (unsigned long long)pr[e].handoffs);
					printf("]");
				}
				printf("}\n");
			} else {
				printf("%8u %9u %14.0f %16.0f %10.1f", c.engines, c.sessions, rate, rate / c.engines, err);
				if (trate > 0)
					printf(" %14.0f %9.3f", trate, rate / trate);
				else if (tcp)
					printf(" %14s %9s", "-", "-");
				printf("\n");
				for (unsigned e = 0; pr && c.engines > 1 && e < c.engines; e++) {
					printf("%8s engine %u: %.0f calls/s", "", e, per[e]);
					if (c.driver == TERN_DRIVER_DPDK)
						printf(", %llu frames on its queue, %llu of them another engine's (handed over)",
						       (unsigned long long)pr[e].rx_frames, (unsigned long long)pr[e].handoffs);
					printf("\n");
				}
			}
			fflush(stdout);
		}
	progress_update(&prog, cmd, 1, 1);
	bench_client_close(&cl);
	bench_peer_stop(&peer);
	return 0;
bad:
	fprintf(stderr, "tern-bench %s: bad value '%s' for --%s\n", cmd, optarg, lo[li].name);
	return 2;
}

int bench_tput(int argc, char **argv)
{
	return bench_rate(argc, argv, false);
}

int bench_scale(int argc, char **argv)
{
	return bench_rate(argc, argv, true);
}
