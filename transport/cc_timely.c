/* Timely (Mittal et al., SIGCOMM 2015): a sending rate steered by the RTT
 * gradient, with the parameters eRPC tuned (Kalia et al., NSDI 2019): a
 * slow EWMA of RTT differences, the gradient normalised by a fixed 1 us
 * (not by a measured minimum, which an incast that starts congested never
 * sees), and no update below half the rate. Every sample feeds the EWMA;
 * the rate itself moves at most once per RTT, as in the paper. The rate is enforced by pacing; a session at line
 * rate is not paced at all (eRPC's bypass). */
#include "cc.h"

#define EWMA_ALPHA 0.02
#define BETA 0.8
#define NORM_RTT_NS 1000.0   /* the gradient's unit */
#define T_LOW_NS 50000.0
#define T_HIGH_NS 1000000.0
#define ADD_RATE 5e6         /* bytes per second */
#define HAI_THRESH 5         /* hyperactive increase after this many */
#define MIN_RATE 5e6         /* bytes per second */

static double link_rate(const struct tni_cc *cc)
{
	return (double)cc->p.link_bps / 8.0;
}

/* What the rate sends in T_low: even unpaced at line rate, a session never
 * puts more in flight than would stay under T_low (eRPC bounds it with a
 * few credits per session). A full 256-packet window builds bursts long
 * enough to halve the rate again and again (docs/congestion.md). */
static uint32_t timely_window(const struct tni_cc *cc)
{
	double w = cc->st.timely.rate * T_LOW_NS / 1e9 / (double)cc->p.mss;
	return w < 2 ? 2 : w > cc->p.max_cwnd ? cc->p.max_cwnd : (uint32_t)w;
}

static uint64_t timely_pacing_rate(const struct tni_cc *cc)
{
	return cc->st.timely.rate >= link_rate(cc) ? 0 : (uint64_t)cc->st.timely.rate;
}

static void publish(struct tni_cc *cc)
{
	cc->window = timely_window(cc);
	cc->pace_bps = timely_pacing_rate(cc);
}

static void timely_init(struct tni_cc *cc)
{
	cc->st.timely.rate = link_rate(cc);
	publish(cc);
}

/* The update rules, on every RTT sample. */
static void timely_on_rtt(struct tni_cc *cc, uint64_t rtt_ns, uint64_t fabric_rtt, uint64_t now)
{
	(void)rtt_ns;
	double rtt = (double)fabric_rtt;
	if (cc->st.timely.prev_rtt == 0)
		cc->st.timely.prev_rtt = rtt;
	double diff = rtt - cc->st.timely.prev_rtt;
	cc->st.timely.hai = diff < 0 ? cc->st.timely.hai + 1 : 0;
	cc->st.timely.rtt_diff = (1 - EWMA_ALPHA) * cc->st.timely.rtt_diff + EWMA_ALPHA * diff;
	double gradient = cc->st.timely.rtt_diff / NORM_RTT_NS;
	cc->st.timely.prev_rtt = rtt;
	/* The rate moves at most once per RTT: every ack in a burst sees the
	 * same queue, and acting on each one halved the rate again and again
	 * (measured: two flows held a third of the link). */
	if (cc->st.timely.last_update && (double)(now - cc->st.timely.last_update) < rtt)
		return;
	double delta = 1.0;
	double r = cc->st.timely.rate, nr;
	if (rtt < T_LOW_NS)
		nr = r + ADD_RATE * delta;
	else if (rtt > T_HIGH_NS)
		nr = r * (1 - delta * BETA * (1 - T_HIGH_NS / rtt));
	else if (gradient <= 0)
		nr = r + (cc->st.timely.hai >= HAI_THRESH ? HAI_THRESH : 1) * ADD_RATE * delta;
	else
		nr = r * (1 - delta * BETA * gradient);
	cc->st.timely.last_update = now;
	r = nr > r * 0.5 ? nr : r * 0.5;
	if (r > link_rate(cc))
		r = link_rate(cc);
	if (r < MIN_RATE)
		r = MIN_RATE;
	cc->st.timely.rate = r;
	publish(cc);
}

static void timely_on_ack(struct tni_cc *cc, uint32_t acked, uint64_t now)
{
	(void)cc;
	(void)acked;
	(void)now;
}

/* Timely reacts to delay alone, as published and as eRPC runs it: a
 * random loss must not throttle a flow: cutting the rate per loss left
 * little of the link under random loss (docs/congestion.md). */
static void timely_on_loss(struct tni_cc *cc, uint64_t now)
{
	(void)cc;
	(void)now;
}

static void timely_on_timeout(struct tni_cc *cc, uint64_t now)
{
	(void)cc;
	(void)now;
}

const struct tni_cc_ops tni_cc_timely_ops = {
	.name = "timely",
	.init = timely_init,
	.on_ack = timely_on_ack,
	.on_rtt = timely_on_rtt,
	.on_loss = timely_on_loss,
	.on_timeout = timely_on_timeout,
	.window = timely_window,
	.pacing_rate = timely_pacing_rate,
};
