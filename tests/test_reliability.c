/* Every byte arrives exactly once and unchanged over a faulty simulated
 * network: 10,000 messages of 1 B to 1 MiB plus one of 64 MiB per fault
 * profile (issue: foundation). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>

#include "harness.h"
#include "util/rng.h"

#define N_SMALL 10000
#define BIG_SIZE (64u << 20)
#define BIG_AT 5000        /* the 64 MiB message goes in the middle of the run */
#define OUTSTANDING 16     /* messages in flight at once */
#define ONE_MIB (1u << 20)

struct run {
	struct pair p;
	uint32_t n;            /* messages in all */
	uint32_t *size;
	uint32_t next_send, acked, delivered;
	uint8_t *seen;         /* as-completed mode: per message */
	bool in_order;
	bool failed;
	char why[200];
};

/* Sizes log-uniform over [1 B, 1 MiB], as RPC sizes are in practice, with
 * both ends of the range present. */
static void make_sizes(struct run *r, uint64_t seed, uint32_t n_small, bool with_big)
{
	struct tni_rng rng;
	tni_rng_seed(&rng, seed);
	r->n = n_small + (with_big ? 1 : 0);
	r->size = calloc(r->n, sizeof(*r->size));
	r->seen = calloc(r->n, 1);
	for (uint32_t i = 0; i < r->n; i++) {
		double l = tni_rng_double(&rng) * log((double)ONE_MIB);
		uint32_t s = (uint32_t)exp(l);
		r->size[i] = s < 1 ? 1 : (s > ONE_MIB ? ONE_MIB : s);
	}
	r->size[0] = 1;
	r->size[1] = ONE_MIB;
	if (with_big)
		r->size[BIG_AT] = BIG_SIZE;
}

static void fail(struct run *r, const char *why, uint64_t k)
{
	if (!r->failed)
		snprintf(r->why, sizeof(r->why), "%s (message %llu)", why, (unsigned long long)k);
	r->failed = true;
}

static void on_message(struct pair *p, int side, struct tern_session *s, const struct tern_rx_msg *m)
{
	struct run *r = p->user;
	(void)s;
	if (side != 1)
		return fail(r, "client received a message", m->seq);
	if (m->seq >= r->n)
		return fail(r, "unknown message id", m->seq);
	if (r->in_order && m->seq != r->delivered)
		return fail(r, "out of order", m->seq);
	if (r->seen[m->seq])
		return fail(r, "delivered twice", m->seq);
	r->seen[m->seq] = 1;
	if (m->len != r->size[m->seq])
		return fail(r, "wrong length", m->seq);
	if (!content_check(m->data, m->len, m->seq))
		return fail(r, "content differs", m->seq);
	r->delivered++;
}

static void on_send_done(struct pair *p, int side, void *cookie, int status)
{
	struct run *r = p->user;
	(void)side;
	free(cookie);
	if (status)
		fail(r, tern_strerror(status), r->acked);
	r->acked++;
}

static void pump(struct run *r)
{
	while (r->next_send < r->n && r->next_send - r->acked < OUTSTANDING) {
		uint32_t k = r->next_send;
		uint8_t *buf = malloc(r->size[k]);
		cr_assert_not_null(buf);
		content_fill(buf, r->size[k], k);
		int rc = tern_session_send(r->p.client, buf, r->size[k], buf);
		if (rc == TERN_EAGAIN) {
			free(buf);
			return;
		}
		cr_assert_eq(rc, 0, "send: %s", tern_strerror(rc));
		r->next_send++;
	}
}

static bool progress(void *arg)
{
	struct run *r = arg;
	if (r->failed || !r->p.client)
		return true;
	if (r->next_send < r->n && r->next_send - r->acked < OUTSTANDING)
		return true; /* room to send more: go back to pump */
	return r->acked == r->n && r->delivered == r->n;
}

static void engine_tweak(struct tern_engine_config *ec)
{
	ec->dead_after_ns = 30ull * 1000000000ull;
}

static void engine_tweak_as_completed(struct tern_engine_config *ec)
{
	engine_tweak(ec);
	ec->delivery = TERN_DELIVER_AS_COMPLETED;
}

/* Runs one profile and returns the simulated time it took, in ns. */
static uint64_t run_profile(const char *name, const struct tern_sim_link *link, uint64_t seed,
			    uint32_t n_small, bool with_big, bool in_order)
{
	struct run *r = calloc(1, sizeof(*r));
	cr_assert_not_null(r);
	make_sizes(r, seed, n_small, with_big);
	r->in_order = in_order;
	r->p.user = r;
	r->p.on_message = on_message;
	r->p.on_send_done = on_send_done;
	struct tern_sim_config sc;
	tern_sim_config_init(&sc);
	sc.seed = seed;
	sc.link = *link;
	cr_assert_eq(pair_open(&r->p, &sc, in_order ? engine_tweak : engine_tweak_as_completed), 0);
	cr_assert_eq(pair_connect(&r->p), 0);
	uint64_t limit = tern_sim_now(r->p.net) + 3600ull * 1000000000ull;
	while (!r->failed && r->p.client && (r->acked < r->n || r->delivered < r->n)) {
		pump(r);
		int rc = tern_sim_run(r->p.net, r->p.eng, 2, limit, progress, r);
		cr_assert_eq(rc, 0, "%s: run stopped: %s (acked %u delivered %u of %u)", name, tern_strerror(rc),
			     r->acked, r->delivered, r->n);
	}
	cr_assert(!r->failed, "%s: %s", name, r->why);
	cr_assert_not_null(r->p.client, "%s: session died: %s", name, tern_strerror(r->p.client_status));
	/* Let stragglers (duplicates, late retransmits) arrive: nothing more may be delivered. */
	pair_run(&r->p, 200000000ull, NULL, NULL);
	cr_assert(!r->failed, "%s: %s", name, r->why);
	cr_assert_eq(r->delivered, r->n);
	cr_assert_eq(r->p.delivered[1], r->n, "%s: %llu deliveries for %u messages", name,
		     (unsigned long long)r->p.delivered[1], r->n);

	struct tern_stats cs, ss;
	struct tern_sim_stats ns;
	tern_engine_stats(r->p.eng[0], &cs);
	tern_engine_stats(r->p.eng[1], &ss);
	tern_sim_stats(r->p.net, &ns);
	double ratio = ns.data_lost ? (double)cs.retransmits / (double)ns.data_lost : 0.0;
	printf("[%s] %u msgs, %llu data pkts, sim: lost %llu data pkts (%llu all), corrupted %llu, dup %llu, reordered %llu;"
	       " retransmits %llu (fast %llu, rto %llu, probes %llu, dsacks %llu), retransmits/lost %.3f, acks %llu, bad crc %llu, bad header %llu, dups dropped %llu,"
	       " simulated %.3f s\n",
	       name, r->n, (unsigned long long)cs.tx_data_pkts, (unsigned long long)ns.data_lost,
	       (unsigned long long)(ns.lost + ns.queue_drops), (unsigned long long)ns.corrupted,
	       (unsigned long long)ns.duplicated, (unsigned long long)ns.reordered,
	       (unsigned long long)cs.retransmits, (unsigned long long)cs.fast_retransmits,
	       (unsigned long long)cs.rto_fired, (unsigned long long)cs.tlp_probes, (unsigned long long)cs.dsacks, ratio, (unsigned long long)ss.acks_sent,
	       (unsigned long long)(cs.bad_crc + ss.bad_crc),
	       (unsigned long long)(cs.bad_header + ss.bad_header), (unsigned long long)ss.dup_pkts,
	       tern_sim_now(r->p.net) / 1e9);
	fflush(stdout);
	/* A corrupted packet is never delivered: the decoder drops every one,
	 * by its CRC or, when the flip hit a length or version, before that. */
	uint64_t caught = cs.bad_crc + ss.bad_crc + cs.bad_header + ss.bad_header;
	cr_assert_eq(caught, ns.corrupted, "%s: %llu corrupted, %llu caught", name,
		     (unsigned long long)ns.corrupted, (unsigned long long)caught);
	/* SACK and RACK must pay: few packets are resent more often than lost. */
	if (strcmp(name, "loss-10%") == 0 || strcmp(name, "as-completed") == 0)
		cr_assert_leq(ratio, 1.3, "%s: retransmitted/lost = %.3f", name, ratio);
	/* Nothing is lost here, so every retransmission is spurious: the
	 * reordering window must learn from the duplicates the peer reports. */
	if (strcmp(name, "reorder-5%") == 0)
		cr_assert_leq(cs.retransmits * 1000, cs.tx_data_pkts * 5, "%llu spurious retransmissions of %llu data packets",
			      (unsigned long long)cs.retransmits, (unsigned long long)cs.tx_data_pkts);
	uint64_t took = tern_sim_now(r->p.net);
	pair_close(&r->p);
	free(r->size);
	free(r->seen);
	free(r);
	return took;
}

static struct tern_sim_link base_link(void)
{
	struct tern_sim_config sc;
	tern_sim_config_init(&sc);
	return sc.link;
}

#define PROFILE_TEST(tname, label, seed, setup)                                   \
	Test(reliability, tname, .timeout = 600)                                  \
	{                                                                         \
		struct tern_sim_link l = base_link();                             \
		setup;                                                            \
		run_profile(label, &l, seed, N_SMALL, true, true);                \
	}

PROFILE_TEST(no_faults, "no-faults", 11, (void)0)
PROFILE_TEST(loss_1, "loss-1%", 12, l.loss = 0.01)
PROFILE_TEST(loss_10, "loss-10%", 13, l.loss = 0.10)

/* Heavy loss costs round trips, not timeouts: the same messages through a
 * link that loses 30% of packets take at most ten times as long as
 * through a clean one. */
Test(reliability, loss_30, .timeout = 600)
{
	struct tern_sim_link l = base_link();
	uint64_t clean = run_profile("loss-30%-baseline", &l, 14, N_SMALL, true, true);
	l.loss = 0.30;
	uint64_t lossy = run_profile("loss-30%", &l, 14, N_SMALL, true, true);
	printf("[loss-30%%] %.2fx the simulated time without loss\n", (double)lossy / (double)clean);
	cr_assert_leq(lossy, 10 * clean, "30%% loss took %.3f s, %.1fx the %.3f s without", lossy / 1e9,
		      (double)lossy / (double)clean, clean / 1e9);
}
/* Gilbert-Elliott: bursts of 4 packets on average, 1% of packets lost. */
PROFILE_TEST(burst_loss_1, "burst-loss-1%", 15,
	     (l.p_leave_bad = 0.25, l.loss_in_bad = 1.0, l.p_enter_bad = 0.01 * 0.25 / 0.99))
PROFILE_TEST(reorder_5, "reorder-5%", 16, (l.reorder = 0.05, l.reorder_delay_ns = 20000))
PROFILE_TEST(duplicate_2, "duplicate-2%", 17, l.duplicate = 0.02)
PROFILE_TEST(corrupt_1, "corrupt-1%", 18, l.corrupt = 0.01)

/* The mode RPC uses: each message as soon as it is whole, under loss and
 * reordering together. */
Test(reliability, as_completed_lossy, .timeout = 600)
{
	struct tern_sim_link l = base_link();
	l.loss = 0.05;
	l.reorder = 0.05;
	l.reorder_delay_ns = 20000;
	run_profile("as-completed", &l, 19, 3000, false, false);
}
