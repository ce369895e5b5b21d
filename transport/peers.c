#include "peers.h"

#include <stdlib.h>
#include <string.h>

/* A keyed mix (multiply and xor-shift with the engine's secret): enough
 * that a sender who cannot read the secret cannot aim keys at one bucket. */
static uint64_t mix(uint64_t x, uint64_t k)
{
	x ^= k;
	x *= 0x9e3779b97f4a7c15ull;
	x ^= x >> 31;
	x *= 0xd6e8feb86659fd93ull;
	x ^= x >> 29;
	return x;
}

static uint64_t hash_addr(const struct tni_peers *p, const struct tern_addr *a)
{
	uint64_t w[2];
	memcpy(w, a->ip, sizeof(w));
	uint64_t h = mix((uint64_t)a->family << 16 | a->port, p->k0);
	h = mix(h ^ w[0], p->k1);
	return mix(h ^ w[1], p->k0);
}

static uint64_t hash_id(const struct tni_peers *p, const struct tern_addr *a, uint64_t sid)
{
	return mix(hash_addr(p, a) ^ sid, p->k1);
}

static bool addr_eq(const struct tern_addr *a, const struct tern_addr *b)
{
	return a->family == b->family && a->port == b->port && memcmp(a->ip, b->ip, sizeof(a->ip)) == 0;
}

int tni_peers_init(struct tni_peers *p, uint32_t max, uint64_t k0, uint64_t k1)
{
	*p = (struct tni_peers){ .max = max, .k0 = k0, .k1 = k1 };
	uint32_t size = 16;
	while (size < 2 * (uint64_t)max)
		size *= 2;
	p->mask = size - 1;
	p->by_id = calloc(size, sizeof(*p->by_id));
	p->by_addr = calloc(size, sizeof(*p->by_addr));
	p->groups = calloc(max, sizeof(*p->groups));
	if (!p->by_id || !p->by_addr || !p->groups) {
		tni_peers_destroy(p);
		return -1;
	}
	for (uint32_t i = 0; i < max; i++) {
		p->groups[i].free_next = p->group_free;
		p->group_free = &p->groups[i];
	}
	return 0;
}

void tni_peers_destroy(struct tni_peers *p)
{
	free(p->by_id);
	free(p->by_addr);
	free(p->groups);
	*p = (struct tni_peers){ 0 };
}

static uint32_t home_id(const struct tni_peers *p, const struct tni_peer_link *l)
{
	return (uint32_t)hash_id(p, &l->addr, l->peer_sid) & p->mask;
}

static uint32_t home_group(const struct tni_peers *p, const struct tni_peer_group *g)
{
	return (uint32_t)hash_addr(p, &g->addr) & p->mask;
}

/* Backward-shift deletion from a linear-probing table: the entries after
 * the hole that may move into it do, so no tombstone is left. */
#define TABLE_DELETE(t, i, home)                                                              \
	do {                                                                                  \
		uint32_t j_ = (i);                                                            \
		for (;;) {                                                                    \
			j_ = (j_ + 1) & p->mask;                                              \
			if (!(t)[j_])                                                         \
				break;                                                        \
			uint32_t k_ = home(p, (t)[j_]);                                      \
			bool stays = (i) <= j_ ? ((i) < k_ && k_ <= j_) : ((i) < k_ || k_ <= j_); \
			if (stays)                                                            \
				continue;                                                     \
			(t)[i] = (t)[j_];                                                     \
			(i) = j_;                                                             \
		}                                                                             \
		(t)[i] = NULL;                                                                \
	} while (0)

static struct tni_peer_group *group_find(const struct tni_peers *p, const struct tern_addr *a, uint32_t *at)
{
	uint32_t i = (uint32_t)hash_addr(p, a) & p->mask;
	while (p->by_addr[i]) {
		if (addr_eq(&p->by_addr[i]->addr, a)) {
			if (at)
				*at = i;
			return p->by_addr[i];
		}
		i = (i + 1) & p->mask;
	}
	if (at)
		*at = i;
	return NULL;
}

struct tni_peer_link *tni_peers_find(const struct tni_peers *p, const struct tern_addr *addr, uint64_t peer_sid)
{
	uint32_t i = (uint32_t)hash_id(p, addr, peer_sid) & p->mask;
	while (p->by_id[i]) {
		struct tni_peer_link *l = p->by_id[i];
		if (l->peer_sid == peer_sid && addr_eq(&l->addr, addr))
			return l;
		i = (i + 1) & p->mask;
	}
	return NULL;
}

bool tni_peers_add(struct tni_peers *p, struct tni_peer_link *l)
{
	if (p->n >= p->max || tni_peers_find(p, &l->addr, l->peer_sid))
		return false;
	uint32_t at;
	struct tni_peer_group *g = group_find(p, &l->addr, &at);
	if (!g) {
		g = p->group_free; /* one per link at most: never runs out first */
		p->group_free = g->free_next;
		*g = (struct tni_peer_group){ .addr = l->addr, .epoch = l->epoch };
		p->by_addr[at] = g;
	}
	uint32_t i = home_id(p, l);
	while (p->by_id[i])
		i = (i + 1) & p->mask;
	p->by_id[i] = l;
	l->group = g;
	l->prev = NULL;
	l->next = g->head;
	if (g->head)
		g->head->prev = l;
	g->head = l;
	g->n++;
	p->n++;
	return true;
}

void tni_peers_remove(struct tni_peers *p, struct tni_peer_link *l)
{
	if (!l->group)
		return; /* not filed */
	uint32_t i = home_id(p, l);
	while (p->by_id[i] != l)
		i = (i + 1) & p->mask;
	TABLE_DELETE(p->by_id, i, home_id);
	p->n--;
	struct tni_peer_group *g = l->group;
	if (l->prev)
		l->prev->next = l->next;
	else
		g->head = l->next;
	if (l->next)
		l->next->prev = l->prev;
	l->group = NULL;
	if (--g->n)
		return;
	uint32_t at;
	group_find(p, &g->addr, &at);
	TABLE_DELETE(p->by_addr, at, home_group);
	g->free_next = p->group_free;
	p->group_free = g;
}

unsigned tni_peers_sweep(struct tni_peers *p, const struct tern_addr *addr, uint32_t epoch, uint64_t now,
			 uint64_t min_gap_ns, void (*fn)(struct tni_peer_link *l, void *arg), void *arg)
{
	struct tni_peer_group *g = group_find(p, addr, NULL);
	if (!g || g->epoch == epoch)
		return 0;
	if (g->swept && now - g->swept_ns < min_gap_ns)
		return 0;
	g->epoch = epoch;
	g->swept = true;
	g->swept_ns = now;
	unsigned n = 0;
	for (struct tni_peer_link *l = g->head; l; l = l->next)
		if (l->epoch != epoch) {
			fn(l, arg);
			n++;
		}
	return n;
}
