/* The peer of a measurement: found on another host, or started here as a
 * second process (bench_peer.h). */
#include "bench_peer.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <sched.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_util.h"

int bench_client_driver(int kind, int uring_setup, bool local, struct tern_driver **out)
{
	struct tern_udp_config uc;
	tern_udp_config_init(&uc);
	uc.kind = (enum tern_driver_kind)kind;
	uc.uring_setup = (enum tern_uring_setup)uring_setup;
	uc.bind_host = local ? "127.0.0.1" : "0.0.0.0";
	return tern_udp_open(&uc, out);
}

int bench_peer_parse(const char *arg, struct bench_peer *p)
{
	memset(p, 0, sizeof(*p));
	char host[256];
	const char *colon = strrchr(arg, ':');
	unsigned long port = BENCH_SERVE_PORT;
	size_t hl = colon ? (size_t)(colon - arg) : strlen(arg);
	if (hl == 0 || hl >= sizeof(host))
		return -1;
	memcpy(host, arg, hl);
	host[hl] = 0;
	if (colon) {
		char *end;
		port = strtoul(colon + 1, &end, 10);
		if (*end || port == 0 || port > 65535)
			return -1;
	}
	if (tern_addr_resolve(host, (uint16_t)port, &p->tern[0]) || p->tern[0].family != TERN_AF_INET)
		return -1;
	p->engines = 1;
	return 0;
}

/* "... tern RPC on HOST:PORT, ..." from the line serve prints first. */
static int parse_listen_line(const char *line, struct bench_peer *p)
{
	const char *at = strstr(line, "tern RPC on ");
	if (!at)
		return -1;
	at += strlen("tern RPC on ");
	char hp[128];
	size_t n = strcspn(at, ", \n");
	if (n == 0 || n >= sizeof(hp))
		return -1;
	memcpy(hp, at, n);
	hp[n] = 0;
	return bench_peer_parse(hp, p);
}

int bench_peer_spawn(const char *driver, unsigned engines, const char *const *extra, struct bench_peer *p)
{
	int fds[2];
	if (pipe(fds))
		return -1;
	char eng[16];
	snprintf(eng, sizeof(eng), "%u", engines ? engines : 1);
	const char *argv[32] = { "tern-bench", "serve", "--driver", driver, "--port", "0", "--bind", "127.0.0.1",
				 "--engines", eng, "--quiet" };
	size_t argc = 11;
	for (size_t i = 0; extra && extra[i] && argc < 31; i++)
		argv[argc++] = extra[i];
	argv[argc] = NULL;
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0) {
		/* The peer ends with us, however we end. */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent)
			_exit(1);
		dup2(fds[1], 1);
		close(fds[0]);
		close(fds[1]);
		execv("/proc/self/exe", (char *const *)argv);
		_exit(127);
	}
	close(fds[1]);
	/* Its first line says where it listens; 10 s to say it. */
	char line[512];
	size_t have = 0;
	uint64_t until = bench_now_ns() + 10000000000ull;
	int rc = -1;
	while (have < sizeof(line) - 1 && bench_now_ns() < until) {
		struct pollfd pf = { fds[0], POLLIN, 0 };
		if (poll(&pf, 1, 100) <= 0)
			continue;
		ssize_t k = read(fds[0], line + have, 1);
		if (k <= 0)
			break;
		if (line[have++] == '\n') {
			line[have] = 0;
			rc = parse_listen_line(line, p);
			break;
		}
	}
	close(fds[0]); /* later output of the peer goes nowhere */
	if (rc) {
		kill(pid, SIGTERM);
		waitpid(pid, NULL, 0);
		return -1;
	}
	p->pid = pid;
	return 0;
}

static int parse_info(const char *txt, struct bench_peer *p)
{
	/* "tern-bench serve 1 driver=D engines=N ports=P0,P1,... raw=R" */
	if (strncmp(txt, "tern-bench serve 1 ", 19))
		return -1;
	const char *d = strstr(txt, "driver="), *e = strstr(txt, "engines="), *ps = strstr(txt, "ports="),
		   *r = strstr(txt, "raw=");
	if (!d || !e || !ps || !r)
		return -1;
	size_t dl = strcspn(d + 7, " ");
	if (dl == 0 || dl >= sizeof(p->driver))
		return -1;
	memcpy(p->driver, d + 7, dl);
	p->driver[dl] = 0;
	unsigned long n = strtoul(e + 8, NULL, 10);
	if (n == 0 || n > BENCH_MAX_ENGINES)
		return -1;
	struct tern_addr base = p->tern[0];
	const char *q = ps + 6;
	for (unsigned i = 0; i < n; i++) {
		char *end;
		unsigned long port = strtoul(q, &end, 10);
		if (end == q || port == 0 || port > 65535)
			return -1;
		p->tern[i] = base;
		p->tern[i].port = (uint16_t)port;
		q = *end == ',' ? end + 1 : end;
	}
	p->engines = (unsigned)n;
	unsigned long raw = strtoul(r + 4, NULL, 10);
	if (raw == 0 || raw > 65535)
		return -1;
	memset(&p->raw, 0, sizeof(p->raw));
	p->raw.sin_family = AF_INET;
	memcpy(&p->raw.sin_addr, base.ip, 4);
	p->raw.sin_port = htons((uint16_t)raw);
	/* tcp= came later: a serve without it has no TCP baselines. */
	const char *t = strstr(txt, " tcp=");
	unsigned long tcp = t ? strtoul(t + 5, NULL, 10) : 0;
	p->tcp = p->raw;
	p->tcp.sin_port = htons((uint16_t)(tcp <= 65535 ? tcp : 0));
	return 0;
}

int bench_peer_info(struct tern_rpc *rpc, struct tern_session *s, struct bench_peer *p)
{
	char resp[1024];
	size_t len = 0;
	int rc = tern_rpc_call_sync(rpc, s, BENCH_INFO, "", 0, 5000000000ull, resp, sizeof(resp) - 1, &len);
	if (rc)
		return rc;
	resp[len < sizeof(resp) - 1 ? len : sizeof(resp) - 1] = 0;
	return parse_info(resp, p) ? TERN_EPROTO : 0;
}

int bench_client_opt(struct bench_client *c, int ch, const char *arg)
{
	char *end;
	unsigned long v;
	switch (ch) {
	case 0x300: c->dpdk.eal = arg; return 1;
	case 0x301: c->dpdk.dev = arg; return 1;
	case 0x302: c->dpdk.ip = arg; return 1;
	case 0x303: c->dpdk.neighbor = arg; return 1;
	case 0x304: c->dpdk.no_offload = 1; return 1;
	case 0x305:
		v = strtoul(arg, &end, 10);
		if (*end || v == 0 || v > 65535 - BENCH_MAX_ENGINES)
			return -1;
		c->dpdk.udp_port = (uint16_t)v;
		return 1;
	case 0x306: {
		size_t cpu[BENCH_MAX_ENGINES];
		int n = bench_size_list(arg, cpu, BENCH_MAX_ENGINES, CPU_SETSIZE - 1, true);
		if (n < 0)
			return -1;
		for (int i = 0; i < n; i++)
			c->cpus[i] = (int)cpu[i];
		c->n_cpus = (unsigned)n;
		return 1;
	}
	default: return 0;
	}
}

void bench_client_usage(FILE *f)
{
	fprintf(f, "  --cpus LIST       pin this side's engine i to the i-th CPU of LIST\n"
		   "                    (\"2,3\"; engines beyond it wrap around)\n"
		   "\n"
		   "dpdk (--driver dpdk; docs/dpdk.md). Without --eal and --peer the peer is\n"
		   "started here and the two processes are joined by a memif socket.\n"
		   "  --eal ARGS        EAL arguments, one string (a --file-prefix of its own)\n"
		   "  --dpdk-dev NAME   the port (default: port 0)\n"
		   "  --dpdk-ip ADDR    our IPv4 address on the port\n"
		   "  --dpdk-port P     engine i listens on UDP port P+i (default 7800)\n"
		   "  --neighbor IP=MAC a static neighbour (default: ARP)\n"
		   "  --no-offload      checksums in software\n");
}

int bench_client_driver_arg(const char *name, bool allow_sim)
{
	int d = tern_driver_parse(name);
	if (d == TERN_DRIVER_DPDK)
		return d;
	return bench_driver_arg(name, allow_sim);
}

/* Hugepages take about 60 MB a process here (pools, memif rings). */
#define HUGE_NEED_MB 128

int bench_client_peer(struct bench_client *c, const char *cmd, const char *arg, unsigned engines,
		      struct bench_peer *p)
{
	c->queues = engines ? engines : 1;
	const char *dn = tern_driver_name((enum tern_driver_kind)c->driver);
	if (arg) {
		if (bench_peer_parse(arg, p)) {
			fprintf(stderr, "tern-bench %s: bad --peer '%s' (want an IPv4 HOST[:PORT])\n", cmd, arg);
			return -1;
		}
		return 0;
	}
	const char *extra[12] = { NULL };
	char srv_eal[512];
	if (c->driver == TERN_DRIVER_DPDK) {
		if (c->dpdk.eal) {
			fprintf(stderr, "tern-bench %s: with --eal, say where the peer is (--peer)\n", cmd);
			return -1;
		}
		/* Two processes on one memif socket, each with its own EAL
		 * files; hugepages where both fit, as DPDK is deployed. */
		int pid = getpid();
		bool huge = bench_hugepages_free_mb() >= 2 * HUGE_NEED_MB;
		const char *mem = huge ? "--huge-unlink" : "--no-huge -m 512 --single-file-segments";
		snprintf(c->sock, sizeof(c->sock), "/tmp/tern-bench-%d.sock", pid);
		snprintf(srv_eal, sizeof(srv_eal),
			 "%s --no-pci --no-telemetry --file-prefix=tern-bench-peer-%d --log-level=lib.eal:warning "
			 "--log-level=pmd.net.memif:warning --vdev=net_memif0,role=server,socket=%s",
			 mem, pid, c->sock);
		snprintf(c->eal, sizeof(c->eal),
			 "%s --no-pci --no-telemetry --file-prefix=tern-bench-%d --log-level=lib.eal:warning "
			 "--log-level=pmd.net.memif:warning --vdev=net_memif0,role=client,socket=%s",
			 mem, pid, c->sock);
		c->dpdk.eal = c->eal;
		if (!c->dpdk.ip)
			c->dpdk.ip = "10.216.1.2";
		const char *e[] = { "--eal", srv_eal, "--dpdk-ip", "10.216.1.1", "--port", "7700", NULL };
		memcpy(extra, e, sizeof(e));
		unlink(c->sock);
	}
	int spawned = bench_peer_spawn(dn, c->queues, extra, p);
	if (!spawned && c->sock[0])
		snprintf(p->rundir, sizeof(p->rundir), "/var/run/dpdk/tern-bench-peer-%d", getpid());
	if (spawned) {
		fprintf(stderr, "tern-bench %s: cannot start a peer (tern-bench serve --driver %s)\n", cmd, dn);
		if (c->sock[0])
			unlink(c->sock);
		return -1;
	}
	return 0;
}

int bench_client_open(struct bench_client *c, unsigned i, unsigned engines, const struct bench_peer *p,
		      struct tern_driver **out)
{
	if (c->n_cpus) {
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET(c->cpus[i % c->n_cpus], &set);
		pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	}
	if (c->driver != TERN_DRIVER_DPDK)
		return bench_client_driver(c->driver, c->uring_setup, p->pid != 0, out);
	if (!c->port) {
		if (engines > c->queues)
			c->queues = engines;
		c->dpdk.queues = c->queues;
		if (!c->dpdk.udp_port)
			c->dpdk.udp_port = 7800;
		if (!(c->port = dpdk_setup_open(&c->dpdk, "tern-bench")))
			return TERN_ENODEV;
		/* A memif link comes up when both ends are there. */
		struct tern_dpdk_port_info pi;
		uint64_t until = bench_now_ns() + 5000000000ull;
		while (tern_dpdk_port_info(c->port, &pi) == 0 && !pi.link_up && bench_now_ns() < until)
			usleep(1000);
	}
	if (i >= c->queues)
		return TERN_EINVAL;
	return tern_dpdk_driver_open(c->port, (uint16_t)i, out);
}

void bench_client_close(struct bench_client *c)
{
	if (c->port) {
		tern_dpdk_port_destroy(c->port);
		c->port = NULL;
	}
	if (c->sock[0]) {
		unlink(c->sock);
		c->sock[0] = 0;
		/* The run directory of the EAL this command named (the peer's
		 * goes when it ends). No rte_eal_cleanup: see bench_memif.c. */
		char cmd[160];
		snprintf(cmd, sizeof(cmd), "rm -rf /var/run/dpdk/tern-bench-%d", getpid());
		if (getuid() == 0 && system(cmd) != 0)
			fprintf(stderr, "tern-bench: could not remove /var/run/dpdk/tern-bench-%d\n", getpid());
	}
}

void bench_peer_stop(struct bench_peer *p)
{
	if (p->pid > 0) {
		kill(p->pid, SIGTERM);
		waitpid(p->pid, NULL, 0);
		p->pid = 0;
	}
	if (p->rundir[0]) {
		char cmd[96];
		snprintf(cmd, sizeof(cmd), "rm -rf %s", p->rundir);
		if (getuid() == 0 && system(cmd) != 0)
			fprintf(stderr, "tern-bench: could not remove %s\n", p->rundir);
		p->rundir[0] = 0;
	}
}
