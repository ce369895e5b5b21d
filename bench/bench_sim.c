/* tern-bench sim: ping-pong over the simulated network. Reports the
 * round-trip latency in simulated time (what the protocol costs on the
 * wire) and the host CPU time per round trip (what tern's code costs). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_util.h"
#include "hist.h"
#include "plot.h"
#include "tern/sim.h"
#include "tern/tern.h"

struct opts {
	size_t size;
	unsigned count;
	double loss, reorder;
	int cc; /* -1: every algorithm in turn */
	uint64_t seed;
	const char *scenario;
	unsigned senders;
	double ms, gbps;
	unsigned queue_kb;
	int json;
	const char *plot;
};

int bench_sim_scenario(const char *scenario, unsigned senders, size_t msg, double loss, double reorder,
		       int cc, double ms, uint64_t seed, uint64_t bw_bps, uint32_t queue_bytes, int json,
		       struct hist *qdelay_out);
int bench_sim_join(size_t msg, int cc, double ms, uint64_t seed, uint64_t bw_bps, uint32_t queue_bytes, int json);

struct pingpong {
	struct opts o;
	uint8_t *req, *resp;
	struct tern_session *client;
	unsigned done, sent;
	uint64_t t_sent;
	struct hist *rtt;
	struct tern_sim_net *net;
	int error;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: tern-bench sim [options]\n"
		"\n"
		"tern on its simulated network (10 Gb/s links, 2 us propagation delay, a\n"
		"1 MiB tail-drop queue at each receiver). Time is simulated: the figures\n"
		"are the protocol's, not this host's.\n"
		"\n"
		"scenarios (--scenario):\n"
		"  pingpong  request/response round trips: latency percentiles in simulated\n"
		"            time and host CPU per round trip (the default)\n"
		"  stream    one sender streams messages through a faulty link (--loss,\n"
		"            --reorder): goodput, loss, retransmissions, queueing delay\n"
		"  incast    --senders senders stream to one receiver through its link:\n"
		"            goodput, utilization, Jain's fairness index, loss,\n"
		"            retransmissions, queueing delay p50 and p99\n"
		"  join      one flow throughout, a second from a third to two thirds of\n"
		"            the run: goodput, each flow's share, Jain, queueing delay per phase\n"
		"\n"
		"options:\n"
		"  --scenario NAME  pingpong, stream, incast or join\n"
		"  --size BYTES     message size (default 64 for pingpong, 65536 otherwise)\n"
		"  --count N        pingpong: round trips (default 100000)\n"
		"  --senders N      incast: senders (default 32)\n"
		"  --ms T           stream/incast: simulated milliseconds (default 20); the\n"
		"                   first tenth is warm-up and not counted\n"
		"  --loss P         random loss on the receiver's link, 0..1 (default 0)\n"
		"  --reorder P      share of packets delayed up to 20 us (default 0)\n"
		"  --gbps G         link speed (default 10)\n"
		"  --queue-kb K     receiver's queue (default 1024)\n"
		"  --cc NAME        aimd, off, timely, swift, or all (default aimd)\n"
		"  --seed N         seed of the simulated network (default 1)\n"
		"  --json           one JSON object per row\n"
		"  --plot FILE      stream/incast: queueing-delay CDF of each algorithm, as SVG\n"
		"  --help           this text\n");
}

static int parse(int argc, char **argv, struct opts *o)
{
	static const struct option long_opts[] = {
		{ "size", required_argument, 0, 's' }, { "count", required_argument, 0, 'n' },
		{ "loss", required_argument, 0, 'l' }, { "cc", required_argument, 0, 'c' },
		{ "seed", required_argument, 0, 'S' }, { "help", no_argument, 0, 'h' },
		{ "scenario", required_argument, 0, 'x' }, { "senders", required_argument, 0, 'N' },
		{ "ms", required_argument, 0, 'm' }, { "reorder", required_argument, 0, 'r' },
		{ "gbps", required_argument, 0, 'g' }, { "queue-kb", required_argument, 0, 'q' },
		{ "json", no_argument, 0, 'j' }, { "plot", required_argument, 0, 'P' }, { 0, 0, 0, 0 },
	};
	*o = (struct opts){ .count = 100000, .cc = TERN_CC_AIMD, .seed = 1, .scenario = "pingpong", .senders = 32,
			    .ms = 20, .gbps = 10, .queue_kb = 1024, .size = (size_t)-1 };
	int c, li = 0;
	char *end;
	while ((c = getopt_long(argc, argv, "h", long_opts, &li)) != -1) {
		switch (c) {
		case 's': o->size = strtoull(optarg, &end, 0); if (*end || o->size > (64u << 20)) goto bad; break;
		case 'n': o->count = (unsigned)strtoul(optarg, &end, 0); if (*end || !o->count) goto bad; break;
		case 'l': o->loss = strtod(optarg, &end); if (*end || o->loss < 0 || o->loss >= 1) goto bad; break;
		case 'r': o->reorder = strtod(optarg, &end); if (*end || o->reorder < 0 || o->reorder > 1) goto bad; break;
		case 'c':
			o->cc = strcmp(optarg, "all") == 0 ? -1 : tern_cc_parse(optarg);
			if (o->cc < -1)
				goto bad;
			break;
		case 'S': o->seed = strtoull(optarg, &end, 0); if (*end) goto bad; break;
		case 'x':
			if (strcmp(optarg, "pingpong") && strcmp(optarg, "stream") && strcmp(optarg, "incast") &&
			    strcmp(optarg, "join"))
				goto bad;
			o->scenario = optarg;
			break;
		case 'N': o->senders = (unsigned)strtoul(optarg, &end, 0); if (*end || !o->senders || o->senders > 1024) goto bad; break;
		case 'm': o->ms = strtod(optarg, &end); if (*end || o->ms <= 0 || o->ms > 100000) goto bad; break;
		case 'g': o->gbps = strtod(optarg, &end); if (*end || o->gbps <= 0 || o->gbps > 1000) goto bad; break;
		case 'q': o->queue_kb = (unsigned)strtoul(optarg, &end, 0); if (*end || o->queue_kb > 1048576) goto bad; break;
		case 'j': o->json = 1; break;
		case 'P': o->plot = optarg; break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return -1;
		}
	}
	if (o->size == (size_t)-1)
		o->size = strcmp(o->scenario, "pingpong") == 0 ? 64 : 65536;
	return 0;
bad:
	fprintf(stderr, "tern-bench sim: bad value '%s' for --%s\n", optarg, long_opts[li].name);
	return -1;
}

static void on_message(struct tern_session *s, const struct tern_rx_msg *m, void *user)
{
	struct pingpong *pp = user;
	if (s == pp->client) {
		hist_add(pp->rtt, tern_sim_now(pp->net) - pp->t_sent);
		pp->done++;
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

static bool reply_or_error(void *arg)
{
	struct pingpong *pp = arg;
	return pp->done == pp->sent || pp->error;
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
	ec.cc = (enum tern_cc_algo)o->cc;
	ec.delivery = TERN_DELIVER_AS_COMPLETED;
	ec.seed = o->seed;
	ec.cb = (struct tern_callbacks){ .on_session = on_session, .on_message = on_message, .user = &pp };
	if ((rc = tern_sim_driver_open(pp.net, 1, &ec.driver)) || (rc = tern_engine_create(&ec, &eng[0])))
		goto out;
	ec.seed = o->seed + 1;
	if ((rc = tern_sim_driver_open(pp.net, 2, &ec.driver)) || (rc = tern_engine_create(&ec, &eng[1])))
		goto out;
	pp.req = calloc(1, o->size ? o->size : 1);
	pp.resp = calloc(1, o->size ? o->size : 1);
	pp.rtt = malloc(sizeof(*pp.rtt));
	if (pp.rtt)
		hist_init(pp.rtt);
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
	struct tern_stats st;
	tern_engine_stats(eng[0], &st);
	if (o->json) {
		printf("{\"bench\":\"sim\",\"scenario\":\"pingpong\",\"cc\":\"%s\",\"size\":%zu,\"n\":%u,"
		       "\"p50_us\":%.3f,\"p90_us\":%.3f,\"p99_us\":%.3f,\"p999_us\":%.3f,\"max_us\":%.3f,"
		       "\"cpu_ns_per_rt\":%.0f,\"retransmits\":%llu}\n",
		       tern_cc_name((enum tern_cc_algo)o->cc), o->size, pp.done, hist_pct(pp.rtt, 50) / 1e3,
		       hist_pct(pp.rtt, 90) / 1e3, hist_pct(pp.rtt, 99) / 1e3, hist_pct(pp.rtt, 99.9) / 1e3,
		       hist_pct(pp.rtt, 100) / 1e3, wall_ns / pp.done, (unsigned long long)st.retransmits);
		goto out;
	}
	printf("tern-bench sim: %u round trips of %zu B, loss %.3f, cc %s\n", pp.done, o->size, o->loss,
	       tern_cc_name((enum tern_cc_algo)o->cc));
	printf("%-34s %10s %10s %10s %10s %10s\n", "", "p50", "p90", "p99", "p99.9", "max");
	printf("%-34s %10.2f %10.2f %10.2f %10.2f %10.2f\n", "round trip, simulated time (us)", hist_pct(pp.rtt, 50) / 1e3,
	       hist_pct(pp.rtt, 90) / 1e3, hist_pct(pp.rtt, 99) / 1e3, hist_pct(pp.rtt, 99.9) / 1e3, hist_pct(pp.rtt, 100) / 1e3);
	printf("host CPU per round trip (both ends, incl. simulator): %.0f ns\n", wall_ns / pp.done);
	struct tern_stats ss;
	tern_engine_stats(eng[1], &ss);
	struct tern_sim_stats ns;
	tern_sim_stats(pp.net, &ns);
	printf("client: %llu pkts sent, %llu retransmits (%llu tail probes, %llu RTOs), %llu standalone acks, "
	       "srtt %.2f us\n",
	       (unsigned long long)st.tx_pkts, (unsigned long long)st.retransmits, (unsigned long long)st.tlp_probes,
	       (unsigned long long)st.rto_fired, (unsigned long long)st.acks_sent, tern_session_srtt(pp.client) / 1000.0);
	printf("server: %llu pkts sent, %llu retransmits (%llu tail probes, %llu RTOs), %llu standalone acks; "
	       "network lost %llu data packets of %llu\n",
	       (unsigned long long)ss.tx_pkts, (unsigned long long)ss.retransmits, (unsigned long long)ss.tlp_probes,
	       (unsigned long long)ss.rto_fired, (unsigned long long)ss.acks_sent, (unsigned long long)ns.data_lost,
	       (unsigned long long)ns.data_sent);
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
	int first = o.cc < 0 ? TERN_CC_AIMD : o.cc, last = o.cc < 0 ? TERN_CC_SWIFT : o.cc;
	if (strcmp(o.scenario, "pingpong") == 0) {
		int rc = 0;
		for (int cc = first; cc <= last && !rc; cc++) {
			o.cc = cc;
			rc = run_sim(&o);
		}
		return rc;
	}
	if (strcmp(o.scenario, "join") == 0) {
		if (!o.json)
			printf("tern-bench sim: join, %zu B messages, %.0f ms simulated in three phases, %.0f Gb/s, %u kB queue\n"
			       "%-6s %-7s %10s %10s %10s %8s %10s %10s %10s %10s\n",
			       o.size, o.ms, o.gbps, o.queue_kb, "cc", "phase", "Gb/s", "flow 0", "flow 1", "Jain",
			       "lost", "retransmit", "qdelay p50", "p99 (us)");
		for (int cc = first; cc <= last; cc++)
			if (bench_sim_join(o.size, cc, o.ms, o.seed, (uint64_t)(o.gbps * 1e9), o.queue_kb * 1024u, o.json))
				return 1;
		return 0;
	}
	unsigned senders = strcmp(o.scenario, "incast") == 0 ? o.senders : 1;
	if (!o.json)
		printf("tern-bench sim: %s, %zu B messages, %.0f ms simulated, %.0f Gb/s, %u kB queue, loss %.3f, reorder %.3f\n"
		       "%-10s %-5s %7s %10s %9s %7s %10s %10s %10s %10s %10s\n",
		       o.scenario, o.size, o.ms, o.gbps, o.queue_kb, o.loss, o.reorder, "scenario", "cc", "senders",
		       "Gb/s", "util", "Jain", "data pkts", "lost", "retransmit", "qdelay p50", "p99 (us)");
	static struct hist qd[TERN_CC_SWIFT + 1];
	for (int cc = first; cc <= last; cc++)
		if (bench_sim_scenario(o.scenario, senders, o.size, o.loss, o.reorder, cc, o.ms, o.seed,
				       (uint64_t)(o.gbps * 1e9), o.queue_kb * 1024u, o.json, &qd[cc]))
			return 1;
	if (o.plot) {
		static double xs[TERN_CC_SWIFT + 1][300], ys[TERN_CC_SWIFT + 1][300];
		struct plot_series ser[TERN_CC_SWIFT + 1];
		size_t ns = 0;
		for (int cc = first; cc <= last; cc++) {
			size_t k = 0;
			for (double p = 0; p <= 100.0 && k < 300; p += p < 90 ? 1 : p < 99 ? 0.1 : 0.01) {
				xs[ns][k] = hist_pct(&qd[cc], p) / 1e3 + 0.01; /* log axis: no zeros */
				ys[ns][k++] = p;
			}
			ser[ns] = (struct plot_series){ tern_cc_name((enum tern_cc_algo)cc), xs[ns], ys[ns], k };
			ns++;
		}
		char title[128];
		snprintf(title, sizeof(title), "Queueing delay at the bottleneck, %s, %u sender(s)", o.scenario, senders);
		int rc = plot_svg(o.plot, title, "microseconds", "percentile", true, ser, ns);
		if (rc)
			fprintf(stderr, "tern-bench sim: cannot write %s: %s\n", o.plot, strerror(-rc));
	}
	return 0;
}
