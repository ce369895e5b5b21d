/* The RPC layer: handlers per request type, calls with deadlines,
 * cancellation and at-most-once execution, over reliable sessions. */
#ifndef TERN_RPC_H
#define TERN_RPC_H

#include "export.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine.h"

struct tern_rpc;
struct tern_rpc_req;

enum tern_rpc_flags {
	/* Run the handler on a worker thread: for handlers that block or run
	 * long. The request is copied for it; respond from the worker. */
	TERN_RPC_WORKER = 1,
};

/* Serves one request. Respond now or later with tern_rpc_respond(). The
 * request data is valid only during the call, except for worker handlers. */
typedef void (*tern_rpc_handler)(struct tern_rpc_req *req, void *arg);

/* A call ended. status: 0, TERN_ETIMEDOUT, TERN_ECANCELED, TERN_EPEERDEAD,
 * TERN_EPEERRESTART, TERN_ECLOSED, TERN_ENOHANDLER, TERN_EREMOTE (resp
 * holds the handler's 4-byte error code), TERN_EMSGSIZE, TERN_EAGAIN (the
 * server had no room), TERN_EBADARGS, or TERN_EPROTO (an answer this
 * version cannot read). resp is valid only during the call. */
typedef void (*tern_rpc_cont)(int status, const void *resp, size_t len, void *arg);

/* Initialise with tern_rpc_config_init (records the compiled size, as
 * tern_engine_config does). */
struct tern_rpc_config {
	uint32_t size;
	uint32_t max_calls;        /* outstanding client calls, all sessions; default 4096 */
	uint32_t max_per_session;  /* outstanding requests per session, each way; default 64 */
	unsigned workers;          /* threads for TERN_RPC_WORKER handlers; default 2 */
};

#define tern_rpc_config_init(cfg) tern_rpc_config_init_sized((cfg), sizeof(*(cfg)))
TERN_API void tern_rpc_config_init_sized(struct tern_rpc_config *cfg, size_t size);
/* An RPC endpoint and the engine it runs on, made from engine (NULL: the
 * defaults, on kernel UDP). The RPC layer owns the engine's sessions: its
 * on_message and on_send_done are not called, and tern_session_send on
 * them is refused; on_session still reports session events. Sessions
 * deliver messages as each completes. cfg NULL: the defaults. */
TERN_API int tern_rpc_create(const struct tern_rpc_config *cfg, const struct tern_engine_config *engine,
			     struct tern_rpc **out);
/* Pending calls end with TERN_ECLOSED; workers are joined. */
TERN_API void tern_rpc_destroy(struct tern_rpc *rpc);
/* Poll this engine (tern_engine_poll) to make progress. */
TERN_API struct tern_engine *tern_rpc_engine(struct tern_rpc *rpc);

/* Serve type with handler (replacing any before it); handler NULL stops
 * serving it: its requests then get TERN_ENOHANDLER. */
TERN_API int tern_rpc_register(struct tern_rpc *rpc, uint16_t type, tern_rpc_handler handler, void *arg, unsigned flags);

/* Message buffers in memory the RPC layer owns, with room for its header:
 * fill one and hand it to tern_rpc_call or tern_rpc_respond, which take it
 * over. NULL if len is over the engine's max_msg_size or memory is out.
 * Buffers over 2 KiB come from tern_engine_alloc_buffer, so that a DPDK
 * NIC sends them without a copy. */
TERN_API void *tern_rpc_alloc(struct tern_rpc *rpc, size_t len);
TERN_API void tern_rpc_free(struct tern_rpc *rpc, void *buf);

/* Call type on session s with req (from tern_rpc_alloc; taken over when
 * this returns 0, still the caller's on error). cont runs exactly once,
 * from a later poll or tern_rpc_cancel, unless this call fails.
 * timeout_ns 0 means no deadline; the deadline counts from the next poll of
 * the engine, which sends the request (a call costs no clock read).
 * *call_id (if not NULL) names the call for tern_rpc_cancel. */
TERN_API int tern_rpc_call(struct tern_rpc *rpc, struct tern_session *s, uint16_t type, void *req, size_t len,
		  uint64_t timeout_ns, tern_rpc_cont cont, void *arg, uint64_t *call_id);
/* The call's continuation runs now with TERN_ECANCELED, and the server is
 * told: a handler that has not started is not run, one that runs sees
 * tern_rpc_req_cancelled, and its answer is not sent (a late answer that
 * crosses the cancel is dropped here). TERN_EINVAL if the call already
 * ended. */
TERN_API int tern_rpc_cancel(struct tern_rpc *rpc, uint64_t call_id);
/* Call and poll until it ends; the response is copied into resp (at most
 * resp_cap bytes; *resp_len gets the full length). Returns the status. */
TERN_API int tern_rpc_call_sync(struct tern_rpc *rpc, struct tern_session *s, uint16_t type, const void *req,
		       size_t len, uint64_t timeout_ns, void *resp, size_t resp_cap, size_t *resp_len);

TERN_API const void *tern_rpc_req_data(const struct tern_rpc_req *req);
TERN_API size_t tern_rpc_req_len(const struct tern_rpc_req *req);
TERN_API uint16_t tern_rpc_req_type(const struct tern_rpc_req *req);
/* The session the request came on; NULL once it has ended. */
TERN_API struct tern_session *tern_rpc_req_session(const struct tern_rpc_req *req);
/* Answer with resp (from tern_rpc_alloc, taken over, even on error) of len
 * bytes. Once per request; from the worker thread for worker handlers. */
TERN_API int tern_rpc_respond(struct tern_rpc_req *req, void *resp, size_t len);
/* Answer with TERN_EREMOTE carrying code to the caller. Both answers
 * return TERN_ECANCELED or TERN_ETIMEDOUT, and send nothing, when the
 * caller cancelled or its deadline passed (the buffer is taken all the
 * same). */
TERN_API int tern_rpc_respond_error(struct tern_rpc_req *req, int32_t code);
/* The caller cancelled the call, or its deadline passed: the answer will
 * not be sent, so a long handler may stop. Any thread. */
TERN_API bool tern_rpc_req_cancelled(const struct tern_rpc_req *req);
/* The caller's deadline on this engine's clock (tern_engine_now), 0 for
 * none. The caller's clock is mapped with the quickest trip seen on the
 * session, so time the request spent queued counts against it. */
TERN_API uint64_t tern_rpc_req_deadline(const struct tern_rpc_req *req);

/* What the RPC layer has done (tern_rpc_stats). */
struct tern_rpc_stats {
	uint64_t calls;              /* tern_rpc_call accepted */
	uint64_t cancels_sent;       /* cancels told to the server */
	uint64_t requests_served;    /* requests handed to a handler */
	uint64_t requests_expired;   /* arrived past the caller's deadline: no handler ran */
	uint64_t requests_cancelled; /* the caller's cancel arrived before the answer */
	uint64_t answers_dropped;    /* answers not sent: cancelled or past the deadline */
};
#define tern_rpc_stats(rpc, out) tern_rpc_stats_sized((rpc), (out), sizeof(*(out)))
TERN_API int tern_rpc_stats_sized(struct tern_rpc *rpc, struct tern_rpc_stats *out, size_t size);

#endif
