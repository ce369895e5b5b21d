/* tern-bench logp: LogP/LogGP parameters of tern RPC calls to a peer, a
 * tern-bench serve in another process or on another host. The methods are
 * in logp_measure.h; the peer's side in logp_peer.h. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "bench_peer.h"
#include "bench_simdrv.h"
#include "bench_util.h"
#include "logp.h"
#include "logp_measure.h"
#include "plot.h"
#include "tern/tern.h"

#define MAX_SIZES 16
#define MAX_SIZE (1u << 20)

static void usage(FILE *f)
{
	fprintf(f,
		"usage: tern-bench logp [options]\n"
		"\n"
		"LogP/LogGP parameters of tern RPC calls to a peer (tern-bench serve:\n"
		"--peer, or one started here as a second process), per message size:\n"
		"round trip, o_s, o_r, g and L (microseconds), and G (ns per byte)\n"
		"fitted over the sizes. o_s is timed here, o_r by the peer (it busy-waits\n"
		"past the arrival, then times its receive), g in a flood of calls. Each\n"
		"value is a mean of batch medians, repeated until its 95%% confidence\n"
		"interval is within 2%%; '±' gives that interval.\n"
		"\n"
		"options:\n"
		"  --peer HOST[:PORT]  a tern-bench serve to measure against (port default\n"
		"                  7700); without it, one is started here with the same driver\n"
		"  --driver NAME   uring, sockets, dpdk, sim or auto (default auto: sockets,\n"
		"                  as tern picks for busy polling): this side's;\n"
		"                  sim gives L and g in simulated time, with o_s = o_r = 0 by\n"
		"                  construction\n"
		"  --sizes LIST    message sizes in bytes, comma separated, up to %u\n"
		"                  (default 64,256,1024,4096,16384,65536)\n"
		"  --phase-seconds S  stop repeating a measurement after S seconds even if\n"
		"                  its interval is wider than 2%% (default 5; at least 3\n"
		"                  batches are always run)\n"
		"  --json          one JSON object per size, then one for G\n"
		"  --plot FILE     write the parameters over size to FILE as SVG\n"
		"  --help          this text\n",
		MAX_SIZE);
	bench_client_usage(f);
}

/* A derived value in microseconds, or `none` where it was not measurable. */
static void derived(char *buf, size_t len, bool ok, double ns, const char *fmt, const char *none)
{
	if (ok)
		snprintf(buf, len, fmt, ns / 1e3);
	else
		snprintf(buf, len, "%s", none);
}

int bench_logp(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "driver", required_argument, 0, 'd' }, { "sizes", required_argument, 0, 's' },
		{ "json", no_argument, 0, 'j' }, { "help", no_argument, 0, 'h' },
		{ "plot", required_argument, 0, 'P' }, { "phase-seconds", required_argument, 0, 'S' },
		{ "peer", required_argument, 0, 'p' }, BENCH_CLIENT_LONGOPTS, { 0, 0, 0, 0 },
	};
	static struct bench_client cl;
	static struct bench_peer peer;
	const char *peer_arg = NULL;
	struct logp_client r = { 0 };
	logp_params_default(&r.par);
	const char *plot = NULL;
	size_t sizes[MAX_SIZES] = { 64, 256, 1024, 4096, 16384, 65536 };
	unsigned n_sizes = 6;
	int driver = TERN_DRIVER_AUTO, json = 0, c, li = 0;
	while ((c = getopt_long(argc, argv, "h", lo, &li)) != -1) {
		int taken = bench_client_opt(&cl, c, optarg);
		if (taken < 0)
			goto bad;
		if (taken)
			continue;
		switch (c) {
		case 'p': peer_arg = optarg; break;
		case 'd':
			driver = bench_client_driver_arg(optarg, true);
			if (driver < 0)
				goto bad;
			break;
		case 's': {
			int n = bench_size_list(optarg, sizes, MAX_SIZES, MAX_SIZE, true);
			if (n < 0)
				goto bad;
			n_sizes = (unsigned)n;
			break;
		}
		case 'j': json = 1; break;
		case 'P': plot = optarg; break;
		case 'S': {
			char *end;
			double v = strtod(optarg, &end);
			if (*end || !(v > 0 && v <= 3600))
				goto bad;
			r.par.phase_ns = (uint64_t)(v * 1e9);
			break;
		}
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	driver = bench_resolve_driver(driver);
	struct logp_point pts[MAX_SIZES];
	double ci[MAX_SIZES][4] = { { 0 } };
	bool separable = false, local = false;
	char pa[64] = "";
	if (driver == TERN_DRIVER_SIM) {
		for (unsigned i = 0; i < n_sizes; i++)
			if (simdrv_logp(sizes[i], &pts[i]))
				return 1;
		goto report;
	}
	cl.driver = driver;
	if (bench_client_peer(&cl, "logp", peer_arg, 1, &peer))
		return peer_arg ? 2 : 1;
	struct tern_rpc_config rc;
	tern_rpc_config_init(&rc);
	rc.workers = 0;
	struct tern_engine_config ec;
	tern_engine_config_init(&ec);
	ec.dead_after_ns = 60000000000ull; /* the peer busy-waits when told: not dead */
	int err = bench_client_open(&cl, 0, 1, &peer, &ec.driver);
	if (!err)
		err = tern_rpc_create(&rc, &ec, &r.rpc);
	if (!err)
		err = tern_session_connect(tern_rpc_engine(r.rpc), &peer.tern[0], &r.s);
	if (!err)
		err = bench_peer_info(r.rpc, r.s, &peer);
	if (err) {
		fprintf(stderr, "tern-bench logp: cannot reach the peer over %s: %s\n",
			tern_driver_name((enum tern_driver_kind)driver), tern_strerror(err));
		goto fail;
	}
	tern_addr_format(&peer.tern[0], pa, sizeof(pa));
	/* On loopback the sender's system call runs the receiver's stack:
	 * L cannot stand apart from o_s there. */
	separable = peer.tern[0].ip[0] != 127;
	local = peer.pid != 0;
	r.timer_ns = logp_calibrate_timer();
	if ((err = logp_warm_up(&r, 2000)))
		goto fail_calls;
	struct progress prog = { 0 };
	for (unsigned i = 0; i < n_sizes; i++) {
		progress_update(&prog, "logp sizes", i, n_sizes);
		if ((err = logp_measure_size(&r, sizes[i], &pts[i], ci[i])))
			goto fail_calls;
		logp_derive(&pts[i], separable);
	}
	progress_update(&prog, "logp sizes", n_sizes, n_sizes);
	tern_rpc_destroy(r.rpc);
	bench_client_close(&cl);
	bench_peer_stop(&peer);
report:;
	double G = 0, g0 = 0;
	int have_G = n_sizes >= 2 && logp_fit_G(pts, n_sizes, &G, &g0) == 0;
	const char *dn = tern_driver_name((enum tern_driver_kind)driver);
	if (plot) {
		static double x[MAX_SIZES], y[5][MAX_SIZES];
		bool all_L = true, all_ow = true;
		for (unsigned i = 0; i < n_sizes; i++)
			all_L = all_L && pts[i].L_separable;
		for (unsigned i = 0; i < n_sizes; i++) {
			x[i] = pts[i].size;
			y[0][i] = pts[i].rtt / 1e3;
			y[1][i] = pts[i].o_s / 1e3;
			y[2][i] = pts[i].o_r / 1e3;
			y[3][i] = pts[i].g / 1e3;
			/* Only what the method measured: no L where it cannot be told
			 * from o_s, but the send-to-arrival time it is part of. */
			y[4][i] = (all_L ? pts[i].L : pts[i].one_way) / 1e3;
			all_ow = all_ow && pts[i].one_way_ok;
		}
		struct plot_series ser[5] = {
			{ "round trip", x, y[0], n_sizes }, { "o_s", x, y[1], n_sizes }, { "o_r", x, y[2], n_sizes },
			{ "g", x, y[3], n_sizes }, { all_L ? "L" : "o_s + L (send to arrival)", x, y[4], n_sizes },
		};
		/* No negative time on the plot: a derived series that is not
		 * measurable everywhere is left out. */
		int rc = plot_svg(plot, "LogP parameters over message size", "message size (bytes)", "microseconds",
				  true, ser, all_L || all_ow ? 5 : 4);
		if (rc)
			fprintf(stderr, "tern-bench logp: cannot write %s: %s\n", plot, strerror(-rc));
	}
	if (json) {
		for (unsigned i = 0; i < n_sizes; i++) {
			char L[32], ow[32];
			derived(L, sizeof(L), pts[i].L_separable, pts[i].L, "%.3f", "null");
			derived(ow, sizeof(ow), pts[i].one_way_ok, pts[i].one_way, "%.3f", "null");
			printf("{\"bench\":\"logp\",\"driver\":\"%s\",\"size\":%.0f,\"rtt_us\":%.3f,\"o_s_us\":%.3f,"
			       "\"o_r_us\":%.3f,\"g_us\":%.3f,\"one_way_us\":%s,\"L_us\":%s,\"L_separable\":%s,"
			       "\"ci_rel\":[%.4f,%.4f,%.4f,%.4f]}\n",
			       dn, pts[i].size, pts[i].rtt / 1e3, pts[i].o_s / 1e3, pts[i].o_r / 1e3, pts[i].g / 1e3,
			       ow, L, pts[i].L_separable ? "true" : "false", ci[i][0], ci[i][1],
			       ci[i][2], ci[i][3]);
		}
		if (have_G) {
			/* A fit that puts g below 0 somewhere did not hold: no figure. */
			char Gs[32], g0s[32];
			derived(Gs, sizeof(Gs), G >= 0, G * 1e3, "%.5f", "null");
			derived(g0s, sizeof(g0s), g0 >= 0, g0, "%.3f", "null");
			printf("{\"bench\":\"logp_fit\",\"driver\":\"%s\",\"G_ns_per_byte\":%s,\"g0_us\":%s}\n", dn, Gs,
			       g0s);
		}
		return 0;
	}
	if (driver == TERN_DRIVER_SIM)
		printf("tern-bench logp: tern sessions on the simulated network (10 Gb/s, 2 us), simulated time\n");
	else
		printf("tern-bench logp: tern RPC calls to %s (%s, driver %s there), driver %s here\n"
		       "(timer overhead %llu ns subtracted)\n",
		       pa, local ? "a tern-bench serve started here" : "tern-bench serve", peer.driver, dn,
		       (unsigned long long)r.timer_ns);
	printf("%9s %15s %15s %15s %15s %10s %10s\n", "size (B)", "round trip", "o_s", "o_r", "g", "o_s + L", "L");
	for (unsigned i = 0; i < n_sizes; i++) {
		char L[16], ow[16];
		derived(L, sizeof(L), pts[i].L_separable, pts[i].L, "%.2f", "-");
		derived(ow, sizeof(ow), pts[i].one_way_ok, pts[i].one_way, "%.2f", "-");
		printf("%9.0f %8.2f ±%4.1f%% %8.2f ±%4.1f%% %8.2f ±%4.1f%% %8.2f ±%4.1f%% %10s %10s\n", pts[i].size,
		       pts[i].rtt / 1e3, ci[i][0] * 100, pts[i].o_s / 1e3, ci[i][1] * 100, pts[i].o_r / 1e3,
		       ci[i][2] * 100, pts[i].g / 1e3, ci[i][3] * 100, ow, L);
	}
	if (have_G && G > 0 && g0 >= 0)
		printf("LogGP fit of g over size: G = %.4f ns/byte (%.2f GB/s), g(0) = %.2f us\n", G, 1.0 / G, g0 / 1e3);
	else if (have_G)
		printf("LogGP fit of g over size does not hold (G = %.4f ns/byte, g(0) = %.2f us): g was too noisy\n", G,
		       g0 / 1e3);
	if (driver == TERN_DRIVER_SIM)
		printf("(all in simulated microseconds. The simulator charges no CPU time, so o_s = o_r = 0 and L is\n"
		       " the one-way time, which grows with size by the serialization of the message's packets.)\n");
	else if (separable)
		printf("(all in microseconds. L = round trip / 2 - o_s - o_r: from the return of the send to the\n"
		       " message's arrival: wire, NICs and whatever part of the path neither call runs. Where the\n"
		       " kernel carries the packet (a veth pair, or loopback) the sender's system call runs part\n"
		       " of the receiver's path, which then counts in o_s; - where L came out below 0.)\n");
	else
		printf("(all in microseconds. o_s + L = round trip / 2 - o_r: from the send call to the message's\n"
		       " arrival. L alone is not reported here: on loopback the sender's system call also runs the\n"
		       " receiver's network stack, so the wire time L is inside o_s and the method cannot take it\n"
		       " apart; and in a ping-pong the sender's call does part of what o_r, measured alone, holds,\n"
		       " so o_s + L is shown as - where o_r exceeds half the round trip. Round trip, o_s, o_r and g\n"
		       " are measured directly and hold.)\n");
	return 0;
fail_calls:
	fprintf(stderr, "tern-bench logp: calls to the peer failed: %s\n", tern_strerror(err));
fail:
	if (r.rpc)
		tern_rpc_destroy(r.rpc);
	bench_client_close(&cl);
	bench_peer_stop(&peer);
	return 1;
bad:
	fprintf(stderr, "tern-bench logp: bad value '%s' for --%s\n", optarg, lo[li].name);
	return 2;
}
