/* A bounded single-producer single-consumer ring of pointers, lock-free. */
#ifndef TERN_SPSC_H
#define TERN_SPSC_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define TERN_SPSC_SLOTS 1024

struct tni_spsc {
	_Alignas(64) _Atomic uint32_t head; /* consumer */
	_Alignas(64) _Atomic uint32_t tail; /* producer */
	void *slot[TERN_SPSC_SLOTS];
};

static inline bool tni_spsc_push(struct tni_spsc *q, void *v)
{
	uint32_t t = atomic_load_explicit(&q->tail, memory_order_relaxed);
	if (t - atomic_load_explicit(&q->head, memory_order_acquire) == TERN_SPSC_SLOTS)
		return false;
	q->slot[t % TERN_SPSC_SLOTS] = v;
	atomic_store_explicit(&q->tail, t + 1, memory_order_release);
	return true;
}

static inline void *tni_spsc_pop(struct tni_spsc *q)
{
	uint32_t h = atomic_load_explicit(&q->head, memory_order_relaxed);
	if (h == atomic_load_explicit(&q->tail, memory_order_acquire))
		return 0;
	void *v = q->slot[h % TERN_SPSC_SLOTS];
	atomic_store_explicit(&q->head, h + 1, memory_order_release);
	return v;
}

#endif
