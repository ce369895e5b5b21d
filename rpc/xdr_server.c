/* Typed calls to XDR programs, the server side (tern/xdr.h): one RPC
 * handler for TERN_XDR_RPC_TYPE reads the program, version and procedure
 * numbers and hands the arguments to the generated dispatcher, which
 * decodes them, runs the user's function and answers. */
#include <stdlib.h>
#include <string.h>

#include "rpc_internal.h"
#include "tern/xdr.h"

#define MAX_PROGRAMS 64
#define DEFAULT_ARENA (64u << 10)

struct served {
	const struct tern_xdr_program *p;
	const void *impl;
	void *impl_arg;
};

struct tern_xdr_server {
	struct tern_rpc *rpc;
	struct served progs[MAX_PROGRAMS];
	unsigned n;
	struct tern_xdr_arena arena;
	struct tern_xdr_server_stats stats;
};

/* NO_HANDLER, with the versions of prog served here (XDR low, high; 0, 0
 * when the program is not served at all), as ONC RPC's PROG_MISMATCH. */
static void no_proc(struct tern_xdr_server *srv, struct tern_rpc_req *req, uint32_t prog)
{
	uint32_t low = 0, high = 0;
	for (unsigned i = 0; i < srv->n; i++) {
		if (srv->progs[i].p->prog != prog)
			continue;
		uint32_t v = srv->progs[i].p->vers;
		if (!low || v < low)
			low = v;
		if (v > high)
			high = v;
	}
	srv->stats.no_proc++;
	uint8_t *b = tern_rpc_alloc(srv->rpc, 8);
	if (b) {
		struct tern_xdr_enc x;
		tern_xdr_enc_init(&x, b, 8);
		tern_xdr_put_u32(&x, low);
		tern_xdr_put_u32(&x, high);
	}
	tni_rpc_respond_status(req, TERN_ENOHANDLER, b, b ? 8 : 0);
}

static void on_request(struct tern_rpc_req *req, void *arg)
{
	struct tern_xdr_server *srv = arg;
	struct tern_xdr_dec d;
	tern_xdr_dec_init(&d, tern_rpc_req_data(req), tern_rpc_req_len(req), &srv->arena);
	struct tern_xdr_req r = { req, srv->rpc, srv, &srv->arena, 0, 0, 0 };
	if (tern_xdr_get_u32(&d, &r.prog) || tern_xdr_get_u32(&d, &r.vers) || tern_xdr_get_u32(&d, &r.proc)) {
		tern_xdr_respond_bad_args(&r);
		return;
	}
	for (unsigned i = 0; i < srv->n; i++) {
		const struct served *sv = &srv->progs[i];
		if (sv->p->prog != r.prog || sv->p->vers != r.vers)
			continue;
		/* Procedure numbers are sorted (terngen writes them so). */
		uint32_t lo = 0, hi = sv->p->nprocs;
		while (lo < hi) {
			uint32_t mid = lo + (hi - lo) / 2;
			if (sv->p->proc_nums[mid] < r.proc)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo == sv->p->nprocs || sv->p->proc_nums[lo] != r.proc)
			break;
		srv->arena.used = 0;
		srv->stats.calls++;
		sv->p->procs[lo](&r, &d, sv->impl, sv->impl_arg);
		return;
	}
	no_proc(srv, req, r.prog);
}

int tern_xdr_server_create(struct tern_rpc *rpc, size_t arena_bytes, struct tern_xdr_server **out)
{
	if (!rpc || !out)
		return TERN_EINVAL;
	struct tern_xdr_server *srv = calloc(1, sizeof(*srv));
	if (!srv)
		return TERN_ENOMEM;
	srv->rpc = rpc;
	srv->arena.cap = arena_bytes ? arena_bytes : DEFAULT_ARENA;
	srv->arena.base = malloc(srv->arena.cap);
	int rc = srv->arena.base ? tern_rpc_register(rpc, TERN_XDR_RPC_TYPE, on_request, srv, 0) : TERN_ENOMEM;
	if (rc) {
		free(srv->arena.base);
		free(srv);
		return rc;
	}
	*out = srv;
	return 0;
}

void tern_xdr_server_destroy(struct tern_xdr_server *srv)
{
	if (!srv)
		return;
	tern_rpc_register(srv->rpc, TERN_XDR_RPC_TYPE, NULL, NULL, 0);
	free(srv->arena.base);
	free(srv);
}

int tern_xdr_server_add(struct tern_xdr_server *srv, const struct tern_xdr_program *p, const void *impl,
			void *impl_arg)
{
	if (!srv || !p || !impl || srv->n == MAX_PROGRAMS)
		return TERN_EINVAL;
	for (unsigned i = 0; i < srv->n; i++)
		if (srv->progs[i].p->prog == p->prog && srv->progs[i].p->vers == p->vers)
			return TERN_EINVAL;
	for (uint32_t i = 1; i < p->nprocs; i++)
		if (p->proc_nums[i - 1] >= p->proc_nums[i])
			return TERN_EINVAL;
	srv->progs[srv->n++] = (struct served){ p, impl, impl_arg };
	return 0;
}

int tern_xdr_respond(struct tern_xdr_req *r, void *resp, size_t len)
{
	return r ? tern_rpc_respond(r->rpc_req, resp, len) : TERN_EINVAL;
}

int tern_xdr_respond_bad_args(struct tern_xdr_req *r)
{
	if (!r)
		return TERN_EINVAL;
	r->srv->stats.bad_args++;
	return tni_rpc_respond_status(r->rpc_req, TERN_EBADARGS, NULL, 0);
}

void tern_xdr_server_stats(const struct tern_xdr_server *srv, struct tern_xdr_server_stats *out)
{
	if (srv && out)
		*out = srv->stats;
}
