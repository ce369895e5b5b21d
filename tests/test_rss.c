/* The software Toeplitz hash against Microsoft's RSS verification vectors
 * (what NICs implement), and the source-port search built on it. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <string.h>

#include "drivers/rss_toeplitz.h"
#include "util/rng.h"

#define MS_KEY tni_rss_well_known_key

static const struct vector {
	const char *src, *dst;
	uint16_t sport, dport;
	uint32_t ip_only, with_ports;
} VECTORS[] = {
	{ "66.9.149.187", "161.142.100.80", 2794, 1766, 0x323e8fc2, 0x51ccc178 },
	{ "199.92.111.2", "65.69.140.83", 14230, 4739, 0xd718262a, 0xc626b0ea },
	{ "24.19.198.95", "12.22.207.184", 12898, 38024, 0xd2d0a5de, 0x5c2b394a },
	{ "38.27.205.30", "209.142.163.6", 48228, 2217, 0x82989176, 0xafc7327f },
	{ "153.39.163.191", "202.188.127.2", 44251, 1303, 0x5d1809c5, 0x10e828a2 },
};

static uint32_t ip4(const char *s)
{
	struct in_addr a;
	cr_assert_eq(inet_pton(AF_INET, s, &a), 1);
	return a.s_addr;
}

static void ms_rss(struct tni_rss *r, uint32_t reta_size, uint16_t queues)
{
	memset(r, 0, sizeof(*r));
	memcpy(r->key, MS_KEY, sizeof(MS_KEY));
	r->key_len = sizeof(MS_KEY);
	r->reta_size = reta_size;
	for (uint32_t i = 0; i < reta_size; i++)
		r->reta[i] = (uint16_t)(i % queues);
}

Test(rss, toeplitz_matches_the_published_vectors)
{
	struct tni_rss r;
	ms_rss(&r, 128, 4);
	for (size_t i = 0; i < sizeof(VECTORS) / sizeof(VECTORS[0]); i++) {
		const struct vector *v = &VECTORS[i];
		uint8_t in[8];
		uint32_t s = ip4(v->src), d = ip4(v->dst);
		memcpy(in, &s, 4);
		memcpy(in + 4, &d, 4);
		cr_assert_eq(tni_toeplitz(MS_KEY, sizeof(MS_KEY), in, 8), v->ip_only, "vector %zu, addresses", i);
		cr_assert_eq(tni_rss_hash_udp4(&r, s, d, v->sport, v->dport), v->with_ports, "vector %zu, 4-tuple", i);
		cr_assert_eq(tni_rss_queue_udp4(&r, s, d, v->sport, v->dport), (v->with_ports % 128) % 4);
	}
}

Test(rss, a_key_too_short_for_the_input_hashes_nothing)
{
	uint8_t in[12] = { 1, 2, 3 };
	cr_assert_eq(tni_toeplitz(MS_KEY, 15, in, 12), 0);
	struct tni_rss r;
	ms_rss(&r, 128, 4);
	r.key_len = 8;
	cr_assert_eq(tni_rss_pick_src_port(&r, 1, 2, 3, 0, 0), 0);
}

/* Whatever the tuple and table, the port found really lands on the queue
 * asked for, and lies in the dynamic range. */
Test(rss, the_picked_port_lands_on_the_wanted_queue)
{
	struct tni_rng g;
	tni_rng_seed(&g, 7);
	struct tni_rss r;
	const uint32_t sizes[] = { 64, 128, 512, 2048 };
	const uint16_t queues[] = { 2, 3, 8, 16 };
	for (int round = 0; round < 400; round++) {
		ms_rss(&r, sizes[round % 4], queues[(round / 4) % 4]);
		if (round % 2)
			for (uint32_t i = 0; i < r.key_len; i++)
				r.key[i] = (uint8_t)tni_rng_next(&g);
		uint32_t s = (uint32_t)tni_rng_next(&g), d = (uint32_t)tni_rng_next(&g);
		uint16_t dport = (uint16_t)tni_rng_next(&g), seed = (uint16_t)tni_rng_next(&g);
		uint16_t want = (uint16_t)(tni_rng_next(&g) % queues[(round / 4) % 4]);
		uint16_t port = tni_rss_pick_src_port(&r, s, d, dport, want, seed);
		cr_assert_geq(port, 49152, "round %d", round);
		cr_assert_eq(tni_rss_queue_udp4(&r, s, d, port, dport), want, "round %d", round);
	}
}

Test(rss, no_port_for_a_queue_the_table_never_names)
{
	struct tni_rss r;
	ms_rss(&r, 128, 4);
	cr_assert_eq(tni_rss_pick_src_port(&r, 1, 2, 7100, 4, 0), 0);
	r.reta_size = 0;
	cr_assert_eq(tni_rss_pick_src_port(&r, 1, 2, 7100, 0, 0), 0);
}

/* Peers on different ports of one host mostly get different ports, so a
 * reply to one of them is not taken for the other's. */
Test(rss, the_seed_spreads_the_answers)
{
	struct tni_rss r;
	ms_rss(&r, 128, 2);
	uint32_t s = ip4("10.0.0.2"), d = ip4("10.0.0.1");
	uint16_t seen[64];
	unsigned distinct = 0;
	for (uint16_t seed = 7200; seed < 7264; seed++) {
		uint16_t p = tni_rss_pick_src_port(&r, s, d, 7100, 1, seed);
		cr_assert_neq(p, 0);
		bool dup = false;
		for (unsigned i = 0; i < distinct; i++)
			dup |= seen[i] == p;
		if (!dup)
			seen[distinct++] = p;
	}
	cr_assert_geq(distinct, 48, "only %u distinct ports for 64 seeds", distinct);
}
