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
/* The packet I/O an engine runs on, opened by tern_udp_open (udp.h),
 * tern_dpdk_driver_open (dpdk.h) or tern_sim_driver_open (sim.h), and
 * taken over by the engine. */
struct tern_driver;

enum tern_driver_kind {
	TERN_DRIVER_AUTO = 0,    /* kernel UDP, by poll mode: sockets when busy, io_uring when adaptive (udp.h) */
	TERN_DRIVER_SIM = 1,     /* in-process simulated network (sim.h) */
	TERN_DRIVER_URING = 2,   /* kernel UDP through io_uring (udp.h) */
	TERN_DRIVER_SOCKETS = 3, /* kernel UDP through recvmmsg/sendmmsg (udp.h) */
	TERN_DRIVER_DPDK = 4,    /* a queue pair of a DPDK port (dpdk.h) */
};

enum tern_poll_mode {
	TERN_POLL_BUSY = 0,     /* tern_engine_poll never blocks: lowest latency, one core */
	TERN_POLL_ADAPTIVE = 1, /* after spin_polls idle polls, block until a packet or a timer */
};

/* "auto", "sim", "uring", "sockets", "dpdk"; NULL for an unknown value. */
TERN_API const char *tern_driver_name(enum tern_driver_kind kind);
/* Parse a driver name; TERN_EINVAL if unknown. */
TERN_API int tern_driver_parse(const char *name);
/* Close a driver that was never handed to an engine. */
TERN_API void tern_driver_destroy(struct tern_driver *d);

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

/* Settings of the engine itself; the driver has its own (udp.h, dpdk.h,
 * sim.h). Initialise with tern_engine_config_init, which records the size
 * the application was compiled with: fields added in later versions go at
 * the end and take their defaults for older applications. */
struct tern_engine_config {
	uint32_t size;
	/* The packet I/O, taken over by tern_engine_create, also when it
	 * fails. NULL: kernel UDP on any free port of every address, the
	 * automatic choice for poll_mode (udp.h). Open it on the thread that
	 * will poll the engine. */
	struct tern_driver *driver;
	enum tern_poll_mode poll_mode;
	uint32_t spin_polls;     /* adaptive: idle polls before blocking; default 2000 */
	uint64_t max_block_ns;   /* adaptive: longest single block; default 10 ms */
	/* One line per notable event; NULL: stderr. */
	void (*log)(void *log_user, const char *line);
	void *log_user;

	uint32_t window_pkts;  /* send/receive window in packets, power of two; default 256 */
	uint32_t max_msg_size; /* largest message accepted or sent; default 64 MiB */
	uint32_t max_sessions; /* default 1024, at most 1,048,576 */
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
	/* Accept sessions that peers open; default true. A client sets it
	 * false: then, while it has one session, the sockets driver sends to
	 * that peer through a connected socket, which skips the kernel's
	 * route lookup (docs/uring.md, "Busy polling"). */
	bool accept;

	uint64_t init_rto_ns;   /* RTO before any RTT sample; default 1 ms */
	/* RTO floor. Default 0: the path's (docs/architecture.md, "Timers"),
	 * the larger of what the two ends need: two scheduler ticks on the
	 * kernel's UDP (8 ms at 250 Hz), whose scheduler can stall an engine
	 * that long; the driver's own where an end busy-polls its NIC or
	 * memory (DPDK 50 us, the simulator 20 us). A timeout found spurious
	 * raises a session's floor to the silence it saw, for a while. */
	uint64_t min_rto_ns;
	uint64_t max_rto_ns;    /* cap of the exponential backoff; default 100 ms */
	/* Peer silent this long: session dead; default 2 s. Only polled time
	 * counts: a gap of dead_after/2 between polls is a pause, after which
	 * the count starts again (docs/architecture.md). */
	uint64_t dead_after_ns;
	uint64_t ack_delay_ns;  /* longest an ACK is held back; default 20 us */
	/* Sequence numbers, and with it every random choice, reproducible
	 * (tests); 0: from getrandom(). Session ids and epochs always come
	 * from getrandom() unless a seed is set. */
	uint64_t seed;

	struct tern_callbacks cb;

	/* Accepted sessions whose client has not yet answered our SYN_ACK (it
	 * may be a forged source). Past this many, a SYN is answered without
	 * state: with a cookie the client must send back in a new SYN
	 * (docs/protocol.md, "Handshake"). Default 64; 0: every SYN. */
	uint32_t syn_backlog;
};

#define tern_engine_config_init(cfg) tern_engine_config_init_sized((cfg), sizeof(*(cfg)))
TERN_API void tern_engine_config_init_sized(struct tern_engine_config *cfg, size_t size);

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

/* The transport's counters (stats.h). */
#define tern_engine_stats(e, out) tern_engine_stats_sized((e), (out), sizeof(*(out)))
TERN_API int tern_engine_stats_sized(struct tern_engine *e, struct tern_stats *out, size_t size);
/* The driver's own counters, by name (docs/architecture.md lists them per
 * driver); returns how many, or a negative error. */
TERN_API int tern_engine_driver_stats(struct tern_engine *e, void (*fn)(const char *name, uint64_t value, void *arg),
				      void *arg);
/* One of them by name; TERN_EINVAL if the driver has no such counter. */
TERN_API int tern_engine_driver_stat(struct tern_engine *e, const char *name, uint64_t *value);
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
