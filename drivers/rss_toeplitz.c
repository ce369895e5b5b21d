#include "rss_toeplitz.h"

#include <string.h>

const uint8_t tni_rss_well_known_key[40] = {
	0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3,
	0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3,
	0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
};

#define PICK_FIRST 49152u
#define PICK_SPAN 16384u

uint32_t tni_toeplitz(const uint8_t *key, size_t key_len, const uint8_t *in, size_t n)
{
	if (key_len < n + 4)
		return 0;
	/* window holds key bits [j, j + 32) while input bit j is looked at. */
	uint32_t window = (uint32_t)key[0] << 24 | (uint32_t)key[1] << 16 | (uint32_t)key[2] << 8 | key[3];
	uint32_t hash = 0;
	for (size_t i = 0; i < n; i++) {
		uint8_t next = key[i + 4];
		for (int b = 7; b >= 0; b--) {
			if (in[i] & (1u << b))
				hash ^= window;
			window = window << 1 | ((next >> b) & 1u);
		}
	}
	return hash;
}

uint32_t tni_rss_hash_udp4(const struct tni_rss *r, uint32_t src_ip, uint32_t dst_ip, uint16_t src_port,
			    uint16_t dst_port)
{
	uint8_t in[12];
	memcpy(in, &src_ip, 4);
	memcpy(in + 4, &dst_ip, 4);
	in[8] = (uint8_t)(src_port >> 8);
	in[9] = (uint8_t)src_port;
	in[10] = (uint8_t)(dst_port >> 8);
	in[11] = (uint8_t)dst_port;
	return tni_toeplitz(r->key, r->key_len, in, sizeof(in));
}

uint16_t tni_rss_queue_udp4(const struct tni_rss *r, uint32_t src_ip, uint32_t dst_ip, uint16_t src_port,
			     uint16_t dst_port)
{
	if (r->reta_size == 0)
		return 0;
	return r->reta[tni_rss_hash_udp4(r, src_ip, dst_ip, src_port, dst_port) % r->reta_size];
}

uint16_t tni_rss_pick_src_port(const struct tni_rss *r, uint32_t src_ip, uint32_t dst_ip, uint16_t dst_port,
				uint16_t want, uint16_t seed)
{
	if (r->reta_size == 0 || r->key_len < 16)
		return 0;
	uint32_t i;
	for (i = 0; i < r->reta_size && r->reta[i] != want; i++)
		;
	if (i == r->reta_size)
		return 0;
	uint32_t start = (uint32_t)(seed * 2654435761u) >> 18; /* 14 bits: the span */
	for (uint32_t k = 0; k < PICK_SPAN; k++) {
		uint16_t port = (uint16_t)(PICK_FIRST + (start + k) % PICK_SPAN);
		if (tni_rss_queue_udp4(r, src_ip, dst_ip, port, dst_port) == want)
			return port;
	}
	return 0;
}
