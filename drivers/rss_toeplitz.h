/* Receive-side scaling in software: the Toeplitz hash NICs use to spread
 * flows over queues, and the search for a UDP source port whose hash lands
 * on a chosen queue (RSS steering, docs/dpdk.md). Plain C, no DPDK, so the
 * sim and the tests use it too. */
#ifndef TERN_RSS_TOEPLITZ_H
#define TERN_RSS_TOEPLITZ_H

#include <stdint.h>
#include <stddef.h>

#define TERN_RSS_MAX_KEY 64
#define TERN_RSS_MAX_RETA 2048

/* What a port hashes with: its key and its redirection table (hash modulo
 * reta_size picks the entry, the entry is the queue). */
struct tni_rss {
	uint8_t key[TERN_RSS_MAX_KEY];
	uint32_t key_len;
	uint32_t reta_size;
	uint16_t reta[TERN_RSS_MAX_RETA];
};

/* The key most NICs ship with (Microsoft's RSS verification key). */
extern const uint8_t tni_rss_well_known_key[40];

/* The Toeplitz hash of n input bytes; the key needs n + 4 bytes. */
uint32_t tni_toeplitz(const uint8_t *key, size_t key_len, const uint8_t *in, size_t n);

/* The hash of an IPv4 UDP 4-tuple as a NIC computes it: addresses and
 * ports in network order, source first. Addresses in network order,
 * ports in host order. */
uint32_t tni_rss_hash_udp4(const struct tni_rss *r, uint32_t src_ip, uint32_t dst_ip, uint16_t src_port,
			    uint16_t dst_port);

/* The queue that tuple lands on. */
uint16_t tni_rss_queue_udp4(const struct tni_rss *r, uint32_t src_ip, uint32_t dst_ip, uint16_t src_port,
			     uint16_t dst_port);

/* A source port in 49152..65535 from which src_ip's packets to
 * dst_ip:dst_port land on queue want, or 0 if no entry of the table
 * names that queue. The search starts at a point drawn from seed, so peers
 * that differ in seed (their own port) mostly get different answers. */
uint16_t tni_rss_pick_src_port(const struct tni_rss *r, uint32_t src_ip, uint32_t dst_ip, uint16_t dst_port,
				uint16_t want, uint16_t seed);

#endif
