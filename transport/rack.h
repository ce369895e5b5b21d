/* Loss detection over the scoreboard (RFC 8985, RACK-TLP):
 *  - time: a packet sent before the newest one delivered is lost once a
 *    round trip and a reordering window have passed since it left; until
 *    then a timer is wanted at that moment;
 *  - count: until reordering is seen, a first transmission with three
 *    packets SACKed above it is lost at once;
 *  - the reordering window: min_rtt / 4, one step wider per round trip in
 *    which the peer reports a duplicate (DSACK), back to one step after
 *    16 recoveries without one; never more than srtt;
 *  - the tail probe's timeout.
 * Work per call is what it marks lost plus one look at the next packet:
 * the time rule walks the send-time list from its oldest entry, the count
 * rule a cursor that only moves forward. */
#ifndef TNI_RACK_H
#define TNI_RACK_H

#include <stdbool.h>
#include <stdint.h>

#include "rtt.h"
#include "scoreboard.h"

#define TNI_RACK_DUP_THRESH 3
#define TNI_RACK_MAX_REO_MULT 64

struct tni_rack {
	uint64_t xmit_ns;  /* send time of the newest packet delivered (RACK.xmit_ts) */
	uint32_t xmit_psn; /* that packet, which orders sends in the same instant */
	uint64_t rtt_ns;   /* the round trip it measured (RACK.rtt) */
	bool have_xmit;
	uint32_t highest_sacked;
	bool have_sacked;
	uint32_t count_from; /* the count rule has looked at every psn below */
	uint32_t reo_mult, reo_quiet;
	uint32_t reo_round; /* snd_nxt when reo_mult last grew */
	bool reordering_seen;
};

/* What one detection pass found. */
struct tni_rack_result {
	uint32_t lost;       /* packets marked lost now */
	uint32_t first_lost; /* the lowest psn among them, if lost */
	uint64_t timeout_at; /* when the next packet would be lost by time; 0: none pending */
};

void tni_rack_init(struct tni_rack *r, uint32_t isn);
/* An ACK was applied to the scoreboard, now; it echoed our stamp
 * ts_echo (0: none). min_rtt: the path's least round trip so far. */
void tni_rack_on_ack(struct tni_rack *r, const struct tni_scoreboard *sb, const struct tni_sb_acked *a,
		     uint64_t ts_echo, uint64_t min_rtt, uint64_t now);
/* Whether an ACK's first SACK block reports a duplicate (RFC 2883): it
 * lies at or below the cumulative ack, or inside the second block. */
bool tni_rack_is_dsack(uint32_t cum, const struct tni_wire_sack *r, unsigned n);
/* Whether a duplicate the peer reported (of psn) was our resend on
 * RACK's guess: the original was only late, so the path reorders. A
 * duplicate the network made, or one of a probe or a timeout's resend
 * (an ack was lost, not a packet late), says nothing of reordering. */
bool tni_rack_dsack_shows_reordering(const struct tni_scoreboard *sb, uint32_t psn);
/* The peer reported a duplicate that shows reordering. */
void tni_rack_on_dsack(struct tni_rack *r, uint32_t snd_una, uint32_t snd_nxt);
/* A recovery began (one per round trip of losses). */
void tni_rack_on_recovery(struct tni_rack *r);
uint64_t tni_rack_reo_wnd(const struct tni_rack *r, const struct tni_rtt *rtt);
/* Mark what is lost, by time as of now and by count. */
void tni_rack_detect(struct tni_rack *r, struct tni_scoreboard *sb, const struct tni_rtt *rtt, uint64_t now,
		     struct tni_rack_result *out);
/* The tail probe's timeout: two smoothed round trips and the RTT's
 * variation, at least floor_ns. */
uint64_t tni_rack_pto(const struct tni_rtt *rtt, uint64_t floor_ns);

#endif
