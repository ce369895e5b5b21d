#include "sim_heap.h"

#include <stdlib.h>

#include "tern/error.h"

static int before(const struct tni_sim_flight *a, const struct tni_sim_flight *b)
{
	return a->arrival < b->arrival || (a->arrival == b->arrival && a->order < b->order);
}

int tni_sim_heap_push(struct tni_sim_heap *h, struct tni_sim_flight f)
{
	if (h->n == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 256;
		struct tni_sim_flight *v = realloc(h->v, cap * sizeof(*v));
		if (!v)
			return TERN_ENOMEM;
		h->v = v;
		h->cap = cap;
	}
	size_t i = h->n++;
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (!before(&f, &h->v[parent]))
			break;
		h->v[i] = h->v[parent];
		i = parent;
	}
	h->v[i] = f;
	return 0;
}

struct tni_sim_flight tni_sim_heap_pop(struct tni_sim_heap *h)
{
	struct tni_sim_flight top = h->v[0];
	struct tni_sim_flight last = h->v[--h->n];
	size_t i = 0;
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= h->n)
			break;
		if (c + 1 < h->n && before(&h->v[c + 1], &h->v[c]))
			c++;
		if (!before(&h->v[c], &last))
			break;
		h->v[i] = h->v[c];
		i = c;
	}
	if (h->n)
		h->v[i] = last;
	return top;
}

void tni_sim_heap_free(struct tni_sim_heap *h)
{
	free(h->v);
	h->v = NULL;
	h->n = h->cap = 0;
}
