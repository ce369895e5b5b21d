#include "rack.h"

#define MIN_REO_WND_NS 1000
/* 16 recoveries without a reported duplicate: the reordering that widened
 * the window has passed (RFC 8985, 6.2). */
#define REO_DECAY_RECOVERIES 16

void tni_rack_init(struct tni_rack *r, uint32_t isn)
{
	*r = (struct tni_rack){ .count_from = isn, .reo_mult = 1, .reo_round = isn };
}

/* a sent after b: later, or in the same instant with a higher psn. */
static bool sent_after(uint64_t ta, uint32_t pa, uint64_t tb, uint32_t pb)
{
	return ta > tb || (ta == tb && tni_seq_diff(pa, pb) > 0);
}

void tni_rack_on_ack(struct tni_rack *r, const struct tni_scoreboard *sb, const struct tni_sb_acked *a,
		     uint64_t ts_echo, uint64_t min_rtt, uint64_t now)
{
	uint64_t rtt = now > a->newest_sent ? now - a->newest_sent : 0;
	/* A retransmission's ack may be the original's (RFC 8985, 6.2 step
	 * 2): believed only if the echoed stamp, or the round trip, says it
	 * answers the resend. */
	bool ambiguous = a->newly && tni_sb_at(sb, a->newest_psn)->retx &&
			 ((ts_echo && ts_echo < a->newest_sent) || rtt < min_rtt);
	if (a->newly && !ambiguous &&
	    (!r->have_xmit || sent_after(a->newest_sent, a->newest_psn, r->xmit_ns, r->xmit_psn))) {
		r->xmit_ns = a->newest_sent;
		r->xmit_psn = a->newest_psn;
		r->rtt_ns = rtt;
		r->have_xmit = true;
	}
	if (a->sacked && (!r->have_sacked || tni_seq_diff(a->highest, r->highest_sacked) > 0)) {
		r->highest_sacked = a->highest;
		r->have_sacked = true;
	}
	if (r->have_sacked && tni_seq_diff(r->highest_sacked, sb->una) < 0)
		r->have_sacked = false;
}

bool tni_rack_is_dsack(uint32_t cum, const struct tni_wire_sack *r, unsigned n)
{
	if (n == 0)
		return false;
	if (tni_seq_diff(r[0].end, cum) <= 0)
		return true;
	return n > 1 && tni_seq_diff(r[0].start, r[1].start) >= 0 && tni_seq_diff(r[0].end, r[1].end) <= 0;
}

bool tni_rack_dsack_shows_reordering(const struct tni_scoreboard *sb, uint32_t psn)
{
	const struct tni_sb_entry *e = tni_sb_recent(sb, psn);
	return e && e->retx && e->guessed;
}

void tni_rack_on_dsack(struct tni_rack *r, uint32_t snd_una, uint32_t snd_nxt)
{
	r->reordering_seen = true;
	r->reo_quiet = 0;
	/* One step per round trip: the duplicates of one episode arrive
	 * together and say one thing. */
	if (tni_seq_diff(snd_una, r->reo_round) >= 0 && r->reo_mult < TNI_RACK_MAX_REO_MULT) {
		r->reo_mult *= 2;
		r->reo_round = snd_nxt;
	}
}

void tni_rack_on_recovery(struct tni_rack *r)
{
	if (r->reo_mult > 1 && ++r->reo_quiet >= REO_DECAY_RECOVERIES) {
		r->reo_mult = 1;
		r->reo_quiet = 0;
	}
}

uint64_t tni_rack_reo_wnd(const struct tni_rack *r, const struct tni_rtt *rtt)
{
	if (!rtt->has_sample)
		return MIN_REO_WND_NS;
	uint64_t w = rtt->min_rtt / 4 * r->reo_mult;
	if (w > rtt->srtt && r->reo_mult == 1)
		w = rtt->srtt;
	return w < MIN_REO_WND_NS ? MIN_REO_WND_NS : w;
}

static void lost(struct tni_scoreboard *sb, uint32_t psn, struct tni_rack_result *out)
{
	tni_sb_mark_lost(sb, psn, true);
	if (!out->lost || tni_seq_diff(psn, out->first_lost) < 0)
		out->first_lost = psn;
	out->lost++;
}

void tni_rack_detect(struct tni_rack *r, struct tni_scoreboard *sb, const struct tni_rtt *rtt, uint64_t now,
		     struct tni_rack_result *out)
{
	*out = (struct tni_rack_result){ 0 };
	/* Count: first sends only, since a retransmission's place in psn
	 * order says nothing of when it left. */
	if (tni_seq_diff(r->count_from, sb->una) < 0)
		r->count_from = sb->una;
	if (!r->reordering_seen && r->have_sacked) {
		while (tni_seq_diff(r->highest_sacked, r->count_from) >= TNI_RACK_DUP_THRESH) {
			struct tni_sb_entry *e = tni_sb_at(sb, r->count_from);
			if (e->state == TNI_SB_INFLIGHT && !e->retx)
				lost(sb, r->count_from, out);
			r->count_from++;
		}
	}
	if (!r->have_xmit || !tni_sb_inflight(sb))
		return;
	uint64_t wait = r->rtt_ns + tni_rack_reo_wnd(r, rtt);
	while (tni_sb_inflight(sb)) {
		uint32_t psn = tni_sb_oldest(sb);
		struct tni_sb_entry *e = tni_sb_at(sb, psn);
		if (!sent_after(r->xmit_ns, r->xmit_psn, e->sent_ns, psn))
			return; /* this and all after it left after the newest delivered */
		if (e->sent_ns + wait > now) {
			out->timeout_at = e->sent_ns + wait;
			return;
		}
		lost(sb, psn, out);
	}
}

uint64_t tni_rack_pto(const struct tni_rtt *rtt, uint64_t floor_ns)
{
	uint64_t pto = 2 * rtt->srtt + rtt->rttvar;
	return pto < floor_ns ? floor_ns : pto;
}
