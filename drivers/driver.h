/* The packet I/O ops table every backend implements (sim, uring, sockets, dpdk). */
#ifndef TERN_DRIVER_H
#define TERN_DRIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tern/addr.h"
#include "tern/engine.h"

/* A packet buffer. data points at the tern header; the driver keeps
 * headroom in front of it for the outer headers it must write. */
struct tni_pkt {
	uint8_t *data;
	uint32_t len;           /* bytes of tern packet at data */
	uint32_t ext_len;       /* tx: bytes attached after them (ops->attach); 0 otherwise */
	uint32_t cap;           /* bytes usable from data on */
	uint16_t src_port;      /* tx: the UDP source port the peer asked for (RSS steering); 0: ours */
	struct tern_addr peer;  /* rx: where it came from; tx: where it goes */
	uint8_t hops;           /* rx: links crossed (tni_hops_from_ttl); 0 unknown */
	bool link_checked;      /* rx: the link verified this datagram (see tern_driver) */
	struct tni_pkt *next;  /* free for the driver's use */
	void *owner;            /* the pool it returns to */
};

/* Links a packet crossed, from the TTL (or hop limit) it arrived with:
 * senders start at 64 (Linux, and our DPDK template), 128 or 255, and
 * every router takes one off. 1 means the peer is on our link. */
static inline uint8_t tni_hops_from_ttl(uint8_t ttl)
{
	if (ttl == 0)
		return 0;
	unsigned start = ttl <= 64 ? 64 : ttl <= 128 ? 128 : 255;
	return (uint8_t)(start - ttl + 1);
}

/* A count of the device's references to memory the caller owns (a message
 * sent by attach). The driver takes one per attached packet and drops it
 * with tni_ext_ref_put, possibly from inside its own free path. */
struct tni_ext_ref {
	uint32_t refs;
};

static inline void tni_ext_ref_get(struct tni_ext_ref *r)
{
	__atomic_add_fetch(&r->refs, 1, __ATOMIC_RELAXED);
}

static inline void tni_ext_ref_put(struct tni_ext_ref *r)
{
	__atomic_sub_fetch(&r->refs, 1, __ATOMIC_RELEASE);
}

static inline bool tni_ext_ref_idle(struct tni_ext_ref *r)
{
	return __atomic_load_n(&r->refs, __ATOMIC_ACQUIRE) == 0;
}

struct tern_driver;

/* An errno value (either sign) as a tern code: drivers return these, never
 * -errno (transport/error.c). */
int tni_error_from_errno(int err);

/* drivers/registry.c: what an engine runs on when the application names
 * no driver: kernel UDP on any free port, the automatic choice for the
 * engine's poll mode (tern_udp_config.poll_mode). */
int tni_driver_open_default(enum tern_poll_mode poll_mode, void (*log)(void *, const char *), void *log_user,
			    struct tern_driver **out);

struct tni_driver_ops {
	const char *name;
	/* Fill up to n received packets; the engine frees each one. */
	unsigned (*rx_burst)(struct tern_driver *d, struct tni_pkt **pkts, unsigned n);
	/* Send up to n; the driver owns the ones it took (the count returned). */
	unsigned (*tx_burst)(struct tern_driver *d, struct tni_pkt **pkts, unsigned n);
	struct tni_pkt *(*alloc)(struct tern_driver *d);
	void (*free)(struct tern_driver *d, struct tni_pkt *p);
	uint64_t (*now_ns)(struct tern_driver *d);
	int (*local_addr)(struct tern_driver *d, struct tern_addr *out);
	/* Block until a packet may be ready or timeout_ns passes. */
	void (*wait)(struct tern_driver *d, uint64_t timeout_ns);
	/* Optional zero copy: send len bytes at buf, which the caller keeps
	 * valid while ref counts the device's use, after p's len bytes (sets
	 * p->ext_len). false: not for this buffer; the caller copies. */
	bool (*attach)(struct tern_driver *d, struct tni_pkt *p, const void *buf, uint32_t len,
		       struct tni_ext_ref *ref);
	/* Optional: the device lets go of sent packets it still holds (called
	 * while attached memory waits, since a NIC frees on later sends). */
	void (*tx_cleanup)(struct tern_driver *d);
	/* Optional: the UDP source port peer should send from so that the
	 * NIC's RSS hash puts its packets on this engine's queue (told to it
	 * in the handshake); 0 when any port will do. */
	uint16_t (*steer_port)(struct tern_driver *d, const struct tern_addr *peer);
	/* Optional: the IP MTU of the path to peer, at most d->mtu (the
	 * kernel's route for it); 0 or absent: d->mtu. At session set-up. */
	uint32_t (*path_mtu)(struct tern_driver *d, const struct tern_addr *peer);
	/* Optional: read the TTL of received datagrams into tni_pkt.hops
	 * while on, not otherwise (the kernel drivers, for which each costs a
	 * control message per datagram). The engine turns it on while some
	 * session still waits for its path's hop count. Drivers without it
	 * always fill hops. */
	void (*read_hops)(struct tern_driver *d, bool on);
	/* Optional: datagrams go to and come from peer alone from now on
	 * (NULL: any peer again). The kernel drivers connect their socket:
	 * the kernel keeps the route, and a send skips its lookup. While it
	 * holds, datagrams from other addresses may be dropped; a packet for
	 * another peer ends it. 0 or a tern error (then it does not hold). */
	int (*sole_peer)(struct tern_driver *d, const struct tern_addr *peer);
	/* Optional: memory for message buffers the device can send from in
	 * place (see attach); any thread. Without them: malloc and free. */
	void *(*buf_alloc)(struct tern_driver *d, size_t len);
	void (*buf_free)(struct tern_driver *d, void *buf);
	/* Optional: the driver's own counters, by name, through fn. */
	void (*xstats)(struct tern_driver *d, void (*fn)(const char *name, uint64_t value, void *arg), void *arg);
	void (*destroy)(struct tern_driver *d);
};

/* Backends embed this as their first member. The public headers know it
 * only as an opaque handle (tern_udp_open, tern_dpdk_driver_open,
 * tern_sim_driver_open make one; an engine takes it over). */
struct tern_driver {
	const struct tni_driver_ops *ops;
	enum tern_driver_kind kind;
	/* The largest IP MTU of any path (packet buffers hold mtu - 28
	 * bytes); a session's own is ops->path_mtu's, agreed with its peer. */
	uint32_t mtu;
	/* Payloads of at least this many bytes per packet leave from the
	 * message buffer (ops->attach) where the driver can; 0: always copy. */
	uint32_t attach_min;
	/* What we send is checked on its way by something the receiving end
	 * verifies: a UDP checksum the NIC fills in, or memory (memif). Peers
	 * that can tell (rx_link_checks) then get packets without tern's CRC. */
	bool tx_link_checks;
	/* rx fills tni_pkt.link_checked truthfully: set only where a NIC
	 * verified a non-zero UDP checksum, or the link is memory. */
	bool rx_link_checks;
	/* The kernel drivers: which of the kernel's loopback paths are
	 * memory links (TNI_LO_*, tni_udp_loopback_checks). To and from such
	 * a peer both flags above hold, and rx marks its datagrams so. */
	uint8_t loopback_checks;
	/* now_ns is a fair part of an idle poll's work (rdtsc in a VM, the
	 * vDSO clock beside one non-blocking receive or a ring look):
	 * a poll with nothing to send or receive may skip it (the engine
	 * reads it at least every TERN_IDLE_CLOCK_POLLS polls). */
	bool lazy_clock;
	/* The shortest RTO this end's path allows: how long the engine on it
	 * may go without a poll. Two scheduler ticks on the kernel's paths
	 * (tni_udp_stall_ns); the driver's own where the engine busy-polls
	 * its device. Sent to the peer in the handshake. */
	uint64_t min_rto_ns;
};

/* The least a scheduler can stall a process on the kernel's paths: the
 * floor of tni_udp_stall_ns, and what a driver that names none needs. */
#define TNI_COARSE_RTO_NS 1000000ull
/* The kernel's loopback is memory: no wire, no bit flip on the way. It is
 * a checked link, as memif is, where the kernel drops a loopback source
 * address that arrives on any other interface: always for ::1 (RFC 4291),
 * for 127/8 unless route_localnet lets such packets in. */
enum { TNI_LO_V6 = 1, TNI_LO_V4 = 2 };
static inline bool tni_loopback_checked(uint8_t lo, const struct tern_addr *a)
{
	if (a->family == TERN_AF_INET)
		return (lo & TNI_LO_V4) && a->ip[0] == 127;
	if (a->family != TERN_AF_INET6 || !(lo & TNI_LO_V6))
		return false;
	for (int i = 0; i < 15; i++)
		if (a->ip[i])
			return false;
	return a->ip[15] == 1;
}

/* Whether the link to and from peer checks what crosses it (both ends
 * of a memory link, or a checking NIC), per direction. */
static inline bool tni_driver_tx_checked(const struct tern_driver *d, const struct tern_addr *peer)
{
	return d->tx_link_checks || tni_loopback_checked(d->loopback_checks, peer);
}
static inline bool tni_driver_rx_checked(const struct tern_driver *d, const struct tern_addr *peer)
{
	return d->rx_link_checks || tni_loopback_checked(d->loopback_checks, peer);
}

/* The smallest MTU any IPv4 path carries: a path MTU below it is not believed. */
#define TNI_MIN_PATH_MTU 576

#endif
