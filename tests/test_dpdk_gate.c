/* The gate between the EAL's interrupt thread and the engines' bursts
 * (drivers/dpdk/dpdk_gate.h), driven directly: plain threads stand in for
 * the interrupt thread and the engines, and no DPDK runs. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "drivers/dpdk/dpdk_gate.h"

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void spin_ns(uint64_t ns)
{
	uint64_t until = now_ns() + ns;
	while (now_ns() < until)
		;
}

/* Aligned as the gate's slots ask. */
static struct tni_gate *gate_new_as(bool asymmetric)
{
	struct tni_gate *g = aligned_alloc(64, (sizeof(*g) + 63) & ~(size_t)63);
	cr_assert_not_null(g);
	tni_gate_init(g, asymmetric);
	return g;
}

static struct tni_gate *gate_new(void)
{
	return gate_new_as(false);
}

struct race {
	struct tni_gate *g;
	atomic_int inside;  /* engines inside a burst now */
	atomic_bool foreign; /* the interrupt thread runs another callback now */
	atomic_int violations;
	atomic_bool done;
	atomic_uint_fast64_t bursts;
	unsigned rounds;
};

static void *interrupt_thread(void *arg)
{
	struct race *r = arg;
	for (unsigned i = 0; i < r->rounds; i++) {
		tni_gate_park(r->g, 20000);
		/* What memif's handler would do here: touch what a burst uses. */
		atomic_store(&r->foreign, true);
		uint64_t until = now_ns() + 3000;
		while (now_ns() < until)
			if (atomic_load(&r->inside))
				atomic_fetch_add(&r->violations, 1);
		atomic_store(&r->foreign, false);
	}
	atomic_store(&r->done, true);
	return NULL;
}

static void *engine(void *arg)
{
	struct race *r = arg;
	int slot = tni_gate_slot_get(r->g);
	cr_assert_geq(slot, 0);
	while (!atomic_load(&r->done)) {
		if (!tni_gate_enter(r->g, slot))
			continue;
		atomic_fetch_add(&r->inside, 1);
		for (int k = 0; k < 50; k++)
			if (atomic_load(&r->foreign))
				atomic_fetch_add(&r->violations, 1);
		atomic_fetch_sub(&r->inside, 1);
		tni_gate_leave(r->g, slot);
		atomic_fetch_add(&r->bursts, 1);
	}
	tni_gate_slot_put(r->g, slot);
	return NULL;
}

static void race(bool asymmetric)
{
	struct race r = { .g = gate_new_as(asymmetric), .rounds = 2000 };
	cr_assert_eq(r.g->asymmetric, asymmetric, "membarrier(2) is there on the kernels we test on");
	pthread_t it, en[2];
	for (int i = 0; i < 2; i++)
		cr_assert_eq(pthread_create(&en[i], NULL, engine, &r), 0);
	cr_assert_eq(pthread_create(&it, NULL, interrupt_thread, &r), 0);
	pthread_join(it, NULL);
	for (int i = 0; i < 2; i++)
		pthread_join(en[i], NULL);
	cr_assert_eq(atomic_load(&r.violations), 0, "a burst overlapped another callback %d times",
		     atomic_load(&r.violations));
	cr_assert_gt(atomic_load(&r.bursts), 1000, "the engines hardly ran: %lu bursts",
		     (unsigned long)atomic_load(&r.bursts));
	cr_assert_eq(atomic_load(&r.g->outings), 2000);
	tni_gate_destroy(r.g);
	free(r.g);
}

Test(dpdk_gate, no_burst_runs_while_the_interrupt_thread_is_out)
{
	race(false);
}

Test(dpdk_gate, no_burst_runs_while_the_interrupt_thread_is_out_fenced_by_membarrier)
{
	race(true);
}

struct parker {
	struct tni_gate *g;
	uint64_t park_ns;
	atomic_bool returned;
};

static void *park_once(void *arg)
{
	struct parker *p = arg;
	tni_gate_park(p->g, p->park_ns);
	atomic_store(&p->returned, true);
	return NULL;
}

/* As the interrupt thread does: park, run the others, park again. */
static void *park_on(void *arg)
{
	struct parker *p = arg;
	while (!atomic_load(&p->g->stop))
		tni_gate_park(p->g, p->park_ns);
	atomic_store(&p->returned, true);
	return NULL;
}

/* Waits bounded by 5 s, however loaded the machine: no assertion here
 * depends on when a thread gets a CPU. */
#define WAIT_FOR(cond, what)                                                                                   \
	do {                                                                                                       \
		uint64_t until_ = now_ns() + 5000000000ull;                                                        \
		while (!(cond))                                                                                    \
			cr_assert_lt(now_ns(), until_, what);                                                      \
	} while (0)

Test(dpdk_gate, the_thread_leaves_the_park_only_after_the_burst_inside_ends)
{
	struct parker p = { .g = gate_new(), .park_ns = 10000000 };
	int slot = tni_gate_slot_get(p.g);
	cr_assert(!tni_gate_enter(p.g, slot), "the thread runs freely until it first parks");
	pthread_t t;
	cr_assert_eq(pthread_create(&t, NULL, park_on, &p), 0);
	WAIT_FOR(tni_gate_enter(p.g, slot), "the parked thread never let a burst in");
	/* Inside a burst: the thread's park ends, and it must wait for us. */
	WAIT_FOR(atomic_load(&p.g->out), "the thread never came to the end of its park");
	uint64_t outings = atomic_load(&p.g->outings);
	spin_ns(100000000); /* ten parks' time */
	cr_assert_eq(atomic_load(&p.g->outings), outings, "the thread left the park with a burst inside");
	cr_assert_eq(atomic_load(&p.g->out), 1, "a thread waiting to leave lets no new burst in");
	tni_gate_leave(p.g, slot);
	WAIT_FOR(atomic_load(&p.g->outings) > outings, "the thread stayed in after the burst ended");
	cr_assert_geq(atomic_load(&p.g->waited_out), 1);
	tni_gate_stop(p.g);
	pthread_join(t, NULL);
	cr_assert(atomic_load(&p.returned));
	cr_assert(!tni_gate_enter(p.g, slot), "out of the park, the thread keeps bursts out");
	tni_gate_destroy(p.g);
	free(p.g);
}

Test(dpdk_gate, a_stopped_gate_ends_a_long_park_at_once)
{
	struct parker p = { .g = gate_new(), .park_ns = 60000000000ull };
	pthread_t t;
	cr_assert_eq(pthread_create(&t, NULL, park_once, &p), 0);
	WAIT_FOR(!atomic_load(&p.g->out), "the thread never parked");
	uint64_t t0 = now_ns();
	tni_gate_stop(p.g);
	pthread_join(t, NULL);
	cr_assert_lt(now_ns() - t0, 10000000000ull, "the stop did not end the park");
	cr_assert_eq(atomic_load(&p.g->out), 1);
	tni_gate_destroy(p.g);
	free(p.g);
}

Test(dpdk_gate, each_slot_is_handed_out_once_until_given_back)
{
	struct tni_gate *g = gate_new();
	bool seen[TNI_GATE_SLOTS] = { false };
	for (int i = 0; i < TNI_GATE_SLOTS; i++) {
		int s = tni_gate_slot_get(g);
		cr_assert(s >= 0 && s < TNI_GATE_SLOTS && !seen[s], "slot %d", s);
		seen[s] = true;
	}
	cr_assert_eq(tni_gate_slot_get(g), -1, "more slots than there are");
	tni_gate_slot_put(g, 77);
	cr_assert_eq(tni_gate_slot_get(g), 77);
	tni_gate_destroy(g);
	free(g);
}
