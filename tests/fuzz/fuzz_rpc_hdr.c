/* libFuzzer target for what the RPC layer reads off the network: its
 * header, the status of an answer, and the deadline of a request. */
#include <stdint.h>
#include <string.h>

#include "rpc/rpc_hdr.h"
#include "tern/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rpc_hdr h;
	if (tni_rpc_hdr_get(data, size, &h) != 0)
		return 0;
	if (h.kind == RPC_RESP) {
		int st = tni_rpc_status_to_tern(h.word);
		if (st != 0 && (st > TERN_EINVAL || st < TERN_ESYSTEM))
			__builtin_trap(); /* every status maps to a tern code */
	}
	if (h.kind == RPC_REQ && size >= RPC_HDR_LEN + 8) {
		/* The server's clock, from the rest of the input. */
		uint64_t near;
		memcpy(&near, data + RPC_HDR_LEN, 8);
		near &= (1ull << 62) - 1;
		uint64_t d = tni_rpc_deadline_get(h.word, near);
		if (h.word && (d + 2148000000000ull < near || d > near + 2148000000000ull))
			__builtin_trap(); /* within the 32-bit field's reach of our clock */
	}
	return 0;
}
