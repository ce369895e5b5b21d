/* Baseline: a raw io_uring UDP ping-pong that does no tern work, written
 * here on its own so that it shows what the kernel path costs, not what
 * tern's driver costs. Same ring setup tern uses (single issuer, deferred
 * task work), multishot recvmsg into a provided buffer ring, busy polling. */
#include "bench_util.h"
#include "tern_config.h"

#if TERN_HAVE_URING
#include <arpa/inet.h>
#include <liburing.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define NBUF 64
#define BUFSZ 2048
#define BGID 3

struct rawep {
	struct io_uring ring;
	int fd;
	struct io_uring_buf_ring *br;
	uint8_t *bufs;
	struct msghdr rmh, smh;
	struct iovec siov;
	struct sockaddr_in sname;
	bool armed, taskrun;
};

static int ep_open(struct rawep *ep, struct sockaddr_in *bound, bool any)
{
	memset(ep, 0, sizeof(*ep));
	unsigned flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_TASKRUN_FLAG;
	if (io_uring_queue_init(64, &ep->ring, flags) < 0)
		return -1;
	ep->taskrun = true;
	ep->fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(any ? INADDR_ANY : INADDR_LOOPBACK) };
	socklen_t l = sizeof(a);
	if (ep->fd < 0 || bind(ep->fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    getsockname(ep->fd, (struct sockaddr *)&a, &l) < 0)
		return -1;
	if (bound)
		*bound = a;
	ep->br = mmap(NULL, NBUF * sizeof(struct io_uring_buf), PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
	ep->bufs = malloc(NBUF * BUFSZ);
	if (ep->br == MAP_FAILED || !ep->bufs)
		return -1;
	io_uring_buf_ring_init(ep->br);
	struct io_uring_buf_reg reg = { .ring_addr = (unsigned long)ep->br, .ring_entries = NBUF, .bgid = BGID };
	if (io_uring_register_buf_ring(&ep->ring, &reg, 0))
		return -1;
	for (int i = 0; i < NBUF; i++)
		io_uring_buf_ring_add(ep->br, ep->bufs + i * BUFSZ, BUFSZ, (unsigned short)i, io_uring_buf_ring_mask(NBUF), i);
	io_uring_buf_ring_advance(ep->br, NBUF);
	ep->rmh.msg_namelen = sizeof(struct sockaddr_in);
	return 0;
}

static void ep_close(struct rawep *ep)
{
	io_uring_queue_exit(&ep->ring);
	close(ep->fd);
	munmap(ep->br, NBUF * sizeof(struct io_uring_buf));
	free(ep->bufs);
}

static void ep_send(struct rawep *ep, const void *data, size_t len, const struct sockaddr_in *to)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&ep->ring);
	ep->siov = (struct iovec){ (void *)data, len };
	ep->sname = *to;
	ep->smh = (struct msghdr){ .msg_name = &ep->sname, .msg_namelen = sizeof(ep->sname), .msg_iov = &ep->siov,
				   .msg_iovlen = 1 };
	io_uring_prep_sendmsg(sqe, ep->fd, &ep->smh, 0);
	io_uring_sqe_set_data64(sqe, 2);
	io_uring_submit(&ep->ring);
}

/* Busy-poll for one datagram; copies it out and recycles the buffer. */
static ssize_t ep_recv(struct rawep *ep, void *out, size_t cap, struct sockaddr_in *from, atomic_bool *stop,
		       atomic_bool *idle, uint64_t deadline)
{
	for (unsigned spins = 0;; spins++) {
		if (deadline && !(spins & 1023) && bench_now_ns() > deadline)
			return -1;
		bench_nap_if_idle(idle);
		if (!ep->armed) {
			struct io_uring_sqe *sqe = io_uring_get_sqe(&ep->ring);
			io_uring_prep_recvmsg_multishot(sqe, ep->fd, &ep->rmh, 0);
			sqe->flags |= IOSQE_BUFFER_SELECT;
			sqe->buf_group = BGID;
			io_uring_sqe_set_data64(sqe, 1);
			ep->armed = true;
		}
		if (io_uring_sq_ready(&ep->ring) || (IO_URING_READ_ONCE(*ep->ring.sq.kflags) & IORING_SQ_TASKRUN))
			io_uring_submit_and_get_events(&ep->ring);
		struct io_uring_cqe *cqe;
		while (io_uring_peek_cqe(&ep->ring, &cqe) == 0) {
			uint64_t tag = cqe->user_data;
			int res = cqe->res;
			unsigned flags = cqe->flags;
			io_uring_cqe_seen(&ep->ring, cqe);
			if (tag != 1)
				continue;
			if (!(flags & IORING_CQE_F_MORE))
				ep->armed = false;
			if (res < 0 || !(flags & IORING_CQE_F_BUFFER))
				continue;
			unsigned bid = flags >> IORING_CQE_BUFFER_SHIFT;
			uint8_t *buf = ep->bufs + bid * BUFSZ;
			struct io_uring_recvmsg_out *o = io_uring_recvmsg_validate(buf, res, &ep->rmh);
			ssize_t n = -1;
			if (o) {
				n = (ssize_t)io_uring_recvmsg_payload_length(o, res, &ep->rmh);
				memcpy(out, io_uring_recvmsg_payload(o, &ep->rmh), (size_t)n < cap ? (size_t)n : cap);
				if (from)
					memcpy(from, io_uring_recvmsg_name(o), sizeof(*from));
			}
			io_uring_buf_ring_add(ep->br, buf, BUFSZ, (unsigned short)bid, io_uring_buf_ring_mask(NBUF), 0);
			io_uring_buf_ring_advance(ep->br, 1);
			if (n >= 0)
				return n;
		}
		if (stop && atomic_load_explicit(stop, memory_order_relaxed))
			return -1;
	}
}

struct raw {
	struct rawep cli;
	struct sockaddr_in srv_addr;
	pthread_t thread;
	atomic_bool stop, ready;
	atomic_bool *idle;
	int failed;
	bool remote;
	size_t size;
	uint8_t buf[BUFSZ];
};

static void *echo_main(void *arg)
{
	struct raw *st = arg;
	struct rawep srv; /* a ring belongs to the thread that uses it */
	if (ep_open(&srv, &st->srv_addr, false)) {
		st->failed = 1;
		atomic_store(&st->ready, true);
		return NULL;
	}
	atomic_store(&st->ready, true);
	uint8_t buf[BUFSZ];
	struct sockaddr_in from;
	ssize_t n;
	while ((n = ep_recv(&srv, buf, sizeof(buf), &from, &st->stop, st->idle, 0)) >= 0)
		ep_send(&srv, buf, (size_t)n, &from);
	ep_close(&srv);
	return NULL;
}

static int raw_start(struct baseline *b, size_t size)
{
	struct raw *st = calloc(1, sizeof(*st));
	b->state = st;
	if (!st || size > 1472)
		return -1;
	st->size = size;
	st->idle = &b->idle;
	if (b->remote) {
		/* The peer reflects: no thread here. */
		st->srv_addr = *b->remote;
		st->remote = true;
		return ep_open(&st->cli, NULL, true);
	}
	if (pthread_create(&st->thread, NULL, echo_main, st))
		return -1;
	while (!atomic_load(&st->ready))
		;
	if (st->failed || ep_open(&st->cli, NULL, false))
		return -1;
	return 0;
}

static uint64_t raw_round_trip(struct baseline *b)
{
	struct raw *st = b->state;
	uint64_t t0 = bench_now_ns();
	ep_send(&st->cli, st->buf, st->size, &st->srv_addr);
	/* A datagram lost on a real network costs a second, not counted. */
	uint64_t deadline = st->remote ? t0 + 1000000000ull : 0;
	if (ep_recv(&st->cli, st->buf, sizeof(st->buf), NULL, NULL, NULL, deadline) < 0)
		return 0;
	return bench_now_ns() - t0;
}

static void raw_stop(struct baseline *b)
{
	struct raw *st = b->state;
	if (!st->remote) {
		atomic_store(&st->stop, true);
		pthread_join(st->thread, NULL);
	}
	ep_close(&st->cli);
	free(st);
}

int baseline_uring_init(struct baseline *b)
{
	*b = (struct baseline){ .name = "raw io_uring UDP", .start = raw_start, .round_trip = raw_round_trip,
				.stop = raw_stop };
	return 0;
}
#else
int baseline_uring_init(struct baseline *b)
{
	(void)b;
	return -1;
}
#endif
