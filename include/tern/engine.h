/* The per-core engine: one per thread, owns a driver queue, timers, sessions. */
#ifndef TERN_ENGINE_H
#define TERN_ENGINE_H

#include "export.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "cc.h"
#include "stats.h"

struct tern_engine;
struct tern_session;
struct tern_sim_net;
struct tern_dpdk_port;

enum tern_driver_kind {
	TERN_DRIVER_AUTO = 0,    /* sim if cfg.sim is set, else io_uring, else sockets */
	TERN_DRIVER_SIM = 1,     /* in-process simulated network (drivers/sim) */
	TERN_DRIVER_URING = 2,   /* kernel UDP through io_uring (drivers/uring) */
	TERN_DRIVER_SOCKETS = 3, /* kernel UDP through recvmmsg/sendmmsg (drivers/sockets) */
	TERN_DRIVER_DPDK = 4,    /* a queue pair of a DPDK port (drivers/dpdk, include/tern/dpdk.h) */
};

/* How the io_uring driver sets up its ring (docs/uring.md has the numbers). */
enum tern_uring_setup {
	TERN_URING_SETUP_AUTO = 0,          /* the best the kernel offers: DEFER_TASKRUN first */
	TERN_URING_SETUP_DEFER_TASKRUN = 1, /* SINGLE_ISSUER + DEFER_TASKRUN + TASKRUN_FLAG */
	TERN_URING_SETUP_COOP_TASKRUN = 2,  /* COOP_TASKRUN + TASKRUN_FLAG */
	TERN_URING_SETUP_PLAIN = 3,         /* no flags: task work by signal */
	TERN_URING_SETUP_SQPOLL = 4,        /* a kernel thread polls the SQ (costs a core) */
};

enum tern_poll_mode {
	TERN_POLL_BUSY = 0,     /* tern_engine_poll never blocks: lowest latency, one core */
	TERN_POLL_ADAPTIVE = 1, /* after spin_polls idle polls, block until a packet or a timer */
};

/* "auto", "sim", "uring", "sockets", "dpdk"; NULL for an unknown value. */
TERN_API const char *tern_driver_name(enum tern_driver_kind kind);
/* Parse a driver name; TERN_EINVAL if unknown. */
TERN_API int tern_driver_parse(const char *name);
/* "auto", "defer-taskrun", "coop-taskrun", "plain", "sqpoll"; TERN_EINVAL if unknown. */
TERN_API int tern_uring_setup_parse(const char *name);

enum tern_delivery {
	TERN_DELIVER_IN_ORDER = 0,     /* messages of a session in send order (stream) */
	TERN_DELIVER_AS_COMPLETED = 1, /* each message as soon as it is whole (RPC) */
};

enum tern_session_event {
	TERN_SESSION_ESTABLISHED = 1, /* our connect() finished its handshake */
	TERN_SESSION_ACCEPTED = 2,    /* a peer opened a session to us */
	TERN_SESSION_DEAD = 3,        /* session ended; status says why; freed after the callback */
};

/* A received message. data is valid only during the callback. */
struct tern_rx_msg {
	const void *data;
	size_t len;
	uint64_t seq; /* 0 for the first message the peer sent on this session */
};

struct tern_callbacks {
	void (*on_session)(struct tern_session *s, enum tern_session_event ev, int status, void *user);
	void (*on_message)(struct tern_session *s, const struct tern_rx_msg *msg, void *user);
	/* A message handed to tern_session_send is acknowledged (status 0) or failed;
	 * its buffer belongs to the caller again. s is NULL if the session ended
	 * while the device was still sending from the buffer (DPDK external mbufs). */
	void (*on_send_done)(struct tern_session *s, void *cookie, int status, void *user);
	void *user;
};

struct tern_engine_config {
	enum tern_driver_kind driver;
	struct tern_sim_net *sim; /* TERN_DRIVER_SIM: the network */
	uint32_t sim_node;        /* TERN_DRIVER_SIM: our node id (our address) */

	/* TERN_DRIVER_DPDK: the port (tern_dpdk_port_create); the engine takes
	 * its queue engine_index and listens on the port's udp_port + engine_index. */
	struct tern_dpdk_port *dpdk_port;
	/* Payloads of at least this many bytes per packet are sent from the
	 * message buffer itself, as external mbufs, where the port allows it
	 * (docs/dpdk.md); smaller ones are copied. Default 1024; 0: always copy. */
	uint32_t attach_min_bytes;

	/* UDP drivers: bind to host (name or literal; NULL: all addresses, IPv6
	 * and IPv4) and port + engine_index (port 0: any free port). */
	const char *bind_host;
	uint16_t port;
	uint16_t engine_index;
	enum tern_poll_mode poll_mode;
	uint32_t spin_polls;     /* adaptive: idle polls before blocking; default 2000 */
	uint64_t max_block_ns;   /* adaptive: longest single block; default 10 ms */
	/* One line per notable event (driver fallback, ...); NULL: stderr. */
	void (*log)(void *log_user, const char *line);
	void *log_user;

	/* io_uring driver only. */
	enum tern_uring_setup uring_setup;
	bool uring_no_gso;           /* send trains packet by packet, not as one UDP GSO send */
	uint32_t uring_zc_min_bytes; /* SEND_ZC for GSO trains at least this long; 0: never (default) */

	uint32_t mtu;          /* IP MTU of the path; default 1500 */
	uint32_t window_pkts;  /* send/receive window in packets, power of two; default 256 */
	uint32_t max_msg_size; /* largest message accepted or sent; default 64 MiB */
	uint32_t max_sessions; /* default 1024 */
	uint32_t max_tx_msgs;  /* messages queued for sending, all sessions; default 4096 */
	enum tern_cc_algo cc;  /* default TERN_CC_AIMD */
	uint64_t link_bps;     /* line rate, the most Timely sends at; default 10 Gb/s */
	/* Swift's base target for the fabric RTT; it must exceed the path's
	 * unloaded RTT. Default 25 us (docs/congestion.md). */
	uint64_t cc_target_ns;
	/* Swift's target grows by this much per link of the path, counted
	 * from the IP TTL each end sees (Swift's topology scaling). Default
	 * 1 us; 0 turns it off. */
	uint64_t cc_hop_ns;
	enum tern_delivery delivery;
	bool accept;           /* accept sessions that peers open; default true */

	uint64_t init_rto_ns;   /* RTO before any RTT sample; default 1 ms */
	uint64_t min_rto_ns;    /* RTO floor; default 1 ms */
	uint64_t max_rto_ns;    /* cap of the exponential backoff; default 100 ms */
	/* Peer silent this long: session dead; default 2 s. Only polled time
	 * counts: a gap of dead_after/2 between polls is a pause, after which
	 * the count starts again (docs/architecture.md). */
	uint64_t dead_after_ns;
	uint64_t ack_delay_ns;  /* longest an ACK is held back; default 20 us */
	uint64_t seed;          /* random tokens and sequence numbers; 0: from getrandom() */

	struct tern_callbacks cb;
};

TERN_API void tern_engine_config_init(struct tern_engine_config *cfg);

TERN_API int tern_engine_create(const struct tern_engine_config *cfg, struct tern_engine **out);
/* Ends every session (pending sends fail with TERN_ECLOSED) and frees all. */
TERN_API void tern_engine_destroy(struct tern_engine *e);

/* One pass: receive a burst, run due timers, transmit. Returns how many
 * packets and timers it handled (0: idle), or a negative error. */
TERN_API int tern_engine_poll(struct tern_engine *e);

/* Time of the earliest armed timer on the engine's clock, UINT64_MAX if none. */
TERN_API uint64_t tern_engine_next_deadline(struct tern_engine *e);
/* The engine's clock in ns (virtual on the simulated network). */
TERN_API uint64_t tern_engine_now(struct tern_engine *e);

TERN_API int tern_engine_stats(struct tern_engine *e, struct tern_stats *out);
/* The driver this engine ended up with (AUTO resolves at create). */
TERN_API enum tern_driver_kind tern_engine_driver(const struct tern_engine *e);
TERN_API int tern_engine_local_addr(struct tern_engine *e, struct tern_addr *out);

/* Memory for message buffers this engine's device can send from in place
 * (DPDK memory on a NIC port, so large payloads leave without a copy; the
 * C heap elsewhere). Callable from any thread; free with
 * tern_engine_free_buffer on the same engine. tern_rpc_alloc uses it for
 * buffers over 2 KiB. */
TERN_API void *tern_engine_alloc_buffer(struct tern_engine *e, size_t len);
TERN_API void tern_engine_free_buffer(struct tern_engine *e, void *buf);

#endif
