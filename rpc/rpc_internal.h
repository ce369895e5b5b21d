/* RPC layer internals shared by the files in rpc/. */
#ifndef TERN_RPC_INTERNAL_H
#define TERN_RPC_INTERNAL_H

#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>

#include "rpc_hdr.h"
#include "spsc.h"
#include "tern/rpc.h"
#include "../transport/transport.h"

/* What a transport cookie points at, in its low bits (all are 8-aligned). */
enum rpc_cookie { RPC_COOKIE_CALL = 0, RPC_COOKIE_RESP = 1, RPC_COOKIE_STATUS = 2, RPC_COOKIE_MASK = 3 };

/* Every RPC buffer: this, then room for the RPC header, then the payload
 * the user sees. */
struct rpc_buf {
	uint32_t cap;
	uint32_t magic;
	struct rpc_buf *next;
};
#define RPC_BUF_MAGIC 0x7465726eu
#define RPC_SMALL_CAP 2048    /* payload bytes of a pooled buffer */
#define RPC_SMALL_KEEP 1024   /* pooled buffers kept for reuse */

static inline uint8_t *rpc_buf_msg(struct rpc_buf *b) { return (uint8_t *)(b + 1); }
static inline void *rpc_buf_payload(struct rpc_buf *b) { return rpc_buf_msg(b) + RPC_HDR_LEN; }
static inline struct rpc_buf *rpc_buf_of(void *payload)
{
	return (struct rpc_buf *)((uint8_t *)payload - RPC_HDR_LEN) - 1;
}

struct rpc_call {
	struct tern_rpc *rpc;
	uint64_t id; /* generation << 32 | slot: the req_id on the wire */
	struct tern_session *s;
	tern_rpc_cont cont;
	void *arg;
	struct tni_timer timer;
	struct rpc_buf *buf;  /* the request, while the transport holds it */
	uint64_t timeout_ns;  /* 0: none; armed by the next poll */
	bool active;          /* waiting for its end */
	bool tx_pending;      /* the transport still holds buf */
	bool arm_pending;     /* on the rpc's to_arm list */
	struct rpc_call *next_free, *next_arm;
	struct rpc_call *sess_next, *sess_prev; /* its session's active calls */
};

enum req_state { REQ_FREE = 0, REQ_RUNNING, REQ_QUEUED, REQ_SENT };

struct tern_rpc_req {
	struct tern_rpc *rpc;
	struct rpc_sess *rs; /* NULL once the session ended */
	uint64_t req_id;
	uint16_t type;
	uint8_t state;
	/* The caller cancelled, or its deadline passed: the handler may stop,
	 * a worker skips it, and the answer is not sent. Set by the engine
	 * thread, read by workers. */
	_Atomic bool cancelled;
	uint64_t deadline;      /* the caller's, on our clock; 0: none */
	struct tni_timer timer; /* sets cancelled at the deadline, while the answer waits */
	const void *data;
	size_t len;
	struct rpc_buf *copy; /* worker handlers: the request, copied */
	struct rpc_buf *resp; /* the response, until acknowledged */
	size_t resp_len;
	uint32_t resp_status; /* an rpc_wire_status */
	unsigned worker_idx;
	struct tern_rpc_req *next_free;
};

#define RPC_RECENT 256

struct rpc_sess {
	struct tern_session *s;
	uint32_t calls_out;          /* our calls waiting on this session */
	struct rpc_call *calls;      /* those calls: a session's end costs them, not max_calls */
	uint32_t n_served;           /* requests from the peer not yet finished */
	/* Those requests by id: open addressing, linear probes, at most half
	 * full, so a duplicate id is found without a scan of all of them. */
	struct tern_rpc_req **served;
	uint32_t served_mask;        /* slots - 1: a power of two >= 2 * min(max_per_session, max_calls) */
	/* Request ids answered and acknowledged, direct-mapped by a hash: one
	 * load per request. A collision forgets an old id, which only matters
	 * for a peer that reuses ids; the transport itself never delivers a
	 * message twice. Ids are stored plus one so that 0 means empty.
	 * recent and served are one allocation, made at the first request
	 * served; NULL before. The whole of rpc_sess goes when the session
	 * idles with nothing outstanding (rpc.c, on_idle). */
	uint64_t *recent;
};

/* The tables of requests a session serves: NULL when out of memory. */
uint64_t *tni_rpc_sess_tables(struct rpc_sess *rs);

struct rpc_handler {
	tern_rpc_handler fn;
	void *arg;
	unsigned flags;
};

struct rpc_worker {
	struct tern_rpc *rpc;
	pthread_t thread;
	sem_t wake;
	struct tni_spsc in, out;
	bool started;
};

struct tern_rpc {
	struct tern_rpc_config cfg;
	uint32_t max_msg_size; /* the engine's */
	struct tern_rpc_stats stats;
	struct tern_engine *e;
	void (*user_on_session)(struct tern_session *, enum tern_session_event, int, void *);
	void *user;
	struct rpc_handler *handler_page[256]; /* type >> 8, allocated on register */
	struct rpc_call *calls, *free_calls;
	/* Calls made since the last poll: their deadlines start at the next
	 * poll's clock reading, which spares every call a clock read. */
	struct rpc_call *to_arm;
	struct tern_rpc_req *reqs, *free_reqs;
	struct rpc_buf *small_free;
	uint32_t small_count;
	struct rpc_worker *workers;
	unsigned next_worker;
	_Atomic bool stopping;
};

static inline bool rpc_on_owner(const struct tern_rpc *rpc)
{
	return tni_engine_on_owner(rpc->e);
}

/* rpc.c */
struct rpc_sess *tni_rpc_sess(struct tern_rpc *rpc, struct tern_session *s);
const struct rpc_handler *tni_rpc_handler_get(const struct tern_rpc *rpc, uint16_t type);
struct rpc_buf *tni_rpc_buf_new(struct tern_rpc *rpc, size_t len);
void tni_rpc_buf_release(struct tern_rpc *rpc, struct rpc_buf *b);

/* rpc_client.c */
int tni_rpc_client_init(struct tern_rpc *rpc);
void tni_rpc_client_on_response(struct tern_rpc *rpc, const struct rpc_hdr *h, const uint8_t *payload, size_t len);
void tni_rpc_client_send_done(struct rpc_call *c, int status);
void tni_rpc_client_session_end(struct tern_rpc *rpc, struct tern_session *s, int status);
/* At the start of a poll (its clock fresh): arm the deadlines of new calls. */
void tni_rpc_client_arm_deadlines(struct tern_rpc *rpc);

/* rpc_server.c */
int tni_rpc_server_init(struct tern_rpc *rpc);
void tni_rpc_server_on_request(struct tern_rpc *rpc, struct tern_session *s, const struct rpc_hdr *h,
				const uint8_t *payload, size_t len);
void tni_rpc_server_on_cancel(struct tern_rpc *rpc, struct tern_session *s, uint64_t req_id);
/* A worker skipped a cancelled request: let it go (engine thread). */
void tni_rpc_server_drop(struct tern_rpc_req *req);
void tni_rpc_server_send_done(struct tern_rpc_req *req, int status);
void tni_rpc_server_session_end(struct tern_rpc *rpc, struct rpc_sess *rs);
/* Send what a worker answered (engine thread). */
void tni_rpc_server_send_queued(struct tern_rpc_req *req);
/* Answer with a protocol status other than OK (TERN_EBADARGS,
 * TERN_ENOHANDLER), with payload (tern_rpc_alloc'd, or NULL) the caller
 * can read. */
int tni_rpc_respond_status(struct tern_rpc_req *req, int status, void *payload, size_t len);

/* rpc_worker.c */
int tni_rpc_workers_start(struct tern_rpc *rpc);
void tni_rpc_workers_stop(struct tern_rpc *rpc);
/* Hand req to a worker; false if every queue is full. */
bool tni_rpc_workers_submit(struct tern_rpc *rpc, struct tern_rpc_req *req);
/* From a worker: queue the answer for the engine thread. */
void tni_rpc_workers_answer(struct tern_rpc *rpc, struct tern_rpc_req *req);
void tni_rpc_workers_drain(void *rpc);

#endif
