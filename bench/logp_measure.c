/* The measuring side of tern-bench logp (logp_measure.h). */
#include "logp_measure.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "hist.h"
#include "bench_peer.h"
#include "logp_peer.h"

void logp_params_default(struct logp_params *p)
{
	*p = (struct logp_params){ .batch = 200, .min_batches = 4, .max_batches = 50, .flood = 4000, .depth = 32,
				   .phase_ns = 5000000000ull, .ci_target = 0.02 };
}

uint64_t logp_calibrate_timer(void)
{
	uint64_t best = UINT64_MAX;
	for (int i = 0; i < 10000; i++) {
		uint64_t a = bench_now_ns(), b = bench_now_ns();
		if (b - a < best)
			best = b - a;
	}
	return best;
}

static uint64_t sub_timer(const struct logp_client *c, uint64_t d)
{
	return d > c->timer_ns ? d - c->timer_ns : 0;
}

static void done(int status, const void *resp, size_t len, void *arg)
{
	struct logp_client *c = arg;
	c->replies++;
	if (status) {
		c->errors++;
		c->last_error = status;
	} else if (len == 8 || len == 16) {
		const uint8_t *b = resp;
		uint64_t v = 0, n = 0;
		for (int i = 0; i < 8; i++)
			v |= (uint64_t)b[i] << (8 * i);
		for (int i = 0; len == 16 && i < 8; i++)
			n |= (uint64_t)b[8 + i] << (8 * i);
		c->timed_ns = v;
		c->timed_pkts = n;
	}
}

static struct tern_engine *eng(struct logp_client *c)
{
	return tern_rpc_engine(c->rpc);
}

/* A request of size bytes, filled, ready to hand over. */
static void *request(struct logp_client *c, size_t size)
{
	struct bench_stall st = { 0 };
	void *b;
	while (!(b = tern_rpc_alloc(c->rpc, size))) {
		tern_engine_poll(eng(c));
		bench_stall_check(&st, "memory for a request");
	}
	memset(b, 0x5a, size);
	return b;
}

/* Hand buf over as a call; polls while the session has no room. */
static int call(struct logp_client *c, uint16_t type, void *buf, size_t size)
{
	struct bench_stall st = { 0 };
	int rc;
	while ((rc = tern_rpc_call(c->rpc, c->s, type, buf, size, 10000000000ull, done, c, NULL)) == TERN_EAGAIN) {
		tern_engine_poll(eng(c));
		bench_stall_check(&st, "room for a call");
	}
	if (rc)
		tern_rpc_free(c->rpc, buf);
	return rc;
}

static int wait_replies(struct logp_client *c, unsigned long want)
{
	struct bench_stall st = { 0 };
	while (c->replies < want) {
		tern_engine_poll(eng(c));
		bench_stall_check(&st, "an answer from the peer");
	}
	return c->errors ? c->last_error : 0;
}

/* Poll after everything is answered until nothing has come for a while
 * (30 us and half a round trip): the peer's last acknowledgements are in,
 * and the next timed step starts quiet. */
static void settle(struct logp_client *c)
{
	uint64_t q = 30000 + tern_session_srtt(c->s) / 2;
	struct tern_stats st;
	tern_engine_stats(eng(c), &st);
	uint64_t seen = st.rx_pkts, until = bench_now_ns() + q, give_up = bench_now_ns() + 1000000000ull;
	while (bench_now_ns() < until && bench_now_ns() < give_up) {
		tern_engine_poll(eng(c));
		tern_engine_stats(eng(c), &st);
		if (st.rx_pkts != seen) {
			seen = st.rx_pkts;
			until = bench_now_ns() + q;
		}
	}
}

static int echo_once(struct logp_client *c, size_t size)
{
	void *b = request(c, size);
	unsigned long want = c->replies + 1;
	int rc = call(c, BENCH_ECHO, b, size);
	return rc ? rc : wait_replies(c, want);
}

int logp_warm_up(struct logp_client *c, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		int rc = echo_once(c, 64);
		if (rc)
			return rc;
	}
	settle(c);
	return 0;
}

/* The relative interval; 1 (100%) where there were too few batches. */
static double ci_of(const struct running *r)
{
	double v = running_ci_rel(r);
	return isfinite(v) ? v : 1.0;
}

struct measure {
	struct running batches; /* one median per batch */
};

static bool enough(const struct logp_client *c, const struct measure *m, unsigned b)
{
	if (b + 1 < c->par.min_batches)
		return false;
	return running_ci_rel(&m->batches) < c->par.ci_target || bench_now_ns() - c->phase_start > c->par.phase_ns;
}

int logp_measure_size(struct logp_client *c, size_t size, struct logp_point *pt, double ci[4])
{
	struct measure mr = { 0 }, ms = { 0 }, mo = { 0 }, mg = { 0 };
	struct hist *h = malloc(sizeof(*h));
	if (!h)
		return TERN_ENOMEM;
	int rc = 0;
	unsigned quarter = c->par.batch / 4 ? c->par.batch / 4 : 1;
	c->errors = 0;

	/* Round trip (ping-pong), for L. */
	c->phase_start = bench_now_ns();
	for (unsigned b = 0; b < c->par.max_batches && !rc; b++) {
		hist_init(h);
		for (unsigned i = 0; i < c->par.batch && !rc; i++) {
			void *buf = request(c, size);
			unsigned long want = c->replies + 1;
			uint64_t t0 = bench_now_ns();
			rc = call(c, BENCH_ECHO, buf, size);
			if (!rc)
				rc = wait_replies(c, want);
			hist_add(h, sub_timer(c, bench_now_ns() - t0));
		}
		running_add(&mr.batches, (double)hist_pct(h, 50));
		if (enough(c, &mr, b))
			break;
	}
	settle(c);
	pt->rtt = mr.batches.mean;
	ci[0] = ci_of(&mr.batches);
	uint64_t rtt = (uint64_t)pt->rtt;

	/* o_s: the call and the poll that transmits, from a quiet start. */
	c->phase_start = bench_now_ns();
	for (unsigned b = 0; b < c->par.max_batches && !rc; b++) {
		hist_init(h);
		for (unsigned i = 0; i < quarter && !rc; i++) {
			void *buf = request(c, size);
			unsigned long want = c->replies + 1;
			uint64_t t0 = bench_now_ns();
			rc = call(c, BENCH_SINK, buf, size);
			tern_engine_poll(eng(c));
			hist_add(h, sub_timer(c, bench_now_ns() - t0));
			if (!rc)
				rc = wait_replies(c, want);
			settle(c);
		}
		running_add(&ms.batches, (double)hist_pct(h, 50));
		if (enough(c, &ms, b))
			break;
	}
	pt->o_s = ms.batches.mean;
	ci[1] = ci_of(&ms.batches);

	/* o_r: the peer busy-waits past the arrival, then times its poll. It
	 * starts waiting when it has answered the ARM; the timed message is
	 * there one small one-way trip and one of its size later, about half
	 * the ARM's round trip and half the echo's. The wait must not be much
	 * longer: a sender's tail-loss probe (two round trips) would put a
	 * second copy in the receive being timed. */
	uint64_t arm_rtt = rtt;
	c->phase_start = bench_now_ns();
	/* The samples of a batch, kept until its fewest packets are known. */
	uint64_t (*got)[2] = calloc(quarter, sizeof(*got));
	if (!got)
		return TERN_ENOMEM;
	for (unsigned b = 0; b < c->par.max_batches && !rc; b++) {
		hist_init(h);
		unsigned n_got = 0;
		for (unsigned i = 0; i < quarter && !rc; i++) {
			uint64_t wait_ns = (arm_rtt + rtt) / 2 + (arm_rtt + rtt) / 8 + 10000;
			uint8_t *a = request(c, 8);
			for (int k = 0; k < 8; k++)
				a[k] = (uint8_t)(wait_ns >> (8 * k));
			unsigned long want = c->replies + 1;
			uint64_t t_arm = bench_now_ns();
			rc = call(c, BENCH_ARM, a, 8);
			if (!rc)
				rc = wait_replies(c, want);
			arm_rtt = bench_now_ns() - t_arm;
			if (rc)
				break;
			void *buf = request(c, size);
			c->timed_ns = UINT64_MAX;
			c->timed_pkts = 0;
			rc = call(c, BENCH_TIMED, buf, size);
			if (!rc)
				rc = wait_replies(c, want + 1);
			if (!rc && c->timed_ns != UINT64_MAX) {
				got[n_got][0] = sub_timer(c, c->timed_ns);
				got[n_got++][1] = c->timed_pkts;
			}
			settle(c);
		}
		/* A sample whose receive took in more than the message (the
		 * copy a sender's tail probe sent while the peer waited, an ack)
		 * timed those packets too. */
		uint64_t fewest = UINT64_MAX;
		for (unsigned i = 0; i < n_got; i++)
			fewest = got[i][1] < fewest ? got[i][1] : fewest;
		for (unsigned i = 0; i < n_got; i++)
			if (got[i][1] == fewest)
				hist_add(h, got[i][0]);
		if (h->count)
			running_add(&mo.batches, (double)hist_pct(h, 50));
		if (enough(c, &mo, b))
			break;
	}
	free(got);
	pt->o_r = mo.batches.mean;
	ci[2] = ci_of(&mo.batches);

	/* g: a flood of calls, depth in flight; the steady part is timed
	 * (after the first tenth) up to the last answer. */
	c->phase_start = bench_now_ns();
	unsigned flood = c->par.flood < 10 ? 10 : c->par.flood;
	for (unsigned b = 0; b < c->par.max_batches && !rc; b++) {
		uint64_t t_mark = 0;
		unsigned long issued = c->replies, at_mark = 0;
		for (unsigned i = 0; i < flood && !rc; i++) {
			struct bench_stall st = { 0 };
			while (issued - c->replies >= c->par.depth) {
				tern_engine_poll(eng(c));
				bench_stall_check(&st, "answers in the flood");
			}
			if (i == flood / 10) {
				t_mark = bench_now_ns();
				at_mark = c->replies;
			}
			void *buf = request(c, size);
			rc = call(c, BENCH_SINK, buf, size);
			issued++;
			tern_engine_poll(eng(c));
		}
		if (!rc)
			rc = wait_replies(c, issued);
		uint64_t t_end = bench_now_ns();
		settle(c);
		if (rc || c->replies == at_mark)
			break;
		running_add(&mg.batches, (double)(t_end - t_mark) / (double)(issued - at_mark));
		if (enough(c, &mg, b))
			break;
	}
	pt->g = mg.batches.mean;
	ci[3] = ci_of(&mg.batches);
	pt->size = (double)size;
	free(h);
	return rc;
}
