/* tern-bench logp: LogP/LogGP parameters of tern's message sessions over
 * kernel UDP, by the published methods:
 *   timer    calibrated; its overhead is subtracted from every interval
 *   o_s      time inside the send: tern_session_send plus the poll that
 *            puts the packet(s) on the wire, with nothing else to do
 *   o_r      time inside the receive poll, after a busy-wait long enough
 *            that the message has already arrived (Kielmann et al. 2000)
 *   g        time per message when flooding back to back, steady state
 *   G        slope of a least-squares fit of g over size (Netgauge)
 *   L        round trip / 2 - o_s - o_r
 * Each is repeated in batches until its 95% confidence interval is within
 * 2% of the mean, or a cap is reached; the spread is reported. */
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "bench_simdrv.h"
#include "bench_util.h"
#include "hist.h"
#include "logp.h"
#include "plot.h"
#include "tern/sim.h"
#include "tern/tern.h"

#define MAX_SIZES 16
#define MAX_SIZE (1u << 20)

enum peer_mode { P_ECHO, P_SINK, P_TIMED_RECV, P_STOP };

struct logp_run {
	int driver;
	/* peer thread */
	pthread_t thread;
	atomic_int port, mode;
	atomic_int mode_seen;       /* the mode the peer acts on now */
	atomic_ullong recv_after;   /* P_TIMED_RECV: poll no earlier than this */
	atomic_ullong timed_ns;     /* the last timed receive poll */
	atomic_uint timed_done;
	/* measuring side */
	struct tern_engine *e;
	struct tern_session *s;
	unsigned replies, sent, sent_done; /* since the start of the run */
	uint8_t *buf;
	uint64_t timer_ns;
	uint64_t phase_ns;     /* a measurement stops adding batches after this */
	uint64_t phase_start;
};

/* ---- the peer: echoes, sinks, or times a receive, as it is told ---- */

struct peer {
	struct logp_run *r;
	struct tern_engine *e;
	bool got;
	uint64_t got_ns; /* when the timed message reached the application */
};

static void peer_msg(struct tern_session *s, const struct tern_rx_msg *m, void *user)
{
	struct peer *p = user;
	p->got = true;
	p->got_ns = bench_now_ns();
	if (atomic_load_explicit(&p->r->mode, memory_order_relaxed) == P_ECHO)
		tern_session_send(s, p->r->buf, m->len, NULL);
}

static struct tern_engine *make_engine(int driver, struct tern_callbacks cb)
{
	struct tern_engine_config ec;
	tern_engine_config_init(&ec);
	if (bench_udp_driver(driver, 0, &ec.driver))
		return NULL;
	ec.delivery = TERN_DELIVER_AS_COMPLETED;
	ec.cb = cb;
	struct tern_engine *e;
	return tern_engine_create(&ec, &e) ? NULL : e;
}

static void *peer_main(void *arg)
{
	struct logp_run *r = arg;
	struct peer p = { .r = r };
	p.e = make_engine(r->driver, (struct tern_callbacks){ .on_message = peer_msg, .user = &p });
	if (!p.e) {
		atomic_store(&r->port, -1);
		return NULL;
	}
	struct tern_addr a;
	tern_engine_local_addr(p.e, &a);
	atomic_store(&r->port, a.port);
	int mode;
	while ((mode = atomic_load_explicit(&r->mode, memory_order_acquire)) != P_STOP) {
		atomic_store_explicit(&r->mode_seen, mode, memory_order_release);
		if (mode != P_TIMED_RECV) {
			tern_engine_poll(p.e);
			continue;
		}
		uint64_t after = atomic_load(&r->recv_after);
		if (!after || bench_now_ns() < after)
			continue; /* the busy-wait: do not touch the engine yet */
		/* Every poll until the message is delivered: a large message
		 * takes several bursts to receive. The clock stops at delivery,
		 * before the poll goes on to send the acknowledgement, which a
		 * ping-pong carries on its reply for free. */
		p.got = false;
		uint64_t t0 = bench_now_ns();
		while (!p.got)
			tern_engine_poll(p.e);
		atomic_store(&r->recv_after, 0);
		atomic_store(&r->timed_ns, p.got_ns - t0);
		atomic_fetch_add(&r->timed_done, 1);
	}
	tern_engine_destroy(p.e);
	return NULL;
}

/* ---- the measuring side ---- */

static void me_msg(struct tern_session *s, const struct tern_rx_msg *m, void *user)
{
	(void)s;
	(void)m;
	((struct logp_run *)user)->replies++;
}

static void me_sent(struct tern_session *s, void *cookie, int status, void *user)
{
	(void)s;
	(void)cookie;
	(void)status;
	((struct logp_run *)user)->sent_done++;
}

static uint64_t calibrate_timer(void)
{
	uint64_t best = UINT64_MAX;
	for (int i = 0; i < 10000; i++) {
		uint64_t a = bench_now_ns(), b = bench_now_ns();
		if (b - a < best)
			best = b - a;
	}
	return best;
}

static uint64_t sub_timer(const struct logp_run *r, uint64_t d)
{
	return d > r->timer_ns ? d - r->timer_ns : 0;
}

/* Change what the peer does, and wait until it does: a poll the peer began
 * under the old mode must not take the next message (it would then wait
 * for a message that already came, and so would we). */
static void set_mode(struct logp_run *r, int mode)
{
	atomic_store_explicit(&r->mode, mode, memory_order_release);
	struct bench_stall st = { 0 };
	while (atomic_load_explicit(&r->mode_seen, memory_order_acquire) != mode)
		bench_stall_check(&st, "the peer to change mode");
}

static void send_one(struct logp_run *r, size_t size)
{
	struct bench_stall st = { 0 };
	while (tern_session_send(r->s, r->buf, size, NULL) == TERN_EAGAIN) {
		tern_engine_poll(r->e);
		bench_stall_check(&st, "room in the send window");
	}
	r->sent++;
}

static void wait_replies(struct logp_run *r, unsigned want)
{
	struct bench_stall st = { 0 };
	while (r->replies < want) {
		tern_engine_poll(r->e);
		bench_stall_check(&st, "an echo");
	}
}

/* Poll until everything sent so far is acknowledged: a quiet start for the
 * next timed step. */
static void settle(struct logp_run *r)
{
	uint64_t until = bench_now_ns() + 2000000000ull;
	while (r->sent_done < r->sent && bench_now_ns() < until)
		tern_engine_poll(r->e);
	uint64_t quiet = bench_now_ns() + 30000; /* delayed acks and echoes */
	while (bench_now_ns() < quiet)
		tern_engine_poll(r->e);
}

#define BATCH 200
#define MAX_BATCHES 50
#define CI_TARGET 0.02

struct measure {
	struct running batches; /* one median per batch */
};

/* The confidence target is met, or the time for this measurement is up. */
static bool enough(const struct logp_run *r, const struct measure *m)
{
	return running_ci_rel(&m->batches) < CI_TARGET || bench_now_ns() - r->phase_start > r->phase_ns;
}

static double finish_measure(struct measure *m, double *ci)
{
	*ci = running_ci_rel(&m->batches);
	return m->batches.mean;
}

static void measure_size(struct logp_run *r, size_t size, struct logp_point *pt, double ci[4])
{
	struct measure mr = { 0 }, ms = { 0 }, mo = { 0 }, mg = { 0 };
	static struct hist h;
	/* Round trip (ping-pong), for L. */
	set_mode(r, P_ECHO);
	r->phase_start = bench_now_ns();
	for (int b = 0; b < MAX_BATCHES; b++) {
		hist_init(&h);
		for (int i = 0; i < BATCH; i++) {
			unsigned want = r->replies + 1;
			uint64_t t0 = bench_now_ns();
			send_one(r, size);
			wait_replies(r, want);
			hist_add(&h, sub_timer(r, bench_now_ns() - t0));
		}
		running_add(&mr.batches, (double)hist_pct(&h, 50));
		if (b >= 3 && enough(r, &mr))
			break;
	}
	settle(r);
	pt->rtt = finish_measure(&mr, &ci[0]);
	uint64_t rtt = (uint64_t)pt->rtt;

	/* o_s: the send call and the poll that transmits, from a quiet start. */
	set_mode(r, P_SINK);
	r->phase_start = bench_now_ns();
	for (int b = 0; b < MAX_BATCHES; b++) {
		hist_init(&h);
		for (int i = 0; i < BATCH / 4; i++) {
			uint64_t t0 = bench_now_ns();
			send_one(r, size);
			tern_engine_poll(r->e);
			hist_add(&h, sub_timer(r, bench_now_ns() - t0));
			settle(r);
		}
		running_add(&ms.batches, (double)hist_pct(&h, 50));
		if (b >= 3 && enough(r, &ms))
			break;
	}
	pt->o_s = finish_measure(&ms, &ci[1]);

	/* o_r: the peer busy-waits past the arrival, then times its poll. */
	set_mode(r, P_TIMED_RECV);
	r->phase_start = bench_now_ns();
	for (int b = 0; b < MAX_BATCHES; b++) {
		hist_init(&h);
		for (int i = 0; i < BATCH / 4; i++) {
			unsigned done = atomic_load(&r->timed_done);
			send_one(r, size);
			tern_engine_poll(r->e);
			atomic_store(&r->recv_after, bench_now_ns() + 3 * rtt + 20000);
			struct bench_stall st = { 0 };
			while (atomic_load(&r->timed_done) == done) {
				tern_engine_poll(r->e);
				bench_stall_check(&st, "the peer's timed receive");
			}
			hist_add(&h, sub_timer(r, atomic_load(&r->timed_ns)));
		}
		running_add(&mo.batches, (double)hist_pct(&h, 50));
		if (b >= 3 && enough(r, &mo))
			break;
	}
	set_mode(r, P_SINK);
	settle(r);
	pt->o_r = finish_measure(&mo, &ci[2]);

	/* g: flood, and time the steady part (after the first tenth). */
	unsigned flood = size >= 65536 ? 400 : 4000;
	r->phase_start = bench_now_ns();
	for (int b = 0; b < MAX_BATCHES / 5; b++) {
		uint64_t t_mark = 0;
		for (unsigned i = 0; i < flood; i++) {
			if (i == flood / 10)
				t_mark = bench_now_ns();
			send_one(r, size);
			tern_engine_poll(r->e);
		}
		settle(r);
		/* The flood ends when the last message is acknowledged. */
		double per = (double)(bench_now_ns() - 30000 - t_mark) / (double)(flood - flood / 10);
		running_add(&mg.batches, per);
		if (b >= 2 && enough(r, &mg))
			break;
	}
	pt->g = finish_measure(&mg, &ci[3]);
	pt->size = (double)size;
	/* Both ends on 127.0.0.1: the send call runs the receiver's stack. */
	logp_derive(pt, false);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: tern-bench logp [options]\n"
		"\n"
		"LogP/LogGP parameters of tern's sessions over kernel UDP on 127.0.0.1,\n"
		"per message size: round trip, o_s, o_r, g and L (microseconds), and G\n"
		"(ns per byte) fitted over the sizes. Each value is a mean of batch\n"
		"medians, repeated until its 95%% confidence interval is within 2%%;\n"
		"'±' gives that interval.\n"
		"\n"
		"options:\n"
		"  --driver NAME   uring, sockets, sim or auto (default uring); sim gives L and\n"
		"                  g in simulated time, with o_s = o_r = 0 by construction\n"
		"  --sizes LIST    message sizes in bytes, comma separated, up to %u\n"
		"                  (default 64,256,1024,4096,16384,65536)\n"
		"  --phase-seconds S  stop repeating a measurement after S seconds even if\n"
		"                  its interval is wider than 2%% (default 5; at least 3\n"
		"                  batches are always run)\n"
		"  --json          one JSON object per size, then one for G\n"
		"  --plot FILE     write the parameters over size to FILE as SVG\n"
		"  --help          this text\n",
		MAX_SIZE);
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
		{ 0, 0, 0, 0 },
	};
	const char *plot = NULL;
	size_t sizes[MAX_SIZES] = { 64, 256, 1024, 4096, 16384, 65536 };
	unsigned n_sizes = 6;
	int driver = TERN_DRIVER_URING, json = 0, c, li = 0;
	struct logp_run r = { .phase_ns = 5000000000ull };
	while ((c = getopt_long(argc, argv, "h", lo, &li)) != -1) {
		switch (c) {
		case 'd':
			driver = bench_driver_arg(optarg, true);
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
			r.phase_ns = (uint64_t)(v * 1e9);
			break;
		}
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	struct logp_point pts[MAX_SIZES];
	double ci[MAX_SIZES][4] = { { 0 } };
	r.driver = driver;
	if (driver == TERN_DRIVER_SIM) {
		for (unsigned i = 0; i < n_sizes; i++)
			if (simdrv_logp(sizes[i], &pts[i]))
				return 1;
		goto report;
	}
	r.buf = calloc(1, MAX_SIZE);
	r.timer_ns = calibrate_timer();
	if (pthread_create(&r.thread, NULL, peer_main, &r))
		return 1;
	int port;
	struct bench_stall st = { 0 };
	while ((port = atomic_load(&r.port)) == 0)
		bench_stall_check(&st, "the peer to start");
	r.e = make_engine(driver, (struct tern_callbacks){ .on_message = me_msg, .on_send_done = me_sent, .user = &r });
	struct tern_addr peer;
	tern_addr_resolve("127.0.0.1", (uint16_t)port, &peer);
	if (port < 0 || !r.e || tern_session_connect(r.e, &peer, &r.s)) {
		fprintf(stderr, "tern-bench logp: cannot start the %s driver\n", tern_driver_name((enum tern_driver_kind)driver));
		return 1;
	}
	/* Warm up: the handshake, caches, the congestion window. */
	set_mode(&r, P_ECHO);
	for (int i = 0; i < 2000; i++) {
		unsigned want = r.replies + 1;
		send_one(&r, 64);
		wait_replies(&r, want);
	}
	settle(&r);
	struct progress prog = { 0 };
	for (unsigned i = 0; i < n_sizes; i++) {
		progress_update(&prog, "logp sizes", i, n_sizes);
		measure_size(&r, sizes[i], &pts[i], ci[i]);
	}
	progress_update(&prog, "logp sizes", n_sizes, n_sizes);
	atomic_store(&r.mode, P_STOP);
	pthread_join(r.thread, NULL);
	tern_engine_destroy(r.e);
	free(r.buf);
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
		printf("tern-bench logp: tern sessions over %s on 127.0.0.1 (timer overhead %llu ns subtracted)\n", dn,
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
	else
		printf("(all in microseconds. o_s + L = round trip / 2 - o_r: from the send call to the message's\n"
		       " arrival. L alone is not reported here: on loopback the sender's system call also runs the\n"
		       " receiver's network stack, so the wire time L is inside o_s and the method cannot take it\n"
		       " apart; and in a ping-pong the sender's call does part of what o_r, measured alone, holds,\n"
		       " so o_s + L is shown as - where o_r exceeds half the round trip. Round trip, o_s, o_r and g\n"
		       " are measured directly and hold.)\n");
	return 0;
bad:
	fprintf(stderr, "tern-bench logp: bad value '%s' for --%s\n", optarg, lo[li].name);
	return 2;
}
