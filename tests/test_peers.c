/* Sessions by their peer (transport/peers.c), driven directly: lookups by
 * address and id, removal that leaves every other entry findable, and the
 * restart sweep of one address's links. */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "transport/peers.h"
#include "util/rng.h"

static struct tern_addr addr_of(uint32_t host, uint16_t port)
{
	struct tern_addr a = { .family = TERN_AF_INET, .port = port };
	a.ip[0] = 10;
	a.ip[1] = (uint8_t)(host >> 16);
	a.ip[2] = (uint8_t)(host >> 8);
	a.ip[3] = (uint8_t)host;
	return a;
}

Test(peers, a_filed_link_is_found_by_address_and_id_and_nothing_else_is)
{
	struct tni_peers p;
	cr_assert_eq(tni_peers_init(&p, 8, 1, 2), 0);
	struct tni_peer_link a = { .addr = addr_of(1, 9), .peer_sid = 77, .epoch = 5 };
	cr_assert(tni_peers_add(&p, &a));
	cr_assert_eq(tni_peers_find(&p, &a.addr, 77), &a);
	cr_assert_null(tni_peers_find(&p, &a.addr, 78));
	struct tern_addr other = addr_of(1, 10);
	cr_assert_null(tni_peers_find(&p, &other, 77), "another port is another peer");
	struct tni_peer_link dup = a;
	cr_assert_not(tni_peers_add(&p, &dup), "the same address and id twice");
	tni_peers_remove(&p, &a);
	cr_assert_null(tni_peers_find(&p, &a.addr, 77));
	tni_peers_destroy(&p);
}

Test(peers, it_holds_its_size_and_refuses_more)
{
	struct tni_peers p;
	cr_assert_eq(tni_peers_init(&p, 4, 1, 2), 0);
	struct tni_peer_link l[5];
	for (int i = 0; i < 5; i++)
		l[i] = (struct tni_peer_link){ .addr = addr_of(1, 9), .peer_sid = (uint64_t)i + 1 };
	for (int i = 0; i < 4; i++)
		cr_assert(tni_peers_add(&p, &l[i]));
	cr_assert_not(tni_peers_add(&p, &l[4]));
	tni_peers_remove(&p, &l[0]);
	cr_assert(tni_peers_add(&p, &l[4]));
	tni_peers_destroy(&p);
}

static unsigned pinged;
static void count_ping(struct tni_peer_link *l, void *arg)
{
	(void)l;
	(void)arg;
	pinged++;
}

Test(peers, a_new_epoch_sweeps_only_its_address_once_and_not_too_often)
{
	struct tni_peers p;
	cr_assert_eq(tni_peers_init(&p, 64, 3, 4), 0);
	struct tni_peer_link mine[10], theirs[10];
	for (int i = 0; i < 10; i++) {
		mine[i] = (struct tni_peer_link){ .addr = addr_of(1, 9), .peer_sid = (uint64_t)i + 1, .epoch = 5 };
		theirs[i] = (struct tni_peer_link){ .addr = addr_of(2, 9), .peer_sid = (uint64_t)i + 1, .epoch = 5 };
		cr_assert(tni_peers_add(&p, &mine[i]));
		cr_assert(tni_peers_add(&p, &theirs[i]));
	}
	struct tern_addr a = addr_of(1, 9);
	pinged = 0;
	cr_assert_eq(tni_peers_sweep(&p, &a, 5, 0, 1000, count_ping, NULL), 0, "the epoch it has");
	cr_assert_eq(tni_peers_sweep(&p, &a, 6, 100, 1000, count_ping, NULL), 10);
	cr_assert_eq(pinged, 10, "only that address's links");
	cr_assert_eq(tni_peers_sweep(&p, &a, 6, 200, 1000, count_ping, NULL), 0, "once per epoch");
	cr_assert_eq(tni_peers_sweep(&p, &a, 7, 300, 1000, count_ping, NULL), 0, "not within the gap");
	cr_assert_eq(tni_peers_sweep(&p, &a, 7, 1200, 1000, count_ping, NULL), 10);
	struct tern_addr none = addr_of(3, 9);
	cr_assert_eq(tni_peers_sweep(&p, &none, 7, 5000, 1000, count_ping, NULL), 0);
	tni_peers_destroy(&p);
}

/* Removal by backward shift must leave every other key findable: many
 * keys, removed in a random order, checked after each removal. */
Test(peers, removals_in_any_order_leave_every_other_link_findable)
{
	enum { N = 2000 };
	struct tni_peers p;
	cr_assert_eq(tni_peers_init(&p, N, 11, 12), 0);
	struct tni_peer_link *l = calloc(N, sizeof(*l));
	uint32_t *order = calloc(N, sizeof(*order));
	struct tni_rng rng;
	tni_rng_seed(&rng, 9);
	for (uint32_t i = 0; i < N; i++) {
		/* few addresses, many ids: long address lists and crowded buckets */
		l[i] = (struct tni_peer_link){ .addr = addr_of(i % 7, 9), .peer_sid = tni_rng_next(&rng) };
		cr_assert(tni_peers_add(&p, &l[i]));
		order[i] = i;
	}
	for (uint32_t i = N - 1; i > 0; i--) {
		uint32_t j = (uint32_t)(tni_rng_next(&rng) % (i + 1));
		uint32_t t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
	for (uint32_t k = 0; k < N; k++) {
		tni_peers_remove(&p, &l[order[k]]);
		cr_assert_null(tni_peers_find(&p, &l[order[k]].addr, l[order[k]].peer_sid));
		if (k % 97 == 0)
			for (uint32_t m = k + 1; m < N; m++)
				cr_assert_eq(tni_peers_find(&p, &l[order[m]].addr, l[order[m]].peer_sid), &l[order[m]]);
	}
	cr_assert_eq(p.n, 0);
	for (uint32_t i = 0; i <= p.mask; i++) {
		cr_assert_null(p.by_id[i]);
		cr_assert_null(p.by_addr[i], "an address with no link has no group");
	}
	free(l);
	free(order);
	tni_peers_destroy(&p);
}
