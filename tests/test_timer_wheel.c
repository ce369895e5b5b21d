#include <criterion/criterion.h>

#include "util/rng.h"
#include "transport/timer_wheel.h"

#define container_of(p, type, member) ((type *)((char *)(p) - offsetof(type, member)))

struct probe {
	struct tni_timer t;
	uint64_t fired_at;
	int fired;
	struct tni_timer_wheel *w;
	struct probe *cancel_me;
	uint64_t rearm_to;
};

static void on_fire(struct tni_timer *t, uint64_t now)
{
	struct probe *p = container_of(t, struct probe, t);
	p->fired++;
	p->fired_at = now;
	if (p->cancel_me)
		tni_timer_cancel(p->w, &p->cancel_me->t);
	if (p->rearm_to) {
		uint64_t to = p->rearm_to;
		p->rearm_to = 0;
		tni_timer_arm(p->w, t, to);
	}
}

static struct tni_timer_wheel w;

Test(timer_wheel, fires_once_never_early)
{
	tni_wheel_init(&w, 1000000);
	struct probe p = { .w = &w };
	tni_timer_init(&p.t, on_fire);
	tni_timer_arm(&w, &p.t, 1000000 + 5000);
	for (uint64_t now = 1000000; now < 1000000 + 5000; now += 100) {
		tni_wheel_advance(&w, now);
		cr_assert_eq(p.fired, 0, "fired early at %llu", (unsigned long long)now);
	}
	cr_assert_eq(tni_wheel_next(&w), 1005000);
	cr_assert_eq(tni_wheel_advance(&w, 1005000), 1);
	cr_assert_eq(p.fired, 1);
	cr_assert_eq(tni_wheel_advance(&w, 2000000), 0);
	cr_assert_eq(tni_wheel_next(&w), UINT64_MAX);
}

Test(timer_wheel, cancel_and_rearm)
{
	tni_wheel_init(&w, 0);
	struct probe a = { .w = &w }, b = { .w = &w };
	tni_timer_init(&a.t, on_fire);
	tni_timer_init(&b.t, on_fire);
	tni_timer_arm(&w, &a.t, 10000);
	tni_timer_arm(&w, &b.t, 10000);
	tni_timer_cancel(&w, &a.t);
	tni_timer_cancel(&w, &a.t); /* twice is harmless */
	tni_timer_arm(&w, &b.t, 50000); /* moves, not duplicates */
	tni_wheel_advance(&w, 40000);
	cr_assert_eq(a.fired + b.fired, 0);
	tni_wheel_advance(&w, 60000);
	cr_assert_eq(b.fired, 1);
	cr_assert_eq(a.fired, 0);
}

Test(timer_wheel, beyond_one_turn_and_big_jumps)
{
	tni_wheel_init(&w, 0);
	uint64_t turn = (uint64_t)TERN_WHEEL_SLOTS << TERN_WHEEL_TICK_SHIFT;
	struct probe far = { .w = &w }, near = { .w = &w };
	tni_timer_init(&far.t, on_fire);
	tni_timer_init(&near.t, on_fire);
	tni_timer_arm(&w, &far.t, 3 * turn + 777);
	tni_timer_arm(&w, &near.t, 777);
	cr_assert_eq(tni_wheel_next(&w), 777);
	tni_wheel_advance(&w, turn);
	cr_assert_eq(near.fired, 1);
	cr_assert_eq(far.fired, 0);
	/* Far off, it waits in the coarse level: the wheel next needs an
	 * advance when its coarse slot comes round, then at its own time. */
	cr_assert_eq(tni_wheel_next(&w), 3 * turn);
	tni_wheel_advance(&w, 3 * turn);
	cr_assert_eq(far.fired, 0);
	cr_assert_eq(tni_wheel_next(&w), 3 * turn + 777);
	tni_wheel_advance(&w, 3 * turn + 776);
	cr_assert_eq(far.fired, 0);
	tni_wheel_advance(&w, 100 * turn); /* a jump of many turns visits each slot once */
	cr_assert_eq(far.fired, 1);
}

Test(timer_wheel, callbacks_may_cancel_and_rearm)
{
	tni_wheel_init(&w, 0);
	struct probe a = { .w = &w }, b = { .w = &w };
	tni_timer_init(&a.t, on_fire);
	tni_timer_init(&b.t, on_fire);
	a.cancel_me = &b;        /* same slot: b must not fire after a cancels it */
	a.rearm_to = 5000;
	tni_timer_arm(&w, &b.t, 2000);
	tni_timer_arm(&w, &a.t, 2000);
	tni_wheel_advance(&w, 3000);
	cr_assert_eq(a.fired, 1);
	cr_assert_eq(b.fired, 0);
	tni_wheel_advance(&w, 6000);
	cr_assert_eq(a.fired, 2);
}

Test(timer_wheel, random_timers_fire_in_time_and_next_is_exact)
{
	enum { N = 2000 };
	static struct probe p[N];
	struct tni_rng r;
	tni_rng_seed(&r, 99);
	tni_wheel_init(&w, 0);
	uint64_t min = UINT64_MAX;
	for (int i = 0; i < N; i++) {
		p[i] = (struct probe){ .w = &w };
		tni_timer_init(&p[i].t, on_fire);
		uint64_t at = 1 + tni_rng_below(&r, 50000000);
		tni_timer_arm(&w, &p[i].t, at);
		if (at < min)
			min = at;
	}
	cr_assert_eq(tni_wheel_next(&w), min);
	uint64_t now = 0;
	int fired = 0;
	while (fired < N) {
		uint64_t next = tni_wheel_next(&w);
		cr_assert_neq(next, UINT64_MAX);
		now = next;
		fired += (int)tni_wheel_advance(&w, now);
	}
	for (int i = 0; i < N; i++) {
		cr_assert_eq(p[i].fired, 1);
		cr_assert_eq(p[i].fired_at, p[i].t.expiry, "timer %d late", i);
	}
}

/* Moving a timer later leaves it where it sits; when the wheel reaches it
 * there, it moves on and fires at the later time, never before. */
Test(timer_wheel, a_timer_moved_later_fires_at_the_later_time)
{
	tni_wheel_init(&w, 0);
	struct probe p = { .w = &w };
	tni_timer_init(&p.t, on_fire);
	tni_timer_arm(&w, &p.t, 10000);
	tni_timer_arm(&w, &p.t, 30000);
	cr_assert(tni_timer_armed(&p.t));
	cr_assert_eq(tni_wheel_advance(&w, 20000), 0);
	cr_assert_eq(p.fired, 0);
	cr_assert_eq(tni_wheel_next(&w), 30000);
	cr_assert_eq(tni_wheel_advance(&w, 30000), 1);
	cr_assert_eq(p.fired_at, 30000);
	cr_assert_not(tni_timer_armed(&p.t));
	/* Earlier than where it sits: it moves at once. */
	tni_timer_arm(&w, &p.t, 90000);
	tni_timer_arm(&w, &p.t, 40000);
	cr_assert_eq(tni_wheel_advance(&w, 40000), 1);
	cr_assert_eq(p.fired, 2);
	cr_assert_eq(tni_wheel_next(&w), UINT64_MAX);
}

/* A stopped timer never fires, is not the next deadline, and is dropped
 * when its time passes; arming it again works as if it had been cancelled. */
Test(timer_wheel, a_stopped_timer_never_fires_and_can_be_armed_again)
{
	tni_wheel_init(&w, 0);
	struct probe p = { .w = &w }, q = { .w = &w };
	tni_timer_init(&p.t, on_fire);
	tni_timer_init(&q.t, on_fire);
	tni_timer_arm(&w, &p.t, 5000);
	tni_timer_arm(&w, &q.t, 70000);
	tni_timer_stop(&p.t);
	cr_assert_not(tni_timer_armed(&p.t));
	cr_assert_eq(tni_wheel_next(&w), 70000);
	cr_assert_eq(tni_wheel_advance(&w, 6000), 0);
	cr_assert_eq(w.count, 1); /* p was dropped */
	tni_timer_arm(&w, &p.t, 8000);
	tni_timer_stop(&p.t);
	tni_timer_arm(&w, &p.t, 9000); /* stopped then armed later: fires once, at 9000 */
	cr_assert_eq(tni_wheel_advance(&w, 8500), 0);
	cr_assert_eq(tni_wheel_advance(&w, 9000), 1);
	cr_assert_eq(p.fired, 1);
	cr_assert_eq(p.fired_at, 9000);
	tni_timer_cancel(&w, &q.t);
	cr_assert_eq(w.count, 0);
	cr_assert_eq(tni_wheel_next(&w), UINT64_MAX);
}

/* A long timer is looked at a bounded number of times, not once per turn
 * of the fine level: a minute-long timer among none other needs at most a
 * handful of advances (each coarse slot it waits in, then its own). */
Test(timer_wheel, a_minute_long_timer_fires_at_its_time_through_the_coarse_level)
{
	tni_wheel_init(&w, 0);
	struct probe p = { .w = &w };
	tni_timer_init(&p.t, on_fire);
	uint64_t at = 60ull * 1000000000ull; /* a minute: beyond a coarse turn too */
	tni_timer_arm(&w, &p.t, at);
	unsigned advances = 0;
	while (!p.fired) {
		uint64_t next = tni_wheel_next(&w);
		cr_assert_neq(next, UINT64_MAX);
		cr_assert_leq(next, at, "never past its time");
		tni_wheel_advance(&w, next);
		cr_assert_lt(++advances, 10, "%u advances", advances);
	}
	cr_assert_eq(p.fired_at, at);
}
