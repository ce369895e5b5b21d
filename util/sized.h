/* Public structs carry their size, so they grow without breaking built
 * applications (docs/architecture.md, "Structs that grow"): what an
 * application passes or receives is the part of the struct it knows of. */
#ifndef TNI_SIZED_H
#define TNI_SIZED_H

#include <stddef.h>
#include <string.h>

/* The part both sides know. */
static inline size_t tni_sized_common(size_t a, size_t b)
{
	return a < b ? a : b;
}

/* Copy the part both know from src (src_size bytes) into dst (dst_size). */
static inline void tni_sized_copy(void *dst, size_t dst_size, const void *src, size_t src_size)
{
	memcpy(dst, src, tni_sized_common(dst_size, src_size));
}

#endif
