/* A hashed timer wheel: O(1) arm and cancel, timers embedded in their owner. */
#ifndef TERN_TIMER_WHEEL_H
#define TERN_TIMER_WHEEL_H

#include <stdbool.h>
#include <stdint.h>

#define TERN_WHEEL_TICK_SHIFT 10 /* 1.024 us per slot */
#define TERN_WHEEL_SLOTS 4096    /* one turn: 4.2 ms; later timers wait whole turns */

struct tern_timer;
typedef void (*tern_timer_fn)(struct tern_timer *t, uint64_t now);

struct tern_timer {
	struct tern_timer *next, **pprev; /* pprev NULL: not armed */
	uint64_t expiry;
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
/* (Re)arm t to fire at expiry (ns); a time in the past fires on the next advance. */
void tern_timer_arm(struct tern_timer_wheel *w, struct tern_timer *t, uint64_t expiry);
void tern_timer_cancel(struct tern_timer_wheel *w, struct tern_timer *t);
static inline bool tern_timer_armed(const struct tern_timer *t) { return t->pprev != 0; }
/* Fire every timer with expiry <= now; returns how many fired. */
unsigned tern_wheel_advance(struct tern_timer_wheel *w, uint64_t now);
/* Earliest expiry of an armed timer, UINT64_MAX if none. */
uint64_t tern_wheel_next(const struct tern_timer_wheel *w);

#endif
