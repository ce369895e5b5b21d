/* How the example's two programs open their RPC engine: over kernel UDP
 * (io_uring or sockets) or a DPDK port (memif between two processes, say),
 * from the same few options. */
#ifndef KV_NET_H
#define KV_NET_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tern/dpdk.h>
#include <tern/tern.h>
#include <unistd.h>

#include "../../tools/dpdk_setup.h"

struct kv_net {
	const char *driver; /* uring, sockets, dpdk, auto */
	const char *bind;   /* kernel UDP: the address to bind */
	uint16_t port;      /* our UDP port (0: any) */
	const char *eal;    /* dpdk: EAL arguments */
	const char *ip;     /* dpdk: our IPv4 address on the port */
	int client;         /* a client accepts no sessions: with its one server
			     * the kernel drivers may send through a connected socket */
	struct tern_dpdk_port *dpdk;
};

static inline int kv_net_open(struct kv_net *n, const char *prog, struct tern_rpc **out)
{
	struct tern_rpc_config rc;
	tern_rpc_config_init(&rc);
	struct tern_engine_config ec;
	tern_engine_config_init(&ec);
	ec.accept = !n->client;
	int r;
	if (!strcmp(n->driver, "dpdk")) {
		struct dpdk_setup ds = { .eal = n->eal, .ip = n->ip, .udp_port = n->port ? n->port : 7900 };
		if (!n->eal || !n->ip) {
			fprintf(stderr, "%s: --driver dpdk needs --eal and --dpdk-ip\n", prog);
			return TERN_EINVAL;
		}
		if (!(n->dpdk = dpdk_setup_open(&ds, prog)))
			return TERN_ENODEV;
		/* A memif link is up once both ends are there. */
		struct tern_dpdk_port_info pi;
		for (int i = 0; i < 5000 && tern_dpdk_port_info(n->dpdk, &pi) == 0 && !pi.link_up; i++)
			usleep(1000);
		r = tern_dpdk_driver_open(n->dpdk, 0, &ec.driver);
	} else {
		struct tern_udp_config uc;
		tern_udp_config_init(&uc);
		if (!strcmp(n->driver, "uring"))
			uc.kind = TERN_DRIVER_URING;
		else if (!strcmp(n->driver, "sockets"))
			uc.kind = TERN_DRIVER_SOCKETS;
		else if (strcmp(n->driver, "auto")) {
			fprintf(stderr, "%s: unknown driver '%s' (uring, sockets, dpdk or auto)\n", prog, n->driver);
			return TERN_EINVAL;
		}
		uc.bind_host = n->bind;
		uc.port = n->port;
		r = tern_udp_open(&uc, &ec.driver);
	}
	if (r == 0)
		r = tern_rpc_create(&rc, &ec, out);
	if (r)
		fprintf(stderr, "%s: cannot open the %s driver: %s\n", prog, n->driver, tern_strerror(r));
	return r;
}

static inline void kv_net_close(struct kv_net *n, struct tern_rpc *rpc)
{
	tern_rpc_destroy(rpc);
	if (n->dpdk)
		tern_dpdk_port_destroy(n->dpdk);
}

#endif
