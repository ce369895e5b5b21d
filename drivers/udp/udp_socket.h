/* The UDP socket both kernel drivers use, and address conversions. */
#ifndef TERN_UDP_SOCKET_H
#define TERN_UDP_SOCKET_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

#include "../driver.h"
#include "tern/addr.h"

struct tni_udp_socket {
	int fd;
	int family; /* AF_INET, or AF_INET6 dual-stack */
	bool connected; /* to peer (tni_udp_connect) */
	struct tern_addr peer;
};

/* Bind host:port (host NULL: every address, IPv6 and IPv4). Non-blocking.
 * TERN_EADDRINUSE if the port is taken. Port 0: a free port, bound by
 * number, so that it stays the socket's when it disconnects. */
int tni_udp_open(const char *host, uint16_t port, struct tni_udp_socket *out);
/* Connect to peer, or (NULL) disconnect. Connected, the kernel keeps the
 * route, so a send without an address skips its lookup, and it drops
 * datagrams from any other address. */
int tni_udp_connect(struct tni_udp_socket *s, const struct tern_addr *peer);
void tni_udp_close(struct tni_udp_socket *s);
/* 0 if the address cannot be reached from this socket's family. */
socklen_t tni_udp_to_sockaddr(const struct tni_udp_socket *s, const struct tern_addr *a,
			       struct sockaddr_storage *out);
void tni_udp_from_sockaddr(const struct sockaddr *sa, struct tern_addr *out);
int tni_udp_local_addr(const struct tni_udp_socket *s, struct tern_addr *out);
/* The IP MTU of the kernel's route to peer (IP_MTU of a socket connected
 * to it: the route's, or its interface's), capped at cap; 0 if unknown. A
 * few system calls: for session set-up, not per packet. */
uint32_t tni_udp_route_mtu(const struct tern_addr *peer, uint32_t cap);
/* The same, remembered for the last peer address asked about (an engine
 * opening many sessions mostly opens them to one host). */
struct tni_udp_mtu_memo {
	struct tern_addr addr; /* port zeroed */
	uint32_t mtu;          /* 0: nothing remembered */
};
uint32_t tni_udp_path_mtu(struct tni_udp_mtu_memo *memo, const struct tern_addr *peer, uint32_t cap);

/* How long the kernel's scheduler may keep an engine on this host from
 * polling, the RTO floor of the kernel drivers: two of its ticks (the
 * resolution of CLOCK_MONOTONIC_COARSE is one tick, 1/CONFIG_HZ), at least
 * TNI_COARSE_RTO_NS and at most TNI_STALL_MAX_NS. A task that wakes on the
 * engine's CPU can hold it until a tick preempts it, and another may
 * follow (docs/architecture.md, "Timers"). */
uint64_t tni_udp_stall_ns(void);
#define TNI_STALL_MAX_NS 50000000ull

/* Which loopback paths are memory links here (TNI_LO_*, driver.h): ::1
 * always; 127/8 unless some interface's route_localnet is on (or /proc
 * cannot tell). A few system calls: for opening a driver. */
uint8_t tni_udp_loopback_checks(void);

/* The TTL (hop limit) of each datagram as a control message, or not: the
 * path's hop count, which Swift's target scales with (driver.h, read_hops). */
void tni_udp_read_hops(const struct tni_udp_socket *s, bool on);

/* Room for the control message that carries a datagram's TTL. */
#define TERN_UDP_CMSG_ROOM 32
/* The hop count in c if it carries a TTL or hop limit, else 0. */
uint8_t tni_udp_cmsg_hops(const struct cmsghdr *c);
/* UDP_GRO's option and cmsg type (older headers lack the name). */
#define TNI_UDP_GRO 104
/* What a received datagram's control message c says: the hop count (into
 * *hops, if not yet set) or, under UDP_GRO, the segment size of a
 * coalesced train (into *seg). Both kernel drivers read their cmsgs so. */
void tni_udp_cmsg_take(const struct cmsghdr *c, uint8_t *hops, int *seg);

/* UDP GSO: at most this many segments, and a UDP datagram's bytes. */
#define TNI_GSO_MAX_PKTS 64
#define TNI_GSO_MAX_BYTES 65000

/* How many packets from pkts[0] can ride one GSO send: one peer, one
 * segment size (attached bytes counted), only the last segment shorter. */
static inline unsigned tni_udp_train_len(struct tni_pkt **pkts, unsigned n)
{
	uint32_t seg = pkts[0]->len + pkts[0]->ext_len, total = seg;
	unsigned k = 1;
	while (k < n && k < TNI_GSO_MAX_PKTS) {
		uint32_t len = pkts[k]->len + pkts[k]->ext_len;
		if (len > seg || total + len > TNI_GSO_MAX_BYTES || !tern_addr_equal(&pkts[k]->peer, &pkts[0]->peer))
			break;
		total += len;
		k++;
		if (len < seg)
			break;
	}
	return k;
}

static inline uint64_t tni_clock_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

#endif
