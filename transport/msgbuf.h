/* Memory for whole messages: what the engine lends when its driver has no
 * buffers of its own (tern_engine_alloc_buffer), and what reassembly
 * writes large messages into.
 *
 * A large buffer (TNI_MSGBUF_LARGE and up) is mapped on its own, asked for
 * in 2 MiB huge pages (MADV_HUGEPAGE: where transparent huge pages are
 * "madvise", the default on Debian, nothing else gets them), and a few
 * freed ones are kept to be handed out again. Both matter: a message in
 * fresh 4 KiB pages takes a page fault per 4 KiB on first touch, on the
 * receiver in the middle of its receive loop, and those stalls read as
 * queueing delay to the sender's congestion control (docs/uring.md).
 *
 * Any thread may allocate and free; the kept buffers sit in atomic slots,
 * no lock. */
#ifndef TNI_MSGBUF_H
#define TNI_MSGBUF_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define TNI_MSGBUF_LARGE (1u << 20)
#define TNI_MSGBUF_KEEP 4

struct tni_msgbuf_cache {
	_Atomic(void *) kept[TNI_MSGBUF_KEEP]; /* freed large buffers, each its own mapping */
	atomic_uint_fast64_t maps, reuses;     /* large buffers mapped afresh, and handed out again */
};

/* len bytes (at least 1), or NULL. c may be NULL: nothing kept. */
void *tni_msgbuf_alloc(struct tni_msgbuf_cache *c, size_t len);
void tni_msgbuf_free(struct tni_msgbuf_cache *c, void *buf);
/* Unmap what the cache keeps (its owner is going away). */
void tni_msgbuf_cache_drain(struct tni_msgbuf_cache *c);

#endif
