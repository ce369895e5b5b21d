/* The peer of a measurement: a `tern-bench serve` process, on another host
 * (--peer HOST[:PORT]) or started by the command itself on this one. It
 * answers tern RPC echo on each of its engines and reflects raw datagrams
 * for the baselines, on the same driver. */
#ifndef TERN_BENCH_PEER_H
#define TERN_BENCH_PEER_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "tern/tern.h"

#define BENCH_ECHO 1 /* RPC type: answer with the request's bytes */
#define BENCH_INFO 2 /* RPC type: the peer's description, text (bench_peer_info) */
#define BENCH_MAX_ENGINES 64
#define BENCH_SERVE_PORT 7700

struct bench_peer {
	struct tern_addr tern[BENCH_MAX_ENGINES]; /* engine i's address */
	unsigned engines;
	struct sockaddr_in raw;                  /* the raw reflector */
	char driver[16];                          /* what the peer runs on */
	pid_t pid;                                /* a peer we started; 0 for a remote one */
};

/* HOST[:PORT] (default port BENCH_SERVE_PORT): engine 0's address. */
int bench_peer_parse(const char *arg, struct bench_peer *p);
/* Start `tern-bench serve` on 127.0.0.1 as a second process, with the
 * driver given (uring or sockets) and the engines asked, and wait for it
 * to say where it listens. It ends with us (SIGTERM) if we die first. */
int bench_peer_spawn(const char *driver, unsigned engines, const char *const *extra, struct bench_peer *p);
/* Ask the peer, over s, for its engines, reflector and driver. */
int bench_peer_info(struct tern_rpc *rpc, struct tern_session *s, struct bench_peer *p);
/* Stop a peer we started (nothing for a remote one). */
void bench_peer_stop(struct bench_peer *p);

/* The driver for a client of the peer: uring or sockets on any port of any
 * address (or of 127.0.0.1 for a local peer). */
int bench_client_driver(int kind, int uring_setup, bool local, struct tern_driver **out);

#endif
