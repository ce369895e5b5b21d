/* A hashed timer wheel: O(1) arm and cancel, timers embedded in their owner.
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
#define TERN_WHEEL_SLOTS 4096    /* one turn: 4.2 ms; later timers wait whole turns */

struct tern_timer;
typedef void (*tern_timer_fn)(struct tern_timer *t, uint64_t now);

struct tern_timer {
	struct tern_timer *next, **pprev; /* pprev NULL: not in the wheel */
	uint64_t expiry;                  /* where it sits in the wheel */
	uint64_t due;                     /* when it fires; 0: stopped */
	tern_timer_fn fn;
};

struct tern_timer_wheel {
	struct tern_timer *slot[TERN_WHEEL_SLOTS];
	uint64_t occupied[TERN_WHEEL_SLOTS / 64];
	uint64_t cur_tick;
	uint32_t count;
};

void tern_wheel_init(struct tern_timer_wheel *w, uint64_t now);
void tern_timer_init(struct tern_timer *t, tern_timer_fn fn);
/* (Re)arm t to fire at due (ns); a time in the past fires on the next
 * advance. Later than where t sits already: only due changes. */
void tern_timer_arm(struct tern_timer_wheel *w, struct tern_timer *t, uint64_t due);
/* t will not fire. It may stay in the wheel until its time passes, so its
 * memory must stay valid: before freeing it, use tern_timer_cancel. */
static inline void tern_timer_stop(struct tern_timer *t) { t->due = 0; }
/* t will not fire and is out of the wheel. */
void tern_timer_cancel(struct tern_timer_wheel *w, struct tern_timer *t);
static inline bool tern_timer_armed(const struct tern_timer *t) { return t->due != 0; }
/* Fire every timer with expiry <= now; returns how many fired. */
unsigned tern_wheel_advance(struct tern_timer_wheel *w, uint64_t now);
/* When the wheel next needs an advance, UINT64_MAX if no timer is armed:
 * the earliest time an armed timer fires or must be moved on. */
uint64_t tern_wheel_next(const struct tern_timer_wheel *w);

#endif
