/* Typed calls to XDR programs, the client side (tern/xdr.h): the request
 * goes as an RPC of type TERN_XDR_RPC_TYPE, and the answer is handed to
 * the generated stub's finish, which decodes it for the user's callback. */
#include <stdlib.h>
#include <string.h>

#include "tern/engine.h"
#include "tern/xdr.h"

static void on_answer(int status, const void *resp, size_t len, void *arg)
{
	struct tern_xdr_call *c = arg;
	struct tern_xdr_dec d;
	const void *from = resp;
	c->low = c->high = 0;
	if (status == TERN_ENOHANDLER && resp && len >= 8) {
		/* The server's versions of the program: XDR low and high. */
		tern_xdr_dec_init(&d, resp, len, NULL);
		tern_xdr_get_u32(&d, &c->low);
		tern_xdr_get_u32(&d, &c->high);
	}
	if (c->copy) {
		/* A sync call: its views must outlive this callback. */
		c->copy_len = len;
		if (status == 0 && len > c->copy_cap)
			status = TERN_EMSGSIZE;
		else if (status == 0 && len)
			memcpy(c->copy, resp, len);
		from = c->copy;
	}
	tern_xdr_dec_init(&d, status == 0 ? from : NULL, status == 0 ? len : 0, c->arena);
	c->status = status;
	c->done = true;
	c->finish(c, status, &d);
}

int tern_xdr_call_start(struct tern_rpc *rpc, struct tern_session *s, void *req, size_t len, uint64_t timeout_ns,
			struct tern_xdr_call *c)
{
	if (!rpc || !s || !req || !c || !c->finish || len < 12)
		return TERN_EINVAL;
	c->rpc = rpc;
	c->done = false;
	c->status = 0;
	return tern_rpc_call(rpc, s, TERN_XDR_RPC_TYPE, req, len, timeout_ns, on_answer, c, &c->id);
}

int tern_xdr_call_wait(struct tern_xdr_call *c, uint8_t *resp, size_t resp_cap, const atomic_bool *cancel)
{
	if (!c || !c->rpc)
		return TERN_EINVAL;
	c->copy = resp;
	c->copy_cap = resp_cap;
	struct tern_engine *e = tern_rpc_engine(c->rpc);
	while (!c->done) {
		if (cancel && atomic_load(cancel)) {
			tern_rpc_cancel(c->rpc, c->id);
			break;
		}
		tern_engine_poll(e);
	}
	return c->status;
}

int tern_xdr_cancel(struct tern_xdr_call *c)
{
	if (!c || !c->rpc || c->done)
		return TERN_EINVAL;
	return tern_rpc_cancel(c->rpc, c->id);
}
