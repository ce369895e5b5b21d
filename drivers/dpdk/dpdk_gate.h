/* A gate between the EAL's interrupt thread and the engines' bursts.
 *
 * DPDK 22.11's memif driver tears a connection down on the EAL's interrupt
 * thread: it clears its "connected" flag and then unmaps the shared rings,
 * without waiting for a burst already running on an engine's thread. An
 * engine preempted inside rte_eth_tx_burst when its peer process exits
 * resumes in unmapped memory (docs/dpdk.md). The driver offers no hook to
 * wait in, so the gate keeps the interrupt thread itself away from the
 * other callbacks while a burst runs: the thread spends its life parked in
 * a callback of ours (tni_gate_park), and leaves to run the others only
 * when no engine is inside a burst; an engine starts no burst while it is
 * out. Slots and the park know nothing of DPDK: the port (dpdk_port.c)
 * registers the callback, and the driver brackets its bursts. */
#ifndef TERN_DPDK_GATE_H
#define TERN_DPDK_GATE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define TNI_GATE_SLOTS 256

struct tni_gate_slot {
	_Atomic uint32_t busy; /* the slot's engine is inside a burst */
} __attribute__((aligned(64)));

struct tni_gate {
	/* The interrupt thread is out of the park: it may be running any
	 * callback. Written by that thread only. */
	_Atomic uint32_t out __attribute__((aligned(64)));
	/* The thread fences every engine's CPU itself with membarrier(2) when
	 * it leaves the park, so that an engine's tni_gate_enter needs no
	 * fence of its own (on x86 a locked instruction on every poll). */
	bool asymmetric;
	_Atomic bool stop;
	pthread_mutex_t lock; /* with wake: tni_gate_stop ends a park early */
	pthread_cond_t wake;
	_Atomic uint64_t used[TNI_GATE_SLOTS / 64];
	_Atomic uint64_t outings;    /* times the thread left the park */
	_Atomic uint64_t waited_out; /* of which it had to wait for a burst to end */
	struct tni_gate_slot slot[TNI_GATE_SLOTS];
};

/* Out at first: the interrupt thread runs freely until it first parks.
 * asymmetric: fence engines by membarrier(2) where the kernel offers it
 * (g->asymmetric tells), else each tni_gate_enter fences. */
void tni_gate_init(struct tni_gate *g, bool asymmetric);

/* A slot for one engine; -1 when all are taken. */
int tni_gate_slot_get(struct tni_gate *g);
void tni_gate_slot_put(struct tni_gate *g, int slot);

/* Engine side, around each burst: false means the interrupt thread is
 * out, and the burst must not run now. Both sides publish before they
 * look, with a full fence between (the engine's own, or the one the
 * thread's membarrier puts on the engine's CPU), so either the engine
 * sees the thread out or the thread sees the engine busy and waits for
 * tni_gate_leave. */
static inline bool tni_gate_enter(struct tni_gate *g, int slot)
{
	if (g->asymmetric) {
		atomic_store_explicit(&g->slot[slot].busy, 1, memory_order_relaxed);
		atomic_signal_fence(memory_order_seq_cst); /* the compiler's part of the fence */
	} else {
		atomic_store_explicit(&g->slot[slot].busy, 1, memory_order_seq_cst);
	}
	if (__builtin_expect(atomic_load_explicit(&g->out, memory_order_seq_cst) != 0, 0)) {
		atomic_store_explicit(&g->slot[slot].busy, 0, memory_order_release);
		return false;
	}
	return true;
}

static inline void tni_gate_leave(struct tni_gate *g, int slot)
{
	atomic_store_explicit(&g->slot[slot].busy, 0, memory_order_release);
}

/* Interrupt-thread side, the body of its callback: in for park_ns (less
 * once tni_gate_stop is called), then out, returning only when no slot is
 * inside a burst. */
void tni_gate_park(struct tni_gate *g, uint64_t park_ns);

/* From now on tni_gate_park returns at once (the gate is going away). */
void tni_gate_stop(struct tni_gate *g);

void tni_gate_destroy(struct tni_gate *g);

#endif
