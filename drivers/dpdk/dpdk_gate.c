/* The gate between the EAL's interrupt thread and the engines' bursts
 * (dpdk_gate.h). */
#include "dpdk_gate.h"

#include <linux/membarrier.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define NS 1000000000ull
#define SPINS 256                /* polls of a busy slot before sleeping between polls */
#define WAIT_STEP_NS 20000ull    /* lets an engine preempted on this CPU finish its burst */

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#else
	atomic_signal_fence(memory_order_seq_cst);
#endif
}

static void nap(uint64_t ns)
{
	struct timespec ts = { .tv_sec = (time_t)(ns / NS), .tv_nsec = (long)(ns % NS) };
	while (nanosleep(&ts, &ts) != 0)
		;
}

void tni_gate_init(struct tni_gate *g, bool asymmetric)
{
	memset(g, 0, sizeof(*g));
	atomic_store(&g->out, 1);
	pthread_mutex_init(&g->lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&g->wake, &ca);
	pthread_condattr_destroy(&ca);
	g->asymmetric = asymmetric &&
			syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0;
}

int tni_gate_slot_get(struct tni_gate *g)
{
	for (int w = 0; w < TNI_GATE_SLOTS / 64; w++) {
		uint64_t u = atomic_load(&g->used[w]);
		while (~u) {
			int b = __builtin_ctzll(~u);
			if (atomic_compare_exchange_weak(&g->used[w], &u, u | (1ull << b)))
				return w * 64 + b;
		}
	}
	return -1;
}

void tni_gate_slot_put(struct tni_gate *g, int slot)
{
	atomic_store(&g->slot[slot].busy, 0);
	atomic_fetch_and(&g->used[slot / 64], ~(1ull << (slot % 64)));
}

void tni_gate_stop(struct tni_gate *g)
{
	pthread_mutex_lock(&g->lock);
	atomic_store(&g->stop, true);
	pthread_cond_broadcast(&g->wake);
	pthread_mutex_unlock(&g->lock);
}

void tni_gate_destroy(struct tni_gate *g)
{
	pthread_cond_destroy(&g->wake);
	pthread_mutex_destroy(&g->lock);
}

void tni_gate_park(struct tni_gate *g, uint64_t park_ns)
{
	atomic_store_explicit(&g->out, 0, memory_order_release);
	/* One sleep for the whole park: each wake-up of this thread may
	 * preempt an engine. */
	struct timespec until;
	clock_gettime(CLOCK_MONOTONIC, &until);
	uint64_t ns = (uint64_t)until.tv_nsec + park_ns;
	until.tv_sec += (time_t)(ns / NS);
	until.tv_nsec = (long)(ns % NS);
	pthread_mutex_lock(&g->lock);
	while (!atomic_load(&g->stop) && pthread_cond_timedwait(&g->wake, &g->lock, &until) == 0)
		;
	pthread_mutex_unlock(&g->lock);
	atomic_store_explicit(&g->out, 1, memory_order_seq_cst);
	/* A full fence on every CPU running one of our threads: an engine's
	 * busy mark before it is seen below; its look at out after it sees 1. */
	if (g->asymmetric)
		syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0);
	bool waited = false;
	/* Every slot, not only the used ones: an engine that takes a slot now
	 * sees the thread out at its first tni_gate_enter. */
	for (int i = 0; i < TNI_GATE_SLOTS; i++) {
		for (unsigned n = 0; atomic_load_explicit(&g->slot[i].busy, memory_order_seq_cst); n++) {
			waited = true;
			if (n < SPINS)
				cpu_relax();
			else
				nap(WAIT_STEP_NS);
		}
	}
	atomic_fetch_add_explicit(&g->outings, 1, memory_order_relaxed);
	if (waited)
		atomic_fetch_add_explicit(&g->waited_out, 1, memory_order_relaxed);
}
