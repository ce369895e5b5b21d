/* The peer of a measurement: a `tern-bench serve` process, on another host
 * (--peer HOST[:PORT]) or started by the command itself on this one. It
 * answers tern RPC echo on each of its engines and reflects raw datagrams
 * for the baselines, on the same driver. */
#ifndef TERN_BENCH_PEER_H
#define TERN_BENCH_PEER_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>
#include <sys/types.h>

#include "tern/dpdk.h"
#include "tern/tern.h"
#include "../tools/dpdk_setup.h"

#define BENCH_ECHO 1 /* RPC type: answer with the request's bytes */
#define BENCH_INFO 2 /* RPC type: the peer's description, text (bench_peer_info) */
#define BENCH_MAX_ENGINES 64
/* The largest message a bench sends (bw), and what serve accepts. */
#define BENCH_MAX_MSG ((64u << 20) + 4096)
#define BENCH_SERVE_PORT 7700

struct bench_peer {
	struct tern_addr tern[BENCH_MAX_ENGINES]; /* engine i's address */
	unsigned engines;
	struct sockaddr_in raw;                  /* the raw reflector */
	struct sockaddr_in tcp;                  /* the TCP baselines; port 0: none */
	char driver[16];                          /* what the peer runs on */
	pid_t pid;                                /* a peer we started; 0 for a remote one */
	char rundir[64];                          /* its DPDK run directory, removed when it ends */
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

/* This side of a measurement: its driver, and for dpdk its port (one
 * queue per engine) and the options that set it up. */
struct bench_client {
	int driver;
	int uring_setup;
	struct dpdk_setup dpdk;
	struct tern_dpdk_port *port;
	unsigned queues;
	/* A memif pair this command made for a peer it started: our end's EAL
	 * line and the socket (removed at the end). */
	char eal[512], sock[108];
	int cpus[BENCH_MAX_ENGINES];
	unsigned n_cpus; /* engine i's thread runs on cpus[i % n_cpus]; 0: anywhere */
};

/* The dpdk options every measuring command takes, as getopt_long entries,
 * and their handler: 1 if ch was one (0 if not, -1 for a bad value). */
#define BENCH_CLIENT_LONGOPTS                                                                     \
	{ "eal", required_argument, 0, 0x300 }, { "dpdk-dev", required_argument, 0, 0x301 },      \
	{ "dpdk-ip", required_argument, 0, 0x302 }, { "neighbor", required_argument, 0, 0x303 },  \
	{ "no-offload", no_argument, 0, 0x304 }, { "dpdk-port", required_argument, 0, 0x305 },         \
	{ "cpus", required_argument, 0, 0x306 }
int bench_client_opt(struct bench_client *c, int ch, const char *arg);
/* Their lines for --help. */
void bench_client_usage(FILE *f);
/* --driver for a measuring command: uring, sockets, dpdk, auto; sim if
 * allowed. */
int bench_client_driver_arg(const char *name, bool allow_sim);
/* The peer for a command: --peer HOST[:PORT] (arg), or a serve started
 * here with engines engines on the same driver; with dpdk and no --eal, the
 * two processes are joined by a memif socket. Prints why on failure. */
int bench_client_peer(struct bench_client *c, const char *cmd, const char *arg, unsigned engines,
		      struct bench_peer *p);
/* Engine i's driver (opens the DPDK port on first use, with engines
 * queues), from the thread that will poll it, which --cpus pins. */
int bench_client_open(struct bench_client *c, unsigned i, unsigned engines, const struct bench_peer *p,
		      struct tern_driver **out);
/* Close the DPDK port (engines gone) and the memif socket. */
void bench_client_close(struct bench_client *c);

/* The raw baseline of a DPDK client (baseline_dpdk.c): -1 without DPDK. */
struct baseline;
int baseline_dpdk_init(struct baseline *b, struct bench_client *c);

#endif
