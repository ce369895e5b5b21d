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

/* Initialise with tern_udp_config_init (records the compiled size, as
 * tern_engine_config does). */
struct tern_udp_config {
	uint32_t size;
	/* TERN_DRIVER_AUTO (default): the faster path for poll_mode (below);
	 * TERN_DRIVER_URING or TERN_DRIVER_SOCKETS: that one. */
	enum tern_driver_kind kind;
	const char *bind_host; /* name or literal; NULL: every address, IPv6 and IPv4 */
	uint16_t port;         /* 0: any free port */
	uint32_t mtu;          /* IP MTU of the path; default 1500 */
	/* Why io_uring was not used, and other notable events; NULL: stderr. */
	void (*log)(void *log_user, const char *line);
	void *log_user;
	/* io_uring only. */
	enum tern_uring_setup uring_setup;
	bool uring_no_gso;           /* send trains packet by packet, not as one UDP GSO send */
	uint32_t uring_zc_min_bytes; /* SEND_ZC for GSO trains at least this long; 0: never (default) */
	/* How the engine that gets this driver polls (tern_engine_config.
	 * poll_mode; default TERN_POLL_BUSY). AUTO picks by it, as measured in
	 * docs/uring.md: busy polling gets the sockets driver, whose
	 * non-blocking recvmmsg on every poll has the shortest round trip;
	 * adaptive polling gets io_uring (no system call while nothing is
	 * pending, GSO trains), else sockets with a log line saying why.
	 * tern_engine_driver tells which an engine got. */
	enum tern_poll_mode poll_mode;
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
