#include <string.h>

#include "tern/addr.h"

bool tern_addr_equal(const struct tern_addr *a, const struct tern_addr *b)
{
	if (a->family != b->family)
		return false;
	switch (a->family) {
	case TERN_AF_SIM:
		return a->sim_node == b->sim_node;
	case TERN_AF_INET:
		return a->port == b->port && memcmp(a->ip, b->ip, 4) == 0;
	case TERN_AF_INET6:
		return a->port == b->port && memcmp(a->ip, b->ip, 16) == 0;
	default:
		return true;
	}
}
