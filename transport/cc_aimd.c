/* AIMD with slow start (NewReno-like), counted in packets.
 *
 * The congestion signal is a loss, or a fabric delay over a ceiling of
 * CEILING_TARGETS targets: the mark a switch's ECN would give, for paths
 * (kernel UDP, most NICs) where tern has none. Loss alone lets AIMD fill
 * any tail-drop queue before it backs off: on a tbf bottleneck with 16 ms
 * of buffer its latency was as high as no congestion control at all. */
#include "cc.h"

#define INIT_CWND 10
#define MIN_CWND 2
#define CEILING_TARGETS 4

static uint32_t aimd_window(const struct tni_cc *cc)
{
	return cc->st.aimd.cwnd;
}

static void publish(struct tni_cc *cc)
{
	cc->window = aimd_window(cc);
}

static void aimd_init(struct tni_cc *cc)
{
	cc->st.aimd.cwnd = INIT_CWND < cc->p.max_cwnd ? INIT_CWND : cc->p.max_cwnd;
	cc->st.aimd.ssthresh = cc->p.max_cwnd;
	cc->st.aimd.acc = 0;
	publish(cc);
}

static void aimd_on_ack(struct tni_cc *cc, uint32_t acked, uint64_t now)
{
	(void)now;
	uint32_t *cwnd = &cc->st.aimd.cwnd;
	while (acked && *cwnd < cc->p.max_cwnd) {
		if (*cwnd < cc->st.aimd.ssthresh) {
			(*cwnd)++; /* slow start: one per acked packet */
		} else if (++cc->st.aimd.acc >= *cwnd) {
			cc->st.aimd.acc = 0; /* one per window of acks */
			(*cwnd)++;
		}
		acked--;
	}
	publish(cc);
}

static void halve(struct tni_cc *cc)
{
	uint32_t half = cc->st.aimd.cwnd / 2;
	cc->st.aimd.ssthresh = half > MIN_CWND ? half : MIN_CWND;
	cc->st.aimd.cwnd = cc->st.aimd.ssthresh;
	cc->st.aimd.acc = 0;
	publish(cc);
}

/* The fabric delay, not the RTT: a receiver slow to answer is not a
 * congested network. */
static void aimd_on_rtt(struct tni_cc *cc, uint64_t rtt, uint64_t fabric_rtt, uint64_t now)
{
	(void)rtt;
	if (fabric_rtt <= CEILING_TARGETS * cc->p.target_ns)
		return;
	if (cc->st.aimd.last_mark && now - cc->st.aimd.last_mark < cc->st.aimd.mark_delay)
		return; /* at most once per round trip */
	halve(cc);
	cc->st.aimd.last_mark = now;
	cc->st.aimd.mark_delay = fabric_rtt;
}

static void aimd_on_loss(struct tni_cc *cc, uint64_t now)
{
	(void)now;
	halve(cc);
}

static void aimd_on_timeout(struct tni_cc *cc, uint64_t now)
{
	(void)now;
	uint32_t half = cc->st.aimd.cwnd / 2;
	cc->st.aimd.ssthresh = half > MIN_CWND ? half : MIN_CWND;
	cc->st.aimd.cwnd = 1;
	cc->st.aimd.acc = 0;
	publish(cc);
}

static uint64_t aimd_rate(const struct tni_cc *cc)
{
	(void)cc;
	return 0;
}

const struct tni_cc_ops tni_cc_aimd_ops = {
	.name = "aimd",
	.init = aimd_init,
	.on_ack = aimd_on_ack,
	.on_rtt = aimd_on_rtt,
	.on_loss = aimd_on_loss,
	.on_timeout = aimd_on_timeout,
	.window = aimd_window,
	.pacing_rate = aimd_rate,
};
