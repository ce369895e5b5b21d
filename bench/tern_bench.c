/* tern-bench: tern's measurements, each beside a baseline in the same run. */
#include <stdio.h>
#include <stdlib.h>
#include <getopt.h>
#include <string.h>

#include "bench_util.h"
#include "../tools/driver_why.h"
#include "tern/tern.h"

int bench_udp_driver(int kind, int uring_setup, struct tern_driver **out)
{
	struct tern_udp_config uc;
	tern_udp_config_init(&uc);
	uc.kind = (enum tern_driver_kind)kind;
	uc.bind_host = "127.0.0.1";
	uc.uring_setup = (enum tern_uring_setup)uring_setup;
	return tern_udp_open(&uc, out);
}

int bench_best_driver(void)
{
	struct tern_driver *d;
	if (bench_udp_driver(TERN_DRIVER_URING, 0, &d) == 0) {
		tern_driver_destroy(d);
		return TERN_DRIVER_URING;
	}
	return TERN_DRIVER_SOCKETS;
}

int bench_driver_arg(const char *name, bool allow_sim)
{
	int d = tern_driver_parse(name);
	if (d == TERN_DRIVER_AUTO || d == TERN_DRIVER_URING || d == TERN_DRIVER_SOCKETS ||
	    (allow_sim && d == TERN_DRIVER_SIM))
		return d;
	return -1;
}

int bench_resolve_driver(int d)
{
	if (d != TERN_DRIVER_AUTO)
		return d;
	/* What the library's automatic choice gives a busy-polling engine,
	 * which every measuring side here is. */
	struct tern_udp_config uc;
	tern_udp_config_init(&uc);
	uc.bind_host = "127.0.0.1";
	uc.poll_mode = TERN_POLL_BUSY;
	struct tern_engine_config ec;
	tern_engine_config_init(&ec);
	struct tern_engine *e;
	int got = TERN_DRIVER_SOCKETS;
	if (tern_udp_open(&uc, &ec.driver) == 0 && tern_engine_create(&ec, &e) == 0) {
		got = tern_engine_driver(e);
		tern_engine_destroy(e);
	}
	fprintf(stderr, "tern-bench: driver auto: %s\n", driver_auto_why(TERN_POLL_BUSY, (enum tern_driver_kind)got));
	return got;
}

int bench_size_list(const char *arg, size_t *out, unsigned max_n, size_t max, bool allow_zero)
{
	unsigned n = 0;
	char *end;
	for (const char *p = arg; *p; p = *end ? end + 1 : end) {
		if (n == max_n)
			return -1;
		unsigned long long v = strtoull(p, &end, 10);
		if (end == p || (*end && *end != ',') || v > max || (!v && !allow_zero))
			return -1;
		out[n++] = (size_t)v;
	}
	return n ? (int)n : -1;
}

/* MB of free hugepages on a mounted hugetlbfs, 0 if none. */
unsigned long bench_hugepages_free_mb(void)
{
	FILE *f = fopen("/proc/mounts", "r");
	char line[512];
	bool mounted = false;
	while (f && fgets(line, sizeof(line), f))
		mounted |= strstr(line, " hugetlbfs ") != NULL;
	if (f)
		fclose(f);
	if (!mounted || !(f = fopen("/proc/meminfo", "r")))
		return 0;
	unsigned long free_pages = 0, page_kb = 0;
	while (fgets(line, sizeof(line), f)) {
		sscanf(line, "HugePages_Free: %lu", &free_pages);
		sscanf(line, "Hugepagesize: %lu kB", &page_kb);
	}
	fclose(f);
	return free_pages * page_kb / 1024;
}

/* No command: what most people want to know first, in under a minute. */
static int run_default(void)
{
	const char *drv = "auto";
	char *lat[] = { "lat", "--driver", (char *)drv, "--count", "100000", "--rounds", "10", NULL };
	char *logp[] = { "logp", "--driver", (char *)drv, NULL };
	printf("tern-bench: latency, then LogP, on 127.0.0.1 over the driver tern picks for busy polling\n"
	       "(tern-bench --help for more)\n\n");
	fflush(stdout);
	int rc = bench_lat(7, lat);
	printf("\n");
	fflush(stdout);
	optind = 1; /* a second getopt parse */
	return rc ? rc : bench_logp(3, logp);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: tern-bench [COMMAND [options]]\n"
		"\n"
		"With no command: lat, then logp, over io_uring (or sockets where io_uring\n"
		"is not allowed), about 20 s.\n"
		"\n"
		"commands:\n"
		"  lat   RPC round-trip latency over kernel UDP to a peer process (serve),\n"
		"        interleaved with raw io_uring and blocking UDP ping-pongs it reflects\n"
		"  logp  LogP/LogGP parameters (L, o_s, o_r, g, G) over message sizes\n"
		"  tput  small-RPC rate with calls in flight on several sessions, to a peer\n"
		"  scale the rate as engines (threads) and sessions grow, to a peer\n"
		"  bw    one-way bandwidth of large messages, up to 64 MiB\n"
		"  sim   request/response ping-pong over the simulated network\n"
		"  memif tern RPC over DPDK memif beside a raw memif ping-pong and echo\n"
		"  serve the peer of lat, tput and scale (--peer HOST[:PORT]), elsewhere or here:\n"
		"        tern RPC echo and a raw reflector on one driver (uring, sockets, dpdk)\n"
		"  sessions  what thousands of sessions on one engine cost: setup, memory,\n"
		"        idle CPU and packets, the call rate with all of them calling\n"
		"  stub  a terngen stub's call beside the same call made by hand\n"
		"\n"
		"tern-bench COMMAND --help describes a command's options.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return run_default();
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "sim") == 0)
		return bench_sim(argc - 1, argv + 1);
	if (strcmp(argv[1], "lat") == 0)
		return bench_lat(argc - 1, argv + 1);
	if (strcmp(argv[1], "logp") == 0)
		return bench_logp(argc - 1, argv + 1);
	if (strcmp(argv[1], "tput") == 0)
		return bench_tput(argc - 1, argv + 1);
	if (strcmp(argv[1], "scale") == 0)
		return bench_scale(argc - 1, argv + 1);
	if (strcmp(argv[1], "bw") == 0)
		return bench_bw(argc - 1, argv + 1);
	if (strcmp(argv[1], "memif") == 0)
		return bench_memif(argc - 1, argv + 1);
	if (strcmp(argv[1], "serve") == 0)
		return bench_serve(argc - 1, argv + 1);
	if (strcmp(argv[1], "sessions") == 0)
		return bench_sessions(argc - 1, argv + 1);
	if (strcmp(argv[1], "stub") == 0)
		return bench_stub(argc - 1, argv + 1);
	fprintf(stderr, "tern-bench: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
