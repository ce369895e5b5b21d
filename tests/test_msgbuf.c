/* Message buffers (transport/msgbuf.c), driven directly. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "transport/msgbuf.h"

static void fill_and_check(uint8_t *b, size_t len, uint8_t seed)
{
	for (size_t i = 0; i < len; i += 4096)
		b[i] = (uint8_t)(seed + i / 4096);
	b[len - 1] = seed;
	for (size_t i = 0; i < len; i += 4096)
		cr_assert_eq(b[i], (uint8_t)(seed + i / 4096));
	cr_assert_eq(b[len - 1], seed);
}

Test(msgbuf, small_and_large_buffers_hold_every_byte_asked_for)
{
	static struct tni_msgbuf_cache c;
	size_t sizes[] = { 0, 1, 4096, TNI_MSGBUF_LARGE - 1, TNI_MSGBUF_LARGE, (3u << 20) + 5, 64u << 20 };
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint8_t *b = tni_msgbuf_alloc(&c, sizes[i]);
		cr_assert_not_null(b, "%zu bytes", sizes[i]);
		cr_assert_eq((uintptr_t)b % 16, 0, "aligned as malloc's");
		if (sizes[i])
			fill_and_check(b, sizes[i], (uint8_t)i);
		tni_msgbuf_free(&c, b);
	}
	tni_msgbuf_free(&c, NULL);
	tni_msgbuf_cache_drain(&c);
}

Test(msgbuf, a_freed_large_buffer_is_handed_out_again_not_mapped_afresh)
{
	static struct tni_msgbuf_cache c;
	size_t len = 8u << 20;
	uint8_t *a = tni_msgbuf_alloc(&c, len);
	fill_and_check(a, len, 7);
	tni_msgbuf_free(&c, a);
	uint8_t *b = tni_msgbuf_alloc(&c, len - 100);
	cr_assert_eq(b, a, "the kept buffer comes back");
	cr_assert_eq(c.maps, 1);
	cr_assert_eq(c.reuses, 1);
	/* One too large for any kept buffer maps its own, and the small one
	 * stays kept. */
	tni_msgbuf_free(&c, b);
	uint8_t *big = tni_msgbuf_alloc(&c, 3 * len);
	cr_assert_neq(big, a);
	cr_assert_eq(c.maps, 2);
	cr_assert_eq(tni_msgbuf_alloc(&c, len), a, "the smaller one was kept");
	tni_msgbuf_free(&c, a);
	tni_msgbuf_free(&c, big);
	tni_msgbuf_cache_drain(&c);
	for (unsigned i = 0; i < TNI_MSGBUF_KEEP; i++)
		cr_assert_null(c.kept[i], "drained");
}

Test(msgbuf, at_most_keep_buffers_are_kept)
{
	static struct tni_msgbuf_cache c;
	void *b[TNI_MSGBUF_KEEP + 3];
	for (unsigned i = 0; i < TNI_MSGBUF_KEEP + 3; i++)
		b[i] = tni_msgbuf_alloc(&c, TNI_MSGBUF_LARGE);
	for (unsigned i = 0; i < TNI_MSGBUF_KEEP + 3; i++)
		tni_msgbuf_free(&c, b[i]);
	unsigned kept = 0;
	for (unsigned i = 0; i < TNI_MSGBUF_KEEP; i++)
		kept += c.kept[i] != NULL;
	cr_assert_eq(kept, TNI_MSGBUF_KEEP, "the rest were unmapped");
	tni_msgbuf_cache_drain(&c);
}

static struct tni_msgbuf_cache shared;

static void *churn(void *arg)
{
	uint8_t seed = (uint8_t)(uintptr_t)arg;
	for (int i = 0; i < 2000; i++) {
		size_t len = TNI_MSGBUF_LARGE + (size_t)((i * 7919 + seed) % 3) * TNI_MSGBUF_LARGE;
		uint8_t *b = tni_msgbuf_alloc(&shared, len);
		if (!b)
			return (void *)1;
		/* Written, then read back a while later: a buffer another thread
		 * also held would show its seed. */
		memset(b, seed, 64);
		b[len - 1] = seed;
		for (int k = 0; k < 200; k++) {
			volatile uint8_t *v = b;
			if (v[k % 64] != seed || v[len - 1] != seed)
				return (void *)2;
		}
		tni_msgbuf_free(&shared, b);
	}
	return NULL;
}

Test(msgbuf, threads_allocating_and_freeing_at_once_never_share_a_buffer)
{
	pthread_t t[3];
	for (uintptr_t i = 0; i < 3; i++)
		cr_assert_eq(pthread_create(&t[i], NULL, churn, (void *)(i + 1)), 0);
	for (int i = 0; i < 3; i++) {
		void *rc;
		pthread_join(t[i], &rc);
		cr_assert_null(rc, "thread %d: %s", i, rc == (void *)1 ? "no memory" : "a buffer held twice");
	}
	cr_assert_gt(shared.reuses, 0);
	tni_msgbuf_cache_drain(&shared);
}
