#include "scoreboard.h"

static void list_append(struct tni_scoreboard *sb, struct tni_sb_list *l, uint32_t psn)
{
	struct tni_sb_entry *e = tni_sb_at(sb, psn);
	if (l->n == 0) {
		l->head = psn;
	} else {
		tni_sb_at(sb, l->tail)->next = psn;
		e->prev = l->tail;
	}
	l->tail = psn;
	l->n++;
}

static void list_unlink(struct tni_scoreboard *sb, struct tni_sb_list *l, uint32_t psn)
{
	struct tni_sb_entry *e = tni_sb_at(sb, psn);
	if (l->n == 1) {
		/* the only one */
	} else if (psn == l->head) {
		l->head = e->next;
	} else if (psn == l->tail) {
		l->tail = e->prev;
	} else {
		tni_sb_at(sb, e->prev)->next = e->next;
		tni_sb_at(sb, e->next)->prev = e->prev;
	}
	l->n--;
}

void tni_sb_init(struct tni_scoreboard *sb, struct tni_sb_entry *entries, uint32_t mask, uint32_t isn)
{
	*sb = (struct tni_scoreboard){ .e = entries, .mask = mask, .una = isn, .nxt = isn };
}

uint32_t tni_sb_push(struct tni_scoreboard *sb, void *msg, uint32_t off, uint16_t len, uint64_t now)
{
	uint32_t psn = sb->nxt++;
	*tni_sb_at(sb, psn) = (struct tni_sb_entry){
		.msg = msg, .sent_ns = now, .off = off, .len = len, .state = TNI_SB_INFLIGHT,
	};
	list_append(sb, &sb->sent, psn);
	return psn;
}

void tni_sb_resend(struct tni_scoreboard *sb, uint32_t psn, uint64_t now)
{
	struct tni_sb_entry *e = tni_sb_at(sb, psn);
	list_unlink(sb, e->state == TNI_SB_LOST ? &sb->lost : &sb->sent, psn);
	if (e->state == TNI_SB_INFLIGHT)
		e->guessed = 0; /* a probe */
	e->state = TNI_SB_INFLIGHT;
	e->sent_ns = now;
	if (e->retx < 127)
		e->retx++;
	list_append(sb, &sb->sent, psn);
}

void tni_sb_mark_lost(struct tni_scoreboard *sb, uint32_t psn, bool guessed)
{
	list_unlink(sb, &sb->sent, psn);
	tni_sb_at(sb, psn)->state = TNI_SB_LOST;
	tni_sb_at(sb, psn)->guessed = guessed;
	list_append(sb, &sb->lost, psn);
}

const struct tni_sb_entry *tni_sb_recent(const struct tni_scoreboard *sb, uint32_t psn)
{
	if (!sb->e || tni_seq_diff(psn, sb->nxt) >= 0 || sb->nxt - psn > sb->mask + 1)
		return NULL;
	return tni_sb_at(sb, psn);
}

void tni_sb_unlose(struct tni_scoreboard *sb, uint32_t psn)
{
	struct tni_sb_entry *e = tni_sb_at(sb, psn);
	list_unlink(sb, &sb->lost, psn);
	e->state = TNI_SB_INFLIGHT;
	/* Before the first packet sent after it. */
	uint32_t at = sb->sent.head;
	uint32_t i;
	for (i = 0; i < sb->sent.n && tni_sb_at(sb, at)->sent_ns <= e->sent_ns; i++)
		at = tni_sb_at(sb, at)->next;
	if (i == sb->sent.n) {
		list_append(sb, &sb->sent, psn);
		return;
	}
	struct tni_sb_entry *a = tni_sb_at(sb, at);
	e->next = at;
	if (at == sb->sent.head) {
		sb->sent.head = psn;
	} else {
		e->prev = a->prev;
		tni_sb_at(sb, a->prev)->next = psn;
	}
	a->prev = psn;
	sb->sent.n++;
}

static void take(struct tni_scoreboard *sb, uint32_t psn, struct tni_sb_acked *out)
{
	struct tni_sb_entry *e = tni_sb_at(sb, psn);
	sb->steps++;
	if (e->state == TNI_SB_INFLIGHT)
		list_unlink(sb, &sb->sent, psn);
	else if (e->state == TNI_SB_LOST)
		list_unlink(sb, &sb->lost, psn);
	else
		return;
	if (!out->newly || e->sent_ns >= out->newest_sent) {
		out->newest_sent = e->sent_ns;
		out->newest_psn = psn;
	}
	out->newly++;
	e->state = TNI_SB_SACKED;
	e->next = psn + 1;
}

/* The first psn at or above psn, below end, that is not SACKED (or end).
 * Every SACKed entry passed on the way is pointed at it, so the next
 * search skips the whole run at once. */
static uint32_t skip_sacked(struct tni_scoreboard *sb, uint32_t psn, uint32_t end)
{
	uint32_t q = psn;
	while (tni_seq_diff(q, end) < 0 && tni_sb_at(sb, q)->state == TNI_SB_SACKED) {
		q = tni_sb_at(sb, q)->next;
		sb->steps++;
	}
	if (tni_seq_diff(q, end) > 0)
		q = end;
	while (tni_seq_diff(psn, q) < 0) {
		struct tni_sb_entry *e = tni_sb_at(sb, psn);
		uint32_t n = e->next;
		e->next = q;
		psn = n;
	}
	return q;
}

void tni_sb_ack(struct tni_scoreboard *sb, uint32_t cum, const struct tni_wire_sack *r, unsigned n,
		struct tni_sb_acked *out)
{
	*out = (struct tni_sb_acked){ 0 };
	/* Each packet is passed once in its life, whatever ACKs say. */
	while (tni_seq_diff(cum, sb->una) > 0) {
		take(sb, sb->una, out);
		sb->una++;
	}
	for (unsigned i = 0; i < n; i++) {
		uint32_t start = r[i].start, end = r[i].end;
		if (tni_seq_diff(end, start) <= 0)
			continue;
		if (tni_seq_diff(start, sb->una) < 0)
			start = sb->una;
		if (tni_seq_diff(end, sb->nxt) > 0)
			end = sb->nxt;
		if (tni_seq_diff(end, start) <= 0)
			continue;
		uint32_t psn = start;
		while (tni_seq_diff(psn, end) < 0) {
			if (tni_sb_at(sb, psn)->state == TNI_SB_SACKED) {
				psn = skip_sacked(sb, psn, end);
				continue;
			}
			take(sb, psn, out);
			psn++;
		}
		/* The block's first entry points past it: the same block again,
		 * as every ACK until the hole below fills repeats it, is one step. */
		tni_sb_at(sb, start)->next = end;
		if (!out->sacked || tni_seq_diff(end - 1, out->highest) > 0)
			out->highest = end - 1;
		out->sacked = true;
	}
}
