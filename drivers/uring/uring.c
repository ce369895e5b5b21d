/* The io_uring UDP path: one ring and one socket per engine. Receive is a
 * multishot recvmsg into a provided buffer ring; sends are batched sendmsg
 * SQEs, one submit per burst. The ring is set up SINGLE_ISSUER +
 * DEFER_TASKRUN + TASKRUN_FLAG where the kernel has them, so a busy poll
 * enters the kernel only when it flags work (docs/uring.md). */
#include <errno.h>
#include <liburing.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "../pkt_pool.h"
#include "../udp/udp_socket.h"
#include "tern/error.h"
#include "uring_driver.h"

#define RING_ENTRIES 256
#define RX_BUFS 1024 /* power of two */
#define BACKLOG 8192 /* power of two: packets received, not yet handed out */
#define GRO_BYTES 65536 /* with UDP_GRO, a receive buffer holds a whole train */
#define SEGS 8192 /* packet views into coalesced trains the engine may hold */
#define BGID 7
#define TX_PKTS 2048
#define HEADROOM 64
#define TAG_RECV 1ull
#define TAG_TRAIN 2ull
#define TAG_MASK 7ull
#define TRAIN_MAX TNI_GSO_MAX_PKTS /* packets in one GSO send */
#define TRAINS 128

#ifndef IORING_SEND_ZC_REPORT_USAGE
#define IORING_SEND_ZC_REPORT_USAGE (1U << 3)
#endif
#ifndef IORING_NOTIF_USAGE_ZC_COPIED
#define IORING_NOTIF_USAGE_ZC_COPIED (1U << 31)
#endif

struct tx_meta {
	struct msghdr mh;
	struct iovec iov;
	struct sockaddr_storage name;
};

/* Several packets to one peer, of one size (the last may be shorter), sent
 * as one UDP GSO datagram that the kernel cuts up again. */
struct train {
	struct msghdr mh;
	struct iovec iov[TRAIN_MAX];
	struct sockaddr_storage name;
	/* CMSG_SPACE(sizeof(uint16_t)) is 24 on 64-bit Linux. A union with
	 * struct cmsghdr would be variable-sized (its flexible array). */
	_Alignas(struct cmsghdr) char ctl[32];
	struct tni_pkt *pkts[TRAIN_MAX];
	unsigned n;
	unsigned refs; /* completions still to come before it is freed */
	bool zc;
	struct train *next_free;
};

struct uring_drv {
	struct tern_driver drv;
	struct tni_udp_socket sock;
	struct io_uring ring;
	bool ring_ok, taskrun_flag, recv_armed;
	unsigned setup_flags;

	struct io_uring_buf_ring *br;
	size_t br_bytes;
	uint8_t *rx_mem;
	uint32_t rx_buf_size;
	struct tni_pkt rx_pkts[RX_BUFS];
	struct msghdr recv_hdr;
	struct tni_pkt *backlog[BACKLOG]; /* received, not yet handed out */
	uint32_t bl_head, bl_tail;
	/* UDP GRO: a coalesced train is split into views of its buffer, which
	 * goes back to the ring when the engine has freed them all. */
	bool gro;
	uint32_t max_pkt;
	struct tni_pkt_pool *segs;
	uint16_t seg_bid[SEGS];
	uint8_t buf_refs[RX_BUFS]; /* views a buffer still backs (at most TNI_GSO_MAX_PKTS) */
	uint64_t gro_trains, gro_segments, gro_no_views;

	struct tni_pkt_pool *txpool;
	struct tx_meta *txmeta;

	struct tni_uring_opts opts;
	bool sqpoll;
	struct train *trains, *free_trains;
	uint64_t gso_trains, zc_sends, zc_copied;
	unsigned zc_probed, zc_probe_copied;
	unsigned zc_max_pkts; /* the longest train zero copy is tried on (lowered when refused) */
	uint64_t zc_too_long;
	unsigned zc_state; /* 0 probing or off by configuration, 1 on after the probe, 2 off after it */
	uint64_t cq_flushes, rx_rearms;
	struct tni_udp_mtu_memo mtu_memo;
};

static struct uring_drv *to_ud(struct tern_driver *d)
{
	return (struct uring_drv *)d;
}

static void recycle(struct uring_drv *ud, uint32_t bid)
{
	io_uring_buf_ring_add(ud->br, ud->rx_mem + (size_t)bid * ud->rx_buf_size, ud->rx_buf_size, (unsigned short)bid,
			      io_uring_buf_ring_mask(RX_BUFS), 0);
	io_uring_buf_ring_advance(ud->br, 1);
}

static bool arm_recv(struct uring_drv *ud)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&ud->ring);
	if (!sqe)
		return false;
	io_uring_prep_recvmsg_multishot(sqe, ud->sock.fd, &ud->recv_hdr, 0);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = BGID;
	io_uring_sqe_set_data64(sqe, TAG_RECV);
	ud->recv_armed = true;
	return true;
}

/* A coalesced train in buffer bid: a view per segment, no copy. A segment
 * larger than a tern packet makes the whole datagram no tern traffic. */
static void split_train(struct uring_drv *ud, uint32_t bid, uint8_t *payload, uint32_t len, uint32_t seg,
			const struct tern_addr *peer, uint8_t hops)
{
	if (seg > ud->max_pkt) {
		recycle(ud, bid);
		return;
	}
	ud->gro_trains++;
	bool checked = tni_loopback_checked(ud->drv.loopback_checks, peer); /* one source per train */
	for (uint32_t off = 0; off < len; off += seg) {
		struct tni_pkt *v = tni_pkt_pool_alloc(ud->segs);
		if (!v) { /* the engine holds them all: the rest is lost, and resent */
			ud->gro_no_views++;
			break;
		}
		v->data = payload + off;
		v->len = len - off < seg ? len - off : seg;
		v->cap = v->len;
		v->peer = *peer;
		v->hops = hops;
		v->link_checked = checked;
		ud->seg_bid[tni_pkt_pool_index(ud->segs, v)] = (uint16_t)bid;
		ud->buf_refs[bid]++;
		ud->gro_segments++;
		ud->backlog[ud->bl_tail++ & (BACKLOG - 1)] = v;
	}
	if (!ud->buf_refs[bid])
		recycle(ud, bid);
}

static void on_recv(struct uring_drv *ud, struct io_uring_cqe *cqe)
{
	if (!(cqe->flags & IORING_CQE_F_MORE)) {
		ud->recv_armed = false; /* ran dry (-ENOBUFS) or failed: re-armed on the next poll */
		ud->rx_rearms++;
	}
	if (cqe->res < 0 || !(cqe->flags & IORING_CQE_F_BUFFER))
		return;
	uint32_t bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
	if (bid >= RX_BUFS)
		return;
	uint8_t *buf = ud->rx_mem + (size_t)bid * ud->rx_buf_size;
	struct io_uring_recvmsg_out *o = io_uring_recvmsg_validate(buf, cqe->res, &ud->recv_hdr);
	if (!o || (o->flags & MSG_TRUNC) || o->namelen > ud->recv_hdr.msg_namelen) {
		recycle(ud, bid);
		return;
	}
	uint8_t *payload = io_uring_recvmsg_payload(o, &ud->recv_hdr);
	uint32_t len = io_uring_recvmsg_payload_length(o, cqe->res, &ud->recv_hdr);
	uint8_t hops = 0;
	int seg = 0;
	for (struct cmsghdr *c = io_uring_recvmsg_cmsg_firsthdr(o, &ud->recv_hdr); c;
	     c = io_uring_recvmsg_cmsg_nexthdr(o, &ud->recv_hdr, c))
		tni_udp_cmsg_take(c, &hops, &seg);
	struct tern_addr peer;
	tni_udp_from_sockaddr(io_uring_recvmsg_name(o), &peer);
	if (seg > 0 && (uint32_t)seg < len) {
		split_train(ud, bid, payload, len, (uint32_t)seg, &peer, hops);
		return;
	}
	if (len > ud->max_pkt) { /* no tern packet (the GRO buffer holds more than one) */
		recycle(ud, bid);
		return;
	}
	struct tni_pkt *p = &ud->rx_pkts[bid];
	p->data = payload;
	p->len = len;
	p->cap = len;
	p->peer = peer;
	p->hops = hops;
	p->link_checked = tni_loopback_checked(ud->drv.loopback_checks, &peer);
	ud->backlog[ud->bl_tail++ & (BACKLOG - 1)] = p;
}

static void train_free(struct uring_drv *ud, struct train *t)
{
	for (unsigned i = 0; i < t->n; i++)
		tni_pkt_pool_free(t->pkts[i]);
	t->n = 0;
	t->next_free = ud->free_trains;
	ud->free_trains = t;
}

/* The probe's verdict: zero copy stays only where the kernel copied none
 * of the first sends (a NIC that sends from user pages). */
static void zc_decide(struct uring_drv *ud)
{
	ud->opts.zc_probe = false;
	if (!ud->zc_probe_copied) {
		ud->zc_state = 1;
		return;
	}
	ud->zc_state = 2;
	ud->opts.zc_min_bytes = 0;
	static const char line[] = "tern: io_uring SEND_ZC: the kernel copied the sends anyway on this path "
				   "(loopback or veth); sending with copies";
	if (ud->opts.log)
		ud->opts.log(ud->opts.log_user, line);
	else
		fprintf(stderr, "%s\n", line);
}

/* A zero-copy send completes twice: the send, then (F_MORE) a notification
 * once the kernel let go of the buffers. */
static struct io_uring_sqe *get_sqe(struct uring_drv *ud);

/* A train is freed when the last completion it waits for is in: its send,
 * a zero-copy send's notification (when the send says one follows), and a
 * send again with a copy (below). */
static void train_put(struct uring_drv *ud, struct train *t)
{
	if (--t->refs == 0)
		train_free(ud, t);
}

static void on_train_done(struct uring_drv *ud, struct train *t, struct io_uring_cqe *cqe)
{
	if (cqe->flags & IORING_CQE_F_NOTIF) {
		bool copied = (uint32_t)cqe->res & IORING_NOTIF_USAGE_ZC_COPIED;
		ud->zc_copied += copied;
		if (ud->opts.zc_probe && ++ud->zc_probed <= TNI_ZC_PROBE_SENDS) {
			ud->zc_probe_copied += copied;
			if (ud->zc_probed == TNI_ZC_PROBE_SENDS || ud->zc_probe_copied)
				zc_decide(ud);
		}
		train_put(ud, t);
		return;
	}
	if (cqe->flags & IORING_CQE_F_MORE)
		t->refs++; /* the notification */
	if (t->zc && cqe->res == -EMSGSIZE) {
		/* A zero-copy send pins the train's pages as skb fragments, and a
		 * train whose packets straddle more pages than an skb has
		 * fragments for is refused. Send it again with a copy, and keep
		 * zero copy to shorter trains from now on. */
		ud->zc_too_long++;
		if (t->n > 1 && t->n - 1 < ud->zc_max_pkts)
			ud->zc_max_pkts = t->n - 1;
		struct io_uring_sqe *sqe = get_sqe(ud);
		if (sqe) {
			t->zc = false;
			t->refs++;
			io_uring_prep_sendmsg(sqe, ud->sock.fd, &t->mh, 0);
			io_uring_sqe_set_data64(sqe, (uint64_t)(uintptr_t)t | TAG_TRAIN);
		}
	} else if (cqe->res == -EIO || cqe->res == -EINVAL) {
		ud->opts.gso = false; /* no GSO on this path: packets go one by one from now on */
	}
	train_put(ud, t);
}

static void reap(struct uring_drv *ud)
{
	struct io_uring_cqe *cqe;
	unsigned head, n = 0;
	io_uring_for_each_cqe(&ud->ring, head, cqe) {
		if (BACKLOG - (ud->bl_tail - ud->bl_head) < TNI_GSO_MAX_PKTS)
			break; /* the rest waits in the CQ for the next poll */
		uint64_t tag = io_uring_cqe_get_data64(cqe);
		if (tag == TAG_RECV)
			on_recv(ud, cqe);
		else if ((tag & TAG_MASK) == TAG_TRAIN)
			on_train_done(ud, (struct train *)(uintptr_t)(tag & ~TAG_MASK), cqe);
		else
			tni_pkt_pool_free((struct tni_pkt *)(uintptr_t)(tag & ~TAG_MASK));
		n++;
	}
	io_uring_cq_advance(&ud->ring, n);
}

/* Enter the kernel only when there is something to submit or the kernel
 * flagged task work for us (TASKRUN_FLAG); otherwise a poll is a few loads.
 * SQPOLL and plain rings post completions by themselves. */
static void kick(struct uring_drv *ud)
{
	/* Completions the CQ had no room for wait in the kernel until an
	 * enter with GETEVENTS flushes them; among them may be the end of the
	 * multishot receive, without which we would never arm it again. */
	unsigned kflags = IO_URING_READ_ONCE(*ud->ring.sq.kflags);
	if (kflags & IORING_SQ_CQ_OVERFLOW) {
		ud->cq_flushes++;
		io_uring_submit_and_get_events(&ud->ring);
		return;
	}
	if (ud->sqpoll || ud->opts.setup == TERN_URING_SETUP_PLAIN) {
		if (io_uring_sq_ready(&ud->ring))
			io_uring_submit(&ud->ring);
		return;
	}
	bool work = io_uring_sq_ready(&ud->ring) || !ud->taskrun_flag || (kflags & IORING_SQ_TASKRUN);
	if (work)
		io_uring_submit_and_get_events(&ud->ring);
}

static unsigned ud_rx_burst(struct tern_driver *d, struct tni_pkt **pkts, unsigned n)
{
	struct uring_drv *ud = to_ud(d);
	if (!ud->recv_armed)
		arm_recv(ud);
	if (ud->bl_head == ud->bl_tail) {
		kick(ud);
		reap(ud);
	}
	unsigned got = 0;
	while (got < n && ud->bl_head != ud->bl_tail)
		pkts[got++] = ud->backlog[ud->bl_head++ & (BACKLOG - 1)];
	return got;
}

static struct io_uring_sqe *get_sqe(struct uring_drv *ud)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&ud->ring);
	if (!sqe) {
		io_uring_submit(&ud->ring);
		sqe = io_uring_get_sqe(&ud->ring);
	}
	return sqe;
}

static bool send_train(struct uring_drv *ud, struct tni_pkt **pkts, unsigned k, struct io_uring_sqe *sqe)
{
	struct train *t = ud->free_trains;
	if (!t)
		return false;
	ud->free_trains = t->next_free;
	size_t total = 0;
	for (unsigned i = 0; i < k; i++) {
		t->pkts[i] = pkts[i];
		t->iov[i] = (struct iovec){ pkts[i]->data, pkts[i]->len };
		total += pkts[i]->len;
	}
	t->n = k;
	t->mh = (struct msghdr){ .msg_name = &t->name,
				 .msg_namelen = tni_udp_to_sockaddr(&ud->sock, &pkts[0]->peer, &t->name),
				 .msg_iov = t->iov, .msg_iovlen = k,
				 .msg_control = t->ctl, .msg_controllen = CMSG_SPACE(sizeof(uint16_t)) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&t->mh);
	cm->cmsg_level = SOL_UDP;
	cm->cmsg_type = UDP_SEGMENT;
	cm->cmsg_len = CMSG_LEN(sizeof(uint16_t));
	uint16_t seg = (uint16_t)pkts[0]->len;
	memcpy(CMSG_DATA(cm), &seg, sizeof(seg));
	t->zc = ud->opts.zc_min_bytes && total >= ud->opts.zc_min_bytes && k <= ud->zc_max_pkts;
	t->refs = 1;
	if (t->zc) {
		io_uring_prep_sendmsg_zc(sqe, ud->sock.fd, &t->mh, 0);
		sqe->ioprio |= IORING_SEND_ZC_REPORT_USAGE; /* so we learn if it was copied after all */
		ud->zc_sends++;
	} else {
		io_uring_prep_sendmsg(sqe, ud->sock.fd, &t->mh, 0);
	}
	io_uring_sqe_set_data64(sqe, (uint64_t)(uintptr_t)t | TAG_TRAIN);
	ud->gso_trains++;
	return true;
}

static unsigned ud_tx_burst(struct tern_driver *d, struct tni_pkt **pkts, unsigned n)
{
	struct uring_drv *ud = to_ud(d);
	unsigned i = 0;
	while (i < n) {
		struct io_uring_sqe *sqe = get_sqe(ud);
		if (!sqe)
			break;
		unsigned k = ud->opts.gso ? tni_udp_train_len(pkts + i, n - i) : 1;
		if (k > 1 && send_train(ud, pkts + i, k, sqe)) {
			i += k;
			continue;
		}
		struct tni_pkt *p = pkts[i++];
		struct tx_meta *m = &ud->txmeta[tni_pkt_pool_index(ud->txpool, p)];
		m->iov = (struct iovec){ p->data, p->len };
		m->mh = (struct msghdr){ .msg_name = &m->name,
					 .msg_namelen = tni_udp_to_sockaddr(&ud->sock, &p->peer, &m->name),
					 .msg_iov = &m->iov, .msg_iovlen = 1 };
		io_uring_prep_sendmsg(sqe, ud->sock.fd, &m->mh, 0);
		io_uring_sqe_set_data64(sqe, (uint64_t)(uintptr_t)p);
	}
	if (i)
		io_uring_submit(&ud->ring);
	return i;
}

static struct tni_pkt *ud_alloc(struct tern_driver *d)
{
	return tni_pkt_pool_alloc(to_ud(d)->txpool);
}

static void ud_free(struct tern_driver *d, struct tni_pkt *p)
{
	struct uring_drv *ud = to_ud(d);
	if (p->owner == ud->txpool) {
		tni_pkt_pool_free(p);
	} else if (ud->segs && p->owner == ud->segs) {
		uint32_t bid = ud->seg_bid[tni_pkt_pool_index(ud->segs, p)];
		tni_pkt_pool_free(p);
		if (--ud->buf_refs[bid] == 0)
			recycle(ud, bid);
	} else {
		recycle(ud, (uint32_t)(p - ud->rx_pkts));
	}
}

static uint64_t ud_now(struct tern_driver *d)
{
	(void)d;
	return tni_clock_ns();
}

static int ud_local_addr(struct tern_driver *d, struct tern_addr *out)
{
	return tni_udp_local_addr(&to_ud(d)->sock, out);
}

static void ud_wait(struct tern_driver *d, uint64_t timeout_ns)
{
	struct uring_drv *ud = to_ud(d);
	if (!ud->recv_armed)
		arm_recv(ud);
	struct __kernel_timespec ts = { (long long)(timeout_ns / 1000000000ull), (long long)(timeout_ns % 1000000000ull) };
	struct io_uring_cqe *cqe;
	io_uring_submit_and_wait_timeout(&ud->ring, &cqe, 1, &ts, NULL);
}

static void ud_xstats(struct tern_driver *d, void (*fn)(const char *, uint64_t, void *), void *arg)
{
	struct uring_drv *ud = to_ud(d);
	fn("rx_rearms", ud->rx_rearms, arg); /* times the multishot receive ended and was armed again */
	fn("cq_flushes", ud->cq_flushes, arg); /* completions the CQ had no room for, fetched */
	fn("tx_gso_trains", ud->gso_trains, arg); /* sends of several packets as one UDP GSO datagram */
	fn("tx_zc_sends", ud->zc_sends, arg);     /* SEND_ZC sends */
	fn("tx_zc_copied", ud->zc_copied, arg);   /* of which the kernel copied after all (loopback, veth) */
	fn("tx_zc_too_long", ud->zc_too_long, arg); /* refused (EMSGSIZE: too many pages) and sent again with a copy */
	fn("tx_zc_probe", ud->zc_state, arg);     /* 1: the probe kept SEND_ZC on; 2: turned it off (copied) */
	fn("rx_gro_trains", ud->gro_trains, arg); /* datagrams the kernel coalesced (UDP_GRO), split here */
	fn("rx_gro_segments", ud->gro_segments, arg);
	fn("rx_gro_no_views", ud->gro_no_views, arg); /* segments dropped: no view left */
}

static void ud_destroy(struct tern_driver *d)
{
	struct uring_drv *ud = to_ud(d);
	if (ud->ring_ok)
		io_uring_queue_exit(&ud->ring); /* cancels the multishot receive */
	free(ud->trains);
	tni_udp_close(&ud->sock);
	if (ud->br)
		munmap(ud->br, ud->br_bytes);
	free(ud->rx_mem);
	tni_pkt_pool_destroy(ud->segs);
	free(ud->txmeta);
	tni_pkt_pool_destroy(ud->txpool);
	free(ud);
}

static uint32_t ud_path_mtu(struct tern_driver *d, const struct tern_addr *peer)
{
	return tni_udp_path_mtu(&to_ud(d)->mtu_memo, peer, d->mtu);
}

static void ud_read_hops(struct tern_driver *d, bool on)
{
	tni_udp_read_hops(&to_ud(d)->sock, on);
}

static const struct tni_driver_ops uring_ops = {
	.path_mtu = ud_path_mtu,
	.read_hops = ud_read_hops,
	.name = "uring",
	.rx_burst = ud_rx_burst,
	.tx_burst = ud_tx_burst,
	.alloc = ud_alloc,
	.free = ud_free,
	.now_ns = ud_now,
	.local_addr = ud_local_addr,
	.wait = ud_wait,
	.xstats = ud_xstats,
	.destroy = ud_destroy,
};

/* The ring asked for, or for AUTO the best this kernel gives, in order of
 * measured preference (docs/uring.md). */
static int setup_ring(struct uring_drv *ud, char *reason, size_t rlen)
{
	static const unsigned defer = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_TASKRUN_FLAG;
	static const unsigned coop = IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG;
	unsigned tries[4], n = 0;
	switch (ud->opts.setup) {
	case TERN_URING_SETUP_DEFER_TASKRUN: tries[n++] = defer; break;
	case TERN_URING_SETUP_COOP_TASKRUN: tries[n++] = coop; break;
	case TERN_URING_SETUP_PLAIN: tries[n++] = 0; break;
	case TERN_URING_SETUP_SQPOLL: tries[n++] = IORING_SETUP_SQPOLL | IORING_SETUP_SINGLE_ISSUER; break;
	default:
		tries[n++] = defer;
		tries[n++] = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
		tries[n++] = coop;
		tries[n++] = 0;
	}
	int rc = -EINVAL;
	for (unsigned i = 0; i < n; i++) {
		struct io_uring_params p = { .flags = tries[i], .sq_thread_idle = 1000 };
		rc = io_uring_queue_init_params(RING_ENTRIES, &ud->ring, &p);
		if (rc == 0) {
			ud->setup_flags = tries[i];
			ud->taskrun_flag = tries[i] & IORING_SETUP_TASKRUN_FLAG;
			ud->sqpoll = tries[i] & IORING_SETUP_SQPOLL;
			ud->ring_ok = true;
			return 0;
		}
		if (rc != -EINVAL)
			break;
	}
	snprintf(reason, rlen, "io_uring_setup failed: %s%s", strerror(-rc),
		 rc == -EPERM ? " (kernel.io_uring_disabled or a seccomp filter)"
			      : rc == -ENOSYS ? " (kernel without io_uring)" : "");
	return TERN_ENOTSUP;
}

static int setup_buffers(struct uring_drv *ud, uint32_t max_pkt, char *reason, size_t rlen)
{
	/* liburing 2.3 has no io_uring_setup_buf_ring: map and register by hand. */
	ud->br_bytes = RX_BUFS * sizeof(struct io_uring_buf);
	void *br = mmap(NULL, ud->br_bytes, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
	if (br == MAP_FAILED)
		return TERN_ENOMEM;
	ud->br = br;
	io_uring_buf_ring_init(ud->br);
	struct io_uring_buf_reg reg = { .ring_addr = (unsigned long)ud->br, .ring_entries = RX_BUFS, .bgid = BGID };
	int rc = io_uring_register_buf_ring(&ud->ring, &reg, 0);
	if (rc) {
		snprintf(reason, rlen, "no provided buffer rings: %s (kernel older than 5.19?)", strerror(-rc));
		return TERN_ENOTSUP;
	}
	/* Each buffer holds the recvmsg_out header, the source address, the
	 * control message with the TTL and a whole tern packet. */
	_Static_assert(sizeof(struct io_uring_recvmsg_out) % 8 == 0, "the name room starts aligned");
	/* The kernel puts the control data right after the name room: a
	 * multiple of 8 keeps its cmsghdr aligned. */
	ud->recv_hdr.msg_namelen = (sizeof(struct sockaddr_in6) + 7) & ~7u;
	/* The TTL, and with GRO the segment size. */
	ud->recv_hdr.msg_controllen = TERN_UDP_CMSG_ROOM + (ud->gro ? CMSG_SPACE(sizeof(int)) : 0);
	ud->max_pkt = max_pkt;
	ud->rx_buf_size = (uint32_t)(sizeof(struct io_uring_recvmsg_out) + ud->recv_hdr.msg_namelen +
				     ud->recv_hdr.msg_controllen + (ud->gro ? GRO_BYTES : max_pkt) + 63) & ~63u;
	/* Address space for every buffer; pages are touched only as datagrams land. */
	if (posix_memalign((void **)&ud->rx_mem, 64, (size_t)RX_BUFS * ud->rx_buf_size))
		return TERN_ENOMEM;
	if (ud->gro && !(ud->segs = tni_pkt_pool_create(SEGS, HEADROOM + 64, HEADROOM)))
		return TERN_ENOMEM;
	for (uint32_t i = 0; i < RX_BUFS; i++) {
		ud->rx_pkts[i].owner = ud;
		io_uring_buf_ring_add(ud->br, ud->rx_mem + (size_t)i * ud->rx_buf_size, ud->rx_buf_size, (unsigned short)i,
				      io_uring_buf_ring_mask(RX_BUFS), (int)i);
	}
	io_uring_buf_ring_advance(ud->br, RX_BUFS);
	return 0;
}

/* Multishot recvmsg needs Linux 6.0; an older kernel fails the first SQE. */
static int probe_multishot(struct uring_drv *ud, char *reason, size_t rlen)
{
	arm_recv(ud);
	io_uring_submit_and_get_events(&ud->ring);
	struct io_uring_cqe *cqe;
	if (io_uring_peek_cqe(&ud->ring, &cqe) == 0 && cqe->res < 0 && !(cqe->flags & IORING_CQE_F_MORE)) {
		snprintf(reason, rlen, "multishot recvmsg unsupported: %s (kernel older than 6.0?)", strerror(-cqe->res));
		return TERN_ENOTSUP;
	}
	return 0;
}

int tni_uring_driver_open(const char *host, uint16_t port, uint32_t max_pkt, const struct tni_uring_opts *opts,
			   struct tern_driver **out, char *reason, size_t reason_len)
{
	struct uring_drv *ud = calloc(1, sizeof(*ud));
	if (!ud)
		return TERN_ENOMEM;
	ud->sock.fd = -1;
	ud->opts = *opts;
	ud->zc_max_pkts = TRAIN_MAX;
	ud->gro = opts->gro;
	snprintf(reason, reason_len, "out of memory");
	int rc = setup_ring(ud, reason, reason_len);
	if (!rc)
		rc = setup_buffers(ud, max_pkt, reason, reason_len);
	if (!rc) {
		ud->txpool = tni_pkt_pool_create(TX_PKTS, max_pkt + HEADROOM, HEADROOM);
		ud->txmeta = calloc(TX_PKTS, sizeof(*ud->txmeta));
		ud->trains = calloc(TRAINS, sizeof(*ud->trains));
		rc = ud->txpool && ud->txmeta && ud->trains ? 0 : TERN_ENOMEM;
		for (unsigned i = 0; !rc && i < TRAINS; i++) {
			ud->trains[i].next_free = ud->free_trains;
			ud->free_trains = &ud->trains[i];
		}
	}
	if (!rc) {
		rc = tni_udp_open(host, port, &ud->sock);
		if (rc)
			snprintf(reason, reason_len, "cannot bind UDP port %u: %s", port, tern_strerror(rc));
	}
	int one = 1;
	if (!rc && ud->gro && setsockopt(ud->sock.fd, SOL_UDP, TNI_UDP_GRO, &one, sizeof(one))) {
		/* Datagram by datagram, in buffers sized for trains. */
		char line[160];
		snprintf(line, sizeof(line), "tern: UDP GRO refused (%s); the io_uring driver receives packet by packet",
			 strerror(errno));
		ud->gro = false;
		if (opts->log)
			opts->log(opts->log_user, line);
		else
			fprintf(stderr, "%s\n", line);
	}
	if (!rc)
		rc = probe_multishot(ud, reason, reason_len);
	if (rc) {
		ud->drv.ops = &uring_ops;
		ud_destroy(&ud->drv);
		return rc;
	}
	ud->drv.ops = &uring_ops;
	ud->drv.lazy_clock = true; /* an idle poll is a look at the completion ring: the clock would double it */
	*out = &ud->drv;
	return 0;
}
