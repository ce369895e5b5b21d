/* The tern packet header codec; docs/protocol.md is the normative spec. */
#ifndef TERN_WIRE_H
#define TERN_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TERN_WIRE_VERSION 1
#define TERN_WIRE_HDR_LEN 80
#define TERN_WIRE_SACK_LEN 8
#define TERN_WIRE_MAX_SACK 16
#define TERN_WIRE_HANDSHAKE_LEN 24
/* IPv4 + UDP: what the kernel or the DPDK driver puts in front of us. */
#define TERN_WIRE_OUTER_V4 28

/* What the decoders return for input they refuse: internal, counted in
 * tern_stats, never returned through the public API. */
enum tni_wire_error {
	TNI_EBADPKT = -1100,     /* malformed */
	TNI_EBADCRC = -1101,     /* CRC32C mismatch, or none where the link did not check */
	TNI_EBADVERSION = -1102, /* unknown wire version */
};

enum tni_pkt_type {
	TERN_PKT_DATA = 1,
	TERN_PKT_ACK = 2,
	TERN_PKT_SYN = 3,
	TERN_PKT_SYN_ACK = 4,
	TERN_PKT_CLOSE = 5,
	TERN_PKT_RST = 6,
	/* The server's answer to a SYN when it keeps no state for it: msg_id
	 * carries a cookie that the client puts in msg_id of its next SYN. */
	TERN_PKT_COOKIE = 7,
};

enum tni_pkt_flags {
	TERN_FLAG_ACK_REQ = 1, /* sender stops here: acknowledge without delay */
	/* Bit 1 is reserved (pre-release peers marked retransmissions with
	 * it; nothing read it). */
	/* No CRC (the field is 0): the link below checks this datagram (a UDP
	 * checksum, or memory). Only sent to a peer that said it can tell. */
	TERN_FLAG_NO_CRC = 4,
	TERN_FLAG_ALL = TERN_FLAG_ACK_REQ | TERN_FLAG_NO_CRC,
};

struct tni_wire_sack {
	uint32_t start, end; /* packets [start, end) received; end exclusive */
};

/* A header, laid out as on the wire (docs/protocol.md), so decoding is
 * one copy. version, reserved and crc are read by decode only: the
 * encoder writes TERN_WIRE_VERSION, 0, and the CRC. */
struct tni_wire_hdr {
	uint8_t version, type, flags, n_sack;
	uint32_t src_epoch;
	/* Session ids: 64 bits, random in all but the low 24 (the slot), so
	 * that only the two ends and the path know them. The receiver's id
	 * is the proof that a packet belongs to the session. */
	uint64_t dst_sid, src_sid;
	uint32_t psn, ack, rwnd;
	uint16_t payload_len;
	uint8_t echo_hops; /* links the echoed data packet crossed; 0 unknown */
	uint8_t reserved;
	uint64_t msg_id;
	uint32_t msg_len, frag_off;
	uint64_t ts, ts_echo;
	uint32_t echo_delay;
	uint32_t crc;
};

/* Payload of SYN and SYN_ACK. */
struct tni_wire_handshake {
	uint32_t isn;     /* our first packet sequence number */
	uint32_t window;  /* our receive window in packets */
	uint32_t max_msg; /* largest message we accept */
	/* The UDP source port the peer should send from, so that our NIC's
	 * RSS hash puts its packets on our engine's queue; 0: any. */
	uint16_t steer_port;
	uint16_t caps; /* TERN_CAP_* */
	/* The largest data payload it sends and takes on this path: its
	 * route's MTU less the IP, UDP and tern headers. Each end sends at
	 * most the smaller of the two. */
	uint32_t mss;
	/* The RTO floor its end needs, in microseconds: how long its engine
	 * may go without polling (a kernel scheduler's ticks, or a busy-polled
	 * device's few microseconds). Each end waits the larger of the two. */
	uint32_t stall_us;
};

/* What the sender of a handshake can do (its caps field). */
enum tni_wire_caps {
	/* It knows which datagrams its link checked, and takes packets
	 * without a CRC (TERN_FLAG_NO_CRC) when the link did. */
	TERN_CAP_LINK_CHECKED = 1,
};

struct tni_wire_pkt {
	struct tni_wire_hdr h;
	const uint8_t *sack;    /* n_sack encoded blocks; read with tni_wire_sack_get */
	const uint8_t *payload; /* payload_len bytes */
	uint8_t rx_hops;        /* links this packet crossed, from the driver; 0 unknown */
	const struct tern_addr *from; /* its source address, where the engine knows it; else NULL */
};

static inline size_t tni_wire_hdr_len(unsigned n_sack)
{
	return TERN_WIRE_HDR_LEN + (size_t)n_sack * TERN_WIRE_SACK_LEN;
}

/* Every field is little-endian on the wire: all our targets are, so the
 * hot path does no byte swaps (docs/protocol.md). */
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "tern's wire codec assumes a little-endian host; add byte swaps here"
#endif
#define TERN_WIRE_CRC_OFF 76
_Static_assert(sizeof(struct tni_wire_hdr) == TERN_WIRE_HDR_LEN, "the header struct is the wire's header");
_Static_assert(offsetof(struct tni_wire_hdr, dst_sid) == 8 && offsetof(struct tni_wire_hdr, psn) == 24 &&
		       offsetof(struct tni_wire_hdr, payload_len) == 36 && offsetof(struct tni_wire_hdr, msg_id) == 40 &&
		       offsetof(struct tni_wire_hdr, ts) == 56 && offsetof(struct tni_wire_hdr, echo_delay) == 72 &&
		       offsetof(struct tni_wire_hdr, crc) == TERN_WIRE_CRC_OFF,
	       "the header struct is the wire's layout");
static inline void tni_wire_put16(uint8_t *p, uint16_t v) { __builtin_memcpy(p, &v, 2); }
static inline void tni_wire_put32(uint8_t *p, uint32_t v) { __builtin_memcpy(p, &v, 4); }
static inline void tni_wire_put64(uint8_t *p, uint64_t v) { __builtin_memcpy(p, &v, 8); }

/* Header and SACK blocks at buf, all but the CRC. Inline, so a caller that
 * fills h on its stack stores straight into the packet. */
static inline size_t tni_wire_put_header(uint8_t *buf, const struct tni_wire_hdr *h,
					  const struct tni_wire_sack *sacks)
{
	buf[0] = TERN_WIRE_VERSION;
	buf[1] = h->type;
	buf[2] = h->flags;
	buf[3] = h->n_sack;
	tni_wire_put32(buf + 4, h->src_epoch);
	tni_wire_put64(buf + 8, h->dst_sid);
	tni_wire_put64(buf + 16, h->src_sid);
	tni_wire_put32(buf + 24, h->psn);
	tni_wire_put32(buf + 28, h->ack);
	tni_wire_put32(buf + 32, h->rwnd);
	tni_wire_put16(buf + 36, h->payload_len);
	buf[38] = h->echo_hops;
	buf[39] = 0;
	tni_wire_put64(buf + 40, h->msg_id);
	tni_wire_put32(buf + 48, h->msg_len);
	tni_wire_put32(buf + 52, h->frag_off);
	tni_wire_put64(buf + 56, h->ts);
	tni_wire_put64(buf + 64, h->ts_echo);
	tni_wire_put32(buf + 72, h->echo_delay);
	for (unsigned i = 0; i < h->n_sack; i++) {
		tni_wire_put32(buf + TERN_WIRE_HDR_LEN + i * 8, sacks[i].start);
		tni_wire_put32(buf + TERN_WIRE_HDR_LEN + i * 8 + 4, sacks[i].end);
	}
	return tni_wire_hdr_len(h->n_sack);
}

/* The CRC32C of a whole packet, its CRC field read as zeros. */
uint32_t tni_wire_crc(const uint8_t *buf, size_t len);

/* Write the CRC of a packet of len >= TERN_WIRE_HDR_LEN bytes (0 under
 * TERN_FLAG_NO_CRC). */
static inline void tni_wire_seal(uint8_t *buf, size_t len)
{
	tni_wire_put32(buf + TERN_WIRE_CRC_OFF, buf[2] & TERN_FLAG_NO_CRC ? 0 : tni_wire_crc(buf, len));
}

/* Write header and SACK blocks at buf; the payload (h->payload_len bytes)
 * must already sit at buf + tni_wire_hdr_len(h->n_sack). Fills the CRC,
 * or 0 under TERN_FLAG_NO_CRC. Returns the packet length. */
static inline size_t tni_wire_encode(uint8_t *buf, const struct tni_wire_hdr *h,
				      const struct tni_wire_sack *sacks)
{
	size_t len = tni_wire_put_header(buf, h, sacks) + h->payload_len;
	tni_wire_seal(buf, len);
	return len;
}

/* The same with the payload elsewhere (a buffer the device reads in
 * place): the CRC covers header and payload. Returns the header length. */
size_t tni_wire_encode_split(uint8_t *buf, const struct tni_wire_hdr *h, const struct tni_wire_sack *sacks,
			      const uint8_t *payload);


/* Parse and check a packet of len bytes: lengths, version, type, flags,
 * per-type rules and CRC. Returns 0 or TNI_EBADPKT / EBADVERSION / EBADCRC.
 * A packet without CRC (TERN_FLAG_NO_CRC) is taken only where the link
 * checked the datagram (link_checked: a UDP checksum the NIC verified, or
 * memory); elsewhere it is TNI_EBADCRC. */
int tni_wire_decode_link(const uint8_t *buf, size_t len, bool link_checked, struct tni_wire_pkt *out);

struct tni_wire_sack tni_wire_sack_get(const struct tni_wire_pkt *p, unsigned i);
void tni_wire_handshake_put(uint8_t *dst, const struct tni_wire_handshake *hs);
/* Read a handshake payload (TERN_WIRE_HANDSHAKE_LEN bytes, as decode checked). */
struct tni_wire_handshake tni_wire_handshake_get(const uint8_t *src);

/* Signed distance a - b in sequence space (wraps at 2^32). */
static inline int32_t tni_seq_diff(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b);
}

#endif
