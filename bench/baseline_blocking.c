/* Baselines: the plain kernel UDP ping-pong every Linux host can do,
 * sendto then recv, blocking, or busy (non-blocking recv in a loop: the
 * kernel's floor for a small round trip, with no library). */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench_util.h"

struct blocking {
	int srv, cli;
	struct sockaddr_in srv_addr;
	pthread_t thread;
	size_t size;
	uint8_t *buf;
	bool busy;
};

static void *echo_main(void *arg)
{
	struct blocking *st = arg;
	uint8_t buf[65536];
	for (;;) {
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(st->srv, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
		if (n < 0)
			break;
		if (n == 1 && buf[0] == 0xff && fl == sizeof(from))
			break; /* stop byte */
		sendto(st->srv, buf, (size_t)n, 0, (struct sockaddr *)&from, fl);
	}
	return NULL;
}

static int open_udp(struct sockaddr_in *bound, bool any)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(any ? INADDR_ANY : INADDR_LOOPBACK) };
	socklen_t l = sizeof(a);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || getsockname(fd, (struct sockaddr *)&a, &l) < 0)
		return -1;
	if (bound)
		*bound = a;
	return fd;
}

static int bl_start(struct baseline *b, size_t size, bool busy)
{
	struct blocking *st = calloc(1, sizeof(*st));
	st->busy = busy;
	st->size = size;
	st->buf = calloc(1, size + 1);
	b->state = st;
	if (b->remote) {
		/* The peer reflects; a datagram lost on a real network costs a
		 * second, and the round trip is not counted. */
		st->srv = -1;
		st->srv_addr = *b->remote;
		st->cli = open_udp(NULL, true);
		struct timeval tv = { .tv_sec = 1 };
		return st->cli < 0 || setsockopt(st->cli, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ? -1 : 0;
	}
	st->srv = open_udp(&st->srv_addr, false);
	st->cli = open_udp(NULL, false);
	if (st->srv < 0 || st->cli < 0 || pthread_create(&st->thread, NULL, echo_main, st))
		return -1;
	return 0;
}

static int blocking_start(struct baseline *b, size_t size)
{
	return bl_start(b, size, false);
}

static int busy_start(struct baseline *b, size_t size)
{
	return bl_start(b, size, true);
}

static uint64_t bl_round_trip(struct baseline *b)
{
	struct blocking *st = b->state;
	uint64_t t0 = bench_now_ns();
	if (sendto(st->cli, st->buf, st->size, 0, (struct sockaddr *)&st->srv_addr, sizeof(st->srv_addr)) < 0)
		return 0;
	if (!st->busy) {
		if (recv(st->cli, st->buf, st->size + 1, 0) < 0)
			return 0;
		return bench_now_ns() - t0;
	}
	/* Spin on a non-blocking receive; a second without an answer is a
	 * loss, as for the blocking one. */
	for (unsigned k = 0;; k++) {
		if (recv(st->cli, st->buf, st->size + 1, MSG_DONTWAIT) >= 0)
			return bench_now_ns() - t0;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return 0;
		if ((k & 1023) == 1023 && bench_now_ns() - t0 > 1000000000ull)
			return 0;
	}
}

static void bl_stop(struct baseline *b)
{
	struct blocking *st = b->state;
	if (st->srv >= 0) {
		uint8_t stop = 0xff;
		sendto(st->cli, &stop, 1, 0, (struct sockaddr *)&st->srv_addr, sizeof(st->srv_addr));
		pthread_join(st->thread, NULL);
		close(st->srv);
	}
	close(st->cli);
	free(st->buf);
	free(st);
}

int baseline_busy_init(struct baseline *b)
{
	*b = (struct baseline){ .name = "kernel UDP, busy", .start = busy_start, .round_trip = bl_round_trip,
				.stop = bl_stop };
	return 0;
}

int baseline_blocking_init(struct baseline *b)
{
	*b = (struct baseline){ .name = "kernel UDP, blocking", .start = blocking_start, .round_trip = bl_round_trip,
				.stop = bl_stop };
	return 0;
}
