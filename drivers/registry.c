/* The drivers as the rest of tern sees them: opening the kernel UDP
 * drivers (io_uring, else sockets), the default an engine gets when the
 * application names none, names, and closing a driver no engine took. The
 * engine knows none of the drivers; it only calls this and the ops. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "../util/sized.h"
#include "driver.h"
#include "sockets/sockets_driver.h"
#include "udp/udp_socket.h"
#include "tern/error.h"
#include "tern/udp.h"
#include "tern_config.h"
#if TERN_HAVE_URING
#include "uring/uring_driver.h"
#endif

/* With mtu 0, packet buffers hold a jumbo frame and each session uses its
 * route's MTU up to that: loopback and jumbo-frame links carry 9000-byte
 * packets, Ethernet paths 1500 (docs/uring.md has what it bought). */
#define ROUTE_MTU_CAP 9000
/* Payloads the sockets driver sends from the message buffer: at least this. */
#define SOCKETS_ATTACH_MIN 1024
/* io_uring: SEND_ZC for trains of at least this, where it is on. */
#define ZC_DEFAULT_MIN (16u << 10)
/* IPv4 + UDP: what the kernel puts in front of a tern packet. */
#define OUTER_V4 28

static const char *const driver_names[] = {
	[TERN_DRIVER_AUTO] = "auto",
	[TERN_DRIVER_SIM] = "sim",
	[TERN_DRIVER_URING] = "uring",
	[TERN_DRIVER_SOCKETS] = "sockets",
	[TERN_DRIVER_DPDK] = "dpdk",
};

const char *tern_driver_name(enum tern_driver_kind kind)
{
	return (unsigned)kind < sizeof(driver_names) / sizeof(driver_names[0]) ? driver_names[kind] : NULL;
}

/* The index of name in names, or TERN_EINVAL. */
static int parse_name(const char *const *names, unsigned n, const char *name)
{
	for (unsigned i = 0; name && i < n; i++)
		if (strcmp(name, names[i]) == 0)
			return (int)i;
	return TERN_EINVAL;
}

int tern_driver_parse(const char *name)
{
	return parse_name(driver_names, sizeof(driver_names) / sizeof(driver_names[0]), name);
}

int tern_uring_setup_parse(const char *name)
{
	static const char *const names[] = {
		[TERN_URING_SETUP_AUTO] = "auto",
		[TERN_URING_SETUP_DEFER_TASKRUN] = "defer-taskrun",
		[TERN_URING_SETUP_COOP_TASKRUN] = "coop-taskrun",
		[TERN_URING_SETUP_PLAIN] = "plain",
		[TERN_URING_SETUP_SQPOLL] = "sqpoll",
	};
	return parse_name(names, sizeof(names) / sizeof(names[0]), name);
}

void tern_driver_destroy(struct tern_driver *d)
{
	if (d)
		d->ops->destroy(d);
}

void tern_udp_config_init_sized(struct tern_udp_config *cfg, size_t size)
{
	if (!cfg || size < sizeof(uint32_t))
		return;
	struct tern_udp_config c = { 0 };
	c.size = (uint32_t)tni_sized_common(size, sizeof(c));
	c.kind = TERN_DRIVER_AUTO;
	memcpy(cfg, &c, c.size);
}

static void udp_log(const struct tern_udp_config *cfg, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (cfg->log)
		cfg->log(cfg->log_user, line);
	else
		fprintf(stderr, "%s\n", line);
}

static int open_uring(const struct tern_udp_config *cfg, uint32_t max_pkt, struct tern_driver **drv, char *why,
		      size_t why_len)
{
#if TERN_HAVE_URING
	/* Zero copy pays only for large sends, and only where the kernel does
	 * not copy anyway: probed on the first trains unless told. */
	uint32_t zc_min = cfg->uring_zc == TERN_URING_ZC_OFF ? 0
			  : cfg->uring_zc_min_bytes ? cfg->uring_zc_min_bytes : ZC_DEFAULT_MIN;
	bool probe = cfg->uring_zc == TERN_URING_ZC_AUTO && !cfg->uring_zc_min_bytes; /* a set minimum means ON */
	struct tni_uring_opts o = { cfg->uring_setup, !cfg->uring_no_gso, zc_min, probe, cfg->log, cfg->log_user,
				    !cfg->no_gro };
	return tni_uring_driver_open(cfg->bind_host, cfg->port, max_pkt, &o, drv, why, why_len);
#else
	(void)cfg; (void)max_pkt; (void)drv;
	snprintf(why, why_len, "tern was built without liburing");
	return TERN_ENOTSUP;
#endif
}

static int open_sockets(const struct tern_udp_config *cfg, uint32_t max_pkt, struct tern_driver **drv)
{
	struct tni_sockets_opts o = { !cfg->sockets_no_gso, !cfg->no_gro };
	char note[256];
	int rc = tni_sockets_driver_open(cfg->bind_host, cfg->port, max_pkt, &o, drv, note, sizeof(note));
	if (rc == 0 && note[0])
		udp_log(cfg, "%s", note);
	return rc;
}

int tern_udp_open(const struct tern_udp_config *user, struct tern_driver **out)
{
	if (!user || !out || user->size < offsetof(struct tern_udp_config, kind) + sizeof(user->kind))
		return TERN_EINVAL;
	/* Fields the application was built without keep their defaults. */
	struct tern_udp_config cfg;
	tern_udp_config_init(&cfg);
	tni_sized_copy(&cfg, sizeof(cfg), user, user->size);
	if ((cfg.mtu && (cfg.mtu < 576 || cfg.mtu > 65535)) || cfg.uring_zc > TERN_URING_ZC_ON || cfg.uring_setup > TERN_URING_SETUP_SQPOLL ||
	    cfg.poll_mode > TERN_POLL_ADAPTIVE)
		return TERN_EINVAL;
	if (!cfg.mtu)
		cfg.mtu = ROUTE_MTU_CAP;
	uint32_t max_pkt = cfg.mtu - OUTER_V4;
	char why[256];
	int rc;
	enum tern_driver_kind kind = cfg.kind;
	switch (cfg.kind) {
	case TERN_DRIVER_URING:
		rc = open_uring(&cfg, max_pkt, out, why, sizeof(why));
		if (rc && rc != TERN_EADDRINUSE)
			udp_log(&cfg, "tern: io_uring driver unavailable: %s", why);
		break;
	case TERN_DRIVER_SOCKETS:
		rc = open_sockets(&cfg, max_pkt, out);
		break;
	case TERN_DRIVER_AUTO:
		if (cfg.poll_mode == TERN_POLL_BUSY) {
			kind = TERN_DRIVER_SOCKETS;
			rc = open_sockets(&cfg, max_pkt, out);
			break;
		}
		kind = TERN_DRIVER_URING;
		rc = open_uring(&cfg, max_pkt, out, why, sizeof(why));
		if (rc == 0 || rc == TERN_EADDRINUSE)
			break;
		udp_log(&cfg, "tern: io_uring unavailable (%s); using the sockets driver", why);
		kind = TERN_DRIVER_SOCKETS;
		rc = open_sockets(&cfg, max_pkt, out);
		break;
	default:
		return TERN_EINVAL;
	}
	if (rc == 0) {
		(*out)->kind = kind;
		(*out)->min_rto_ns = tni_udp_stall_ns();
		(*out)->loopback_checks = cfg.crc_on_loopback ? 0 : tni_udp_loopback_checks();
		(*out)->mtu = cfg.mtu;
		/* The kernel copies what it sends either way; sendmmsg taking the
		 * payload from the message buffer saves copying it into the packet
		 * first (the sockets driver; io_uring's sends are asynchronous). */
		(*out)->attach_min = kind == TERN_DRIVER_SOCKETS ? SOCKETS_ATTACH_MIN : 0;
	}
	return rc;
}

int tni_driver_open_default(enum tern_poll_mode poll_mode, void (*log)(void *, const char *), void *log_user,
			    struct tern_driver **out)
{
	struct tern_udp_config cfg;
	tern_udp_config_init(&cfg);
	cfg.poll_mode = poll_mode;
	cfg.log = log;
	cfg.log_user = log_user;
	return tern_udp_open(&cfg, out);
}
