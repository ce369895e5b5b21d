#include "wire.h"

#include <string.h>

#include "crc32c.h"
#include "tern/error.h"

static inline uint16_t get16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static inline uint32_t get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }

uint32_t tni_wire_crc(const uint8_t *buf, size_t len)
{
	return tni_crc32c_hole(buf, len, TERN_WIRE_CRC_OFF);
}

size_t tni_wire_encode_split(uint8_t *buf, const struct tni_wire_hdr *h, const struct tni_wire_sack *sacks,
			      const uint8_t *payload)
{
	size_t hl = tni_wire_put_header(buf, h, sacks);
	if (h->flags & TERN_FLAG_NO_CRC) {
		tni_wire_put32(buf + TERN_WIRE_CRC_OFF, 0);
		return hl;
	}
	uint32_t c = tni_crc32c_hole(buf, hl, TERN_WIRE_CRC_OFF);
	tni_wire_put32(buf + TERN_WIRE_CRC_OFF, tni_crc32c(c, payload, h->payload_len));
	return hl;
}

static int check_type_rules(const struct tni_wire_hdr *h)
{
	switch (h->type) {
	case TERN_PKT_DATA:
		if (h->frag_off > h->msg_len || h->msg_len - h->frag_off < h->payload_len)
			return TNI_EBADPKT;
		/* Only an empty message may have an empty fragment. */
		if (h->payload_len == 0 && h->msg_len != 0)
			return TNI_EBADPKT;
		return 0;
	case TERN_PKT_SYN:
	case TERN_PKT_SYN_ACK:
		return h->payload_len == TERN_WIRE_HANDSHAKE_LEN ? 0 : TNI_EBADPKT;
	case TERN_PKT_ACK:
	case TERN_PKT_CLOSE:
	case TERN_PKT_RST:
		return h->payload_len == 0 ? 0 : TNI_EBADPKT;
	case TERN_PKT_COOKIE:
		return h->payload_len == 0 && h->msg_id ? 0 : TNI_EBADPKT;
	default:
		return TNI_EBADPKT;
	}
}

/* Inlined into the engine's receive loop under LTO: it runs once per
 * packet, and its copy of the header then stays in registers. */
__attribute__((always_inline)) inline int tni_wire_decode_link(const uint8_t *buf, size_t len, bool link_checked, struct tni_wire_pkt *out)
{
	if (len < TERN_WIRE_HDR_LEN)
		return TNI_EBADPKT;
	if (buf[0] != TERN_WIRE_VERSION)
		return TNI_EBADVERSION;
	struct tni_wire_hdr *h = &out->h;
	memcpy(h, buf, sizeof(*h)); /* the struct is the wire layout, CRC included */
	if (h->reserved != 0 || (h->flags & ~TERN_FLAG_ALL) || h->n_sack > TERN_WIRE_MAX_SACK)
		return TNI_EBADPKT;
	if (tni_wire_hdr_len(h->n_sack) + h->payload_len != len)
		return TNI_EBADPKT;
	int rc = check_type_rules(h);
	if (rc)
		return rc;
	if (h->flags & TERN_FLAG_NO_CRC) {
		/* Unchecked by anyone: a bit flip may have set this flag. */
		if (!link_checked || h->crc != 0)
			return TNI_EBADCRC;
	} else if (h->crc != tni_wire_crc(buf, len)) {
		return TNI_EBADCRC;
	}
	out->sack = buf + TERN_WIRE_HDR_LEN;
	out->payload = buf + tni_wire_hdr_len(h->n_sack);
	for (unsigned i = 0; i < h->n_sack; i++) {
		struct tni_wire_sack s = tni_wire_sack_get(out, i);
		if (tni_seq_diff(s.end, s.start) <= 0)
			return TNI_EBADPKT;
	}
	return 0;
}

struct tni_wire_sack tni_wire_sack_get(const struct tni_wire_pkt *p, unsigned i)
{
	struct tni_wire_sack s = { get32(p->sack + i * 8), get32(p->sack + i * 8 + 4) };
	return s;
}

void tni_wire_handshake_put(uint8_t *dst, const struct tni_wire_handshake *hs)
{
	tni_wire_put32(dst, hs->isn);
	tni_wire_put32(dst + 4, hs->window);
	tni_wire_put32(dst + 8, hs->max_msg);
	tni_wire_put16(dst + 12, hs->steer_port);
	tni_wire_put16(dst + 14, hs->caps);
	tni_wire_put32(dst + 16, hs->mss);
	tni_wire_put32(dst + 20, hs->stall_us);
}

struct tni_wire_handshake tni_wire_handshake_get(const uint8_t *src)
{
	struct tni_wire_handshake hs = { get32(src), get32(src + 4), get32(src + 8), get16(src + 12),
					 get16(src + 14) & TERN_CAP_LINK_CHECKED /* others: a newer peer's */,
					 get32(src + 16), get32(src + 20) };
	return hs;
}
