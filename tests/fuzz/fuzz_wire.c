/* libFuzzer target for the packet decoder. Half the inputs get a valid CRC
 * first, so the fuzzer reaches the checks behind it; bit 1 of the mode byte
 * decodes as from a link that checked the datagram (packets without CRC). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "transport/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint8_t mode = data[0];
	data++;
	size--;
	uint8_t *buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	if ((mode & 1) && size >= TERN_WIRE_HDR_LEN)
		tni_wire_seal(buf, size);
	struct tni_wire_pkt p;
	if (tni_wire_decode_link(buf, size, (mode & 2) != 0, &p) == 0) {
		/* Touch everything the decoder vouched for. */
		volatile uint32_t sink = 0;
		for (unsigned i = 0; i < p.h.n_sack; i++)
			sink += tni_wire_sack_get(&p, i).end;
		for (unsigned i = 0; i < p.h.payload_len; i++)
			sink += p.payload[i];
		if (p.h.type == TERN_PKT_SYN || p.h.type == TERN_PKT_SYN_ACK)
			sink += tni_wire_handshake_get(p.payload).steer_port + tni_wire_handshake_get(p.payload).caps;
		(void)sink;
	}
	free(buf);
	return 0;
}
