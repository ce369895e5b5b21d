/* Each congestion-control algorithm's update rules, on hand-made inputs. */
#include <criterion/criterion.h>
#include <math.h>

#include "transport/cc.h"

#define US 1000ull

static struct tni_cc make(enum tern_cc_algo algo)
{
	struct tni_cc cc;
	struct tni_cc_params p = { .max_cwnd = 256, .mss = 1500, .link_bps = 10000000000ull, .target_ns = 25 * US };
	cr_assert_eq(tni_cc_init(&cc, algo, &p), 0);
	return cc;
}

Test(cc_aimd, slow_start_then_additive_then_halving)
{
	struct tni_cc cc = make(TERN_CC_AIMD);
	cr_assert_eq(cc.st.aimd.cwnd, 10);
	cc.ops->on_ack(&cc, 5, 0);
	cr_assert_eq(cc.st.aimd.cwnd, 15, "slow start: one per acked packet");
	cc.ops->on_loss(&cc, 0);
	cr_assert_eq(cc.st.aimd.cwnd, 7);
	cr_assert_eq(cc.st.aimd.ssthresh, 7);
	cc.ops->on_ack(&cc, 6, 0);
	cr_assert_eq(cc.st.aimd.cwnd, 7, "avoidance: nothing before a window of acks");
	cc.ops->on_ack(&cc, 1, 0);
	cr_assert_eq(cc.st.aimd.cwnd, 8);
	cr_assert(tni_cc_can_send(&cc, 7));
	cr_assert(!tni_cc_can_send(&cc, 8));
	cc.ops->on_timeout(&cc, 0);
	cr_assert_eq(cc.st.aimd.cwnd, 1);
	cr_assert_eq(cc.st.aimd.ssthresh, 4);
	cr_assert_eq(cc.ops->pacing_rate(&cc), 0);
}

/* A fabric delay above the ceiling (4 targets) is a congestion mark: the
 * window halves and slow start ends, at most once per round trip. */
Test(cc_aimd, a_delay_over_the_ceiling_halves_once_per_rtt)
{
	struct tni_cc cc = make(TERN_CC_AIMD);
	cc.ops->on_ack(&cc, 30, 0);
	cr_assert_eq(cc.st.aimd.cwnd, 40);
	cc.ops->on_rtt(&cc, 100 * US, 100 * US, 1000 * US);
	cr_assert_eq(cc.st.aimd.cwnd, 40, "at the ceiling: no mark");
	cc.ops->on_rtt(&cc, 150 * US, 101 * US, 1000 * US);
	cr_assert_eq(cc.st.aimd.cwnd, 20, "over it: halved");
	cr_assert_eq(cc.st.aimd.ssthresh, 20, "and slow start is over");
	cc.ops->on_rtt(&cc, 300 * US, 300 * US, 1050 * US);
	cr_assert_eq(cc.st.aimd.cwnd, 20, "not again within the round trip");
	cc.ops->on_rtt(&cc, 300 * US, 300 * US, 1102 * US);
	cr_assert_eq(cc.st.aimd.cwnd, 10, "again after one");
	for (int i = 0; i < 10; i++)
		cc.ops->on_rtt(&cc, 300 * US, 300 * US, (2000 + 400 * (uint64_t)i) * US);
	cr_assert_eq(cc.st.aimd.cwnd, 2, "never below the minimum");
	/* The host's own delay (rtt less fabric) is not a mark. */
	struct tni_cc h = make(TERN_CC_AIMD);
	h.ops->on_rtt(&h, 5000 * US, 20 * US, 1000 * US);
	cr_assert_eq(h.st.aimd.cwnd, 10);
}

Test(cc_off, only_the_window_limits)
{
	struct tni_cc cc = make(TERN_CC_OFF);
	cc.ops->on_loss(&cc, 0);
	cc.ops->on_timeout(&cc, 0);
	cr_assert(tni_cc_can_send(&cc, 255));
	cr_assert(!tni_cc_can_send(&cc, 256));
}

Test(cc_swift, grows_under_target_and_cuts_in_proportion_above_it)
{
	struct tni_cc cc = make(TERN_CC_SWIFT);
	double w0 = cc.st.swift.cwnd;
	cr_assert_float_eq(w0, 10.0, 1e-9);
	double target = tni_swift_target(&cc);
	cr_assert(target > 25 * US && target < 50 * US, "target %.0f ns: base plus flow scaling", target);
	/* Under target: ai / cwnd per acked packet. */
	cc.ops->on_rtt(&cc, 20 * US, 20 * US, 1000 * US);
	cc.ops->on_ack(&cc, 10, 1000 * US);
	cr_assert_float_eq(cc.st.swift.cwnd, 11.0, 1e-9);
	/* Twice the target: cut by beta * (d - t) / d, here capped at max_mdf = 0.5. */
	double t = tni_swift_target(&cc);
	cc.ops->on_rtt(&cc, (uint64_t)(4 * t), (uint64_t)(4 * t), 2000 * US);
	cr_assert_float_eq(cc.st.swift.cwnd, 5.5, 1e-9);
	/* A second cut within the same RTT is not taken. */
	cc.ops->on_rtt(&cc, (uint64_t)(4 * t), (uint64_t)(4 * t), 2000 * US + 10 * US);
	cr_assert_float_eq(cc.st.swift.cwnd, 5.5, 1e-9);
	/* A small excess cuts a little: f = 1 - 0.8 * (d - t) / d. */
	double w = cc.st.swift.cwnd;
	t = tni_swift_target(&cc);
	double d = 1.1 * t;
	cc.ops->on_rtt(&cc, (uint64_t)d, (uint64_t)d, 10000 * US);
	cr_assert_float_eq(cc.st.swift.cwnd, w * (1 - 0.8 * (d - t) / d), 1e-3);
	/* Above target, acks do not grow the window. */
	w = cc.st.swift.cwnd;
	cc.ops->on_ack(&cc, 5, 10001 * US);
	cr_assert_float_eq(cc.st.swift.cwnd, w, 1e-12);
}

/* Topology scaling: hop_ns more target per link of the path. */
Test(cc_swift, the_target_grows_with_the_path)
{
	struct tni_cc cc = make(TERN_CC_SWIFT);
	cc.p.hop_ns = 2 * US;
	double t0 = tni_swift_target(&cc);
	cc.p.hops = 5;
	cr_assert_float_eq(tni_swift_target(&cc), t0 + 10.0 * US, 1e-6);
	/* A delay that is over the short path's target is under the long one's. */
	double w = cc.st.swift.cwnd;
	cc.ops->on_rtt(&cc, (uint64_t)(t0 + 5 * US), (uint64_t)(t0 + 5 * US), 1000 * US);
	cr_assert_float_eq(cc.st.swift.cwnd, w, 1e-9, "no cut under the long path's target");
	cc.p.hops = 0;
	cc.ops->on_rtt(&cc, (uint64_t)(t0 + 5 * US), (uint64_t)(t0 + 5 * US), 2000 * US);
	cr_assert_lt(cc.st.swift.cwnd, w, "cut over the short path's");
}

Test(cc_swift, below_one_packet_it_paces_and_flow_scaling_favours_small_windows)
{
	struct tni_cc cc = make(TERN_CC_SWIFT);
	cr_assert_eq(cc.ops->pacing_rate(&cc), 0, "a window of packets is not paced");
	double big = tni_swift_target(&cc);
	cc.st.swift.cwnd = 0.25;
	cc.st.swift.delay = 20 * US;
	cr_assert_gt(tni_swift_target(&cc), big, "smaller windows get a higher target");
	cr_assert_leq(tni_swift_target(&cc), 50.0 * US + 1e-6, "flow scaling adds at most one target");
	/* One packet every RTT / cwnd: 1500 B * 0.25 / 20 us = 18.75 MB/s. */
	cr_assert_eq(cc.ops->pacing_rate(&cc), 18750000);
	cr_assert_eq(cc.ops->window(&cc), 1, "one packet at a time");
	/* Below one packet, each ack adds ai (paced acks are sparse). */
	cc.ops->on_ack(&cc, 1, 0);
	cr_assert_float_eq(cc.st.swift.cwnd, 1.25, 1e-9);
}

Test(cc_swift, losses_and_timeouts)
{
	struct tni_cc cc = make(TERN_CC_SWIFT);
	cc.st.swift.delay = 20 * US;
	cc.ops->on_loss(&cc, 1000 * US);
	cr_assert_float_eq(cc.st.swift.cwnd, 5.0, 1e-9);
	cc.ops->on_loss(&cc, 1005 * US); /* within one RTT: ignored */
	cr_assert_float_eq(cc.st.swift.cwnd, 5.0, 1e-9);
	/* Timeouts: a decrease each, and the fifth in a row resets to the minimum. */
	uint64_t now = 2000 * US;
	for (int i = 0; i < 4; i++, now += 1000 * US)
		cc.ops->on_timeout(&cc, now);
	cr_assert_float_eq(cc.st.swift.cwnd, 5.0 / 16, 1e-9);
	cc.ops->on_timeout(&cc, now);
	cr_assert_float_eq(cc.st.swift.cwnd, 0.001, 1e-12);
	/* An ack clears the run. */
	cc.st.swift.cwnd = 2;
	cc.ops->on_ack(&cc, 1, now);
	cr_assert_eq(cc.st.swift.timeouts, 0);
}

Test(cc_timely, the_four_regions)
{
	struct tni_cc cc = make(TERN_CC_TIMELY);
	double line = 10e9 / 8;
	cr_assert_float_eq(cc.st.timely.rate, line, 1);
	cr_assert_eq(cc.ops->pacing_rate(&cc), 0, "at line rate: no pacing (bypass)");
	/* Above T_high: r * (1 - 0.8 * (1 - T_high / rtt)), a whole RTT after the last update. */
	cc.ops->on_rtt(&cc, 2000 * US, 2000 * US, 1000 * US);
	cr_assert_float_eq(cc.st.timely.rate, line * (1 - 0.8 * 0.5), 1);
	cr_assert_eq(cc.ops->pacing_rate(&cc), (uint64_t)cc.st.timely.rate);
	/* Below T_low: + 5 MB/s. */
	double r = cc.st.timely.rate;
	cc.ops->on_rtt(&cc, 10 * US, 10 * US, 2000 * US);
	cr_assert_float_eq(cc.st.timely.rate, r + 5e6, 1);
	/* Between the thresholds with a rising RTT: a decrease by the gradient,
	 * never below half. From a steady 100 us, a sample of 150 us one unit
	 * later: gradient 0.02 * 50 us / 1 us = 1, so r * (1 - 0.8) -> held at r / 2. */
	cc = make(TERN_CC_TIMELY);
	cc.st.timely.prev_rtt = 100 * US;
	cc.st.timely.last_update = 3000 * US - 200 * US; /* more than an RTT ago */
	r = cc.st.timely.rate;
	cc.ops->on_rtt(&cc, 150 * US, 150 * US, 3000 * US);
	cr_assert_float_eq(cc.st.timely.rate, r * 0.5, 1, "a steep rise halves at most");
	/* A gentle rise decreases by exactly 0.8 * gradient: 100 -> 102.5 us gives 0.05. */
	cc = make(TERN_CC_TIMELY);
	cc.st.timely.prev_rtt = 100 * US;
	cc.st.timely.last_update = 3000 * US - 200 * US; /* more than an RTT ago */
	r = cc.st.timely.rate;
	cc.ops->on_rtt(&cc, 102500, 102500, 3000 * US);
	cr_assert_float_eq(cc.st.timely.rate, r * (1 - 0.8 * 0.05), 1);
	/* A second sample within one RTT of the last update does not move the
	 * rate: every ack of a burst sees the same queue. */
	cc = make(TERN_CC_TIMELY);
	cc.st.timely.rate = 1e9;
	cc.st.timely.last_update = 3000 * US - 5 * US;
	cc.ops->on_rtt(&cc, 10 * US, 10 * US, 3000 * US);
	cr_assert_float_eq(cc.st.timely.rate, 1e9, 1);
	cc.ops->on_rtt(&cc, 10 * US, 10 * US, 3000 * US + 5 * US);
	cr_assert_float_eq(cc.st.timely.rate, 1e9 + 5e6, 1);
	/* Falling RTTs between the thresholds: additive, then hyperactive after five. */
	cc = make(TERN_CC_TIMELY);
	cc.st.timely.rate = 1e9;
	cc.st.timely.prev_rtt = 91 * US;
	double before = 0;
	for (int i = 0; i < 6; i++) {
		before = cc.st.timely.rate;
		cc.ops->on_rtt(&cc, (uint64_t)((90 - i) * US), (uint64_t)((90 - i) * US), (uint64_t)(4000 + i * 100) * US);
	}
	cr_assert_gt(cc.st.timely.rate, before, "falling RTT: the rate grows");
	cr_assert_float_eq(cc.st.timely.rate - before, 5 * 5e6, 1, "five in a row: hyperactive increase");
}

Test(cc_timely, bounds)
{
	struct tni_cc cc = make(TERN_CC_TIMELY);
	for (int i = 0; i < 100; i++)
		cc.ops->on_rtt(&cc, 5000 * US, 5000 * US, (uint64_t)(1000 + i * 1000) * US);
	cr_assert_float_eq(cc.st.timely.rate, 5e6, 1, "never below the minimum rate");
	for (int i = 0; i < 100000; i++)
		cc.ops->on_rtt(&cc, 10 * US, 10 * US, (uint64_t)(200000 + i * 1000) * US);
	cr_assert_float_eq(cc.st.timely.rate, 10e9 / 8, 1, "never above line rate");
}

/* The sender reads cc->window and cc->pace_bps, not the ops: every event
 * must leave them as the state says, whatever the order of events. */
Test(cc, the_window_and_rate_the_sender_reads_follow_every_event)
{
	const enum tern_cc_algo algos[] = { TERN_CC_AIMD, TERN_CC_OFF, TERN_CC_TIMELY, TERN_CC_SWIFT };
	for (unsigned a = 0; a < sizeof(algos) / sizeof(algos[0]); a++) {
		struct tni_cc cc = make(algos[a]);
		uint64_t x = 0x9e3779b97f4a7c15ull + a, now = 1000 * US;
		cr_assert_eq(cc.window, cc.ops->window(&cc), "%s after init", cc.ops->name);
		cr_assert_eq(cc.pace_bps, cc.ops->pacing_rate(&cc), "%s after init", cc.ops->name);
		for (int i = 0; i < 20000; i++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17; /* xorshift64, seeded per algorithm */
			now += 1 + x % (200 * US);
			uint64_t rtt = 1 * US + (x >> 8) % (3000 * US);
			switch ((x >> 40) % 8) {
			case 0: case 1: case 2:
				cc.ops->on_ack(&cc, 1 + (uint32_t)((x >> 20) % 16), now);
				break;
			case 3: case 4: case 5:
				cc.ops->on_rtt(&cc, rtt, rtt, now);
				break;
			case 6:
				cc.ops->on_loss(&cc, now);
				break;
			default:
				cc.ops->on_timeout(&cc, now);
			}
			cr_assert_eq(cc.window, cc.ops->window(&cc), "%s, event %d", cc.ops->name, i);
			cr_assert_eq(cc.pace_bps, cc.ops->pacing_rate(&cc), "%s, event %d", cc.ops->name, i);
		}
	}
}
