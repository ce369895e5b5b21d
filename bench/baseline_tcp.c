/* TCP baselines for tput and bw (baseline_tcp.h). */
#include "baseline_tcp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench_util.h"

#define MAX_SIZE (64u << 20)

/* All len bytes in (out false) or out. send, not write: a peer that
 * closed first must not kill this process with SIGPIPE (the serve died so
 * when a client ended its stream). */
static int xfer_all(int fd, void *buf, size_t len, bool out)
{
	uint8_t *p = buf;
	while (len) {
		ssize_t n = out ? send(fd, p, len, MSG_NOSIGNAL) : read(fd, p, len);
		if (n <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int read_all(int fd, void *buf, size_t len)
{
	return xfer_all(fd, buf, len, false);
}

static int write_all(int fd, const void *buf, size_t len)
{
	return xfer_all(fd, (void *)(uintptr_t)buf, len, true);
}

static void nodelay(int fd)
{
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* ---- the reflector (tern-bench serve) ---- */

struct tcp_reflector {
	int lfd;
	pthread_t thread;
	atomic_bool stop;
};

static void *conn_main(void *arg)
{
	int fd = (int)(intptr_t)arg;
	uint8_t hdr[5];
	uint8_t *buf = NULL;
	if (read_all(fd, hdr, 5) == 0) {
		uint32_t size = (uint32_t)hdr[1] | (uint32_t)hdr[2] << 8 | (uint32_t)hdr[3] << 16 | (uint32_t)hdr[4] << 24;
		if ((hdr[0] == 'E' || hdr[0] == 'S') && size > 0 && size <= MAX_SIZE && (buf = malloc(size))) {
			uint8_t ack = 1;
			while (read_all(fd, buf, size) == 0)
				if (hdr[0] == 'E' ? write_all(fd, buf, size) : write_all(fd, &ack, 1))
					break;
		}
	}
	free(buf);
	close(fd);
	return NULL;
}

static void *accept_main(void *arg)
{
	struct tcp_reflector *r = arg;
	while (!atomic_load(&r->stop)) {
		struct pollfd pf = { r->lfd, POLLIN, 0 };
		if (poll(&pf, 1, 100) <= 0)
			continue;
		int fd = accept(r->lfd, NULL, NULL);
		if (fd < 0)
			continue;
		nodelay(fd);
		pthread_t t;
		pthread_attr_t at;
		pthread_attr_init(&at);
		pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
		if (pthread_create(&t, &at, conn_main, (void *)(intptr_t)fd))
			close(fd);
		pthread_attr_destroy(&at);
	}
	return NULL;
}

int tcp_reflector_start(const char *host, uint16_t port, uint16_t *bound, struct tcp_reflector **out)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	if (inet_pton(AF_INET, host, &a.sin_addr) != 1)
		return -1;
	struct tcp_reflector *r = calloc(1, sizeof(*r));
	if (!r)
		return -1;
	socklen_t l = sizeof(a);
	r->lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (r->lfd < 0 || bind(r->lfd, (struct sockaddr *)&a, sizeof(a)) || listen(r->lfd, 64) ||
	    getsockname(r->lfd, (struct sockaddr *)&a, &l) || pthread_create(&r->thread, NULL, accept_main, r)) {
		if (r->lfd >= 0)
			close(r->lfd);
		free(r);
		return -1;
	}
	*bound = ntohs(a.sin_port);
	*out = r;
	return 0;
}

void tcp_reflector_stop(struct tcp_reflector *r)
{
	if (!r)
		return;
	atomic_store(&r->stop, true);
	pthread_join(r->thread, NULL);
	close(r->lfd);
	free(r); /* connection threads end with their clients */
}

/* ---- the clients ---- */

static int dial(const struct sockaddr_in *to, char mode, size_t size)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	struct timeval tv = { .tv_sec = 5 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	uint8_t hdr[5] = { (uint8_t)mode, (uint8_t)size, (uint8_t)(size >> 8), (uint8_t)(size >> 16),
			   (uint8_t)(size >> 24) };
	if (connect(fd, (const struct sockaddr *)to, sizeof(*to)) || write_all(fd, hdr, 5)) {
		close(fd);
		return -1;
	}
	nodelay(fd);
	return fd;
}

struct echo_conn {
	const struct sockaddr_in *to;
	unsigned depth;
	size_t size;
	atomic_bool *stop;
	atomic_ullong done;
	int ok;
	pthread_t t;
};

static void *echo_main(void *arg)
{
	struct echo_conn *c = arg;
	uint8_t *buf = calloc(1, c->size);
	int fd = buf ? dial(c->to, 'E', c->size) : -1;
	c->ok = fd >= 0;
	for (unsigned i = 0; fd >= 0 && i < c->depth; i++)
		if (write_all(fd, buf, c->size))
			c->ok = 0;
	while (c->ok && !atomic_load_explicit(c->stop, memory_order_relaxed)) {
		if (read_all(fd, buf, c->size) || write_all(fd, buf, c->size)) {
			c->ok = 0;
			break;
		}
		atomic_fetch_add_explicit(&c->done, 1, memory_order_relaxed);
	}
	if (fd >= 0)
		close(fd);
	free(buf);
	return NULL;
}

double tcp_echo_rate(const struct sockaddr_in *to, unsigned conns, unsigned depth, size_t size, double seconds)
{
	if (!conns || !size || size > MAX_SIZE)
		return -1;
	atomic_bool stop = false;
	struct echo_conn *c = calloc(conns, sizeof(*c));
	if (!c)
		return -1;
	for (unsigned i = 0; i < conns; i++) {
		c[i] = (struct echo_conn){ .to = to, .depth = depth, .size = size, .stop = &stop };
		pthread_create(&c[i].t, NULL, echo_main, &c[i]);
	}
	usleep(200000); /* connections and warm-up */
	uint64_t d0 = 0, d1 = 0;
	for (unsigned i = 0; i < conns; i++)
		d0 += atomic_load(&c[i].done);
	uint64_t t0 = bench_now_ns();
	usleep((useconds_t)(seconds * 1e6));
	uint64_t t1 = bench_now_ns();
	for (unsigned i = 0; i < conns; i++)
		d1 += atomic_load(&c[i].done);
	atomic_store(&stop, true);
	int ok = 1;
	for (unsigned i = 0; i < conns; i++) {
		pthread_join(c[i].t, NULL);
		ok &= c[i].ok;
	}
	free(c);
	return ok || d1 > d0 ? (double)(d1 - d0) / ((double)(t1 - t0) / 1e9) : -1;
}

double tcp_stream_rate(const struct sockaddr_in *to, size_t size, unsigned window, double seconds)
{
	if (!size || size > MAX_SIZE || !window)
		return -1;
	uint8_t *buf = calloc(1, size);
	int fd = buf ? dial(to, 'S', size) : -1;
	if (fd < 0) {
		free(buf);
		return -1;
	}
	unsigned long sent = 0, acked = 0;
	uint64_t t0 = bench_now_ns(), until = t0 + (uint64_t)(seconds * 1e9);
	int ok = 1;
	while (ok && (bench_now_ns() < until || acked < 2)) {
		if (sent - acked < window) {
			ok = write_all(fd, buf, size) == 0;
			sent++;
			continue;
		}
		uint8_t ack;
		ok = read_all(fd, &ack, 1) == 0;
		acked++;
	}
	double secs = (double)(bench_now_ns() - t0) / 1e9;
	close(fd);
	free(buf);
	return ok ? (double)acked * (double)size / secs : -1;
}
