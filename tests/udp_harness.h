/* Helpers for tests over kernel UDP on loopback: an RPC echo server engine
 * and client engine in one thread, polled in turn. */
#ifndef TERN_UDP_HARNESS_H
#define TERN_UDP_HARNESS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "tern/tern.h"

#define ECHO 1

struct udp_side {
	struct tern_rpc *rpc;
	struct tern_engine *e;
	struct tern_addr addr;
	atomic_uint runs; /* handler runs, counted from any thread */
};

static inline void udp_echo(struct tern_rpc_req *req, void *arg)
{
	struct udp_side *s = arg;
	atomic_fetch_add(&s->runs, 1);
	size_t n = tern_rpc_req_len(req);
	void *out = tern_rpc_alloc(s->rpc, n);
	memcpy(out, tern_rpc_req_data(req), n);
	tern_rpc_respond(req, out, n);
}

/* An echo side from a full configuration (any driver). */
static inline int udp_side_open_cfg(struct udp_side *s, const struct tern_rpc_config *rc,
				    const struct tern_engine_config *ec)
{
	memset(s, 0, sizeof(*s));
	int r = tern_rpc_create(rc, ec, &s->rpc);
	if (r)
		return r;
	s->e = tern_rpc_engine(s->rpc);
	tern_engine_local_addr(s->e, &s->addr);
	return tern_rpc_register(s->rpc, ECHO, udp_echo, s, rc->workers ? TERN_RPC_WORKER : 0);
}

/* A kernel UDP driver of kind on host (NULL: every address) and port. */
static inline int udp_driver(enum tern_driver_kind kind, const char *host, uint16_t port, struct tern_driver **out)
{
	struct tern_udp_config uc;
	tern_udp_config_init(&uc);
	uc.kind = kind;
	uc.bind_host = host;
	uc.port = port;
	return tern_udp_open(&uc, out);
}

/* A log callback that keeps the last line in user (256 bytes). */
static inline void udp_keep_line(void *user, const char *line)
{
	snprintf(user, 256, "%s", line);
}

/* A kernel UDP config: kind, bound to host; log lines kept in line (256
 * bytes; NULL: stderr). */
static inline struct tern_udp_config udp_config(enum tern_driver_kind kind, const char *host, char *line)
{
	struct tern_udp_config uc;
	tern_udp_config_init(&uc);
	uc.kind = kind;
	uc.bind_host = host;
	if (line) {
		uc.log = udp_keep_line;
		uc.log_user = line;
	}
	return uc;
}

/* An echo side whose driver is opened from uc, the rest default. */
static inline int udp_side_open_udp(struct udp_side *s, const struct tern_udp_config *uc)
{
	struct tern_rpc_config rc;
	tern_rpc_config_init(&rc);
	struct tern_engine_config ec;
	tern_engine_config_init(&ec);
	int r = tern_udp_open(uc, &ec.driver);
	return r ? r : udp_side_open_cfg(s, &rc, &ec);
}

static inline int udp_side_open(struct udp_side *s, enum tern_driver_kind drv, const char *bind, unsigned workers)
{
	struct tern_rpc_config rc;
	tern_rpc_config_init(&rc);
	rc.workers = workers;
	struct tern_engine_config ec;
	tern_engine_config_init(&ec);
	int r = udp_driver(drv, bind, 0, &ec.driver);
	return r ? r : udp_side_open_cfg(s, &rc, &ec);
}

static inline uint64_t udp_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

struct udp_call {
	int status, done;
	size_t len;
	uint8_t resp[64];
};

static inline void udp_cont(int status, const void *resp, size_t len, void *arg)
{
	struct udp_call *c = arg;
	c->status = status;
	c->len = len;
	c->done = 1;
	if (resp)
		memcpy(c->resp, resp, len < sizeof(c->resp) ? len : sizeof(c->resp));
}

/* Call ECHO with data and poll both engines until it ends (wall-clock bound). */
static inline int udp_call_echo(struct udp_side *cli, struct udp_side *srv, struct tern_session *s,
				const void *data, size_t len, uint64_t timeout_ns, struct udp_call *out)
{
	void *q = tern_rpc_alloc(cli->rpc, len);
	if (!q)
		return TERN_ENOMEM;
	memcpy(q, data, len);
	memset(out, 0, sizeof(*out));
	int r = tern_rpc_call(cli->rpc, s, ECHO, q, len, timeout_ns, udp_cont, out, NULL);
	if (r) {
		tern_rpc_free(cli->rpc, q);
		return r;
	}
	uint64_t until = udp_now() + timeout_ns + 1000000000ull;
	while (!out->done && udp_now() < until) {
		tern_engine_poll(cli->e);
		if (srv)
			tern_engine_poll(srv->e);
	}
	return out->done ? out->status : TERN_ETIMEDOUT;
}

#endif
