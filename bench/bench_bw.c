/* tern-bench bw: one-way bandwidth of large messages (up to 64 MiB) in tern
 * RPC calls to a peer (tern-bench serve), whose answers are empty; a call
 * counts when its answer is in. */
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "baseline_tcp.h"
#include "bench_peer.h"
#include "bench_simdrv.h"
#include "bench_util.h"
#include "logp_peer.h"
#include "tern/sim.h"
#include "tern/tern.h"

#define MAX_MSG (64u << 20)

struct bw_run {
	struct tern_rpc *rpc;
	struct tern_session *s;
	unsigned long done, queued, failed;
	int last_error;
};

static void sent(int status, const void *resp, size_t len, void *arg)
{
	(void)resp;
	(void)len;
	struct bw_run *r = arg;
	r->done++;
	if (status) {
		r->failed++;
		r->last_error = status;
	}
}

/* One call of size bytes, if there is memory for it now. Only its first
 * bytes are written: like iperf3, bw measures the transport, not how fast
 * the application fills its messages (a 16 MiB one took longer to fill
 * than to send). The rest holds what the buffer held: this process's own
 * earlier messages, or the zeroes of fresh memory. */
static bool send_one(struct bw_run *r, size_t size)
{
	uint8_t *b = tern_rpc_alloc(r->rpc, size);
	if (!b)
		return false;
	memset(b, (int)(r->queued & 0xff), size < 64 ? size : 64);
	if (tern_rpc_call(r->rpc, r->s, BENCH_SINK, b, size, 0, sent, r, NULL)) {
		tern_rpc_free(r->rpc, b);
		return false;
	}
	r->queued++;
	return true;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: tern-bench bw [options]\n"
		"\n"
		"One-way bandwidth of large messages to a peer (tern-bench serve: --peer,\n"
		"or one started here as a second process): WINDOW calls in flight, each\n"
		"carrying one message and answered with nothing; a message counts when\n"
		"its answer is in. Retransmissions and timeouts are this side's.\n"
		"\n"
		"options:\n"
		"  --peer HOST[:PORT]  a tern-bench serve to send to (port default 7700);\n"
		"                  without it, one is started here with the same driver\n"
		"  --driver NAME   uring, sockets, dpdk, sim or auto (default auto: sockets,\n"
		"                  as tern picks for busy polling): this\n"
		"                  side's; sim measures in simulated time, at least three\n"
		"                  messages' worth per size\n"
		"  --sizes LIST    message sizes in bytes, up to 64 MiB\n"
		"                  (default 65536,1048576,16777216,67108864)\n"
		"  --window N      messages in flight, at most 32 (default 4)\n"
		"  --seconds S     measuring time per size (default 2)\n"
		"  --no-baseline   tern alone, without the TCP stream beside each size\n"
		"  --json          one JSON object per size\n"
		"  --help          this text\n");
	bench_client_usage(f);
}

int bench_bw(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "driver", required_argument, 0, 'd' }, { "sizes", required_argument, 0, 's' },
		{ "window", required_argument, 0, 'w' }, { "seconds", required_argument, 0, 't' },
		{ "json", no_argument, 0, 'j' }, { "help", no_argument, 0, 'h' }, { "peer", required_argument, 0, 'p' },
		{ "no-baseline", no_argument, 0, 'b' }, BENCH_CLIENT_LONGOPTS, { 0, 0, 0, 0 },
	};
	static struct bench_client cl;
	static struct bench_peer peer;
	const char *peer_arg = NULL;
	size_t sizes[16] = { 65536, 1048576, 16777216, 67108864 };
	unsigned n_sizes = 4, window = 4;
	double seconds = 2;
	int driver = TERN_DRIVER_AUTO, json = 0, no_baseline = 0, c, li = 0;
	char *end;
	while ((c = getopt_long(argc, argv, "h", lo, &li)) != -1) {
		int taken = bench_client_opt(&cl, c, optarg);
		if (taken < 0)
			goto bad;
		if (taken)
			continue;
		switch (c) {
		case 'p': peer_arg = optarg; break;
		case 'b': no_baseline = 1; break;
		case 'd':
			driver = bench_client_driver_arg(optarg, true);
			if (driver < 0)
				goto bad;
			break;
		case 's': {
			int n = bench_size_list(optarg, sizes, 16, MAX_MSG, false);
			if (n < 0)
				goto bad;
			n_sizes = (unsigned)n;
			break;
		}
		case 'w': window = (unsigned)strtoul(optarg, &end, 10); if (*end || !window || window > 32) goto bad; break;
		case 't': seconds = strtod(optarg, &end); if (*end || seconds <= 0 || seconds > 600) goto bad; break;
		case 'j': json = 1; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	driver = bench_resolve_driver(driver);
	if (driver == TERN_DRIVER_SIM) {
		if (!json)
			printf("tern-bench bw: one-way on the simulated network (10 Gb/s), %u messages in flight\n%12s %12s %10s\n",
			       window, "size (B)", "MB/s", "Gb/s");
		for (unsigned i = 0; i < n_sizes; i++) {
			double secs = fmax(0.02, 3.0 * (double)sizes[i] * 8 / 1e10);
			double mbs = simdrv_bw(sizes[i], window, secs) / 1e6;
			if (json)
				printf("{\"bench\":\"bw\",\"driver\":\"sim\",\"size\":%zu,\"window\":%u,\"mb_per_s\":%.1f,"
				       "\"gbit_per_s\":%.3f,\"retransmits\":0,\"rtos\":0}\n", sizes[i], window, mbs, mbs * 8 / 1000);
			else
				printf("%12zu %12.1f %10.3f\n", sizes[i], mbs, mbs * 8 / 1000);
		}
		return 0;
	}
	cl.driver = driver;
	if (bench_client_peer(&cl, "bw", peer_arg, 1, &peer))
		return peer_arg ? 2 : 1;
	bool local = peer.pid != 0;
	struct bw_run r = { 0 };
	struct tern_rpc_config rcfg;
	tern_rpc_config_init(&rcfg);
	rcfg.workers = 0;
	struct tern_engine_config ec;
	tern_engine_config_init(&ec);
	ec.window_pkts = 1024;
	ec.max_msg_size = BENCH_MAX_MSG;
	ec.dead_after_ns = 60000000000ull;
	int err = bench_client_open(&cl, 0, 1, &peer, &ec.driver);
	if (!err)
		err = tern_rpc_create(&rcfg, &ec, &r.rpc);
	if (!err)
		err = tern_session_connect(tern_rpc_engine(r.rpc), &peer.tern[0], &r.s);
	if (!err)
		err = bench_peer_info(r.rpc, r.s, &peer);
	if (err) {
		fprintf(stderr, "tern-bench bw: cannot reach the peer: %s\n", tern_strerror(err));
		if (r.rpc)
			tern_rpc_destroy(r.rpc);
		bench_client_close(&cl);
		bench_peer_stop(&peer);
		return 1;
	}
	struct tern_engine *e = tern_rpc_engine(r.rpc);
	/* The baseline: a TCP stream to the same peer, as many messages
	 * unanswered (kernel drivers only). */
	bool tcp = !no_baseline && driver != TERN_DRIVER_DPDK && peer.tcp.sin_port != 0;
	char pa[64];
	tern_addr_format(&peer.tern[0], pa, sizeof(pa));
	if (!json)
		printf("tern-bench bw: one-way to %s (%s, driver %s there), driver %s here,\n"
		       "%u messages in flight%s\n%12s %12s %10s %12s %6s %9s%s\n",
		       pa, local ? "a tern-bench serve started here" : "tern-bench serve", peer.driver,
		       tern_driver_name((enum tern_driver_kind)driver), window,
		       tcp ? "; beside a TCP stream to the peer, each message answered by a byte" : "", "size (B)",
		       "MB/s", "Gb/s", "retransmits", "RTOs", "spurious", tcp ? "     TCP MB/s  tern/TCP" : "");
	struct progress prog = { 0 };
	for (unsigned i = 0; i < n_sizes; i++) {
		progress_update(&prog, "bw sizes", i, n_sizes);
		struct tern_stats st0, st1;
		tern_engine_stats(e, &st0);
		uint64_t t0 = bench_now_ns(), until = t0 + (uint64_t)(seconds * 1e9);
		/* At least two messages, however long they take. */
		unsigned long base = r.done;
		struct bench_stall st = { 0 };
		/* At least two messages, however long they take. */
		while ((bench_now_ns() < until || r.done - base < 2) && !r.failed) {
			while (r.queued - r.done < window && send_one(&r, sizes[i]))
				;
			unsigned long before = r.done;
			tern_engine_poll(e);
			if (r.done == before)
				bench_stall_check(&st, "answers from the peer");
			else
				st = (struct bench_stall){ 0 };
		}
		double secs = (double)(bench_now_ns() - t0) / 1e9;
		double bytes = (double)(r.done - base) * (double)sizes[i];
		while (r.done < r.queued) /* drain before the next size */
			tern_engine_poll(e);
		/* and let the acks of the last answers leave (their delay is
		 * microseconds): unpolled through the TCP stream, the peer would
		 * time out on them meanwhile. */
		for (uint64_t settle = bench_now_ns() + 2000000; bench_now_ns() < settle;)
			tern_engine_poll(e);
		if (r.failed) {
			fprintf(stderr, "tern-bench bw: %lu calls of %zu B failed: %s\n", r.failed, sizes[i],
				tern_strerror(r.last_error));
			break;
		}
		tern_engine_stats(e, &st1);
		double mbs = bytes / secs / 1e6;
		double tmbs = tcp ? tcp_stream_rate(&peer.tcp, sizes[i], window, seconds) / 1e6 : -1;
		if (json)
		{
			printf("{\"bench\":\"bw\",\"driver\":\"%s\",\"size\":%zu,\"window\":%u,\"mb_per_s\":%.1f,"
			       "\"gbit_per_s\":%.3f,\"retransmits\":%llu,\"rtos\":%llu",
			       tern_driver_name((enum tern_driver_kind)driver), sizes[i], window, mbs, mbs * 8 / 1000,
			       (unsigned long long)(st1.retransmits - st0.retransmits),
			       (unsigned long long)(st1.rto_fired - st0.rto_fired));
			if (tmbs > 0)
				printf(",\"tcp_mb_per_s\":%.1f,\"tern_tcp_ratio\":%.3f", tmbs, mbs / tmbs);
			printf("}\n");
		}
		else
		{
			printf("%12zu %12.1f %10.3f %12llu %6llu %9llu", sizes[i], mbs, mbs * 8 / 1000,
			       (unsigned long long)(st1.retransmits - st0.retransmits),
			       (unsigned long long)(st1.rto_fired - st0.rto_fired),
			       (unsigned long long)(st1.rto_spurious - st0.rto_spurious));
			if (tmbs > 0)
				printf(" %12.1f %9.3f", tmbs, mbs / tmbs);
			else if (tcp)
				printf(" %12s %9s", "-", "-");
			printf("\n");
		}
		fflush(stdout);
	}
	progress_update(&prog, "bw sizes", n_sizes, n_sizes);
	int failed = r.failed != 0;
	tern_rpc_destroy(r.rpc);
	bench_client_close(&cl);
	bench_peer_stop(&peer);
	return failed;
bad:
	fprintf(stderr, "tern-bench bw: bad value '%s' for --%s\n", optarg, lo[li].name);
	return 2;
}
