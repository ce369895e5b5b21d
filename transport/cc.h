/* The congestion-control ops table (internal). Algorithms live in cc_*.c. */
#ifndef TERN_CC_INTERNAL_H
#define TERN_CC_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "tern/cc.h"

struct tni_cc;

struct tni_cc_ops {
	const char *name;
	void (*init)(struct tni_cc *cc);
	/* acked: packets newly acknowledged (cumulatively or by SACK). */
	void (*on_ack)(struct tni_cc *cc, uint32_t acked, uint64_t now);
	/* rtt: as the sender sees it; fabric_rtt: less the receiver's hold time. */
	void (*on_rtt)(struct tni_cc *cc, uint64_t rtt, uint64_t fabric_rtt, uint64_t now);
	/* Once per loss episode (one round trip of recovery). */
	void (*on_loss)(struct tni_cc *cc, uint64_t now);
	void (*on_timeout)(struct tni_cc *cc, uint64_t now);
	/* What the state allows: packets in flight, and bytes per second to
	 * pace at (0: send as the window allows). Every op above stores both
	 * in cc->window and cc->pace_bps before it returns, and the sender
	 * reads those; these two say what they must be. */
	uint32_t (*window)(const struct tni_cc *cc);
	uint64_t (*pacing_rate)(const struct tni_cc *cc);
};

struct tni_cc_params {
	uint32_t max_cwnd;        /* the session window: no algorithm goes beyond it */
	uint32_t mss;             /* bytes per full packet on the wire */
	uint64_t link_bps;        /* line rate */
	uint64_t target_ns;       /* Swift's base target delay; AIMD's ceiling is 4 of them */
	uint64_t hop_ns;          /* Swift's target per link of the path */
	uint32_t hops;            /* links of the path, learnt from the peer; 0 unknown */
};

struct tni_cc {
	const struct tni_cc_ops *ops;
	struct tni_cc_params p;
	/* Read by the sender on every packet: a load, not an indirect call. */
	uint32_t window;   /* packets that may be in flight */
	uint64_t pace_bps; /* bytes per second to pace at; 0: unpaced */
	union {
		struct {
			uint32_t cwnd, ssthresh, acc;
			uint64_t last_mark, mark_delay; /* the last delay mark (ns) */
		} aimd;
		struct {
			double cwnd;             /* packets; below 1 means paced */
			double delay;            /* the latest fabric RTT (ns) */
			uint64_t last_decrease;  /* at most one decrease per RTT */
			uint32_t timeouts;       /* in a row, without an ack between */
		} swift;
		struct {
			double rate;             /* bytes per second */
			double prev_rtt, rtt_diff;
			uint32_t hai;            /* consecutive falling RTT samples */
			uint64_t last_update;
		} timely;
		uint64_t raw[8];
	} st;
};

int tni_cc_init(struct tni_cc *cc, enum tern_cc_algo algo, const struct tni_cc_params *p);

static inline bool tni_cc_can_send(const struct tni_cc *cc, uint32_t inflight)
{
	return inflight < cc->window;
}

extern const struct tni_cc_ops tni_cc_aimd_ops;
extern const struct tni_cc_ops tni_cc_off_ops;
extern const struct tni_cc_ops tni_cc_timely_ops;
extern const struct tni_cc_ops tni_cc_swift_ops;

/* Swift's target delay for the current window, in ns (for tests and stats). */
double tni_swift_target(const struct tni_cc *cc);

#endif
