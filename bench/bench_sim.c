/* tern-bench sim: ping-pong over the simulated network. Reports the
 * round-trip latency in simulated time (what the protocol costs on the
 * wire) and the host CPU time per round trip (what tern's code costs). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_util.h"
#include "tern/tern.h"

struct opts {
	size_t size;
	unsigned count;
	double loss;
	int cc;
	uint64_t seed;
};

struct pingpong {
	struct opts o;
	uint8_t *req, *resp;
	struct tern_session *client;
	unsigned done, sent;
	uint64_t t_sent;
	uint64_t *rtt;
	struct tern_sim_net *net;
	int error;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: tern-bench sim [options]\n"
		"\n"
		"Request/response ping-pong between two engines on tern's simulated\n"
		"network (10 Gb/s, 2 us propagation delay per direction).\n"
		"Prints round-trip latency percentiles in simulated time and host CPU\n"
		"time per round trip.\n"
		"\n"
		"options:\n"
		"  --size BYTES   request and response size (default 64; up to 64 MiB)\n"
		"  --count N      round trips (default 100000)\n"
		"  --loss P       random packet loss in each direction, 0..1 (default 0)\n"
		"  --cc NAME      congestion control: aimd, off (default aimd)\n"
		"  --seed N       seed of the simulated network (default 1)\n"
		"  --help         this text\n");
}

static int parse(int argc, char **argv, struct opts *o)
{
	static const struct option long_opts[] = {
		{ "size", required_argument, 0, 's' }, { "count", required_argument, 0, 'n' },
		{ "loss", required_argument, 0, 'l' }, { "cc", required_argument, 0, 'c' },
		{ "seed", required_argument, 0, 'S' }, { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 },
	};
	*o = (struct opts){ .size = 64, .count = 100000, .cc = TERN_CC_AIMD, .seed = 1 };
	int c;
	char *end;
	int li = 0;
	while ((c = getopt_long(argc, argv, "h", long_opts, &li)) != -1) {
		switch (c) {
		case 's': o->size = strtoull(optarg, &end, 0); if (*end || o->size > (64u << 20)) goto bad; break;
		case 'n': o->count = (unsigned)strtoul(optarg, &end, 0); if (*end || !o->count) goto bad; break;
		case 'l': o->loss = strtod(optarg, &end); if (*end || o->loss < 0 || o->loss >= 1) goto bad; break;
		case 'c': o->cc = tern_cc_parse(optarg); if (o->cc < 0) goto bad; break;
		case 'S': o->seed = strtoull(optarg, &end, 0); if (*end) goto bad; break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return -1;
		}
	}
	return 0;
bad:
	fprintf(stderr, "tern-bench: bad value \'%s\' for --%s\n", optarg, long_opts[li].name);
	usage(stderr);
	return -1;
}

static void on_message(struct tern_session *s, const struct tern_rx_msg *m, void *user)
{
	struct pingpong *pp = user;
	if (s == pp->client) {
		pp->rtt[pp->done++] = tern_sim_now(pp->net) - pp->t_sent;
		return;
	}
	int rc = tern_session_send(s, pp->resp, m->len, NULL); /* server: echo */
	if (rc)
		pp->error = rc;
}

static void on_session(struct tern_session *s, enum tern_session_event ev, int status, void *user)
{
	struct pingpong *pp = user;
	(void)s;
	if (ev == TERN_SESSION_DEAD && status)
		pp->error = status;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static bool reply_or_error(void *arg)
{
	struct pingpong *pp = arg;
	return pp->done == pp->sent || pp->error;
}

static double pct(const uint64_t *v, unsigned n, double p)
{
	unsigned i = (unsigned)(p / 100.0 * (n - 1) + 0.5);
	return (double)v[i] / 1000.0;
}

static int run_sim(const struct opts *o)
{
	struct pingpong pp = { .o = *o };
	struct tern_engine *eng[2] = { 0 };
	struct tern_sim_config sc;
	tern_sim_config_init(&sc);
	sc.seed = o->seed;
	sc.link.loss = o->loss;
	int rc = tern_sim_create(&sc, &pp.net);
	if (rc)
		goto out;
	struct tern_engine_config ec;
	tern_engine_config_init(&ec);
	ec.sim = pp.net;
	ec.cc = (enum tern_cc_algo)o->cc;
	ec.delivery = TERN_DELIVER_AS_COMPLETED;
	ec.seed = o->seed;
	ec.cb = (struct tern_callbacks){ .on_session = on_session, .on_message = on_message, .user = &pp };
	ec.sim_node = 1;
	if ((rc = tern_engine_create(&ec, &eng[0])))
		goto out;
	ec.sim_node = 2;
	ec.seed = o->seed + 1;
	if ((rc = tern_engine_create(&ec, &eng[1])))
		goto out;
	pp.req = calloc(1, o->size ? o->size : 1);
	pp.resp = calloc(1, o->size ? o->size : 1);
	pp.rtt = calloc(o->count, sizeof(*pp.rtt));
	if (!pp.req || !pp.resp || !pp.rtt) {
		rc = TERN_ENOMEM;
		goto out;
	}
	struct tern_addr server = tern_addr_sim(2);
	if ((rc = tern_session_connect(eng[0], &server, &pp.client)))
		goto out;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (unsigned i = 0; i < o->count && !pp.error; i++) {
		pp.t_sent = tern_sim_now(pp.net);
		if ((rc = tern_session_send(pp.client, pp.req, o->size, NULL)))
			goto out;
		pp.sent++;
		rc = tern_sim_run(pp.net, eng, 2, tern_sim_now(pp.net) + 60000000000ull, reply_or_error, &pp);
		if (rc)
			goto out;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (pp.error) {
		rc = pp.error;
		goto out;
	}
	double wall_ns = (double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec);
	qsort(pp.rtt, pp.done, sizeof(*pp.rtt), cmp_u64);
	struct tern_stats st;
	tern_engine_stats(eng[0], &st);
	printf("tern-bench sim: %u round trips of %zu B, loss %.3f, cc %s\n", pp.done, o->size, o->loss,
	       tern_cc_name((enum tern_cc_algo)o->cc));
	printf("%-34s %10s %10s %10s %10s %10s\n", "", "p50", "p90", "p99", "p99.9", "max");
	printf("%-34s %10.2f %10.2f %10.2f %10.2f %10.2f\n", "round trip, simulated time (us)", pct(pp.rtt, pp.done, 50),
	       pct(pp.rtt, pp.done, 90), pct(pp.rtt, pp.done, 99), pct(pp.rtt, pp.done, 99.9), pct(pp.rtt, pp.done, 100));
	printf("host CPU per round trip (both ends, incl. simulator): %.0f ns\n", wall_ns / pp.done);
	printf("client: %llu pkts sent, %llu retransmits, %llu standalone acks, srtt %.2f us\n",
	       (unsigned long long)st.tx_pkts, (unsigned long long)st.retransmits,
	       (unsigned long long)st.acks_sent, tern_session_srtt(pp.client) / 1000.0);
out:
	if (rc)
		fprintf(stderr, "tern-bench: %s\n", tern_strerror(rc));
	tern_engine_destroy(eng[0]);
	tern_engine_destroy(eng[1]);
	tern_sim_destroy(pp.net);
	free(pp.req);
	free(pp.resp);
	free(pp.rtt);
	return rc ? 1 : 0;
}

int bench_sim(int argc, char **argv)
{
	struct opts o;
	if (parse(argc, argv, &o))
		return 2;
	return run_sim(&o);
}
