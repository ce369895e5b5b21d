/* The RPC header at the start of every RPC message, and the wire's status
 * codes (docs/protocol.md, "RPC messages" is the normative spec). */
#ifndef TNI_RPC_HDR_H
#define TNI_RPC_HDR_H

#include <stddef.h>
#include <stdint.h>

#define RPC_HDR_LEN 16

enum rpc_kind {
	RPC_REQ = 1,    /* a call */
	RPC_RESP = 2,   /* its answer */
	RPC_CANCEL = 3, /* the caller gave up on req_id: don't answer it */
};

/* Status of a response on the wire: protocol constants, not tern codes. */
enum rpc_wire_status {
	RPC_ST_OK = 0,
	RPC_ST_NO_HANDLER = 1, /* no handler for the type */
	RPC_ST_APP_ERROR = 2,  /* the handler's error: its 4-byte code is the payload */
	RPC_ST_TOO_BIG = 3,    /* the answer exceeds what the session carries */
	RPC_ST_BUSY = 4,       /* no room for one more request on the session */
	RPC_ST_BAD_ARGS = 5,   /* the arguments did not decode */
};

struct rpc_hdr {
	uint8_t kind;
	uint16_t type;
	/* RPC_RESP: an rpc_wire_status. RPC_REQ: the caller's deadline, the
	 * low 32 bits of its clock in microseconds (0: none). */
	uint32_t word;
	uint64_t req_id;
};

void tni_rpc_hdr_put(uint8_t *dst, const struct rpc_hdr *h);
/* 0, or -1 for a message too short, of unknown kind, or with flags set. */
int tni_rpc_hdr_get(const uint8_t *src, size_t len, struct rpc_hdr *h);

/* A response's wire status as the tern code the caller sees (unknown
 * statuses: TERN_EPROTO), and a server's outcome as a wire status. */
int tni_rpc_status_to_tern(uint32_t wire);
uint32_t tni_rpc_status_from_tern(int code);

/* Deadlines on the wire: a full clock reading (ns) as the 32-bit field,
 * and back, given a reading of the same clock within 35 minutes of it.
 * Deadlines further out than RPC_DEADLINE_MAX_NS go as 0 (none): the
 * field cannot carry them, and the caller still times out itself. */
#define RPC_DEADLINE_MAX_NS (30ull * 60 * 1000000000)
uint32_t tni_rpc_deadline_put(uint64_t deadline_ns, uint64_t now_ns);
uint64_t tni_rpc_deadline_get(uint32_t word, uint64_t near_ns);

#endif
