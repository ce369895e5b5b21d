/* The simulated backend for tern-bench's lat, tput, scale, bw and logp.
 * Everything runs in one thread on simulated time: the figures are the
 * protocol's on a 10 Gb/s, 2 us link, with host CPU time counted as zero. */
#include <stdlib.h>
#include <string.h>

#include "bench_simdrv.h"
#include "bench_util.h"
#include "tern/sim.h"
#include "tern/tern.h"

#define ECHO 1
#define MAX_PAIRS 64
#define MAX_SESS 1024

struct simdrv {
	struct tern_sim_net *net;
	struct tern_rpc *rpc[2 * MAX_PAIRS];
	struct tern_engine *eng[2 * MAX_PAIRS];
	unsigned n_eng;
	struct tern_session *s[MAX_PAIRS][MAX_SESS];
	uint64_t calls, target, bytes, delivered_msgs, sent_done;
	struct hist *lat;
	size_t size;
	bool stop;
};

static void on_msg(struct tern_session *s, const struct tern_rx_msg *m, void *user)
{
	(void)s;
	struct simdrv *w = user;
	w->delivered_msgs++;
	w->bytes += m->len;
}

static void on_done(struct tern_session *s, void *cookie, int status, void *user)
{
	(void)s;
	(void)cookie;
	(void)status;
	((struct simdrv *)user)->sent_done++;
}

/* pairs of engines (client on node 2i+1, server on 2i+2), RPC or bare. */
static int open_world(struct simdrv *w, unsigned pairs, unsigned sessions, bool rpc)
{
	memset(w, 0, sizeof(*w));
	struct tern_sim_config sc;
	tern_sim_config_init(&sc);
	if (tern_sim_create(&sc, &w->net))
		return -1;
	w->n_eng = 2 * pairs;
	for (unsigned i = 0; i < w->n_eng; i++) {
		struct tern_engine_config ec;
		tern_engine_config_init(&ec);
		if (tern_sim_driver_open(w->net, i + 1, &ec.driver))
			return -1;
		ec.seed = 100 + i;
		ec.delivery = TERN_DELIVER_AS_COMPLETED;
		ec.max_sessions = sessions + 8;
		ec.window_pkts = 1024;
		if (rpc) {
			struct tern_rpc_config rc;
			tern_rpc_config_init(&rc);
			rc.workers = 0;
			rc.max_per_session = 64;
			if (tern_rpc_create(&rc, &ec, &w->rpc[i]))
				return -1;
			w->eng[i] = tern_rpc_engine(w->rpc[i]);
			if (i % 2 == 1)
				tern_rpc_register(w->rpc[i], ECHO, bench_echo, w->rpc[i], 0);
		} else {
			ec.cb = (struct tern_callbacks){ .on_message = on_msg, .on_send_done = on_done, .user = w };
			if (tern_engine_create(&ec, &w->eng[i]))
				return -1;
		}
	}
	for (unsigned p = 0; p < pairs; p++) {
		struct tern_addr srv = tern_addr_sim(2 * p + 2);
		for (unsigned k = 0; k < sessions; k++)
			if (tern_session_connect(w->eng[2 * p], &srv, &w->s[p][k]))
				return -1;
	}
	return 0;
}

static void close_world(struct simdrv *w)
{
	for (unsigned i = 0; i < w->n_eng; i++) {
		if (w->rpc[i])
			tern_rpc_destroy(w->rpc[i]);
		else
			tern_engine_destroy(w->eng[i]);
	}
	tern_sim_destroy(w->net);
}

struct sim_call {
	struct simdrv *w;
	unsigned pair, sess;
	uint64_t t0;
};

static void issue(struct simdrv *w, unsigned pair, unsigned sess);

static void call_done(int status, const void *resp, size_t len, void *arg)
{
	(void)resp;
	(void)len;
	struct sim_call *c = arg;
	struct simdrv *w = c->w;
	if (status == 0) {
		w->calls++;
		if (w->lat)
			hist_add(w->lat, tern_sim_now(w->net) - c->t0);
	}
	if (!w->stop)
		issue(w, c->pair, c->sess);
	free(c);
}

static void issue(struct simdrv *w, unsigned pair, unsigned sess)
{
	void *q = tern_rpc_alloc(w->rpc[2 * pair], w->size);
	struct sim_call *c = malloc(sizeof(*c));
	if (!q || !c) {
		free(c);
		tern_rpc_free(w->rpc[2 * pair], q);
		return;
	}
	*c = (struct sim_call){ w, pair, sess, tern_sim_now(w->net) };
	if (tern_rpc_call(w->rpc[2 * pair], w->s[pair][sess], ECHO, q, w->size, 0, call_done, c, NULL)) {
		tern_rpc_free(w->rpc[2 * pair], q);
		free(c);
	}
}

static bool calls_reached(void *arg)
{
	struct simdrv *w = arg;
	return w->calls >= w->target;
}

static bool deliveries_reached(void *arg)
{
	struct simdrv *w = arg;
	return w->delivered_msgs >= w->target;
}

int simdrv_lat(size_t size, unsigned long count, struct hist *out)
{
	static struct simdrv w;
	if (open_world(&w, 1, 1, true))
		return -1;
	w.size = size;
	w.lat = out;
	w.target = count;
	issue(&w, 0, 0);
	tern_sim_run(w.net, w.eng, w.n_eng, tern_sim_now(w.net) + 3600000000000ull, calls_reached, &w);
	w.stop = true;
	tern_sim_run(w.net, w.eng, w.n_eng, tern_sim_now(w.net) + 10000000ull, NULL, NULL);
	close_world(&w);
	return 0;
}

double simdrv_tput(unsigned pairs, unsigned sessions, unsigned depth, size_t size, double seconds)
{
	static struct simdrv w;
	if (pairs > MAX_PAIRS || sessions > MAX_SESS || open_world(&w, pairs, sessions, true))
		return -1;
	w.size = size;
	for (unsigned p = 0; p < pairs; p++)
		for (unsigned k = 0; k < sessions; k++)
			for (unsigned d = 0; d < depth; d++)
				issue(&w, p, k);
	uint64_t warm = tern_sim_now(w.net) + (uint64_t)(seconds * 1e8);
	tern_sim_run(w.net, w.eng, w.n_eng, warm, NULL, NULL);
	uint64_t c0 = w.calls, t0 = tern_sim_now(w.net);
	tern_sim_run(w.net, w.eng, w.n_eng, t0 + (uint64_t)(seconds * 1e9), NULL, NULL);
	double rate = (double)(w.calls - c0) / ((double)(tern_sim_now(w.net) - t0) / 1e9);
	w.stop = true;
	tern_sim_run(w.net, w.eng, w.n_eng, tern_sim_now(w.net) + 10000000ull, NULL, NULL);
	close_world(&w);
	return rate;
}

/* One way: window messages of size in flight; bytes per simulated second. */
double simdrv_bw(size_t size, unsigned window, double seconds)
{
	static struct simdrv w;
	if (open_world(&w, 1, 1, false))
		return -1;
	uint8_t *buf = calloc(1, size);
	uint64_t queued = 0, t_end = tern_sim_now(w.net) + (uint64_t)(seconds * 1e9);
	uint64_t t_warm = tern_sim_now(w.net) + (uint64_t)(seconds * 1e8), b0 = 0, t0 = 0;
	while (tern_sim_now(w.net) < t_end) {
		while (queued - w.sent_done < window && tern_session_send(w.s[0][0], buf, size, NULL) == 0)
			queued++;
		uint64_t step = tern_sim_now(w.net) + 50000;
		tern_sim_run(w.net, w.eng, w.n_eng, step, NULL, NULL);
		if (!t0 && tern_sim_now(w.net) >= t_warm) {
			t0 = tern_sim_now(w.net);
			b0 = w.bytes;
		}
	}
	double rate = (double)(w.bytes - b0) / ((double)(tern_sim_now(w.net) - t0) / 1e9);
	close_world(&w);
	free(buf);
	return rate;
}

/* LogP in simulated time: o_s and o_r are zero (the simulator charges no
 * CPU time), so L is the one-way delivery time and the round trip twice
 * that (the simulated links are symmetric); g from a flood. */
int simdrv_logp(size_t size, struct logp_point *pt)
{
	static struct simdrv w;
	if (open_world(&w, 1, 1, false))
		return -1;
	uint8_t *buf = calloc(1, size ? size : 1);
	const int n = 200;
	uint64_t one_way = 0;
	for (int i = 0; i < n; i++) {
		uint64_t t0 = tern_sim_now(w.net);
		w.target = w.delivered_msgs + 1;
		tern_session_send(w.s[0][0], buf, size, NULL);
		tern_sim_run(w.net, w.eng, w.n_eng, t0 + 1000000000ull, deliveries_reached, &w);
		one_way += tern_sim_now(w.net) - t0;
		/* let the ack come back before the next one */
		tern_sim_run(w.net, w.eng, w.n_eng, tern_sim_now(w.net) + 100000, NULL, NULL);
	}
	pt->size = (double)size;
	pt->rtt = 2.0 * (double)one_way / n;
	pt->o_s = pt->o_r = 0;
	/* g: queue a flood, time deliveries from the first tenth to the end. */
	const unsigned flood = 2000;
	uint64_t base = w.delivered_msgs, queued = 0;
	uint64_t t1 = 0;
	while (w.delivered_msgs < base + flood) {
		while (queued < flood && tern_session_send(w.s[0][0], buf, size, NULL) == 0)
			queued++;
		w.target = !t1 ? base + flood / 10 : base + flood;
		tern_sim_run(w.net, w.eng, w.n_eng, tern_sim_now(w.net) + 10000000ull, deliveries_reached, &w);
		if (!t1 && w.delivered_msgs >= base + flood / 10)
			t1 = tern_sim_now(w.net);
	}
	pt->g = (double)(tern_sim_now(w.net) - t1) / (double)(flood - flood / 10);
	logp_derive(pt, true); /* no host time: L is all there is */
	close_world(&w);
	free(buf);
	return 0;
}
