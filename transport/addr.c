#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>

#include "tern/addr.h"
#include "tern/error.h"

bool tern_addr_equal(const struct tern_addr *a, const struct tern_addr *b)
{
	if (a->family != b->family)
		return false;
	switch (a->family) {
	case TERN_AF_SIM:
		return memcmp(a->ip, b->ip, 4) == 0;
	case TERN_AF_INET:
		return a->port == b->port && memcmp(a->ip, b->ip, 4) == 0;
	case TERN_AF_INET6:
		return a->port == b->port && memcmp(a->ip, b->ip, 16) == 0;
	default:
		return true;
	}
}

int tern_addr_resolve(const char *host, uint16_t port, struct tern_addr *out)
{
	if (!host || !out)
		return TERN_EINVAL;
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM }, *res;
	/* Brackets are how users write IPv6 literals next to a port. */
	char buf[256];
	size_t n = strlen(host);
	if (n >= 2 && host[0] == '[' && host[n - 1] == ']' && n - 2 < sizeof(buf)) {
		memcpy(buf, host + 1, n - 2);
		buf[n - 2] = 0;
		host = buf;
	}
	if (getaddrinfo(host, NULL, &hints, &res) != 0 || !res)
		return TERN_EINVAL;
	memset(out, 0, sizeof(*out));
	out->port = port;
	if (res->ai_family == AF_INET) {
		out->family = TERN_AF_INET;
		memcpy(out->ip, &((struct sockaddr_in *)res->ai_addr)->sin_addr, 4);
	} else {
		out->family = TERN_AF_INET6;
		memcpy(out->ip, &((struct sockaddr_in6 *)res->ai_addr)->sin6_addr, 16);
	}
	freeaddrinfo(res);
	return 0;
}

char *tern_addr_format(const struct tern_addr *a, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN];
	switch (a->family) {
	case TERN_AF_SIM:
		snprintf(buf, len, "sim:%u", (unsigned)a->ip[0] | (unsigned)a->ip[1] << 8 | (unsigned)a->ip[2] << 16 |
						     (unsigned)a->ip[3] << 24);
		break;
	case TERN_AF_INET:
		inet_ntop(AF_INET, a->ip, ip, sizeof(ip));
		snprintf(buf, len, "%s:%u", ip, a->port);
		break;
	case TERN_AF_INET6:
		inet_ntop(AF_INET6, a->ip, ip, sizeof(ip));
		snprintf(buf, len, "[%s]:%u", ip, a->port);
		break;
	default:
		snprintf(buf, len, "(none)");
	}
	return buf;
}
