/* Acks held back until the answer leaves (ackhold.h). */
#include "ackhold.h"

unsigned tni_ackhold_put(struct tni_ackhold *h, void *owner, const struct tni_ack_info *a)
{
	if (h->n == TNI_ACKHOLD_MAX)
		return 0;
	h->e[h->n].owner = owner;
	h->e[h->n].a = *a;
	return ++h->n;
}

void tni_ackhold_take(struct tni_ackhold *h, unsigned handle, struct tni_ack_info *a)
{
	*a = h->e[handle - 1].a;
	h->e[handle - 1].owner = 0;
}

void *tni_ackhold_oldest(struct tni_ackhold *h, unsigned *handle)
{
	for (; h->head < h->n; h->head++)
		if (h->e[h->head].owner) {
			*handle = h->head + 1;
			return h->e[h->head].owner;
		}
	h->head = h->n = 0;
	return 0;
}
