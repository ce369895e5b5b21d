/* The congestion-control ops table (internal). Algorithms live in cc_*.c. */
#ifndef TERN_CC_INTERNAL_H
#define TERN_CC_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "tern/cc.h"

struct tern_cc;

struct tern_cc_ops {
	const char *name;
	void (*init)(struct tern_cc *cc);
	/* acked: packets newly acknowledged (cumulatively or by SACK). */
	void (*on_ack)(struct tern_cc *cc, uint32_t acked, uint64_t now);
	/* rtt: as the sender sees it; fabric_rtt: less the receiver's hold time. */
	void (*on_rtt)(struct tern_cc *cc, uint64_t rtt, uint64_t fabric_rtt, uint64_t now);
	/* Once per loss episode (one round trip of recovery). */
	void (*on_loss)(struct tern_cc *cc, uint64_t now);
	void (*on_timeout)(struct tern_cc *cc, uint64_t now);
	bool (*can_send)(const struct tern_cc *cc, uint32_t inflight);
	/* Bytes per second to pace at; 0: send as the window allows. */
	uint64_t (*pacing_rate)(const struct tern_cc *cc);
};

struct tern_cc {
	const struct tern_cc_ops *ops;
	uint32_t max_cwnd; /* the session window: no algorithm goes beyond it */
	union {
		struct { uint32_t cwnd, ssthresh, acc; } aimd;
		uint64_t raw[8];
	} st;
};

int tern_cc_init(struct tern_cc *cc, enum tern_cc_algo algo, uint32_t max_cwnd);

extern const struct tern_cc_ops tern_cc_aimd_ops;
extern const struct tern_cc_ops tern_cc_off_ops;

#endif
