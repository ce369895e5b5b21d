/* Swift (Kumar et al., SIGCOMM 2020): AIMD on delay. The window grows while
 * the fabric delay (RTT less the receiver's hold time) is under a target and
 * shrinks in proportion to how far over it is, at most once per RTT. Below
 * one packet the sender paces.
 *
 * The target is absolute (cfg.cc_target_ns) plus Swift's flow scaling,
 * which gives small windows up to one more target of room. A target taken
 * from each flow's lowest RTT would let late flows, which never saw an
 * empty queue, keep the queue they found: measured, Jain 0.37 at 32-to-1. */
#include <math.h>

#include "cc.h"

#define AI 1.0          /* packets added per RTT below target, window >= 1 */
#ifndef AI_PACED
#define AI_PACED 1.0    /* packets per ack below one packet, as the paper */
#endif
#define BETA 0.8        /* multiplicative decrease per unit of relative excess */
#define MAX_MDF 0.5     /* never cut by more than half at once */
#define MIN_CWND 0.001  /* packets: one packet per 1000 RTTs */
#define INIT_CWND 10.0
#define RTO_RESET 5     /* timeouts in a row before the window drops to MIN_CWND */
/* Flow scaling: extra target from FS_RANGE at FS_MIN_CWND down to 0 at FS_MAX_CWND. */
#define FS_MIN_CWND 0.001
#define FS_MAX_CWND 100.0
#define FS_RANGE_OF_TARGET 1.0 /* flow scaling adds up to this many targets */

static double clampd(double v, double lo, double hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* Target delay for the current window and path (ns): the base, plus
 * hop_ns per link of the path (Swift's topology scaling: each link adds
 * serialisation and a queue that may legitimately hold a packet), plus
 * flow scaling. */
double tni_swift_target(const struct tni_cc *cc)
{
	const double base = (double)cc->p.target_ns + (double)cc->p.hops * (double)cc->p.hop_ns;
	const double range = FS_RANGE_OF_TARGET * (double)cc->p.target_ns;
	const double alpha = range / (1.0 / sqrt(FS_MIN_CWND) - 1.0 / sqrt(FS_MAX_CWND));
	const double beta = -alpha / sqrt(FS_MAX_CWND);
	double fs = clampd(alpha / sqrt(cc->st.swift.cwnd) + beta, 0, range);
	return base + fs;
}

static uint32_t swift_window(const struct tni_cc *cc)
{
	double w = cc->st.swift.cwnd;
	return w < 1.0 ? 1 : (uint32_t)w;
}

/* Below one packet: one packet every RTT / cwnd. Otherwise no pacing. */
static uint64_t swift_pacing_rate(const struct tni_cc *cc)
{
	double w = cc->st.swift.cwnd;
	if (w >= 1.0)
		return 0;
	double rtt = cc->st.swift.delay > 0 ? cc->st.swift.delay : 10000.0;
	double rate = w * (double)cc->p.mss * 1e9 / rtt;
	return rate < 1.0 ? 1 : (uint64_t)rate;
}

static void publish(struct tni_cc *cc)
{
	cc->window = swift_window(cc);
	cc->pace_bps = swift_pacing_rate(cc);
}

static void swift_init(struct tni_cc *cc)
{
	cc->st.swift.cwnd = INIT_CWND < cc->p.max_cwnd ? INIT_CWND : cc->p.max_cwnd;
	publish(cc);
}

static void rtt_update(struct tni_cc *cc, uint64_t fabric_rtt, uint64_t now)
{
	cc->st.swift.delay = (double)fabric_rtt;
	double target = tni_swift_target(cc);
	if (cc->st.swift.delay <= target)
		return; /* increases come with the acks */
	uint64_t since = now - cc->st.swift.last_decrease;
	if (cc->st.swift.last_decrease && since < (uint64_t)cc->st.swift.delay)
		return;
	double d = cc->st.swift.delay;
	double f = 1.0 - BETA * (d - target) / d;
	cc->st.swift.cwnd *= f > 1.0 - MAX_MDF ? f : 1.0 - MAX_MDF;
	cc->st.swift.cwnd = clampd(cc->st.swift.cwnd, MIN_CWND, cc->p.max_cwnd);
	cc->st.swift.last_decrease = now;
}

/* Every sample moves the delay, which the pacing rate follows. */
static void swift_on_rtt(struct tni_cc *cc, uint64_t rtt, uint64_t fabric_rtt, uint64_t now)
{
	(void)rtt;
	rtt_update(cc, fabric_rtt, now);
	publish(cc);
}

static void swift_on_ack(struct tni_cc *cc, uint32_t acked, uint64_t now)
{
	(void)now;
	cc->st.swift.timeouts = 0;
	if (cc->st.swift.delay > tni_swift_target(cc))
		return;
	double *w = &cc->st.swift.cwnd;
	if (*w >= 1.0)
		*w += AI * acked / *w; /* one packet per window of acks */
	else
		*w += AI_PACED * acked; /* paced: acks are sparse, grow per ack */
	*w = clampd(*w, MIN_CWND, cc->p.max_cwnd);
	publish(cc);
}

static void swift_on_loss(struct tni_cc *cc, uint64_t now)
{
	uint64_t rtt = (uint64_t)cc->st.swift.delay;
	if (cc->st.swift.last_decrease && now - cc->st.swift.last_decrease < rtt)
		return;
	cc->st.swift.cwnd = clampd(cc->st.swift.cwnd * (1.0 - MAX_MDF), MIN_CWND, cc->p.max_cwnd);
	cc->st.swift.last_decrease = now;
	publish(cc);
}

/* One timeout is one more loss; only a run of them means the path is gone
 * and resets the window (as the paper does). A single reset to MIN_CWND
 * would leave the flow one packet per thousand RTTs: measured, it starved
 * the flows that lost their first burst in an incast. */
static void swift_on_timeout(struct tni_cc *cc, uint64_t now)
{
	if (++cc->st.swift.timeouts >= RTO_RESET) {
		cc->st.swift.cwnd = MIN_CWND;
		cc->st.swift.last_decrease = now;
		publish(cc);
		return;
	}
	swift_on_loss(cc, now);
}

const struct tni_cc_ops tni_cc_swift_ops = {
	.name = "swift",
	.init = swift_init,
	.on_ack = swift_on_ack,
	.on_rtt = swift_on_rtt,
	.on_loss = swift_on_loss,
	.on_timeout = swift_on_timeout,
	.window = swift_window,
	.pacing_rate = swift_pacing_rate,
};
