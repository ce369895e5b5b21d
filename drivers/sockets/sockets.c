/* The plain socket path: non-blocking recvmmsg/sendmmsg in bursts, ppoll to
 * block. Used where io_uring is disabled or missing. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "../pkt_pool.h"
#include "../udp/udp_socket.h"
#include "sockets_driver.h"
#include "tern/error.h"

#define BURST 32
#define POOL_PKTS 4096
#define HEADROOM 64

struct sock_drv {
	struct tern_driver drv;
	struct tni_udp_socket sock;
	struct tni_pkt_pool *pool;
	struct tni_pkt *rx[BURST]; /* standing receive buffers, refilled as used */
	struct mmsghdr msgs[BURST];
	struct iovec iov[BURST];
	struct sockaddr_storage names[BURST];
	_Alignas(struct cmsghdr) char ctl[BURST][TERN_UDP_CMSG_ROOM];
	/* Datagrams the next recvmmsg asks for: a burst that filled it asks
	 * for twice as many, one that did not for what came. recvmmsg tries
	 * for one more datagram after each it gets, so asking a ping-pong for
	 * 32 cost a failed receive on every packet. */
	unsigned want;
};

static struct sock_drv *to_sd(struct tern_driver *d)
{
	return (struct sock_drv *)d;
}

static unsigned sd_rx_burst(struct tern_driver *d, struct tni_pkt **pkts, unsigned n)
{
	struct sock_drv *sd = to_sd(d);
	if (n > BURST)
		n = BURST;
	if (n > sd->want)
		n = sd->want;
	unsigned ready = 0;
	for (; ready < n; ready++) {
		if (!sd->rx[ready] && !(sd->rx[ready] = tni_pkt_pool_alloc(sd->pool)))
			break;
		sd->iov[ready] = (struct iovec){ sd->rx[ready]->data, sd->rx[ready]->cap };
		sd->msgs[ready].msg_hdr = (struct msghdr){ .msg_name = &sd->names[ready],
							   .msg_namelen = sizeof(sd->names[ready]),
							   .msg_iov = &sd->iov[ready], .msg_iovlen = 1,
							   .msg_control = sd->ctl[ready],
							   .msg_controllen = TERN_UDP_CMSG_ROOM };
	}
	if (!ready)
		return 0;
	int got = recvmmsg(sd->sock.fd, sd->msgs, ready, MSG_DONTWAIT, NULL);
	if (got <= 0) {
		sd->want = 1;
		return 0;
	}
	sd->want = (unsigned)got == ready ? (ready * 2 < BURST ? ready * 2 : BURST) : (unsigned)got;
	unsigned out = 0;
	for (int i = 0; i < got; i++) {
		struct tni_pkt *p = sd->rx[i];
		if (sd->msgs[i].msg_hdr.msg_flags & MSG_TRUNC)
			continue; /* larger than any tern packet: not ours; buffer reused */
		p->len = sd->msgs[i].msg_len;
		tni_udp_from_sockaddr((struct sockaddr *)&sd->names[i], &p->peer);
		p->hops = 0;
		struct msghdr *mh = &sd->msgs[i].msg_hdr;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c))
			if ((p->hops = tni_udp_cmsg_hops(c)))
				break;
		pkts[out++] = p;
		sd->rx[i] = NULL;
	}
	/* Keep the unused standing buffers at the front. */
	unsigned k = 0;
	for (unsigned i = 0; i < BURST; i++)
		if (sd->rx[i]) {
			struct tni_pkt *p = sd->rx[i];
			sd->rx[i] = NULL;
			sd->rx[k++] = p;
		}
	return out;
}

static unsigned sd_tx_burst(struct tern_driver *d, struct tni_pkt **pkts, unsigned n)
{
	struct sock_drv *sd = to_sd(d);
	unsigned done = 0;
	while (done < n) {
		unsigned k = 0;
		for (; k < BURST && done + k < n; k++) {
			struct tni_pkt *p = pkts[done + k];
			sd->iov[k] = (struct iovec){ p->data, p->len };
			socklen_t nl = tni_udp_to_sockaddr(&sd->sock, &p->peer, &sd->names[k]);
			sd->msgs[k].msg_hdr = (struct msghdr){ .msg_name = &sd->names[k], .msg_namelen = nl,
							       .msg_iov = &sd->iov[k], .msg_iovlen = 1 };
		}
		int sent = sendmmsg(sd->sock.fd, sd->msgs, k, MSG_DONTWAIT);
		if (sent < 0) {
			if (errno == EAGAIN || errno == ENOBUFS)
				break; /* the engine drops the rest, as a full NIC queue would */
			sent = 1; /* this one packet failed (unreachable, bad address): drop it */
		}
		for (int i = 0; i < sent; i++)
			tni_pkt_pool_free(pkts[done + i]);
		done += (unsigned)sent;
	}
	return done;
}

static struct tni_pkt *sd_alloc(struct tern_driver *d)
{
	return tni_pkt_pool_alloc(to_sd(d)->pool);
}

static void sd_free(struct tern_driver *d, struct tni_pkt *p)
{
	(void)d;
	tni_pkt_pool_free(p);
}

static uint64_t sd_now(struct tern_driver *d)
{
	(void)d;
	return tni_clock_ns();
}

static int sd_local_addr(struct tern_driver *d, struct tern_addr *out)
{
	return tni_udp_local_addr(&to_sd(d)->sock, out);
}

static void sd_wait(struct tern_driver *d, uint64_t timeout_ns)
{
	struct pollfd pfd = { .fd = to_sd(d)->sock.fd, .events = POLLIN };
	struct timespec ts = { (time_t)(timeout_ns / 1000000000ull), (long)(timeout_ns % 1000000000ull) };
	ppoll(&pfd, 1, &ts, NULL);
}

static void sd_destroy(struct tern_driver *d)
{
	struct sock_drv *sd = to_sd(d);
	tni_udp_close(&sd->sock);
	tni_pkt_pool_destroy(sd->pool);
	free(sd);
}

static const struct tni_driver_ops sockets_ops = {
	.name = "sockets",
	.rx_burst = sd_rx_burst,
	.tx_burst = sd_tx_burst,
	.alloc = sd_alloc,
	.free = sd_free,
	.now_ns = sd_now,
	.local_addr = sd_local_addr,
	.wait = sd_wait,
	.destroy = sd_destroy,
};

int tni_sockets_driver_open(const char *host, uint16_t port, uint32_t max_pkt, struct tern_driver **out)
{
	struct sock_drv *sd = calloc(1, sizeof(*sd));
	if (!sd)
		return TERN_ENOMEM;
	sd->sock.fd = -1;
	/* A datagram larger than max_pkt is no tern packet: MSG_TRUNC drops it. */
	sd->want = 1;
	sd->pool = tni_pkt_pool_create(POOL_PKTS, max_pkt + HEADROOM, HEADROOM);
	int rc = sd->pool ? tni_udp_open(host, port, &sd->sock) : TERN_ENOMEM;
	if (rc) {
		tni_pkt_pool_destroy(sd->pool);
		free(sd);
		return rc;
	}
	sd->drv.ops = &sockets_ops;
	*out = &sd->drv;
	return 0;
}
