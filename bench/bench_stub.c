/* tern-bench stub: what a terngen stub costs. The same echo of SIZE bytes
 * made by hand (tern_rpc_call, the handler copying the request into its
 * answer) and through the stub terngen wrote for bench/stub.x (XDR
 * encoding into the message buffer, the server skeleton decoding to a
 * view and encoding the answer, the client decoding it), in interleaved
 * rounds against one server thread on loopback. */
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "hist.h"
#include "stub.h"
#include "tern/tern.h"

#define HAND_TYPE 1

struct stub_server {
	pthread_t thread;
	atomic_int state;
	atomic_bool stop;
	uint16_t port;
	const char *driver;
	struct tern_rpc *rpc;
};

static void hand_echo(struct tern_rpc_req *req, void *arg)
{
	struct stub_server *sv = arg;
	size_t n = tern_rpc_req_len(req);
	void *out = tern_rpc_alloc(sv->rpc, n);
	memcpy(out, tern_rpc_req_data(req), n);
	tern_rpc_respond(req, out, n);
}

static int stub_echo(const bench_blob *arg, bench_blob *res, struct tern_xdr_req *req, void *impl_arg)
{
	(void)req;
	(void)impl_arg;
	*res = *arg; /* a view of the request, encoded into the answer */
	return 0;
}

static const struct bench_prog_1_ops ops = { stub_echo };

static int open_rpc(const char *driver, struct tern_rpc **out)
{
	struct tern_rpc_config rc;
	tern_rpc_config_init(&rc);
	struct tern_engine_config ec;
	tern_engine_config_init(&ec);
	struct tern_udp_config uc;
	tern_udp_config_init(&uc);
	uc.bind_host = "127.0.0.1";
	uc.kind = !strcmp(driver, "uring") ? TERN_DRIVER_URING : !strcmp(driver, "sockets") ? TERN_DRIVER_SOCKETS
											   : TERN_DRIVER_AUTO;
	int r = tern_udp_open(&uc, &ec.driver);
	return r ? r : tern_rpc_create(&rc, &ec, out);
}

static void *serve(void *arg)
{
	struct stub_server *sv = arg;
	struct tern_xdr_server *xs = NULL;
	if (open_rpc(sv->driver, &sv->rpc) || tern_rpc_register(sv->rpc, HAND_TYPE, hand_echo, sv, 0) ||
	    tern_xdr_server_create(sv->rpc, 0, &xs) || bench_prog_1_serve(xs, &ops, NULL)) {
		atomic_store(&sv->state, -1);
		return NULL;
	}
	struct tern_addr a;
	tern_engine_local_addr(tern_rpc_engine(sv->rpc), &a);
	sv->port = a.port;
	atomic_store(&sv->state, 1);
	while (!atomic_load(&sv->stop))
		tern_engine_poll(tern_rpc_engine(sv->rpc));
	tern_xdr_server_destroy(xs);
	tern_rpc_destroy(sv->rpc);
	return NULL;
}

struct one {
	int done, status;
	size_t len;
};

static void hand_done(int status, const void *resp, size_t len, void *arg)
{
	struct one *o = arg;
	o->status = status;
	o->len = len;
	o->done = 1;
	(void)resp;
}

static void stub_done(int status, bench_blob *res, void *arg)
{
	struct one *o = arg;
	o->status = status;
	o->len = res ? res->len : 0;
	o->done = 1;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: tern-bench stub [options]\n\n"
		   "What a terngen stub costs: the same echo of SIZE bytes made by hand with\n"
		   "tern_rpc_call and through the stub terngen generated from bench/stub.x, in\n"
		   "interleaved rounds against one server thread on loopback; round-trip\n"
		   "percentiles of each and stub/hand.\n\n"
		   "options:\n"
		   "  --size BYTES   payload, at most 1024 (default 32)\n"
		   "  --count N      round trips per method (default 20000)\n"
		   "  --rounds N     alternations (default 10)\n"
		   "  --driver NAME  uring, sockets or auto (default auto)\n"
		   "  --json         one JSON object\n"
		   "  --help         this text\n");
}

int bench_stub(int argc, char **argv)
{
	size_t size = 32;
	unsigned count = 20000, rounds = 10;
	const char *driver = "auto";
	int json = 0;
	static const struct option lo[] = { { "size", required_argument, 0, 'z' }, { "count", required_argument, 0, 'n' },
					    { "rounds", required_argument, 0, 'r' }, { "driver", required_argument, 0, 'd' },
					    { "json", no_argument, 0, 'j' }, { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 } };
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'z': size = strtoul(optarg, NULL, 10); break;
		case 'n': count = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'r': rounds = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'd': driver = optarg; break;
		case 'j': json = 1; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc || size > 1024 || !count || !rounds || count < rounds ||
	    (strcmp(driver, "uring") && strcmp(driver, "sockets") && strcmp(driver, "auto"))) {
		usage(stderr);
		return 2;
	}
	struct stub_server sv = { .driver = driver };
	if (pthread_create(&sv.thread, NULL, serve, &sv))
		return 1;
	while (atomic_load(&sv.state) == 0)
		sched_yield();
	if (atomic_load(&sv.state) < 0) {
		fprintf(stderr, "tern-bench stub: the server did not start\n");
		pthread_join(sv.thread, NULL);
		return 1;
	}
	struct tern_rpc *rpc;
	struct tern_session *s;
	struct tern_addr to;
	int r = open_rpc(driver, &rpc);
	if (!r)
		r = tern_addr_resolve("127.0.0.1", sv.port, &to);
	if (!r)
		r = tern_session_connect(tern_rpc_engine(rpc), &to, &s);
	if (r) {
		fprintf(stderr, "tern-bench stub: %s\n", tern_strerror(r));
		atomic_store(&sv.stop, true);
		pthread_join(sv.thread, NULL);
		return 1;
	}
	struct tern_engine *e = tern_rpc_engine(rpc);
	static struct hist h[2];
	hist_init(&h[0]);
	hist_init(&h[1]);
	uint8_t payload[1024];
	memset(payload, 0x5a, sizeof(payload));
	const char *names[2] = { "by hand (tern_rpc_call)", "terngen stub" };
	int status = 0;
	/* One round of each unmeasured first: sessions, buffers and caches warm. */
	for (unsigned round = 0; round <= rounds && !status; round++) {
		unsigned per = round ? count / rounds : 1000;
		for (int m = 0; m < 2 && !status; m++) {
			for (unsigned i = 0; i < per; i++) {
				struct one o = { 0 };
				struct tern_xdr_call call;
				uint64_t t0 = bench_now_ns();
				if (m == 0) {
					void *q = tern_rpc_alloc(rpc, size);
					memcpy(q, payload, size);
					r = tern_rpc_call(rpc, s, HAND_TYPE, q, size, 0, hand_done, &o, NULL);
				} else {
					bench_blob b = { payload, (uint32_t)size };
					r = bench_echo_1(rpc, s, &b, 0, &call, NULL, stub_done, &o);
				}
				while (!r && !o.done)
					tern_engine_poll(e);
				uint64_t t1 = bench_now_ns();
				if (r || o.status || o.len != size) {
					fprintf(stderr, "tern-bench stub: %s call failed: %s\n", names[m],
						tern_strerror(r ? r : o.status));
					status = 1;
					break;
				}
				if (round)
					hist_add(&h[m], t1 - t0);
			}
		}
	}
	tern_rpc_destroy(rpc);
	atomic_store(&sv.stop, true);
	pthread_join(sv.thread, NULL);
	if (status)
		return status;
	double p50[2] = { hist_pct(&h[0], 50) / 1e3, hist_pct(&h[1], 50) / 1e3 };
	if (json) {
		printf("{\"bench\":\"stub\",\"size\":%zu,\"hand_p50_us\":%.3f,\"stub_p50_us\":%.3f,\"stub_over_hand\":%.4f}\n",
		       size, p50[0], p50[1], p50[1] / p50[0]);
		return 0;
	}
	printf("tern-bench stub: %zu B echoes on loopback, %u per method in %u interleaved rounds\n", size, count,
	       rounds);
	printf("%-26s %9s %9s %9s %10s\n", "method (us)", "p50", "p90", "p99", "stub/hand");
	for (int m = 0; m < 2; m++)
		printf("%-26s %9.2f %9.2f %9.2f %10.3f\n", names[m], p50[m], hist_pct(&h[m], 90) / 1e3,
		       hist_pct(&h[m], 99) / 1e3, p50[m] / p50[0]);
	return 0;
}
