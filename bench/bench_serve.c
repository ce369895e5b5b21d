/* tern-bench serve: the peer every measurement runs against. Each engine
 * answers tern RPC echo on its own thread; a raw reflector on the same
 * driver answers the baselines (a UDP echo socket on the kernel drivers,
 * the DPDK port's own reflector on DPDK). Runs until SIGINT or SIGTERM. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../tools/dpdk_setup.h"
#include "baseline_tcp.h"
#include "logp_peer.h"
#include "bench_peer.h"
#include "bench_util.h"
#include "tern/tern.h"

/* The process's one signal flag: a handler can reach nothing else. */
static volatile sig_atomic_t serve_stop;

static void on_signal(int sig)
{
	(void)sig;
	serve_stop = 1;
}

struct serve_opts {
	int driver;
	const char *bind;
	unsigned long port;
	unsigned engines;
	int cpus[BENCH_MAX_ENGINES + 1];
	unsigned n_cpus;
	struct dpdk_setup dpdk;
	int quiet;
};

struct serve;

struct serve_engine {
	struct serve *sv;
	unsigned idx;
	pthread_t thread;
	atomic_int state; /* 0 starting, 1 up, -1 failed */
	uint16_t port;
	struct tern_rpc *rpc;
	struct logp_peer logp;
};

struct serve {
	struct serve_opts o;
	struct tern_dpdk_port *dpdk;
	struct serve_engine eng[BENCH_MAX_ENGINES];
	int raw_fd;
	uint16_t raw_port;
	struct tcp_reflector *tcp; /* the TCP baselines (kernel drivers) */
	uint16_t tcp_port;
	pthread_t raw_thread;
	char info[1024];
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: tern-bench serve [options]\n"
		"\n"
		"The peer of `tern-bench lat|tput|scale --peer HOST[:PORT]` (without --peer\n"
		"they start one on 127.0.0.1). Each engine answers tern RPC echo on its\n"
		"own thread, on PORT + i; a raw reflector on the same driver answers the\n"
		"baselines on PORT + ENGINES (a UDP echo\n"
		"socket on uring and sockets; on dpdk the port swaps the frame's\n"
		"addresses and sends it back, as testpmd's macswap). Prints one line\n"
		"saying where it listens, then runs until SIGINT or SIGTERM. Clients may\n"
		"come and go. Idle engines and the reflector stop spinning after a\n"
		"moment, so a baseline is not measured against busy-polling neighbours.\n"
		"\n"
		"options:\n"
		"  --driver NAME     uring, sockets, dpdk or auto (default auto: io_uring if\n"
		"                    allowed, else sockets)\n"
		"  --port P          the first engine's UDP port (default %d; 0: any free\n"
		"                    ports, kernel drivers only)\n"
		"  --bind HOST       the address to serve on, kernel drivers (default 0.0.0.0)\n"
		"  --engines N       engines, each on its own thread (default 1, at most %d)\n"
		"  --cpus LIST       pin engine i to the i-th CPU of LIST (\"2,3\"); the\n"
		"                    reflector's thread to the one after, if given\n"
		"dpdk options (docs/dpdk.md):\n"
		"  --eal ARGS        EAL arguments, one string (\"--no-huge -m 512 --vdev=...\")\n"
		"  --dpdk-dev NAME   the port (default: port 0)\n"
		"  --dpdk-ip ADDR    our IPv4 address on the port (required)\n"
		"  --neighbor IP=MAC a static neighbour (the peer), besides ARP\n"
		"  --no-offload      checksums in software\n"
		"  --quiet           no driver counters at exit\n"
		"  --help            this text\n",
		BENCH_SERVE_PORT, BENCH_MAX_ENGINES);
}

static int parse_cpus(const char *arg, struct serve_opts *o)
{
	size_t v[BENCH_MAX_ENGINES + 1];
	int n = bench_size_list(arg, v, BENCH_MAX_ENGINES + 1, 4095, true);
	if (n < 0)
		return -1;
	for (int i = 0; i < n; i++)
		o->cpus[i] = (int)v[i];
	o->n_cpus = (unsigned)n;
	return 0;
}

static int parse(int argc, char **argv, struct serve_opts *o)
{
	static const struct option lo[] = {
		{ "driver", required_argument, 0, 'd' }, { "port", required_argument, 0, 'p' },
		{ "bind", required_argument, 0, 'b' }, { "engines", required_argument, 0, 'e' },
		{ "cpus", required_argument, 0, 'c' }, { "eal", required_argument, 0, 'E' },
		{ "dpdk-dev", required_argument, 0, 'V' }, { "dpdk-ip", required_argument, 0, 'I' },
		{ "neighbor", required_argument, 0, 'N' }, { "no-offload", no_argument, 0, 'O' },
		{ "quiet", no_argument, 0, 'q' }, { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 },
	};
	*o = (struct serve_opts){ .driver = bench_best_driver(), .bind = "0.0.0.0", .port = BENCH_SERVE_PORT,
				  .engines = 1 };
	int c, li = 0;
	char *end;
	while ((c = getopt_long(argc, argv, "h", lo, &li)) != -1) {
		switch (c) {
		case 'd':
			o->driver = tern_driver_parse(optarg);
			if (o->driver == TERN_DRIVER_AUTO)
				o->driver = bench_best_driver();
			if (o->driver != TERN_DRIVER_URING && o->driver != TERN_DRIVER_SOCKETS &&
			    o->driver != TERN_DRIVER_DPDK)
				goto bad;
			break;
		case 'p': o->port = strtoul(optarg, &end, 10); if (*end || o->port > 65535) goto bad; break;
		case 'b': o->bind = optarg; break;
		case 'e':
			o->engines = (unsigned)strtoul(optarg, &end, 10);
			if (*end || !o->engines || o->engines > BENCH_MAX_ENGINES)
				goto bad;
			break;
		case 'c': if (parse_cpus(optarg, o)) goto bad; break;
		case 'E': o->dpdk.eal = optarg; break;
		case 'V': o->dpdk.dev = optarg; break;
		case 'I': o->dpdk.ip = optarg; break;
		case 'N': o->dpdk.neighbor = optarg; break;
		case 'O': o->dpdk.no_offload = 1; break;
		case 'q': o->quiet = 1; break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "tern-bench serve: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	if (o->port && o->port + o->engines > 65535) {
		fprintf(stderr, "tern-bench serve: ports %lu..%lu do not fit\n", o->port, o->port + o->engines);
		return -1;
	}
	if (o->driver == TERN_DRIVER_DPDK && !o->port) {
		fprintf(stderr, "tern-bench serve: a dpdk port needs --port (not 0)\n");
		return -1;
	}
	return 0;
bad:
	fprintf(stderr, "tern-bench serve: bad value '%s' for --%s\n", optarg, lo[li].name);
	return -1;
}

static void pin(const struct serve_opts *o, unsigned i)
{
	if (i >= o->n_cpus)
		return;
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(o->cpus[i], &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static void info_handler(struct tern_rpc_req *req, void *arg)
{
	struct serve_engine *se = arg;
	size_t n = strlen(se->sv->info);
	void *out = tern_rpc_alloc(se->rpc, n);
	if (!out) {
		tern_rpc_respond_error(req, 12);
		return;
	}
	memcpy(out, se->sv->info, n);
	tern_rpc_respond(req, out, n);
}

static void *engine_main(void *arg)
{
	struct serve_engine *se = arg;
	struct serve *sv = se->sv;
	pin(&sv->o, se->idx);
	struct tern_rpc_config rc;
	tern_rpc_config_init(&rc);
	rc.workers = 0;
	struct tern_engine_config ec;
	tern_engine_config_init(&ec);
	ec.max_sessions = 65536;
	ec.max_msg_size = BENCH_MAX_MSG; /* bw's largest messages */
	ec.window_pkts = 1024;
	/* Clients measure their baselines between tern's rounds: spin while
	 * calls come, then sleep, so the baseline has the cores. */
	ec.poll_mode = TERN_POLL_ADAPTIVE;
	ec.spin_polls = 20000;
	ec.max_block_ns = 1000000000ull; /* an idle engine wakes for its timers, not to check */
	ec.dead_after_ns = 60000000000ull;
	int rc_;
	if (sv->o.driver == TERN_DRIVER_DPDK) {
		rc_ = tern_dpdk_driver_open(sv->dpdk, (uint16_t)se->idx, &ec.driver);
	} else {
		struct tern_udp_config uc;
		tern_udp_config_init(&uc);
		uc.kind = (enum tern_driver_kind)sv->o.driver;
		uc.bind_host = sv->o.bind;
		uc.port = (uint16_t)(sv->o.port ? sv->o.port + se->idx : 0);
		rc_ = tern_udp_open(&uc, &ec.driver);
	}
	if (rc_ == 0)
		rc_ = tern_rpc_create(&rc, &ec, &se->rpc);
	if (rc_ == 0)
		rc_ = tern_rpc_register(se->rpc, BENCH_ECHO, bench_echo, se->rpc, 0);
	if (rc_ == 0)
		rc_ = tern_rpc_register(se->rpc, BENCH_INFO, info_handler, se, 0);
	if (rc_ == 0)
		rc_ = logp_peer_register(&se->logp, se->rpc);
	if (rc_) {
		fprintf(stderr, "tern-bench serve: engine %u: %s\n", se->idx, tern_strerror(rc_));
		atomic_store(&se->state, -1);
		return NULL;
	}
	struct tern_engine *e = tern_rpc_engine(se->rpc);
	struct tern_addr a;
	tern_engine_local_addr(e, &a);
	se->port = a.port;
	atomic_store(&se->state, 1);
	while (!serve_stop) {
		tern_engine_poll(e);
		logp_peer_after_poll(&se->logp);
	}
	if (!sv->o.quiet) {
		char who[32];
		snprintf(who, sizeof(who), "tern-bench serve: engine %u,", se->idx);
		print_driver_stats(stderr, who, e);
	}
	tern_rpc_destroy(se->rpc);
	return NULL;
}

/* The kernel drivers' raw reflector: every datagram straight back. It
 * spins while datagrams come and sleeps in poll() once none came for
 * 10 ms, as the engines do. */
static void *raw_main(void *arg)
{
	struct serve *sv = arg;
	pin(&sv->o, sv->o.engines);
	static _Thread_local uint8_t buf[65536];
	uint64_t last = 0;
	while (!serve_stop) {
		struct sockaddr_storage from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(sv->raw_fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
		if (n >= 0) {
			sendto(sv->raw_fd, buf, (size_t)n, 0, (struct sockaddr *)&from, fl);
			last = 0;
			continue;
		}
		uint64_t now = bench_now_ns();
		if (!last)
			last = now;
		if (now - last > 10000000ull) {
			struct pollfd pf = { sv->raw_fd, POLLIN, 0 };
			poll(&pf, 1, 100);
		}
	}
	return NULL;
}

static int open_raw(struct serve *sv)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	if (inet_pton(AF_INET, sv->o.bind, &a.sin_addr) != 1) {
		fprintf(stderr, "tern-bench serve: --bind wants an IPv4 address for the reflector, not '%s'\n",
			sv->o.bind);
		return -1;
	}
	a.sin_port = htons((uint16_t)(sv->o.port ? sv->o.port + sv->o.engines : 0));
	socklen_t l = sizeof(a);
	sv->raw_fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (sv->raw_fd < 0 || bind(sv->raw_fd, (struct sockaddr *)&a, sizeof(a)) ||
	    getsockname(sv->raw_fd, (struct sockaddr *)&a, &l)) {
		fprintf(stderr, "tern-bench serve: reflector on port %u: %s\n", ntohs(a.sin_port), strerror(errno));
		return -1;
	}
	sv->raw_port = ntohs(a.sin_port);
	return 0;
}

int bench_serve(int argc, char **argv)
{
	static struct serve sv;
	memset(&sv, 0, sizeof(sv));
	sv.raw_fd = -1;
	if (parse(argc, argv, &sv.o))
		return 2;
	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	const char *host = sv.o.bind;
	if (sv.o.driver == TERN_DRIVER_DPDK) {
		sv.o.dpdk.queues = sv.o.engines;
		sv.o.dpdk.udp_port = (uint16_t)sv.o.port;
		sv.o.dpdk.reflect = (uint16_t)(sv.o.port + sv.o.engines);
		if (!(sv.dpdk = dpdk_setup_open(&sv.o.dpdk, "tern-bench serve")))
			return 1;
		sv.raw_port = sv.o.dpdk.reflect;
		host = sv.o.dpdk.ip;
	} else if (open_raw(&sv)) {
		return 1;
	}
	int status = 0;
	unsigned started = 0;
	for (; started < sv.o.engines; started++) {
		struct serve_engine *se = &sv.eng[started];
		se->sv = &sv;
		se->idx = started;
		if (pthread_create(&se->thread, NULL, engine_main, se)) {
			status = 1;
			break;
		}
		while (atomic_load(&se->state) == 0)
			usleep(100);
		if (atomic_load(&se->state) < 0) {
			started++;
			status = 1;
			break;
		}
	}
	if (status == 0 && sv.raw_fd >= 0 && pthread_create(&sv.raw_thread, NULL, raw_main, &sv))
		status = 1;
	/* TCP for tput's and bw's baselines, on the reflector's number if it
	 * is free; the kernel's stack only (a DPDK port's address is not the
	 * kernel's). */
	if (status == 0 && sv.raw_fd >= 0 && tcp_reflector_start(sv.o.bind, sv.raw_port, &sv.tcp_port, &sv.tcp) &&
	    tcp_reflector_start(sv.o.bind, 0, &sv.tcp_port, &sv.tcp))
		sv.tcp_port = 0;
	if (status == 0) {
		int n = snprintf(sv.info, sizeof(sv.info), "tern-bench serve 1 driver=%s engines=%u ports=",
				 tern_driver_name((enum tern_driver_kind)sv.o.driver), sv.o.engines);
		for (unsigned i = 0; i < sv.o.engines; i++)
			n += snprintf(sv.info + n, sizeof(sv.info) - (size_t)n, "%s%u", i ? "," : "", sv.eng[i].port);
		snprintf(sv.info + n, sizeof(sv.info) - (size_t)n, " raw=%u tcp=%u", sv.raw_port, sv.tcp_port);
		printf("tern-bench serve: driver %s, %u engine%s, tern RPC on %s:%u, raw reflector on %s:%u",
		       tern_driver_name((enum tern_driver_kind)sv.o.driver), sv.o.engines, sv.o.engines > 1 ? "s" : "",
		       host, sv.eng[0].port, host, sv.raw_port);
		if (sv.tcp_port)
			printf(", TCP baselines on %s:%u", host, sv.tcp_port);
		printf("\n");
		fflush(stdout);
		while (!serve_stop)
			usleep(100000); /* the signal may land on any thread */
	}
	serve_stop = 1;
	for (unsigned i = 0; i < started; i++)
		pthread_join(sv.eng[i].thread, NULL);
	if (sv.raw_fd >= 0) {
		if (status == 0)
			pthread_join(sv.raw_thread, NULL);
		close(sv.raw_fd);
	}
	tcp_reflector_stop(sv.tcp);
	if (sv.dpdk)
		tern_dpdk_port_destroy(sv.dpdk);
	return status;
}
