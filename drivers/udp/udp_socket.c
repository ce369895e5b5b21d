#include "udp_socket.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <string.h>
#include <unistd.h>

#include "../driver.h"
#include "tern/error.h"

#define SOCK_BUF_BYTES (4 << 20)

static int bind_family(int family, const struct tern_addr *host, uint16_t port)
{
	int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return tni_error_from_errno(errno);
	int zero = 0, buf = SOCK_BUF_BYTES;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
	struct sockaddr_storage ss = { 0 };
	socklen_t len;
	if (family == AF_INET6) {
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons(port);
		if (host)
			memcpy(&a->sin6_addr, host->ip, 16);
		len = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;
		a->sin_family = AF_INET;
		a->sin_port = htons(port);
		if (host)
			memcpy(&a->sin_addr, host->ip, 4);
		len = sizeof(*a);
	}
	if (bind(fd, (struct sockaddr *)&ss, len) < 0) {
		int err = errno;
		close(fd);
		return tni_error_from_errno(err);
	}
	return fd;
}

uint8_t tni_udp_cmsg_hops(const struct cmsghdr *c)
{
	int ttl;
	if (c->cmsg_len < CMSG_LEN(sizeof(ttl)))
		return 0;
	if (!(c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TTL) &&
	    !(c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_HOPLIMIT))
		return 0;
	memcpy(&ttl, CMSG_DATA(c), sizeof(ttl));
	return ttl > 0 && ttl < 256 ? tni_hops_from_ttl((uint8_t)ttl) : 0;
}

void tni_udp_cmsg_take(const struct cmsghdr *c, uint8_t *hops, int *seg)
{
	if (c->cmsg_level == IPPROTO_UDP && c->cmsg_type == TNI_UDP_GRO && c->cmsg_len >= CMSG_LEN(sizeof(int)))
		memcpy(seg, CMSG_DATA(c), sizeof(int));
	else if (!*hops)
		*hops = tni_udp_cmsg_hops(c);
}

/* A port the kernel picked (bind to port 0) is let go again when the
 * socket disconnects (tni_udp_connect with NULL), so a socket that may
 * connect is bound to its port by number: the kernel's pick, asked for
 * again on a new socket (someone may take it in between: then another). */
static int bind_family_fixed(int family, const struct tern_addr *host, uint16_t port)
{
	if (port)
		return bind_family(family, host, port);
	for (int tries = 0;; tries++) {
		int fd = bind_family(family, host, 0);
		if (fd < 0 || tries == 8)
			return fd;
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		uint16_t picked = 0;
		if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0)
			picked = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
							       : ((struct sockaddr_in6 *)&ss)->sin6_port);
		close(fd);
		if (!picked)
			return bind_family(family, host, 0);
		fd = bind_family(family, host, picked);
		if (fd != TERN_EADDRINUSE)
			return fd;
	}
}

int tni_udp_open(const char *host, uint16_t port, struct tni_udp_socket *out)
{
	struct tern_addr h;
	int fd;
	if (host) {
		int rc = tern_addr_resolve(host, port, &h);
		if (rc)
			return rc;
		out->family = h.family == TERN_AF_INET ? AF_INET : AF_INET6;
		fd = bind_family_fixed(out->family, &h, port);
	} else {
		/* Dual stack where the host has IPv6; plain IPv4 where it does not. */
		out->family = AF_INET6;
		fd = bind_family_fixed(AF_INET6, NULL, port);
		if (fd < 0 && fd != TERN_EADDRINUSE) {
			out->family = AF_INET;
			fd = bind_family_fixed(AF_INET, NULL, port);
		}
	}
	if (fd < 0)
		return fd;
	out->fd = fd;
	out->connected = false;
	return 0;
}

int tni_udp_connect(struct tni_udp_socket *s, const struct tern_addr *peer)
{
	struct sockaddr_storage ss;
	socklen_t len;
	if (peer) {
		len = tni_udp_to_sockaddr(s, peer, &ss);
		if (!len)
			return TERN_EINVAL;
	} else {
		if (!s->connected)
			return 0;
		memset(&ss, 0, sizeof(ss));
		ss.ss_family = AF_UNSPEC;
		len = sizeof(ss);
	}
	if (connect(s->fd, (struct sockaddr *)&ss, len) < 0)
		return tni_error_from_errno(errno);
	s->connected = peer != NULL;
	if (peer)
		s->peer = *peer;
	return 0;
}

void tni_udp_close(struct tni_udp_socket *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
}

socklen_t tni_udp_to_sockaddr(const struct tni_udp_socket *s, const struct tern_addr *a,
			       struct sockaddr_storage *out)
{
	if (s->family == AF_INET) {
		if (a->family != TERN_AF_INET)
			return 0;
		struct sockaddr_in *v4 = (struct sockaddr_in *)out;
		memset(v4, 0, sizeof(*v4));
		v4->sin_family = AF_INET;
		v4->sin_port = htons(a->port);
		memcpy(&v4->sin_addr, a->ip, 4);
		return sizeof(*v4);
	}
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)out;
	memset(v6, 0, sizeof(*v6));
	v6->sin6_family = AF_INET6;
	v6->sin6_port = htons(a->port);
	if (a->family == TERN_AF_INET6) {
		memcpy(&v6->sin6_addr, a->ip, 16);
	} else if (a->family == TERN_AF_INET) {
		/* IPv4 through a dual-stack socket: ::ffff:a.b.c.d */
		v6->sin6_addr.s6_addr[10] = 0xff;
		v6->sin6_addr.s6_addr[11] = 0xff;
		memcpy(&v6->sin6_addr.s6_addr[12], a->ip, 4);
	} else {
		return 0;
	}
	return sizeof(*v6);
}

void tni_udp_from_sockaddr(const struct sockaddr *sa, struct tern_addr *out)
{
	memset(out, 0, sizeof(*out));
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *v4 = (const struct sockaddr_in *)sa;
		out->family = TERN_AF_INET;
		out->port = ntohs(v4->sin_port);
		memcpy(out->ip, &v4->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)sa;
		out->port = ntohs(v6->sin6_port);
		if (IN6_IS_ADDR_V4MAPPED(&v6->sin6_addr)) {
			out->family = TERN_AF_INET;
			memcpy(out->ip, &v6->sin6_addr.s6_addr[12], 4);
		} else {
			out->family = TERN_AF_INET6;
			memcpy(out->ip, &v6->sin6_addr, 16);
		}
	}
}

int tni_udp_local_addr(const struct tni_udp_socket *s, struct tern_addr *out)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	if (getsockname(s->fd, (struct sockaddr *)&ss, &len) < 0)
		return tni_error_from_errno(errno);
	tni_udp_from_sockaddr((struct sockaddr *)&ss, out);
	return 0;
}

uint32_t tni_udp_route_mtu(const struct tern_addr *peer, uint32_t cap)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t len;
	int family, level, opt;
	if (peer->family == TERN_AF_INET) {
		struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
		v4->sin_family = AF_INET;
		v4->sin_port = htons(peer->port ? peer->port : 9);
		memcpy(&v4->sin_addr, peer->ip, 4);
		len = sizeof(*v4);
		family = AF_INET, level = IPPROTO_IP, opt = IP_MTU;
	} else if (peer->family == TERN_AF_INET6) {
		struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons(peer->port ? peer->port : 9);
		memcpy(&v6->sin6_addr, peer->ip, 16);
		len = sizeof(*v6);
		family = AF_INET6, level = IPPROTO_IPV6, opt = IPV6_MTU;
	} else {
		return 0;
	}
	/* connect() on a UDP socket sends nothing: it looks the route up. */
	int fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	int mtu = 0;
	socklen_t ol = sizeof(mtu);
	if (connect(fd, (struct sockaddr *)&ss, len) < 0 || getsockopt(fd, level, opt, &mtu, &ol) < 0 || mtu <= 0)
		mtu = 0;
	close(fd);
	return (uint32_t)mtu < cap ? (uint32_t)mtu : cap;
}

uint32_t tni_udp_path_mtu(struct tni_udp_mtu_memo *memo, const struct tern_addr *peer, uint32_t cap)
{
	struct tern_addr a = *peer;
	a.port = 0;
	if (memo->mtu && tern_addr_equal(&memo->addr, &a))
		return memo->mtu;
	uint32_t mtu = tni_udp_route_mtu(peer, cap);
	if (mtu) {
		memo->addr = a;
		memo->mtu = mtu;
	}
	return mtu;
}

uint64_t tni_udp_stall_ns(void)
{
	struct timespec res;
	uint64_t tick = clock_getres(CLOCK_MONOTONIC_COARSE, &res) == 0
				? (uint64_t)res.tv_sec * 1000000000ull + (uint64_t)res.tv_nsec
				: 0;
	uint64_t stall = 2 * tick;
	if (stall < TNI_COARSE_RTO_NS)
		stall = TNI_COARSE_RTO_NS;
	return stall < TNI_STALL_MAX_NS ? stall : TNI_STALL_MAX_NS;
}

uint8_t tni_udp_loopback_checks(void)
{
	uint8_t lo = TNI_LO_V6;
	DIR *d = opendir("/proc/sys/net/ipv4/conf");
	if (!d)
		return lo;
	bool localnet = false;
	struct dirent *de;
	while (!localnet && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		char path[320];
		snprintf(path, sizeof(path), "/proc/sys/net/ipv4/conf/%s/route_localnet", de->d_name);
		FILE *f = fopen(path, "r");
		int v = 1; /* unreadable: assume the worst */
		if (f) {
			if (fscanf(f, "%d", &v) != 1)
				v = 1;
			fclose(f);
		}
		localnet = v != 0;
	}
	closedir(d);
	return localnet ? lo : lo | TNI_LO_V4;
}

void tni_udp_read_hops(const struct tni_udp_socket *s, bool on)
{
	int v = on;
	setsockopt(s->fd, IPPROTO_IP, IP_RECVTTL, &v, sizeof(v));
	if (s->family == AF_INET6) /* dual stack: either family's datagrams */
		setsockopt(s->fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &v, sizeof(v));
}
