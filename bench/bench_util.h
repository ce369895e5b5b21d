/* Small helpers shared by tern-bench's commands. */
#ifndef TERN_BENCH_UTIL_H
#define TERN_BENCH_UTIL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <stdio.h>
#include <unistd.h>
#include <netinet/in.h>

static inline uint64_t bench_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* A benchmark that waits forever tells nobody anything: a wait that makes
 * no progress for 30 s ends the run with a message and exit status 3.
 * The clock is read every 1024th call, to stay out of timed loops. */
struct bench_stall {
	uint64_t since;
	unsigned calls;
};

static inline void bench_stall_check(struct bench_stall *st, const char *what)
{
	if (st->calls++ & 1023)
		return;
	uint64_t now = bench_now_ns();
	if (!st->since)
		st->since = now;
	else if (now - st->since > 30000000000ull) {
		fprintf(stderr, "tern-bench: no progress for 30 s waiting for %s; giving up\n", what);
		exit(3);
	}
}

/* A progress line on stderr for runs past two seconds; nothing when stderr
 * is not a terminal. Call with done == total to clear it. */
struct progress {
	uint64_t start;
	bool shown;
};

static inline void progress_update(struct progress *p, const char *what, unsigned done, unsigned total)
{
	if (!p->start)
		p->start = bench_now_ns();
	if (!isatty(2))
		return;
	if (done >= total) {
		if (p->shown)
			fprintf(stderr, "\r%60s\r", "");
		return;
	}
	if (bench_now_ns() - p->start < 2000000000ull)
		return;
	p->shown = true;
	fprintf(stderr, "\r%s: %u/%u", what, done, total);
}

/* A UDP echo peer for a baseline, run on its own thread until told to stop.
 * port_out gets the port it bound on 127.0.0.1. */
struct baseline {
	const char *name;
	int (*start)(struct baseline *b, size_t size);
	/* One round trip of size bytes; returns its time in ns, 0 on failure. */
	uint64_t (*round_trip)(struct baseline *b);
	void (*stop)(struct baseline *b);
	void *state;
	/* Set while other methods run: busy-polling peers sleep instead, so two
	 * cores are not shared by three spinning threads. */
	atomic_bool idle;
	/* The peer's raw reflector (tern-bench serve): when set, start runs no
	 * echo thread of its own and round trips go there. */
	const struct sockaddr_in *remote;
};

/* For a spinning server loop: nap while its method is not being measured. */
static inline void bench_nap_if_idle(atomic_bool *idle)
{
	while (idle && atomic_load_explicit(idle, memory_order_relaxed))
		usleep(200);
}

int baseline_blocking_init(struct baseline *b);
int baseline_busy_init(struct baseline *b);
int baseline_uring_init(struct baseline *b);

int bench_sim(int argc, char **argv);
int bench_lat(int argc, char **argv);
int bench_logp(int argc, char **argv);
int bench_tput(int argc, char **argv);
int bench_scale(int argc, char **argv);
int bench_bw(int argc, char **argv);
int bench_memif(int argc, char **argv);
int bench_sessions(int argc, char **argv);
int bench_stub(int argc, char **argv);
int bench_serve(int argc, char **argv);
/* io_uring if this host allows it, else sockets. */
int bench_best_driver(void);
/* A kernel UDP driver (kind: uring, sockets or auto) on 127.0.0.1, any port. */
struct tern_driver;
int bench_udp_driver(int kind, int uring_setup, struct tern_driver **out);
/* A --driver argument: uring, sockets, sim (if allow_sim), or auto
 * (TERN_DRIVER_AUTO, for bench_resolve_driver); -1 for anything else. */
int bench_driver_arg(const char *name, bool allow_sim);
/* AUTO as the library resolves it for a busy-polling engine, with a line
 * on stderr saying which and why; any other kind as it is. */
int bench_resolve_driver(int driver);

/* "64,256,4096" into out; the count, or -1 for a bad list (a size above
 * max, a zero unless allowed, or more than max_n entries). */
int bench_size_list(const char *arg, size_t *out, unsigned max_n, size_t max, bool allow_zero);

struct tern_rpc_req;
/* The RPC handler every command serves: answer with the request's bytes.
 * arg is the server's struct tern_rpc. */
void bench_echo(struct tern_rpc_req *req, void *arg);
/* MB of free hugepages on a mounted hugetlbfs, 0 if none. */
unsigned long bench_hugepages_free_mb(void);

#endif
