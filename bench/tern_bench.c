/* tern-bench: tern's measurements, each beside a baseline in the same run. */
#include <stdio.h>
#include <string.h>

#include "bench_util.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: tern-bench COMMAND [options]\n"
		"\n"
		"commands:\n"
		"  lat   RPC round-trip latency over kernel UDP on loopback, interleaved\n"
		"        with a raw io_uring UDP ping-pong and a blocking UDP ping-pong\n"
		"  sim   request/response ping-pong over the simulated network\n"
		"\n"
		"tern-bench COMMAND --help describes a command's options.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "sim") == 0)
		return bench_sim(argc - 1, argv + 1);
	if (strcmp(argv[1], "lat") == 0)
		return bench_lat(argc - 1, argv + 1);
	fprintf(stderr, "tern-bench: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
