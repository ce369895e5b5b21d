/* The plain socket path: non-blocking recvmmsg/sendmmsg in bursts (a lone
 * datagram by recvfrom or recv, sendto or send), ppoll to block. tern's choice for busy
 * polling (docs/uring.md), and the fallback where io_uring is disabled or
 * missing.
 *
 * Sends: consecutive packets to one peer of one size (the last may be
 * shorter) go as one UDP GSO datagram (UDP_SEGMENT), the packets
 * themselves as its iovec. Receives: with UDP_GRO the kernel hands over
 * such a train as one datagram and its segment size; it is read into a
 * large buffer and split into packets that point into it, with no copy,
 * the buffer going back to receive when the engine has freed them all. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../pkt_pool.h"
#include "../udp/udp_socket.h"
#include "sockets_driver.h"
#include "tern/error.h"

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif

#define BURST 32
#define POOL_PKTS 4096
#define HEADROOM 64
#define IOVS 256          /* iovec entries for one sendmmsg */
#define BIG_BYTES 65536   /* a receive buffer that holds a whole GRO train */
#define BIGS (2 * BURST)  /* standing, and held by packets the engine has not freed */
#define SEGS (BIGS * TNI_GSO_MAX_PKTS)

/* A large receive buffer and how many packets still point into it. */
struct big {
	uint8_t *buf;
	unsigned refs;
	struct big *next_free;
};

struct sock_drv {
	struct tern_driver drv;
	struct tni_udp_socket sock;
	struct tni_pkt_pool *pool;
	/* receive without GRO: standing pool packets, refilled as used */
	struct tni_pkt *rx[BURST];
	/* receive with GRO: standing large buffers, and packet views into them.
	 * gro_ok: set up and allowed; gro: on now. UDP_GRO costs a small
	 * datagram's round trip (a control message each, the kernel's GRO
	 * receive path), so it is on only while trains come: a receive that
	 * fills GRO_ON_BATCH datagrams turns it on, GRO_OFF_CALM receives in
	 * a row with no train and fewer datagrams turn it off. */
	bool gro_ok, gro;
	bool hops_on; /* TTLs asked for (sd_read_hops): every receive reads cmsgs */
	bool last_empty; /* the last receive got nothing */
	/* Connected, and a receive since found the queue empty: what comes
	 * now is from the peer alone, so a lone receive asks for no address.
	 * (Datagrams queued before the connect may be from anyone.) */
	bool conn_clean;
	unsigned gro_calm;
	uint64_t gro_switches;
	struct big bigs[BIGS], *free_bigs, *rxbig[BURST];
	struct tni_pkt_pool *segs;
	struct big *seg_big[SEGS]; /* the buffer each view points into */
	/* Views split off a train that did not fit the engine's burst: handed
	 * out first on the next call (dropping them lost most of every train
	 * larger than a burst). */
	struct tni_pkt *pend[SEGS];
	unsigned pend_head, pend_n;
	struct mmsghdr msgs[BURST];
	struct iovec iov[IOVS];
	struct sockaddr_storage names[BURST];
	_Alignas(struct cmsghdr) char ctl[BURST][TERN_UDP_CMSG_ROOM + CMSG_SPACE(sizeof(int))];
	/* Datagrams the next recvmmsg asks for: a burst that filled it asks
	 * for twice as many, one that did not for what came. recvmmsg tries
	 * for one more datagram after each it gets, so asking a ping-pong for
	 * 32 cost a failed receive on every packet. */
	unsigned want;
	bool gso;
	uint32_t max_pkt; /* the largest tern packet; a segment over it is no tern packet */
	uint64_t gso_trains, gro_trains, gro_segments, connects;
	struct tni_udp_mtu_memo mtu_memo;
	/* Payloads sent from the message buffer (sd_attach), by pool index:
	 * sendmmsg copies them, so each reference is put back once it returns. */
	const void **ext_buf;
	struct tni_ext_ref **ext_ref;
};

static struct sock_drv *to_sd(struct tern_driver *d)
{
	return (struct sock_drv *)d;
}

static void big_put(struct sock_drv *sd, struct big *b)
{
	if (--b->refs == 0) {
		b->next_free = sd->free_bigs;
		sd->free_bigs = b;
	}
}

#define GRO_ON_BATCH 8
#define GRO_OFF_CALM 4096

static void set_gro(struct sock_drv *sd, bool on)
{
	int v = on;
	if (setsockopt(sd->sock.fd, SOL_UDP, TNI_UDP_GRO, &v, sizeof(v)) == 0) {
		sd->gro = on;
		sd->gro_switches++;
	} else if (on) {
		sd->gro_ok = false; /* refused now: receive as we do */
	}
	sd->gro_calm = 0;
}

static void set_rx_hdr(struct sock_drv *sd, unsigned i, void *buf, size_t cap)
{
	sd->iov[i] = (struct iovec){ buf, cap };
	sd->msgs[i].msg_hdr = (struct msghdr){ .msg_name = &sd->names[i], .msg_namelen = sizeof(sd->names[i]),
					       .msg_iov = &sd->iov[i], .msg_iovlen = 1, .msg_control = sd->ctl[i],
					       .msg_controllen = sizeof(sd->ctl[i]) };
}

/* The next receive's size, from this one's: ready asked, got came.
 * A lone datagram after an empty receive is a ping-pong's: asking for
 * two next time would only trade the next poll's lone receive for a
 * recvmmsg. Two receives in a row that fill it are a stream. */
static void size_next(struct sock_drv *sd, unsigned ready, int got)
{
	if (got <= 0)
		sd->want = 1;
	else if (ready == 1 && got == 1 && sd->last_empty)
		sd->want = 1;
	else
		sd->want = (unsigned)got == ready ? (ready * 2 < BURST ? ready * 2 : BURST) : (unsigned)got;
	sd->last_empty = got <= 0;
}

/* recvmmsg of the ready standing buffers; sizes the next request. */
static int recv_batch(struct sock_drv *sd, unsigned ready)
{
	int got = recvmmsg(sd->sock.fd, sd->msgs, ready, MSG_DONTWAIT, NULL);
	size_next(sd, ready, got);
	return got;
}

/* A ping-pong's poll: one datagram asked for, no control message wanted
 * (no GRO, no TTL). Straight into the standing buffer by recvfrom, which
 * has no msghdr to copy in and check (docs/uring.md, "Busy polling"), or
 * by recv once the socket is connected and a receive since found the
 * queue empty: then only the peer's datagrams come, and none need an
 * address (datagrams queued before the connect may be from anyone). */
static unsigned rx_lone(struct sock_drv *sd, struct tni_pkt **pkts)
{
	struct tni_pkt *p = sd->rx[0];
	if (!p && !(p = sd->rx[0] = tni_pkt_pool_alloc(sd->pool)))
		return 0;
	bool from_peer = sd->sock.connected && sd->conn_clean;
	socklen_t nl = sizeof(sd->names[0]);
	ssize_t r = from_peer ? recv(sd->sock.fd, p->data, p->cap, MSG_DONTWAIT | MSG_TRUNC)
			      : recvfrom(sd->sock.fd, p->data, p->cap, MSG_DONTWAIT | MSG_TRUNC,
					 (struct sockaddr *)&sd->names[0], &nl);
	size_next(sd, 1, r < 0 ? -1 : 1);
	if (r < 0) {
		sd->conn_clean = sd->sock.connected;
		return 0;
	}
	if ((size_t)r > p->cap)
		return 0; /* larger than any tern packet: not ours; buffer reused */
	p->len = (uint32_t)r;
	if (from_peer)
		p->peer = sd->sock.peer;
	else
		tni_udp_from_sockaddr((struct sockaddr *)&sd->names[0], &p->peer);
	p->link_checked = tni_loopback_checked(sd->drv.loopback_checks, &p->peer);
	p->hops = 0;
	pkts[0] = p;
	sd->rx[0] = NULL;
	return 1;
}

/* Move the buffers still standing in a[BURST] to its front. */
#define KEEP_FRONT(a)                                      \
	do {                                               \
		unsigned k_ = 0;                           \
		for (unsigned i_ = 0; i_ < BURST; i_++)    \
			if ((a)[i_]) {                     \
				__typeof__((a)[0]) x_ = (a)[i_]; \
				(a)[i_] = NULL;            \
				(a)[k_++] = x_;            \
			}                                  \
	} while (0)

/* The TTL, and with GRO the segment size, from a datagram's cmsgs. */
static void read_cmsgs(struct msghdr *mh, uint8_t *hops, int *seg)
{
	*hops = 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c))
		tni_udp_cmsg_take(c, hops, seg);
}

static unsigned rx_gro(struct sock_drv *sd, struct tni_pkt **pkts, unsigned n)
{
	if (sd->pend_n) {
		unsigned k = 0;
		for (; k < n && sd->pend_n; k++, sd->pend_n--)
			pkts[k] = sd->pend[sd->pend_head++];
		if (!sd->pend_n)
			sd->pend_head = 0;
		return k;
	}
	unsigned ready = 0;
	for (; ready < sd->want && ready < BURST; ready++) {
		if (!sd->rxbig[ready]) {
			if (!sd->free_bigs)
				break;
			sd->rxbig[ready] = sd->free_bigs;
			sd->free_bigs = sd->free_bigs->next_free;
		}
		set_rx_hdr(sd, ready, sd->rxbig[ready]->buf, BIG_BYTES);
	}
	int got = ready ? recv_batch(sd, ready) : 0;
	if (got <= 0)
		return 0;
	unsigned out = 0, trains = 0;
	for (int i = 0; i < got; i++) {
		struct big *b = sd->rxbig[i];
		uint32_t len = sd->msgs[i].msg_len;
		if (sd->msgs[i].msg_hdr.msg_flags & MSG_TRUNC)
			continue; /* larger than 64 KB: no tern train; buffer reused */
		uint8_t hops;
		int seg = 0;
		read_cmsgs(&sd->msgs[i].msg_hdr, &hops, &seg);
		if (seg <= 0 || (uint32_t)seg > len)
			seg = (int)len;
		if ((uint32_t)seg > sd->max_pkt)
			continue; /* not ours (tern's packets fit the MTU); buffer reused */
		struct tern_addr from;
		tni_udp_from_sockaddr((struct sockaddr *)&sd->names[i], &from);
		bool checked = tni_loopback_checked(sd->drv.loopback_checks, &from); /* one source per train */
		unsigned parts = 0;
		for (uint32_t off = 0; off < len; off += (uint32_t)seg) {
			struct tni_pkt *p = tni_pkt_pool_alloc(sd->segs);
			if (!p)
				break; /* the rest of the train is lost, as on a full queue */
			uint32_t l = len - off < (uint32_t)seg ? len - off : (uint32_t)seg;
			p->data = b->buf + off;
			p->len = l;
			p->cap = l;
			p->ext_len = 0;
			p->peer = from;
			p->hops = hops;
			p->link_checked = checked;
			sd->seg_big[tni_pkt_pool_index(sd->segs, p)] = b;
			if (out < n)
				pkts[out++] = p;
			else
				sd->pend[sd->pend_n++] = p; /* pend_head is 0: the list was empty */
			parts++;
		}
		if (!parts)
			continue; /* nothing handed out: the buffer stays standing */
		if (parts > 1) {
			sd->gro_trains++;
			sd->gro_segments += parts;
			trains++;
		}
		b->refs = parts;
		sd->rxbig[i] = NULL;
	}
	KEEP_FRONT(sd->rxbig);
	/* No train and no burst for long: GRO off (what it leaves standing,
	 * views handed out and buffers, goes back as before). Pairs of
	 * datagrams, which a loaded host's ping-pong often brings, are no
	 * stream. */
	if (trains || got >= GRO_ON_BATCH)
		sd->gro_calm = 0;
	else if (++sd->gro_calm >= GRO_OFF_CALM && !sd->pend_n)
		set_gro(sd, false);
	return out;
}

/* Up to n datagrams by recvmmsg, with their TTLs where asked for. */
static __attribute__((noinline)) unsigned rx_burst_many(struct sock_drv *sd, struct tni_pkt **pkts, unsigned n)
{
	if (n > sd->want)
		n = sd->want;
	unsigned ready = 0;
	for (; ready < n; ready++) {
		if (!sd->rx[ready] && !(sd->rx[ready] = tni_pkt_pool_alloc(sd->pool)))
			break;
		set_rx_hdr(sd, ready, sd->rx[ready]->data, sd->rx[ready]->cap);
	}
	int got = ready ? recv_batch(sd, ready) : 0;
	if (got <= 0)
		return 0;
	unsigned out = 0;
	for (int i = 0; i < got; i++) {
		struct tni_pkt *p = sd->rx[i];
		if (sd->msgs[i].msg_hdr.msg_flags & MSG_TRUNC)
			continue; /* larger than any tern packet: not ours; buffer reused */
		p->len = sd->msgs[i].msg_len;
		tni_udp_from_sockaddr((struct sockaddr *)&sd->names[i], &p->peer);
		p->link_checked = tni_loopback_checked(sd->drv.loopback_checks, &p->peer);
		int seg = 0;
		read_cmsgs(&sd->msgs[i].msg_hdr, &p->hops, &seg);
		pkts[out++] = p;
		sd->rx[i] = NULL;
	}
	/* The slots handed out are refilled on the next call, where they
	 * stand: no pass over the whole burst for every datagram. */
	if (got >= GRO_ON_BATCH && sd->gro_ok)
		set_gro(sd, true); /* a stream: its trains come whole from now */
	return out;
}

/* Every poll comes here: the lone datagram of a ping-pong takes the
 * shortest way, with nothing of the burst paths on its stack. */
static unsigned sd_rx_burst(struct tern_driver *d, struct tni_pkt **pkts, unsigned n)
{
	struct sock_drv *sd = to_sd(d);
	if (__builtin_expect(sd->gro || sd->pend_n, 0))
		return rx_gro(sd, pkts, n > BURST ? BURST : n);
	if (sd->want == 1 && !sd->hops_on && n)
		return rx_lone(sd, pkts);
	return rx_burst_many(sd, pkts, n > BURST ? BURST : n);
}

static bool sd_attach(struct tern_driver *d, struct tni_pkt *p, const void *buf, uint32_t len,
		      struct tni_ext_ref *ref)
{
	struct sock_drv *sd = to_sd(d);
	if (p->owner != sd->pool)
		return false;
	uint32_t i = tni_pkt_pool_index(sd->pool, p);
	sd->ext_buf[i] = buf;
	sd->ext_ref[i] = ref;
	p->ext_len = len;
	tni_ext_ref_get(ref);
	return true;
}

static void release_ext(struct sock_drv *sd, struct tni_pkt *p)
{
	if (!p->ext_len || p->owner != sd->pool)
		return;
	uint32_t i = tni_pkt_pool_index(sd->pool, p);
	tni_ext_ref_put(sd->ext_ref[i]);
	sd->ext_ref[i] = NULL;
	p->ext_len = 0;
}

/* One packet from one buffer (an RPC's request or answer): sendto, or
 * send on a connected socket, which take no msghdr to copy in and check
 * (docs/uring.md, "Busy polling"). 1 once it is gone (sent, or dropped
 * on an error other than a full queue), else 0. */
static unsigned tx_lone(struct sock_drv *sd, struct tni_pkt *p)
{
	bool to_conn = sd->sock.connected && tern_addr_equal(&p->peer, &sd->sock.peer);
	if (sd->sock.connected && !to_conn)
		tni_udp_connect(&sd->sock, NULL); /* another peer: the socket takes any again */
	ssize_t r;
	if (to_conn) {
		r = send(sd->sock.fd, p->data, p->len, MSG_DONTWAIT);
	} else {
		socklen_t nl = tni_udp_to_sockaddr(&sd->sock, &p->peer, &sd->names[0]);
		r = sendto(sd->sock.fd, p->data, p->len, MSG_DONTWAIT, (struct sockaddr *)&sd->names[0], nl);
	}
	if (r < 0 && (errno == EAGAIN || errno == ENOBUFS))
		return 0; /* the engine drops it, as a full NIC queue would */
	tni_pkt_pool_free(p);
	return 1;
}

static unsigned sd_tx_burst(struct tern_driver *d, struct tni_pkt **pkts, unsigned n)
{
	struct sock_drv *sd = to_sd(d);
	if (n == 1 && !pkts[0]->ext_len)
		return tx_lone(sd, pkts[0]);
	unsigned done = 0;
	unsigned counts[BURST];
	while (done < n) {
		/* One sendmmsg: up to BURST datagrams, each one packet or a train. */
		unsigned m = 0, used = 0, at = done;
		while (m < BURST && at < n) {
			unsigned k = sd->gso ? tni_udp_train_len(pkts + at, n - at) : 1;
			unsigned need = 0;
			for (unsigned j = 0; j < k; j++)
				need += 1 + (pkts[at + j]->ext_len > 0);
			if (used + need > IOVS)
				break;
			unsigned v = used;
			for (unsigned j = 0; j < k; j++) {
				struct tni_pkt *p = pkts[at + j];
				sd->iov[v++] = (struct iovec){ p->data, p->len };
				if (p->ext_len)
					sd->iov[v++] = (struct iovec){ (void *)(uintptr_t)sd->ext_buf[tni_pkt_pool_index(sd->pool, p)],
								       p->ext_len };
			}
			/* To the peer the socket is connected to: no address, so the
			 * kernel uses the route it keeps. */
			bool to_conn = sd->sock.connected && tern_addr_equal(&pkts[at]->peer, &sd->sock.peer);
			if (sd->sock.connected && !to_conn)
				tni_udp_connect(&sd->sock, NULL); /* another peer: the socket takes any again */
			socklen_t nl = to_conn ? 0 : tni_udp_to_sockaddr(&sd->sock, &pkts[at]->peer, &sd->names[m]);
			struct msghdr *mh = &sd->msgs[m].msg_hdr;
			*mh = (struct msghdr){ .msg_name = to_conn ? NULL : &sd->names[m], .msg_namelen = nl,
					       .msg_iov = &sd->iov[used], .msg_iovlen = need };
			if (k > 1) {
				mh->msg_control = sd->ctl[m];
				mh->msg_controllen = CMSG_SPACE(sizeof(uint16_t));
				struct cmsghdr *cm = CMSG_FIRSTHDR(mh);
				cm->cmsg_level = SOL_UDP;
				cm->cmsg_type = UDP_SEGMENT;
				cm->cmsg_len = CMSG_LEN(sizeof(uint16_t));
				uint16_t seg = (uint16_t)(pkts[at]->len + pkts[at]->ext_len);
				memcpy(CMSG_DATA(cm), &seg, sizeof(seg));
			}
			counts[m++] = k;
			used += need;
			at += k;
		}
		int sent = sendmmsg(sd->sock.fd, sd->msgs, m, MSG_DONTWAIT);
		if (sent < 0) {
			if (errno == EAGAIN || errno == ENOBUFS)
				break; /* the engine drops the rest, as a full NIC queue would */
			if (counts[0] > 1 && (errno == EIO || errno == EINVAL)) {
				/* No GSO on this path: packet by packet from now on. */
				sd->gso = false;
				continue;
			}
			sent = 1; /* this one datagram failed (unreachable, bad address): drop it */
		}
		for (int i = 0; i < sent; i++) {
			for (unsigned j = 0; j < counts[i]; j++) {
				release_ext(sd, pkts[done + j]);
				tni_pkt_pool_free(pkts[done + j]);
			}
			done += counts[i];
			sd->gso_trains += counts[i] > 1;
		}
	}
	return done;
}

static struct tni_pkt *sd_alloc(struct tern_driver *d)
{
	return tni_pkt_pool_alloc(to_sd(d)->pool);
}

static void sd_free(struct tern_driver *d, struct tni_pkt *p)
{
	struct sock_drv *sd = to_sd(d);
	if (sd->segs && p->owner == sd->segs) {
		struct big *b = sd->seg_big[tni_pkt_pool_index(sd->segs, p)];
		tni_pkt_pool_free(p);
		big_put(sd, b);
		return;
	}
	release_ext(sd, p); /* an attached packet the engine did not get sent */
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

static void sd_xstats(struct tern_driver *d, void (*fn)(const char *name, uint64_t value, void *arg), void *arg)
{
	struct sock_drv *sd = to_sd(d);
	fn("tx_gso_trains", sd->gso_trains, arg); /* sends of several packets as one UDP GSO datagram */
	fn("rx_gro_trains", sd->gro_trains, arg); /* datagrams the kernel coalesced (UDP_GRO), split here */
	fn("rx_gro_segments", sd->gro_segments, arg); /* the packets they held, read in place */
	fn("rx_gro_switches", sd->gro_switches, arg); /* UDP_GRO turned on or off, as trains came and went */
	fn("sole_peer_connects", sd->connects, arg); /* the socket connected to an engine's one peer */
	fn("sole_peer_now", sd->sock.connected, arg); /* 1 while it is */
}

static void sd_destroy(struct tern_driver *d)
{
	struct sock_drv *sd = to_sd(d);
	while (sd->pend_n) {
		sd->pend_n--;
		tni_pkt_pool_free(sd->pend[sd->pend_head++]);
	}
	tni_udp_close(&sd->sock);
	tni_pkt_pool_destroy(sd->pool);
	tni_pkt_pool_destroy(sd->segs);
	for (unsigned i = 0; i < BIGS; i++)
		free(sd->bigs[i].buf);
	free(sd->ext_buf);
	free(sd->ext_ref);
	free(sd);
}

static uint32_t sd_path_mtu(struct tern_driver *d, const struct tern_addr *peer)
{
	return tni_udp_path_mtu(&to_sd(d)->mtu_memo, peer, d->mtu);
}

static void sd_read_hops(struct tern_driver *d, bool on)
{
	tni_udp_read_hops(&to_sd(d)->sock, on);
	to_sd(d)->hops_on = on;
}

static int sd_sole_peer(struct tern_driver *d, const struct tern_addr *peer)
{
	struct sock_drv *sd = to_sd(d);
	int rc = tni_udp_connect(&sd->sock, peer);
	sd->connects += rc == 0 && peer;
	sd->conn_clean = false;
	return rc;
}

static const struct tni_driver_ops sockets_ops = {
	.sole_peer = sd_sole_peer,
	.path_mtu = sd_path_mtu,
	.read_hops = sd_read_hops,
	.attach = sd_attach,
	.name = "sockets",
	.rx_burst = sd_rx_burst,
	.tx_burst = sd_tx_burst,
	.alloc = sd_alloc,
	.free = sd_free,
	.now_ns = sd_now,
	.local_addr = sd_local_addr,
	.wait = sd_wait,
	.xstats = sd_xstats,
	.destroy = sd_destroy,
};

/* UDP_GRO and the buffers it needs; false (and nothing kept) where the
 * kernel refuses it. */
static bool gro_up(struct sock_drv *sd, int *err)
{
	int one = 1;
	if (setsockopt(sd->sock.fd, SOL_UDP, TNI_UDP_GRO, &one, sizeof(one))) {
		*err = errno;
		return false;
	}
	/* Views carry no bytes of their own: the smallest buffers the pool makes. */
	sd->segs = tni_pkt_pool_create(SEGS, HEADROOM + 64, HEADROOM);
	for (unsigned i = 0; sd->segs && i < BIGS; i++) {
		if (!(sd->bigs[i].buf = malloc(BIG_BYTES)))
			break;
		sd->bigs[i].next_free = sd->free_bigs;
		sd->free_bigs = &sd->bigs[i];
	}
	if (sd->segs && sd->bigs[BIGS - 1].buf)
		return true;
	int zero = 0;
	setsockopt(sd->sock.fd, SOL_UDP, TNI_UDP_GRO, &zero, sizeof(zero));
	tni_pkt_pool_destroy(sd->segs);
	sd->segs = NULL;
	for (unsigned i = 0; i < BIGS; i++) {
		free(sd->bigs[i].buf);
		sd->bigs[i].buf = NULL;
	}
	sd->free_bigs = NULL;
	return false;
}

int tni_sockets_driver_open(const char *host, uint16_t port, uint32_t max_pkt, const struct tni_sockets_opts *o,
			    struct tern_driver **out, char *note, size_t note_len)
{
	if (note_len)
		note[0] = 0;
	struct sock_drv *sd = calloc(1, sizeof(*sd));
	if (!sd)
		return TERN_ENOMEM;
	sd->sock.fd = -1;
	sd->want = 1;
	sd->gso = o->gso;
	sd->max_pkt = max_pkt;
	/* A datagram larger than max_pkt is no tern packet: MSG_TRUNC drops it. */
	sd->pool = tni_pkt_pool_create(POOL_PKTS, max_pkt + HEADROOM, HEADROOM);
	sd->ext_buf = calloc(POOL_PKTS, sizeof(*sd->ext_buf));
	sd->ext_ref = calloc(POOL_PKTS, sizeof(*sd->ext_ref));
	int rc = sd->pool && sd->ext_buf && sd->ext_ref ? tni_udp_open(host, port, &sd->sock) : TERN_ENOMEM;
	if (rc) {
		free(sd->ext_buf);
		free(sd->ext_ref);
		tni_pkt_pool_destroy(sd->pool);
		free(sd);
		return rc;
	}
	int gro_err = 0;
	sd->gro_ok = o->gro && gro_up(sd, &gro_err);
	if (sd->gro_ok) {
		set_gro(sd, false); /* until trains come */
		sd->gro_switches = 0;
	}
	if (o->gro && !sd->gro_ok)
		snprintf(note, note_len, "tern: UDP GRO %s (%s); the sockets driver receives packet by packet",
			 gro_err ? "refused" : "not set up", gro_err ? strerror(gro_err) : "no memory for its buffers");
	sd->drv.ops = &sockets_ops;
	sd->drv.lazy_clock = true; /* the vDSO clock is a fair part of an idle poll's own work */
	*out = &sd->drv;
	return 0;
}
