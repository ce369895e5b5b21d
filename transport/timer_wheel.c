#include "timer_wheel.h"

#include <string.h>

#define MASK (TERN_WHEEL_SLOTS - 1)
#define MASK1 (TNI_WHEEL_L1_SLOTS - 1)
#define L1 TNI_WHEEL_L1_BITS

void tni_wheel_init(struct tni_timer_wheel *w, uint64_t now)
{
	memset(w, 0, sizeof(*w));
	w->cur_tick = now >> TERN_WHEEL_TICK_SHIFT;
}

void tni_timer_init(struct tni_timer *t, tni_timer_fn fn)
{
	t->next = 0;
	t->pprev = 0;
	t->expiry = 0;
	t->due = 0;
	t->fn = fn;
}

static void list_push(struct tni_timer **head, struct tni_timer *t)
{
	t->next = *head;
	if (t->next)
		t->next->pprev = &t->next;
	*head = t;
	t->pprev = head;
}

static void list_unlink(struct tni_timer *t)
{
	*t->pprev = t->next;
	if (t->next)
		t->next->pprev = t->pprev;
	t->next = 0;
	t->pprev = 0;
}

static void insert(struct tni_timer_wheel *w, struct tni_timer *t)
{
	uint64_t tick = t->expiry >> TERN_WHEEL_TICK_SHIFT;
	if (tick < w->cur_tick)
		tick = w->cur_tick;
	w->count++;
	if (tick - w->cur_tick < TERN_WHEEL_SLOTS) {
		unsigned s = tick & MASK;
		list_push(&w->slot[s], t);
		w->occupied[s / 64] |= 1ull << (s % 64);
		return;
	}
	/* A turn or more away: the coarse level, at most a coarse turn ahead. */
	uint64_t t1 = tick >> L1, c1 = w->cur_tick >> L1;
	if (t1 - c1 >= TNI_WHEEL_L1_SLOTS)
		t1 = c1 + TNI_WHEEL_L1_SLOTS - 1;
	unsigned s = t1 & MASK1;
	list_push(&w->slot1[s], t);
	w->occupied1[s / 64] |= 1ull << (s % 64);
}

static void slot_check_empty(struct tni_timer_wheel *w, unsigned s)
{
	if (!w->slot[s])
		w->occupied[s / 64] &= ~(1ull << (s % 64));
}

/* The slot a timer sits in, found from where its list ends. */
static void remove_armed(struct tni_timer_wheel *w, struct tni_timer *t)
{
	struct tni_timer **pp = t->pprev;
	list_unlink(t);
	w->count--;
	/* pp points into a slot array when t was first in its slot. */
	if (pp >= &w->slot[0] && pp < &w->slot[TERN_WHEEL_SLOTS]) {
		slot_check_empty(w, (unsigned)(pp - &w->slot[0]));
	} else if (pp >= &w->slot1[0] && pp < &w->slot1[TNI_WHEEL_L1_SLOTS]) {
		unsigned s = (unsigned)(pp - &w->slot1[0]);
		if (!w->slot1[s])
			w->occupied1[s / 64] &= ~(1ull << (s % 64));
	}
}

void tni_timer_arm(struct tni_timer_wheel *w, struct tni_timer *t, uint64_t due)
{
	t->due = due ? due : 1;
	if (t->pprev) {
		if (t->expiry <= t->due)
			return; /* the wheel reaches it first and moves it on */
		remove_armed(w, t);
	}
	t->expiry = t->due;
	insert(w, t);
}

void tni_timer_cancel(struct tni_timer_wheel *w, struct tni_timer *t)
{
	t->due = 0;
	if (t->pprev)
		remove_armed(w, t);
}

static unsigned run_slot(struct tni_timer_wheel *w, unsigned s, uint64_t now)
{
	unsigned fired = 0;
	/* Detach the slot so that callbacks can arm and cancel freely: a timer
	 * re-armed into this slot waits for the next advance. */
	struct tni_timer *pending = w->slot[s];
	w->slot[s] = 0;
	w->occupied[s / 64] &= ~(1ull << (s % 64));
	if (pending)
		pending->pprev = &pending;
	while (pending) {
		struct tni_timer *t = pending;
		list_unlink(t);
		if (t->expiry > now) { /* a later turn */
			list_push(&w->slot[s], t);
			w->occupied[s / 64] |= 1ull << (s % 64);
			continue;
		}
		w->count--;
		if (!t->due)
			continue; /* stopped */
		if (t->due > now) { /* moved later since it was linked */
			t->expiry = t->due;
			insert(w, t);
			continue;
		}
		t->due = 0;
		t->fn(t, now);
		fired++;
	}
	return fired;
}

/* The distance from the current tick to the first occupied slot at d or
 * after, reading the bitmap a word at a time; >= limit if none before it. */
static uint64_t next_occupied(const struct tni_timer_wheel *w, uint64_t d, uint64_t limit)
{
	while (d < limit) {
		unsigned s = (w->cur_tick + d) & MASK;
		uint64_t word = w->occupied[s / 64] >> (s % 64);
		if (word)
			return d + (uint64_t)__builtin_ctzll(word);
		d += 64 - (s % 64);
	}
	return d;
}

unsigned tni_wheel_advance(struct tni_timer_wheel *w, uint64_t now)
{
	uint64_t target = now >> TERN_WHEEL_TICK_SHIFT;
	if (target < w->cur_tick)
		return 0;
	/* Most polls stay within one tick: one bit says whether to look. */
	unsigned cur = w->cur_tick & MASK;
	if (target == w->cur_tick && !(w->occupied[cur / 64] >> (cur % 64) & 1))
		return 0;
	unsigned fired = 0;
	uint64_t span = target - w->cur_tick + 1;
	if (span > TERN_WHEEL_SLOTS)
		span = TERN_WHEEL_SLOTS;
	/* Visit only occupied slots. */
	for (uint64_t d = 0; w->count && (d = next_occupied(w, d, span)) < span; d++)
		fired += run_slot(w, (w->cur_tick + d) & MASK, now);
	uint64_t c1_old = w->cur_tick >> L1, c1_new = target >> L1;
	/* Stay on the target tick: timers later within it are seen next time. */
	w->cur_tick = target;
	if (c1_new == c1_old)
		return fired;
	/* Coarse slots whose time came: their timers go down to the fine
	 * level (or, parked beyond a coarse turn, back up), and those due
	 * already fire now. */
	uint64_t n = c1_new - c1_old;
	if (n > TNI_WHEEL_L1_SLOTS)
		n = TNI_WHEEL_L1_SLOTS;
	for (uint64_t i = 1; i <= n; i++) {
		unsigned s = (c1_old + i) & MASK1;
		struct tni_timer *pending = w->slot1[s];
		if (!pending)
			continue;
		w->slot1[s] = 0;
		w->occupied1[s / 64] &= ~(1ull << (s % 64));
		pending->pprev = &pending;
		while (pending) {
			struct tni_timer *t = pending;
			list_unlink(t);
			w->count--;
			if (!t->due)
				continue; /* stopped */
			if (t->due > t->expiry)
				t->expiry = t->due;
			insert(w, t);
		}
	}
	fired += run_slot(w, target & MASK, now);
	return fired;
}

uint64_t tni_wheel_next(const struct tni_timer_wheel *w)
{
	if (!w->count)
		return UINT64_MAX;
	/* The fine level holds less than a turn: its first slot with a live
	 * timer has the earliest, within the slot's tick. A slot may hold
	 * thousands (every session's handshake timer, armed in one poll): the
	 * first few live ones are read, not all, so the answer may be up to a
	 * tick after the earliest, the wheel's own granularity. */
	for (uint64_t d = 0; (d = next_occupied(w, d, TERN_WHEEL_SLOTS)) < TERN_WHEEL_SLOTS; d++) {
		uint64_t best = UINT64_MAX;
		unsigned live = 0;
		for (const struct tni_timer *t = w->slot[(w->cur_tick + d) & MASK]; t && live < 16; t = t->next)
			if (t->due) { /* stopped ones are dropped when the wheel passes */
				live++;
				if (t->expiry < best)
					best = t->expiry;
			}
		if (best != UINT64_MAX)
			return best;
	}
	/* Else the first coarse slot: when it comes round, its timers move down. */
	uint64_t c1 = w->cur_tick >> L1;
	for (uint64_t d = 1; d <= TNI_WHEEL_L1_SLOTS; d++) {
		unsigned s = (c1 + d) & MASK1;
		uint64_t word = w->occupied1[s / 64] >> (s % 64);
		if (!word) {
			d += 63 - (s % 64);
			continue;
		}
		d += (uint64_t)__builtin_ctzll(word);
		return ((c1 + d) << L1) << TERN_WHEEL_TICK_SHIFT;
	}
	return UINT64_MAX;
}
