#include <criterion/criterion.h>
#include <string.h>

#include "tern/error.h"
#include "util/rng.h"
#include "transport/wire.h"

static uint8_t buf[2048];

static struct tni_wire_hdr sample_hdr(void)
{
	struct tni_wire_hdr h = {
		.type = TERN_PKT_DATA, .flags = TERN_FLAG_ACK_REQ, .n_sack = 2,
		.dst_sid = 0xdeadbeef00010002ull, .src_sid = 0x1234567800030004ull, .src_epoch = 0xcafef00d,
		.psn = 0xfffffff0u, .ack = 12345, .rwnd = 256, .msg_id = 0x1122334455667788ull,
		.msg_len = 5000, .frag_off = 1396, .ts = 987654321ull, .ts_echo = 123456789ull,
		.echo_delay = 4242, .payload_len = 100, .echo_hops = 3,
	};
	return h;
}

static size_t build(struct tni_wire_hdr *h)
{
	struct tni_wire_sack s[2] = { { 5, 9 }, { 0xfffffffeu, 3 } };
	for (int i = 0; i < h->payload_len; i++)
		buf[tni_wire_hdr_len(h->n_sack) + i] = (uint8_t)i;
	return tni_wire_encode(buf, h, s);
}

Test(wire, round_trip_every_field)
{
	struct tni_wire_hdr h = sample_hdr();
	size_t len = build(&h);
	cr_assert_eq(len, TERN_WIRE_HDR_LEN + 2 * 8 + 100);
	struct tni_wire_pkt p;
	cr_assert_eq(tni_wire_decode_link(buf, len, false, &p), 0);
#define SAME(f) cr_assert_eq(p.h.f, h.f, #f)
	SAME(type); SAME(flags); SAME(n_sack); SAME(dst_sid); SAME(src_sid); SAME(src_epoch);
	SAME(psn); SAME(ack); SAME(rwnd); SAME(msg_id); SAME(msg_len); SAME(frag_off); SAME(ts); SAME(ts_echo);
	SAME(echo_delay); SAME(payload_len); SAME(echo_hops);
	cr_assert_eq(tni_wire_sack_get(&p, 0).start, 5);
	cr_assert_eq(tni_wire_sack_get(&p, 1).end, 3); /* wraps around 2^32 */
	cr_assert_eq(p.payload[99], 99);
}

Test(wire, layout_is_little_endian_at_documented_offsets)
{
	struct tni_wire_hdr h = sample_hdr();
	build(&h);
	cr_assert_eq(buf[0], TERN_WIRE_VERSION);
	cr_assert_eq(buf[1], TERN_PKT_DATA);
	cr_assert_eq(buf[4], 0x0d);  /* src_epoch, low byte first */
	cr_assert_eq(buf[8], 0x02);  /* dst_sid */
	cr_assert_eq(buf[15], 0xde);
	cr_assert_eq(buf[16], 0x04); /* src_sid */
	cr_assert_eq(buf[24], 0xf0); /* psn */
	cr_assert_eq(buf[36], 100);  /* payload_len */
	cr_assert_eq(buf[38], 3);    /* echo_hops */
	cr_assert_eq(buf[39], 0);    /* reserved */
	cr_assert_eq(buf[40], 0x88); /* msg_id */
	cr_assert_eq(buf[72], 4242 & 0xff); /* echo_delay */
	uint32_t crc;
	memcpy(&crc, buf + 76, 4);
	cr_assert_eq(crc, tni_wire_crc(buf, TERN_WIRE_HDR_LEN + 2 * 8 + 100), "the CRC closes the header");
}

Test(wire, the_reserved_byte_must_be_zero)
{
	struct tni_wire_hdr h = sample_hdr();
	size_t len = build(&h);
	buf[39] = 1;
	tni_wire_seal(buf, len);
	struct tni_wire_pkt p;
	cr_assert_eq(tni_wire_decode_link(buf, len, false, &p), TNI_EBADPKT);
}

Test(wire, every_truncation_is_rejected)
{
	struct tni_wire_hdr h = sample_hdr();
	size_t len = build(&h);
	struct tni_wire_pkt p;
	for (size_t l = 0; l < len; l++)
		cr_assert_neq(tni_wire_decode_link(buf, l, false, &p), 0, "accepted %zu of %zu bytes", l, len);
}

Test(wire, every_single_bit_flip_is_rejected)
{
	struct tni_wire_hdr h = sample_hdr();
	size_t len = build(&h);
	struct tni_wire_pkt p;
	for (size_t bit = 0; bit < len * 8; bit++) {
		buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		cr_assert_neq(tni_wire_decode_link(buf, len, false, &p), 0, "bit %zu", bit);
		buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	cr_assert_eq(tni_wire_decode_link(buf, len, false, &p), 0);
}

Test(wire, bad_crc_and_version_have_their_own_codes)
{
	struct tni_wire_hdr h = sample_hdr();
	size_t len = build(&h);
	struct tni_wire_pkt p;
	buf[len - 1] ^= 1;
	cr_assert_eq(tni_wire_decode_link(buf, len, false, &p), TNI_EBADCRC);
	buf[len - 1] ^= 1;
	buf[0] = 9;
	cr_assert_eq(tni_wire_decode_link(buf, len, false, &p), TNI_EBADVERSION);
}

static int decode_sealed(struct tni_wire_hdr h)
{
	size_t len = tni_wire_hdr_len(h.n_sack) + h.payload_len;
	tni_wire_encode(buf, &h, (struct tni_wire_sack[TERN_WIRE_MAX_SACK]){ { 1, 2 } });
	struct tni_wire_pkt p;
	return tni_wire_decode_link(buf, len, false, &p);
}

Test(wire, per_type_rules)
{
	struct tni_wire_hdr h = sample_hdr();
	h.n_sack = 0;
	h.frag_off = 4950; /* 4950 + 100 > 5000 */
	cr_assert_eq(decode_sealed(h), TNI_EBADPKT);
	h.frag_off = 0xffffffffu; /* overflow must not wrap */
	cr_assert_eq(decode_sealed(h), TNI_EBADPKT);
	h.frag_off = 0;
	h.payload_len = 0; /* empty fragment of a non-empty message */
	cr_assert_eq(decode_sealed(h), TNI_EBADPKT);
	h.msg_len = 0;
	cr_assert_eq(decode_sealed(h), 0); /* the empty message */
	h.type = TERN_PKT_SYN;
	cr_assert_eq(decode_sealed(h), TNI_EBADPKT);
	h.payload_len = TERN_WIRE_HANDSHAKE_LEN;
	cr_assert_eq(decode_sealed(h), 0);
	h.payload_len = TERN_WIRE_HANDSHAKE_LEN - 4; /* no shorter, older handshakes */
	cr_assert_eq(decode_sealed(h), TNI_EBADPKT);
	h.payload_len = TERN_WIRE_HANDSHAKE_LEN + 4;
	cr_assert_eq(decode_sealed(h), TNI_EBADPKT);
	h.payload_len = TERN_WIRE_HANDSHAKE_LEN;
	h.type = TERN_PKT_ACK;
	cr_assert_eq(decode_sealed(h), TNI_EBADPKT);
	h.payload_len = 0;
	cr_assert_eq(decode_sealed(h), 0);
	h.type = 0;
	cr_assert_eq(decode_sealed(h), TNI_EBADPKT);
	h.type = 8;
	cr_assert_eq(decode_sealed(h), TNI_EBADPKT);
	/* A COOKIE carries its cookie in msg_id, which is never 0, and nothing else. */
	h.type = TERN_PKT_COOKIE;
	h.msg_id = 0;
	cr_assert_eq(decode_sealed(h), TNI_EBADPKT);
	h.msg_id = 0x1234;
	cr_assert_eq(decode_sealed(h), 0);
	h.payload_len = 8;
	cr_assert_eq(decode_sealed(h), TNI_EBADPKT);
	h.payload_len = 0;
	h.type = TERN_PKT_ACK;
	h.flags = 0x80;
	cr_assert_eq(decode_sealed(h), TNI_EBADPKT);
	h.flags = 2; /* reserved: the pre-release RETX bit */
	cr_assert_eq(decode_sealed(h), TNI_EBADPKT);
}

Test(wire, sack_count_and_ranges_checked)
{
	struct tni_wire_hdr h = { .type = TERN_PKT_ACK, .n_sack = 1 };
	struct tni_wire_sack empty = { 7, 7 };
	size_t len = tni_wire_encode(buf, &h, &empty);
	struct tni_wire_pkt p;
	cr_assert_eq(tni_wire_decode_link(buf, len, false, &p), TNI_EBADPKT);
	h.n_sack = TERN_WIRE_MAX_SACK + 1;
	memset(buf, 0, sizeof(buf));
	buf[0] = TERN_WIRE_VERSION;
	buf[1] = TERN_PKT_ACK;
	buf[3] = h.n_sack;
	len = tni_wire_hdr_len(h.n_sack);
	tni_wire_seal(buf, len);
	cr_assert_eq(tni_wire_decode_link(buf, len, false, &p), TNI_EBADPKT);
}

Test(wire, random_bytes_never_decode)
{
	struct tni_rng r;
	tni_rng_seed(&r, 7);
	struct tni_wire_pkt p;
	for (int i = 0; i < 100000; i++) {
		size_t len = tni_rng_below(&r, 200);
		for (size_t j = 0; j < len; j++)
			buf[j] = (uint8_t)tni_rng_next(&r);
		buf[0] = TERN_WIRE_VERSION;
		cr_assert_neq(tni_wire_decode_link(buf, len, false, &p), 0);
	}
}

Test(wire, handshake_round_trip)
{
	struct tni_wire_handshake a = { 0xfffffff0u, 256, 64u << 20, 61234, 0, 8892, 8000 }, b;
	memset(buf, 0xee, 64);
	tni_wire_handshake_put(buf, &a);
	cr_assert_eq(buf[14] | buf[15], 0, "no caps: the bytes are zero");
	cr_assert_eq(buf[TERN_WIRE_HANDSHAKE_LEN], 0xee, "nothing written past the payload");
	b = tni_wire_handshake_get(buf);
	cr_assert(a.isn == b.isn && a.window == b.window && a.max_msg == b.max_msg && a.steer_port == b.steer_port &&
		  b.caps == 0 && b.mss == 8892 && b.stall_us == 8000);
	cr_assert_eq(buf[16] | buf[17] << 8, 8892, "the path's MSS at offset 16, little-endian");
	cr_assert_eq(buf[20] | buf[21] << 8, 8000, "the RTO floor it needs at offset 20, little-endian");
	a.caps = TERN_CAP_LINK_CHECKED;
	tni_wire_handshake_put(buf, &a);
	cr_assert_eq(buf[14], TERN_CAP_LINK_CHECKED, "caps at offset 14, little-endian");
	cr_assert_eq(tni_wire_handshake_get(buf).caps, TERN_CAP_LINK_CHECKED);
	buf[15] = 0x80; /* a newer peer's cap: not ours to act on */
	cr_assert_eq(tni_wire_handshake_get(buf).caps, TERN_CAP_LINK_CHECKED);
	buf[14] = 2; /* the pre-release FINE_TIMERS bit: the floor is a figure now */
	cr_assert_eq(tni_wire_handshake_get(buf).caps, 0);
}

Test(wire, a_packet_without_crc_needs_a_link_that_checked_it)
{
	struct tni_wire_hdr h = sample_hdr();
	h.flags |= TERN_FLAG_NO_CRC;
	size_t len = build(&h);
	uint32_t crc;
	memcpy(&crc, buf + TERN_WIRE_CRC_OFF, 4);
	cr_assert_eq(crc, 0, "no CRC is written");
	struct tni_wire_pkt p;
	cr_assert_eq(tni_wire_decode_link(buf, len, false, &p), TNI_EBADCRC, "unchecked: refused");
	cr_assert_eq(tni_wire_decode_link(buf, len, false, &p), TNI_EBADCRC);
	cr_assert_eq(tni_wire_decode_link(buf, len, true, &p), 0);
	cr_assert_eq(p.h.flags, TERN_FLAG_ACK_REQ | TERN_FLAG_NO_CRC);
	cr_assert_eq(p.h.msg_id, h.msg_id);
	cr_assert_eq(p.payload[99], 99);
	/* The split form (payload elsewhere) leaves it out the same way. */
	size_t hl = tni_wire_encode_split(buf, &h, (struct tni_wire_sack[2]){ { 5, 9 }, { 1, 3 } }, buf + 1000);
	memcpy(&crc, buf + TERN_WIRE_CRC_OFF, 4);
	cr_assert(hl == TERN_WIRE_HDR_LEN + 16 && crc == 0);
}

Test(wire, a_flip_into_the_no_crc_flag_is_refused_even_on_a_checked_link)
{
	struct tni_wire_hdr h = sample_hdr();
	size_t len = build(&h);
	struct tni_wire_pkt p;
	buf[2] |= TERN_FLAG_NO_CRC; /* the CRC field still holds a CRC, not 0 */
	cr_assert_eq(tni_wire_decode_link(buf, len, true, &p), TNI_EBADCRC);
	buf[2] &= (uint8_t)~TERN_FLAG_NO_CRC;
	cr_assert_eq(tni_wire_decode_link(buf, len, true, &p), 0, "a packet with its CRC is fine on any link");
}

Test(wire, sequence_distance_wraps)
{
	cr_assert_eq(tni_seq_diff(2, 0xfffffffeu), 4);
	cr_assert_eq(tni_seq_diff(0xfffffffeu, 2), -4);
}
