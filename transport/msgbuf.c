/* Message buffers (msgbuf.h). */
#include "msgbuf.h"

#include <stdlib.h>
#include <sys/mman.h>

#define HUGE_PAGE (2u << 20)
/* Each buffer starts with this, HDR bytes before what the caller gets
 * (a cache line, so the caller's bytes stay aligned as malloc's are). */
#define HDR 64
#define MAGIC_SMALL 0x736d616c6c627566ull /* malloc'd */
#define MAGIC_LARGE 0x6c61726765627566ull /* mapped on its own */

struct hdr {
	uint64_t magic;
	size_t map_len; /* large: the whole mapping, header included */
};

static void *map_large(size_t len, size_t *map_len)
{
	size_t total = (len + HDR + HUGE_PAGE - 1) & ~(size_t)(HUGE_PAGE - 1);
	if (total < len)
		return NULL;
	/* Huge pages need 2 MiB-aligned addresses: map one more and trim. */
	uint8_t *m = mmap(NULL, total + HUGE_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return NULL;
	uintptr_t start = ((uintptr_t)m + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1);
	size_t head = start - (uintptr_t)m;
	if (head)
		munmap(m, head);
	munmap((uint8_t *)start + total, HUGE_PAGE - head);
	madvise((void *)start, total, MADV_HUGEPAGE); /* a hint: without it, 4 KiB pages */
	*map_len = total;
	return (void *)start;
}

void *tni_msgbuf_alloc(struct tni_msgbuf_cache *c, size_t len)
{
	if (len < TNI_MSGBUF_LARGE) {
		struct hdr *h = malloc(HDR + (len ? len : 1));
		if (!h)
			return NULL;
		h->magic = MAGIC_SMALL;
		return (uint8_t *)h + HDR;
	}
	if (c) {
		for (unsigned i = 0; i < TNI_MSGBUF_KEEP; i++) {
			struct hdr *h = atomic_exchange(&c->kept[i], NULL);
			if (!h)
				continue;
			if (h->map_len - HDR >= len) {
				atomic_fetch_add(&c->reuses, 1);
				return (uint8_t *)h + HDR;
			}
			void *none = NULL;
			if (!atomic_compare_exchange_strong(&c->kept[i], &none, h))
				munmap(h, h->map_len); /* too small, and its slot taken meanwhile */
		}
		atomic_fetch_add(&c->maps, 1);
	}
	size_t map_len;
	struct hdr *h = map_large(len, &map_len);
	if (!h)
		return NULL;
	h->magic = MAGIC_LARGE;
	h->map_len = map_len;
	return (uint8_t *)h + HDR;
}

void tni_msgbuf_free(struct tni_msgbuf_cache *c, void *buf)
{
	if (!buf)
		return;
	struct hdr *h = (struct hdr *)((uint8_t *)buf - HDR);
	if (h->magic == MAGIC_SMALL) {
		free(h);
		return;
	}
	if (c) {
		for (unsigned i = 0; i < TNI_MSGBUF_KEEP; i++) {
			void *none = NULL;
			if (atomic_compare_exchange_strong(&c->kept[i], &none, h))
				return;
		}
	}
	munmap(h, h->map_len);
}

void tni_msgbuf_cache_drain(struct tni_msgbuf_cache *c)
{
	for (unsigned i = 0; c && i < TNI_MSGBUF_KEEP; i++) {
		struct hdr *h = atomic_exchange(&c->kept[i], NULL);
		if (h)
			munmap(h, h->map_len);
	}
}
