/* tern-bench bw: one-way bandwidth of large messages (up to 64 MiB) over a
 * tern session, counted when each message is acknowledged. */
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "bench_simdrv.h"
#include "bench_util.h"
#include "tern/sim.h"
#include "tern/tern.h"

#define MAX_MSG (64u << 20)

struct bw_run {
	int driver;
	pthread_t thread;
	atomic_int port;
	atomic_bool stop;
	atomic_ullong received;
	unsigned done, queued;
};

static void sink_msg(struct tern_session *s, const struct tern_rx_msg *m, void *user)
{
	(void)s;
	atomic_fetch_add_explicit(&((struct bw_run *)user)->received, m->len, memory_order_relaxed);
}

static struct tern_engine *engine(int driver, struct tern_callbacks cb)
{
	struct tern_engine_config ec;
	tern_engine_config_init(&ec);
	if (bench_udp_driver(driver, 0, &ec.driver))
		return NULL;
	ec.delivery = TERN_DELIVER_AS_COMPLETED;
	ec.window_pkts = 1024;
	ec.cb = cb;
	struct tern_engine *e;
	return tern_engine_create(&ec, &e) ? NULL : e;
}

static void *sink_main(void *arg)
{
	struct bw_run *r = arg;
	struct tern_engine *e = engine(r->driver, (struct tern_callbacks){ .on_message = sink_msg, .user = r });
	if (!e) {
		atomic_store(&r->port, -1);
		return NULL;
	}
	struct tern_addr a;
	tern_engine_local_addr(e, &a);
	atomic_store(&r->port, a.port);
	while (!atomic_load_explicit(&r->stop, memory_order_relaxed))
		tern_engine_poll(e);
	tern_engine_destroy(e);
	return NULL;
}

static void sent(struct tern_session *s, void *cookie, int status, void *user)
{
	(void)s;
	(void)cookie;
	(void)status;
	((struct bw_run *)user)->done++;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: tern-bench bw [options]\n"
		"\n"
		"One-way bandwidth of large messages over a tern session on 127.0.0.1:\n"
		"WINDOW messages in flight, each counted when it is acknowledged.\n"
		"\n"
		"options:\n"
		"  --driver NAME   uring, sockets, sim or auto (default uring); sim measures in\n"
		"                  simulated time, at least three messages' worth per size\n"
		"  --sizes LIST    message sizes in bytes, up to 64 MiB\n"
		"                  (default 65536,1048576,16777216,67108864)\n"
		"  --window N      messages in flight (default 4)\n"
		"  --seconds S     measuring time per size (default 2)\n"
		"  --json          one JSON object per size\n"
		"  --help          this text\n");
}

int bench_bw(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "driver", required_argument, 0, 'd' }, { "sizes", required_argument, 0, 's' },
		{ "window", required_argument, 0, 'w' }, { "seconds", required_argument, 0, 't' },
		{ "json", no_argument, 0, 'j' }, { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 },
	};
	size_t sizes[16] = { 65536, 1048576, 16777216, 67108864 };
	unsigned n_sizes = 4, window = 4;
	double seconds = 2;
	int driver = TERN_DRIVER_URING, json = 0, c, li = 0;
	char *end;
	while ((c = getopt_long(argc, argv, "h", lo, &li)) != -1) {
		switch (c) {
		case 'd':
			driver = bench_driver_arg(optarg, true);
			if (driver < 0)
				goto bad;
			break;
		case 's': {
			int n = bench_size_list(optarg, sizes, 16, MAX_MSG, false);
			if (n < 0)
				goto bad;
			n_sizes = (unsigned)n;
			break;
		}
		case 'w': window = (unsigned)strtoul(optarg, &end, 10); if (*end || !window || window > 64) goto bad; break;
		case 't': seconds = strtod(optarg, &end); if (*end || seconds <= 0 || seconds > 600) goto bad; break;
		case 'j': json = 1; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (driver == TERN_DRIVER_SIM) {
		if (!json)
			printf("tern-bench bw: one-way on the simulated network (10 Gb/s), %u messages in flight\n%12s %12s %10s\n",
			       window, "size (B)", "MB/s", "Gb/s");
		for (unsigned i = 0; i < n_sizes; i++) {
			double secs = fmax(0.02, 3.0 * (double)sizes[i] * 8 / 1e10);
			double mbs = simdrv_bw(sizes[i], window, secs) / 1e6;
			if (json)
				printf("{\"bench\":\"bw\",\"driver\":\"sim\",\"size\":%zu,\"window\":%u,\"mb_per_s\":%.1f,"
				       "\"gbit_per_s\":%.3f,\"retransmits\":0,\"rtos\":0}\n", sizes[i], window, mbs, mbs * 8 / 1000);
			else
				printf("%12zu %12.1f %10.3f\n", sizes[i], mbs, mbs * 8 / 1000);
		}
		return 0;
	}
	struct bw_run r = { .driver = driver };
	if (pthread_create(&r.thread, NULL, sink_main, &r))
		return 1;
	int port;
	while ((port = atomic_load(&r.port)) == 0)
		;
	struct tern_engine *e = engine(driver, (struct tern_callbacks){ .on_send_done = sent, .user = &r });
	struct tern_addr to;
	tern_addr_resolve("127.0.0.1", (uint16_t)port, &to);
	struct tern_session *s;
	uint8_t *buf = calloc(1, MAX_MSG);
	if (port < 0 || !e || !buf || tern_session_connect(e, &to, &s)) {
		fprintf(stderr, "tern-bench bw: cannot start\n");
		return 1;
	}
	if (!json)
		printf("tern-bench bw: one-way over %s on 127.0.0.1, %u messages in flight\n%12s %12s %10s %12s %6s %9s\n",
		       tern_driver_name((enum tern_driver_kind)driver), window, "size (B)", "MB/s", "Gb/s", "retransmits",
		       "RTOs", "spurious");
	struct progress prog = { 0 };
	for (unsigned i = 0; i < n_sizes; i++) {
		progress_update(&prog, "bw sizes", i, n_sizes);
		struct tern_stats st0, st1;
		tern_engine_stats(e, &st0);
		uint64_t t0 = bench_now_ns(), until = t0 + (uint64_t)(seconds * 1e9);
		unsigned base = r.done;
		/* At least two messages, however long they take. */
		while (bench_now_ns() < until || r.done - base < 2) {
			while (r.queued - r.done < window && tern_session_send(s, buf, sizes[i], NULL) == 0)
				r.queued++;
			tern_engine_poll(e);
		}
		double secs = (double)(bench_now_ns() - t0) / 1e9;
		double bytes = (double)(r.done - base) * (double)sizes[i];
		while (r.done < r.queued) /* drain before the next size */
			tern_engine_poll(e);
		tern_engine_stats(e, &st1);
		double mbs = bytes / secs / 1e6;
		if (json)
			printf("{\"bench\":\"bw\",\"driver\":\"%s\",\"size\":%zu,\"window\":%u,\"mb_per_s\":%.1f,"
			       "\"gbit_per_s\":%.3f,\"retransmits\":%llu,\"rtos\":%llu}\n",
			       tern_driver_name((enum tern_driver_kind)driver), sizes[i], window, mbs, mbs * 8 / 1000,
			       (unsigned long long)(st1.retransmits - st0.retransmits),
			       (unsigned long long)(st1.rto_fired - st0.rto_fired));
		else
			printf("%12zu %12.1f %10.3f %12llu %6llu %9llu\n", sizes[i], mbs, mbs * 8 / 1000,
			       (unsigned long long)(st1.retransmits - st0.retransmits),
			       (unsigned long long)(st1.rto_fired - st0.rto_fired),
			       (unsigned long long)(st1.rto_spurious - st0.rto_spurious));
		fflush(stdout);
	}
	progress_update(&prog, "bw sizes", n_sizes, n_sizes);
	atomic_store(&r.stop, true);
	pthread_join(r.thread, NULL);
	tern_engine_destroy(e);
	free(buf);
	return 0;
bad:
	fprintf(stderr, "tern-bench bw: bad value '%s' for --%s\n", optarg, lo[li].name);
	return 2;
}
