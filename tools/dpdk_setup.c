#include "dpdk_setup.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

static int parse_neighbor(const char *s, struct tern_dpdk_neighbor *n)
{
	char ip[32];
	const char *eq = strchr(s, '=');
	if (!eq || (size_t)(eq - s) >= sizeof(ip))
		return -1;
	memcpy(ip, s, (size_t)(eq - s));
	ip[eq - s] = 0;
	unsigned m[6];
	char tail;
	if (inet_pton(AF_INET, ip, n->ip) != 1 ||
	    sscanf(eq + 1, "%x:%x:%x:%x:%x:%x%c", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5], &tail) != 6)
		return -1;
	for (int i = 0; i < 6; i++) {
		if (m[i] > 255)
			return -1;
		n->mac[i] = (uint8_t)m[i];
	}
	return 0;
}

struct tern_dpdk_port *dpdk_setup_open(const struct dpdk_setup *o, const char *prog)
{
	if (!o->eal || !o->ip) {
		fprintf(stderr, "%s: the dpdk driver needs --eal ARGS and --dpdk-ip ADDRESS\n", prog);
		return NULL;
	}
	int rc = tern_dpdk_init_str(o->eal);
	if (rc) {
		fprintf(stderr, "%s: cannot start the DPDK EAL with '%s': %s\n", prog, o->eal, tern_strerror(rc));
		return NULL;
	}
	struct tern_dpdk_neighbor nb;
	struct tern_dpdk_port_config pc;
	tern_dpdk_port_config_init(&pc);
	pc.device = o->dev;
	pc.ip = o->ip;
	pc.udp_port = o->udp_port;
	pc.queues = (uint16_t)(o->queues ? o->queues : 1);
	pc.no_offload = o->no_offload;
	pc.reflect_udp_port = o->reflect;
	if (o->neighbor) {
		if (parse_neighbor(o->neighbor, &nb)) {
			fprintf(stderr, "%s: bad --neighbor '%s' (want IP=MAC)\n", prog, o->neighbor);
			return NULL;
		}
		pc.neighbors = &nb;
		pc.n_neighbors = 1;
	}
	struct tern_dpdk_port *port;
	rc = tern_dpdk_port_create(&pc, &port);
	if (rc) {
		fprintf(stderr, "%s: cannot start DPDK port %s: %s\n", prog, o->dev ? o->dev : "0", tern_strerror(rc));
		return NULL;
	}
	return port;
}

struct stat_line {
	FILE *f;
	unsigned n;
};

static void print_one(const char *name, uint64_t value, void *arg)
{
	struct stat_line *l = arg;
	fprintf(l->f, "%s %s %llu", l->n++ ? "," : "", name, (unsigned long long)value);
}

void print_driver_stats(FILE *f, const char *who, struct tern_engine *e)
{
	struct stat_line l = { f, 0 };
	fprintf(f, "%s %s:", who, tern_driver_name(tern_engine_driver(e)));
	if (tern_engine_driver_stats(e, print_one, &l) <= 0)
		fprintf(f, " no counters of its own");
	fprintf(f, "\n");
}
