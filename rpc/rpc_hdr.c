/* The RPC header codec and the wire's status codes. */
#include "rpc_hdr.h"

#include <string.h>

#include "tern/error.h"

void tni_rpc_hdr_put(uint8_t *dst, const struct rpc_hdr *h)
{
	dst[0] = h->kind;
	dst[1] = 0;
	memcpy(dst + 2, &h->type, 2);
	memcpy(dst + 4, &h->word, 4);
	memcpy(dst + 8, &h->req_id, 8);
}

int tni_rpc_hdr_get(const uint8_t *src, size_t len, struct rpc_hdr *h)
{
	if (len < RPC_HDR_LEN || src[1] != 0)
		return -1;
	h->kind = src[0];
	memcpy(&h->type, src + 2, 2);
	memcpy(&h->word, src + 4, 4);
	memcpy(&h->req_id, src + 8, 8);
	if (h->kind < RPC_REQ || h->kind > RPC_CANCEL)
		return -1;
	return 0;
}

int tni_rpc_status_to_tern(uint32_t wire)
{
	switch (wire) {
	case RPC_ST_OK: return 0;
	case RPC_ST_NO_HANDLER: return TERN_ENOHANDLER;
	case RPC_ST_APP_ERROR: return TERN_EREMOTE;
	case RPC_ST_TOO_BIG: return TERN_EMSGSIZE;
	case RPC_ST_BUSY: return TERN_EAGAIN;
	case RPC_ST_BAD_ARGS: return TERN_EBADARGS;
	default: return TERN_EPROTO;
	}
}

uint32_t tni_rpc_status_from_tern(int code)
{
	switch (code) {
	case 0: return RPC_ST_OK;
	case TERN_ENOHANDLER: return RPC_ST_NO_HANDLER;
	case TERN_EMSGSIZE: return RPC_ST_TOO_BIG;
	case TERN_EAGAIN: return RPC_ST_BUSY;
	case TERN_EBADARGS: return RPC_ST_BAD_ARGS;
	default: return RPC_ST_APP_ERROR;
	}
}

uint32_t tni_rpc_deadline_put(uint64_t deadline_ns, uint64_t now_ns)
{
	if (deadline_ns > now_ns && deadline_ns - now_ns > RPC_DEADLINE_MAX_NS)
		return 0;
	uint32_t w = (uint32_t)(deadline_ns / 1000);
	/* Round up, so a deadline on the wire is never earlier than the
	 * caller's; 0 means none, so a deadline that lands on it moves 1 us. */
	if (deadline_ns % 1000)
		w++;
	return w ? w : 1;
}

uint64_t tni_rpc_deadline_get(uint32_t word, uint64_t near_ns)
{
	if (!word)
		return 0;
	uint64_t near_us = near_ns / 1000;
	int32_t diff = (int32_t)(word - (uint32_t)near_us);
	/* Before the clock's zero (a peer's nonsense): long past, not a time
	 * that wraps to the far future. */
	if (diff < 0 && (uint64_t)-(int64_t)diff >= near_us)
		return 1;
	return (near_us + (uint64_t)(int64_t)diff) * 1000;
}
