/* Kernel UDP drivers: io_uring, and plain recvmmsg/sendmmsg sockets where
 * io_uring is not allowed (docs/uring.md). Both take one config: they bind
 * the same way, and the automatic choice falls back from one to the
 * other with the same address. */
#ifndef TERN_UDP_H
#define TERN_UDP_H

#include "export.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine.h"

/* How the io_uring driver sets up its ring (docs/uring.md has the numbers). */
enum tern_uring_setup {
	TERN_URING_SETUP_AUTO = 0,          /* the best the kernel offers: DEFER_TASKRUN first */
	TERN_URING_SETUP_DEFER_TASKRUN = 1, /* SINGLE_ISSUER + DEFER_TASKRUN + TASKRUN_FLAG */
	TERN_URING_SETUP_COOP_TASKRUN = 2,  /* COOP_TASKRUN + TASKRUN_FLAG */
	TERN_URING_SETUP_PLAIN = 3,         /* no flags: task work by signal */
	TERN_URING_SETUP_SQPOLL = 4,        /* a kernel thread polls the SQ (costs a core) */
};

enum tern_uring_zc {
	TERN_URING_ZC_AUTO = 0, /* probe on the first trains, keep it where the kernel does not copy */
	TERN_URING_ZC_OFF = 1,  /* never */
	TERN_URING_ZC_ON = 2,   /* always, for trains of at least uring_zc_min_bytes */
};

/* Initialise with tern_udp_config_init (records the compiled size, as
 * tern_engine_config does). */
struct tern_udp_config {
	uint32_t size;
	/* TERN_DRIVER_AUTO (default): the faster path for poll_mode (below);
	 * TERN_DRIVER_URING or TERN_DRIVER_SOCKETS: that one. */
	enum tern_driver_kind kind;
	const char *bind_host; /* name or literal; NULL: every address, IPv6 and IPv4 */
	uint16_t port;         /* 0: any free port */
	/* The largest IP MTU of any path. 0 (default): 9000, and each session
	 * uses its route's MTU up to that (IP_MTU: 65536 on loopback, the
	 * interface's elsewhere), the smaller of its end's and its peer's,
	 * agreed in the handshake. Otherwise 576-65535, the same per route. */
	uint32_t mtu;
	/* Why io_uring was not used, and other notable events; NULL: stderr. */
	void (*log)(void *log_user, const char *line);
	void *log_user;
	/* io_uring only. */
	enum tern_uring_setup uring_setup;
	bool uring_no_gso;           /* send trains packet by packet, not as one UDP GSO send */
	/* SEND_ZC for GSO trains at least this long (0: 16 KiB), as uring_zc says. */
	uint32_t uring_zc_min_bytes;
	/* How the engine that gets this driver polls (tern_engine_config.
	 * poll_mode; default TERN_POLL_BUSY). AUTO picks by it, as measured in
	 * docs/uring.md: busy polling gets the sockets driver, whose
	 * non-blocking receive on every poll has the shortest round trip;
	 * adaptive polling gets io_uring (no system call while nothing is
	 * pending, GSO trains), else sockets with a log line saying why.
	 * tern_engine_driver tells which an engine got. */
	enum tern_poll_mode poll_mode;
	/* To measure what the offloads buy: the sockets driver sends trains
	 * packet by packet, not as one UDP GSO datagram (io_uring's is
	 * uring_no_gso); either driver receives datagram by datagram, without
	 * UDP GRO. Where the kernel refuses GRO the driver says so through log
	 * and goes without. */
	bool sockets_no_gso, no_gro;
	/* io_uring's zero-copy sends (docs/uring.md). AUTO (default): the
	 * first trains go as SEND_ZC, and if the kernel reports it copied any
	 * of them anyway (loopback, veth: it cannot hand user pages to a
	 * receiver) zero copy is turned off, with a log line; where none was
	 * copied it stays on. Setting uring_zc_min_bytes alone means ON. */
	enum tern_uring_zc uring_zc;
	/* Packets to and from a loopback address (127/8, ::1) go without
	 * tern's CRC32C by default: the loopback is memory, as memif is, and
	 * the kernel drops loopback sources from any other interface
	 * (docs/protocol.md, Integrity). Set this to keep the CRC there, as
	 * for a relay on this host that may alter what it forwards. */
	bool crc_on_loopback;
};

#define tern_udp_config_init(cfg) tern_udp_config_init_sized((cfg), sizeof(*(cfg)))
TERN_API void tern_udp_config_init_sized(struct tern_udp_config *cfg, size_t size);

/* Open a kernel UDP driver on the calling thread (the one that will poll
 * the engine it goes to). TERN_EADDRINUSE if the port is taken, whatever
 * the kind. */
TERN_API int tern_udp_open(const struct tern_udp_config *cfg, struct tern_driver **out);

/* "auto", "defer-taskrun", "coop-taskrun", "plain", "sqpoll"; TERN_EINVAL if unknown. */
TERN_API int tern_uring_setup_parse(const char *name);

#endif
