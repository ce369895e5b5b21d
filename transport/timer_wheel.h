/* A hashed timer wheel in two levels: O(1) arm and cancel, timers embedded
 * in their owner. The fine level holds what is due within one turn of it
 * (4.2 ms); later timers wait in the coarse level (4.2 ms a slot, 17 s a
 * turn; later still, in its last slot) and move to the fine level when
 * their coarse slot comes round, so a long timer (a keepalive, a dead-peer
 * check, an RPC deadline) is looked at once or twice, not once per turn.
 * Moving a timer later and stopping it are lazy: the hot path re-arms the
 * RTO, ack and deadline timers on every packet or call, and each would
 * otherwise unlink and relink. A timer sits in the wheel at the time it was
 * linked for (expiry); when that comes and its due time is later, it is
 * linked again for the due time; when it was stopped, it is dropped. */
#ifndef TERN_TIMER_WHEEL_H
#define TERN_TIMER_WHEEL_H

#include <stdbool.h>
#include <stdint.h>

#define TERN_WHEEL_TICK_SHIFT 10 /* 1.024 us per slot */
#define TERN_WHEEL_SLOTS 4096    /* one turn of the fine level: 4.2 ms */
#define TNI_WHEEL_L1_BITS 12     /* fine ticks per coarse tick: 2^12 */
#define TNI_WHEEL_L1_SLOTS 4096  /* one turn of the coarse level: 17.2 s */

struct tni_timer;
typedef void (*tni_timer_fn)(struct tni_timer *t, uint64_t now);

struct tni_timer {
	struct tni_timer *next, **pprev; /* pprev NULL: not in the wheel */
	uint64_t expiry;                  /* where it sits in the wheel */
	uint64_t due;                     /* when it fires; 0: stopped */
	tni_timer_fn fn;
};

struct tni_timer_wheel {
	struct tni_timer *slot[TERN_WHEEL_SLOTS];
	uint64_t occupied[TERN_WHEEL_SLOTS / 64];
	struct tni_timer *slot1[TNI_WHEEL_L1_SLOTS];
	uint64_t occupied1[TNI_WHEEL_L1_SLOTS / 64];
	uint64_t cur_tick;
	uint32_t count;
};

void tni_wheel_init(struct tni_timer_wheel *w, uint64_t now);
void tni_timer_init(struct tni_timer *t, tni_timer_fn fn);
/* (Re)arm t to fire at due (ns); a time in the past fires on the next
 * advance. Later than where t sits already: only due changes. */
void tni_timer_arm(struct tni_timer_wheel *w, struct tni_timer *t, uint64_t due);
/* t will not fire. It may stay in the wheel until its time passes, so its
 * memory must stay valid: before freeing it, use tni_timer_cancel. */
static inline void tni_timer_stop(struct tni_timer *t) { t->due = 0; }
/* t will not fire and is out of the wheel. */
void tni_timer_cancel(struct tni_timer_wheel *w, struct tni_timer *t);
static inline bool tni_timer_armed(const struct tni_timer *t) { return t->due != 0; }
/* Fire every timer with expiry <= now; returns how many fired. */
unsigned tni_wheel_advance(struct tni_timer_wheel *w, uint64_t now);
/* When the wheel next needs an advance, UINT64_MAX if no timer is armed:
 * the earliest time an armed timer fires or must be moved on (from where
 * it sits to a later due time, or down from the coarse level); at most a
 * tick (1.024 us) after the earliest. */
uint64_t tni_wheel_next(const struct tni_timer_wheel *w);

#endif
