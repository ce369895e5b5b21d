/* The echo handler every tern-bench peer and tern-insn-pingpong serve. */
#include <string.h>

#include "bench_util.h"
#include "tern/rpc.h"

void bench_echo(struct tern_rpc_req *req, void *arg)
{
	size_t n = tern_rpc_req_len(req);
	void *out = tern_rpc_alloc(arg, n);
	if (!out) {
		tern_rpc_respond_error(req, 12);
		return;
	}
	if (n)
		memcpy(out, tern_rpc_req_data(req), n);
	tern_rpc_respond(req, out, n);
}
