#include <criterion/criterion.h>

#include "drivers/driver.h"
#include "tern/sim.h"
#include "tern/error.h"
#include "transport/wire.h"

static struct tern_sim_net *net;

static void open_net(uint64_t seed, const struct tern_sim_link *l)
{
	struct tern_sim_config c;
	tern_sim_config_init(&c);
	c.seed = seed;
	if (l)
		c.link = *l;
	cr_assert_eq(tern_sim_create(&c, &net), 0);
}

static unsigned drain(struct tern_driver *d, uint64_t *last_arrival)
{
	unsigned got = 0;
	struct tni_pkt *pk[32];
	for (;;) {
		uint64_t next = tern_sim_next_event(net);
		if (next == UINT64_MAX)
			return got;
		tern_sim_advance(net, next);
		unsigned n;
		while ((n = d->ops->rx_burst(d, pk, 32))) {
			for (unsigned i = 0; i < n; i++)
				d->ops->free(d, pk[i]);
			got += n;
			if (last_arrival)
				*last_arrival = tern_sim_now(net);
		}
	}
}

Test(sim, node_taken_twice_is_an_error)
{
	open_net(1, NULL);
	struct tern_driver *a, *b;
	cr_assert_eq(tern_sim_driver_open(net, 3, &a), 0);
	cr_assert_eq(tern_sim_driver_open(net, 3, &b), TERN_EADDRINUSE);
	cr_assert_eq(tern_sim_driver_open(net, 70000, &b), TERN_EINVAL);
	a->ops->destroy(a);
	cr_assert_eq(tern_sim_driver_open(net, 3, &b), 0); /* free again once detached */
	tern_sim_destroy(net);
}

static void blast(unsigned n, size_t len)
{
	uint8_t pkt[1500] = { 1, TERN_PKT_DATA };
	for (unsigned i = 0; i < n; i++)
		cr_assert_eq(tern_sim_inject(net, 1, 2, pkt, len), 0);
}

Test(sim, loss_rate_and_same_seed_same_run)
{
	struct tern_sim_link l = { .loss = 0.1 };
	struct tern_sim_stats s[2];
	for (int run = 0; run < 2; run++) {
		open_net(5, &l);
		struct tern_driver *d;
		cr_assert_eq(tern_sim_driver_open(net, 2, &d), 0);
		for (int k = 0; k < 10; k++) {
			blast(2000, 100);
			drain(d, NULL);
		}
		tern_sim_stats(net, &s[run]);
		tern_sim_destroy(net);
	}
	cr_assert_eq(memcmp(&s[0], &s[1], sizeof(s[0])), 0);
	cr_assert_eq(s[0].sent, 20000);
	cr_assert(s[0].lost > 1800 && s[0].lost < 2200, "lost %llu of 20000", (unsigned long long)s[0].lost);
	cr_assert_eq(s[0].data_lost, s[0].lost);
	cr_assert_eq(s[0].delivered + s[0].lost, 20000);
}

Test(sim, bandwidth_delay_and_tail_drop)
{
	/* 1 Gb/s: a 1000-byte packet takes 8 us; a 10,000-byte queue holds 10. */
	struct tern_sim_link l = { .bandwidth_bps = 1000000000ull, .delay_ns = 5000, .queue_bytes = 10000 };
	open_net(1, &l);
	struct tern_driver *d;
	cr_assert_eq(tern_sim_driver_open(net, 2, &d), 0);
	blast(1, 1000);
	uint64_t last = 0;
	cr_assert_eq(drain(d, &last), 1);
	cr_assert_eq(last, 8000 + 5000);
	uint64_t t0 = tern_sim_now(net);
	blast(20, 1000);
	cr_assert_eq(drain(d, &last), 10);
	cr_assert_eq(last - t0, 10 * 8000 + 5000);
	struct tern_sim_stats s;
	tern_sim_stats(net, &s);
	cr_assert_eq(s.queue_drops, 10);
	tern_sim_destroy(net);
}

Test(sim, duplicate_corrupt_reorder_and_burst_loss_counted)
{
	struct tern_sim_link l = { .duplicate = 0.05, .corrupt = 0.05, .reorder = 0.05, .reorder_delay_ns = 10000,
				   .p_enter_bad = 0.01, .p_leave_bad = 0.5, .loss_in_bad = 1.0 };
	open_net(3, &l);
	struct tern_driver *d;
	cr_assert_eq(tern_sim_driver_open(net, 2, &d), 0);
	unsigned got = 0;
	for (int k = 0; k < 10; k++) {
		blast(1000, 64);
		got += drain(d, NULL);
	}
	struct tern_sim_stats s;
	tern_sim_stats(net, &s);
	cr_assert(s.duplicated > 300 && s.duplicated < 700);
	cr_assert(s.corrupted > 300 && s.corrupted < 700);
	cr_assert(s.reordered > 300 && s.reordered < 700);
	/* Stationary loss: 0.01 / (0.01 + 0.5), about 2%. */
	cr_assert(s.lost > 100 && s.lost < 350, "lost %llu", (unsigned long long)s.lost);
	cr_assert_eq(got, 10000 - s.lost + s.duplicated);
	tern_sim_destroy(net);
}

Test(sim, packets_to_a_missing_node_are_dropped_and_pools_survive_detach)
{
	open_net(1, NULL);
	struct tern_driver *a;
	cr_assert_eq(tern_sim_driver_open(net, 2, &a), 0);
	blast(100, 64);
	a->ops->destroy(a); /* in-flight packets go back to node 1's pool */
	blast(100, 64);     /* nobody there */
	struct tern_sim_stats s;
	tern_sim_stats(net, &s);
	cr_assert_eq(s.lost, 100);
	cr_assert_eq(tern_sim_next_event(net), UINT64_MAX);
	tern_sim_destroy(net);
}
