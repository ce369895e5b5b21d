/* XDR (RFC 4506) for code terngen generates from an interface file
 * (docs/idl.md): the codec it calls, and typed calls to programs over
 * tern's RPC layer. Hand-written code may use it too.
 *
 * Encoding writes big-endian XDR straight into a message buffer
 * (tern_rpc_alloc); decoding reads one in place. Opaque and string data
 * decode to views into the buffer (pointer and length, no copy), valid for
 * as long as that buffer is; variable arrays and optional data decode into
 * memory from a caller's arena, never from malloc. Every length, count and
 * discriminant is checked against the input and the interface's bounds. */
#ifndef TERN_XDR_H
#define TERN_XDR_H

#include "export.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "error.h"
#include "rpc.h"

/* Variable or fixed opaque data: a view. */
struct tern_xdr_bytes {
	const uint8_t *data;
	uint32_t len;
};

/* string<max>: a view of len bytes, not NUL-terminated (the bytes sit in
 * the message, followed by XDR padding). */
struct tern_xdr_string {
	const char *data;
	uint32_t len;
};

/* Memory for decoded arrays and optional data: the caller's, handed out
 * in order and never freed one by one (reset used to 0 to reuse it). */
struct tern_xdr_arena {
	uint8_t *base;
	size_t cap, used;
};

struct tern_xdr_enc {
	uint8_t *p, *end;
};

struct tern_xdr_dec {
	const uint8_t *p, *end;
	struct tern_xdr_arena *arena; /* NULL: data that needs memory does not decode */
	uint64_t copied;              /* bytes the decoder copied out of the input (never opaque or string data) */
	unsigned depth;               /* nesting of optional data (a chain is bounded) */
};

/* Optional-data chains (linked lists) deeper than this do not decode:
 * decoding recurses once per link. */
#define TERN_XDR_MAX_DEPTH 1024

static inline void tern_xdr_enc_init(struct tern_xdr_enc *x, void *buf, size_t len)
{
	x->p = (uint8_t *)buf;
	x->end = len ? x->p + len : x->p; /* NULL + 0 is undefined */
}

static inline void tern_xdr_dec_init(struct tern_xdr_dec *x, const void *buf, size_t len, struct tern_xdr_arena *arena)
{
	x->p = (const uint8_t *)buf;
	x->end = len ? x->p + len : x->p;
	x->arena = arena;
	x->copied = 0;
	x->depth = 0;
}

static inline size_t tern_xdr_pad(size_t len)
{
	return (len + 3) & ~(size_t)3;
}

/* n bytes of the arena, 8-aligned; NULL when it is full. */
static inline void *tern_xdr_arena_alloc(struct tern_xdr_arena *a, size_t n)
{
	if (!a)
		return NULL;
	size_t at = (a->used + 7) & ~(size_t)7;
	if (at < a->used || at > a->cap || n > a->cap - at)
		return NULL;
	a->used = at + n;
	return a->base + at;
}

/* Codec of the basic types: 0, or TERN_EMSGSIZE (encoding: no room) and
 * TERN_EBADARGS (decoding: short, over a bound, or not a legal value). */
static inline int tern_xdr_put_u32(struct tern_xdr_enc *x, uint32_t v)
{
	if (x->end - x->p < 4)
		return TERN_EMSGSIZE;
	x->p[0] = (uint8_t)(v >> 24);
	x->p[1] = (uint8_t)(v >> 16);
	x->p[2] = (uint8_t)(v >> 8);
	x->p[3] = (uint8_t)v;
	x->p += 4;
	return 0;
}

static inline int tern_xdr_get_u32(struct tern_xdr_dec *x, uint32_t *v)
{
	if (x->end - x->p < 4) {
		*v = 0;
		return TERN_EBADARGS;
	}
	*v = (uint32_t)x->p[0] << 24 | (uint32_t)x->p[1] << 16 | (uint32_t)x->p[2] << 8 | x->p[3];
	x->p += 4;
	return 0;
}

static inline int tern_xdr_put_i32(struct tern_xdr_enc *x, int32_t v)
{
	return tern_xdr_put_u32(x, (uint32_t)v);
}

static inline int tern_xdr_get_i32(struct tern_xdr_dec *x, int32_t *v)
{
	uint32_t u = 0;
	int rc = tern_xdr_get_u32(x, &u);
	*v = (int32_t)u;
	return rc;
}

static inline int tern_xdr_put_u64(struct tern_xdr_enc *x, uint64_t v)
{
	int rc = tern_xdr_put_u32(x, (uint32_t)(v >> 32));
	return rc ? rc : tern_xdr_put_u32(x, (uint32_t)v);
}

static inline int tern_xdr_get_u64(struct tern_xdr_dec *x, uint64_t *v)
{
	uint32_t hi = 0, lo = 0;
	int rc = tern_xdr_get_u32(x, &hi);
	if (rc || (rc = tern_xdr_get_u32(x, &lo)))
		return rc;
	*v = (uint64_t)hi << 32 | lo;
	return 0;
}

static inline int tern_xdr_put_i64(struct tern_xdr_enc *x, int64_t v)
{
	return tern_xdr_put_u64(x, (uint64_t)v);
}

static inline int tern_xdr_get_i64(struct tern_xdr_dec *x, int64_t *v)
{
	uint64_t u = 0;
	int rc = tern_xdr_get_u64(x, &u);
	*v = (int64_t)u;
	return rc;
}

static inline int tern_xdr_put_bool(struct tern_xdr_enc *x, bool v)
{
	return tern_xdr_put_u32(x, v ? 1 : 0);
}

/* Only 0 and 1 are booleans (RFC 4506, 4.4). */
static inline int tern_xdr_get_bool(struct tern_xdr_dec *x, bool *v)
{
	uint32_t u = 0;
	int rc = tern_xdr_get_u32(x, &u);
	if (rc)
		return rc;
	if (u > 1)
		return TERN_EBADARGS;
	*v = u == 1;
	return 0;
}

static inline int tern_xdr_put_float(struct tern_xdr_enc *x, float v)
{
	uint32_t u = 0;
	memcpy(&u, &v, 4);
	return tern_xdr_put_u32(x, u);
}

static inline int tern_xdr_get_float(struct tern_xdr_dec *x, float *v)
{
	uint32_t u = 0;
	int rc = tern_xdr_get_u32(x, &u);
	memcpy(v, &u, 4);
	return rc;
}

static inline int tern_xdr_put_double(struct tern_xdr_enc *x, double v)
{
	uint64_t u = 0;
	memcpy(&u, &v, 8);
	return tern_xdr_put_u64(x, u);
}

static inline int tern_xdr_get_double(struct tern_xdr_dec *x, double *v)
{
	uint64_t u = 0;
	int rc = tern_xdr_get_u64(x, &u);
	memcpy(v, &u, 8);
	return rc;
}

/* len bytes and zero padding to a multiple of four. */
static inline int tern_xdr_put_fixed(struct tern_xdr_enc *x, const void *data, uint32_t len)
{
	size_t padded = tern_xdr_pad(len);
	if ((size_t)(x->end - x->p) < padded)
		return TERN_EMSGSIZE;
	if (len)
		memcpy(x->p, data, len);
	memset(x->p + len, 0, padded - len);
	x->p += padded;
	return 0;
}

/* A view of len bytes in the input, past their padding (which must be
 * zero, as RFC 4506 writes it: anything else is not XDR). */
static inline int tern_xdr_get_fixed(struct tern_xdr_dec *x, const uint8_t **data, uint32_t len)
{
	size_t padded = tern_xdr_pad(len);
	if ((size_t)(x->end - x->p) < padded)
		return TERN_EBADARGS;
	for (size_t i = len; i < padded; i++)
		if (x->p[i])
			return TERN_EBADARGS;
	*data = x->p;
	x->p += padded;
	return 0;
}

static inline int tern_xdr_put_bytes(struct tern_xdr_enc *x, const void *data, uint32_t len, uint32_t max)
{
	if (len > max)
		return TERN_EINVAL;
	int rc = tern_xdr_put_u32(x, len);
	return rc ? rc : tern_xdr_put_fixed(x, data, len);
}

static inline int tern_xdr_get_bytes(struct tern_xdr_dec *x, struct tern_xdr_bytes *v, uint32_t max)
{
	uint32_t len = 0;
	int rc = tern_xdr_get_u32(x, &len);
	if (rc)
		return rc;
	if (len > max)
		return TERN_EBADARGS;
	v->len = len;
	return tern_xdr_get_fixed(x, &v->data, len);
}

static inline int tern_xdr_get_string(struct tern_xdr_dec *x, struct tern_xdr_string *v, uint32_t max)
{
	struct tern_xdr_bytes b = { NULL, 0 };
	int rc = tern_xdr_get_bytes(x, &b, max);
	v->data = (const char *)b.data;
	v->len = b.len;
	return rc;
}

/* A count of elements of at least min_wire bytes each, checked against
 * max and against what the input can still hold, so a forged count never
 * asks the arena for more than the message could fill. */
static inline int tern_xdr_get_count(struct tern_xdr_dec *x, uint32_t *n, uint32_t max, size_t min_wire)
{
	int rc = tern_xdr_get_u32(x, n);
	if (rc)
		return rc;
	if (*n > max || (min_wire && (size_t)*n > (size_t)(x->end - x->p) / min_wire))
		return TERN_EBADARGS;
	return 0;
}

/* Typed calls to a program over tern's RPC layer: a request is the
 * program, version and procedure numbers (XDR unsigned ints) and then the
 * arguments; an answer is the result. All such calls use this RPC type. */
#define TERN_XDR_RPC_TYPE 0xfe11u

/* A call in flight, in the caller's memory until its callback has run:
 * the generated stub fills it. */
struct tern_xdr_call {
	uint64_t id; /* for tern_xdr_cancel */
	struct tern_rpc *rpc;
	/* The stub's own: decodes the answer and calls the user's callback. */
	void (*finish)(struct tern_xdr_call *c, int status, struct tern_xdr_dec *res);
	void (*cb)(void); /* the user's callback, cast back by finish */
	void *cb_arg;
	struct tern_xdr_arena *arena;
	/* What a server that has no such procedure said it has: the lowest and
	 * highest version of the program (0, 0: not the program at all). */
	uint32_t low, high;
	/* Sync calls: the answer's copy, and whether it came. */
	uint8_t *copy;
	size_t copy_cap, copy_len;
	bool done;
	int status;
};

/* Send a request built in req (tern_rpc_alloc; len bytes of it written,
 * starting with the three numbers). On 0 the call owns req and
 * c->finish runs exactly once, from a poll or tern_xdr_cancel. */
TERN_API int tern_xdr_call_start(struct tern_rpc *rpc, struct tern_session *s, void *req, size_t len,
				 uint64_t timeout_ns, struct tern_xdr_call *c);
/* Poll the engine until c ends or *cancel (if not NULL) turns true, when
 * the call is cancelled. The answer is copied to resp (resp_cap bytes;
 * TERN_EMSGSIZE if larger), and c->finish then decodes it from there. */
TERN_API int tern_xdr_call_wait(struct tern_xdr_call *c, uint8_t *resp, size_t resp_cap,
				const atomic_bool *cancel);
/* Cancel as tern_rpc_cancel does: the callback runs now with TERN_ECANCELED. */
TERN_API int tern_xdr_cancel(struct tern_xdr_call *c);

/* The server side: programs registered on one RPC engine. */
struct tern_xdr_server;
struct tern_xdr_req {
	struct tern_rpc_req *rpc_req;
	struct tern_rpc *rpc;
	struct tern_xdr_server *srv;
	struct tern_xdr_arena *arena; /* for the arguments and for building the result; reset per request */
	uint32_t prog, vers, proc;
};
/* One procedure: decode args from a, run the user's function, answer. */
typedef void (*tern_xdr_dispatch_fn)(struct tern_xdr_req *r, struct tern_xdr_dec *a, const void *impl, void *impl_arg);
struct tern_xdr_program {
	uint32_t prog, vers;
	uint32_t nprocs;
	const uint32_t *proc_nums;         /* nprocs procedure numbers */
	const tern_xdr_dispatch_fn *procs; /* and their dispatchers */
};

/* Take over TERN_XDR_RPC_TYPE on rpc (engine-thread handlers); each
 * request's arguments decode into an arena of arena_bytes (0: 64 KiB). */
TERN_API int tern_xdr_server_create(struct tern_rpc *rpc, size_t arena_bytes, struct tern_xdr_server **out);
TERN_API void tern_xdr_server_destroy(struct tern_xdr_server *srv);
/* Serve p's procedures with impl (the generated ops table) and impl_arg.
 * TERN_EINVAL if that program and version is there already. */
TERN_API int tern_xdr_server_add(struct tern_xdr_server *srv, const struct tern_xdr_program *p, const void *impl,
				 void *impl_arg);
/* Answer with a result encoded into resp (tern_rpc_alloc'd, len bytes). */
TERN_API int tern_xdr_respond(struct tern_xdr_req *r, void *resp, size_t len);
/* Answer that the arguments did not decode: the caller sees TERN_EBADARGS. */
TERN_API int tern_xdr_respond_bad_args(struct tern_xdr_req *r);
/* What the server counted: requests answered, and refused because their
 * arguments did not decode or their procedure is not served. */
struct tern_xdr_server_stats {
	uint64_t calls, bad_args, no_proc;
};
TERN_API void tern_xdr_server_stats(const struct tern_xdr_server *srv, struct tern_xdr_server_stats *out);

#endif
