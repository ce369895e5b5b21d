/* tern over kernel UDP on loopback, in one process. */
#include <criterion/criterion.h>
#include <errno.h>
#include <arpa/inet.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/rng.h"
#include "transport/session_internal.h"
#include "transport/wire.h"
#include "drivers/udp/udp_socket.h"
#include "udp_harness.h"

#define MS 1000000ull
#define SEC 1000000000ull

static struct udp_side A, B;

static int sockets_fd(struct udp_side *s)
{
	/* The sockets driver keeps its socket right after the driver header. */
	return ((struct tni_udp_socket *)((struct tern_driver *)s->e->drv + 1))->fd;
}

static uint64_t xstat(struct udp_side *side, const char *name)
{
	uint64_t v = 0;
	cr_assert_eq(tern_engine_driver_stat(side->e, name, &v), 0, "no counter %s", name);
	return v;
}

static struct tern_session *connect_to(struct udp_side *cli, const char *host, uint16_t port)
{
	struct tern_addr to;
	cr_assert_eq(tern_addr_resolve(host, port, &to), 0, "resolve %s", host);
	struct tern_session *s;
	cr_assert_eq(tern_session_connect(cli->e, &to, &s), 0);
	return s;
}

static void echo_calls(struct udp_side *cli, struct udp_side *srv, struct tern_session *s, int n, size_t size)
{
	uint8_t *buf = malloc(size ? size : 1);
	for (size_t i = 0; i < size; i++)
		buf[i] = (uint8_t)(i * 7 + 1);
	for (int i = 0; i < n; i++) {
		struct udp_call c;
		int r = udp_call_echo(cli, srv, s, buf, size, 5 * SEC, &c);
		cr_assert_eq(r, 0, "call %d of %zu B: %s", i, size, tern_strerror(r));
		cr_assert_eq(c.len, size);
		cr_assert_eq(memcmp(c.resp, buf, size < 64 ? size : 64), 0);
	}
	free(buf);
}

Test(udp, uring_and_sockets_engines_talk_both_ways)
{
	cr_assert_eq(udp_side_open(&A, TERN_DRIVER_URING, "127.0.0.1", 0), 0);
	cr_assert_eq(udp_side_open(&B, TERN_DRIVER_SOCKETS, "127.0.0.1", 0), 0);
	cr_assert_eq(tern_engine_driver(A.e), TERN_DRIVER_URING);
	cr_assert_eq(tern_engine_driver(B.e), TERN_DRIVER_SOCKETS);
	struct tern_session *ab = connect_to(&A, "127.0.0.1", B.addr.port);
	struct tern_session *ba = connect_to(&B, "127.0.0.1", A.addr.port);
	echo_calls(&A, &B, ab, 500, 64);
	echo_calls(&B, &A, ba, 500, 64);
	echo_calls(&A, &B, ab, 3, 1u << 20); /* fragmented both ways */
	echo_calls(&B, &A, ba, 3, 1u << 20);
	cr_assert_eq(atomic_load(&A.runs), 503);
	cr_assert_eq(atomic_load(&B.runs), 503);
	/* Both drivers read the TTL: loopback is one link. */
	cr_assert_eq(tern_session_path_hops(ab), 1);
	cr_assert_eq(tern_session_path_hops(ba), 1);
	/* and read it no more once every session has its hop count: each
	 * TTL is a control message per datagram. */
	cr_assert_eq(A.e->hops_wanted, 0);
	cr_assert_eq(B.e->hops_wanted, 0);
	cr_assert(!ab->wants_hops && !ba->wants_hops);
	int ttl_on = 1;
	socklen_t l = sizeof(ttl_on);
	cr_assert_eq(getsockopt(sockets_fd(&B), IPPROTO_IP, IP_RECVTTL, &ttl_on, &l), 0);
	cr_assert_eq(ttl_on, 0, "the sockets driver still asks for TTLs");
	/* A new session wants one again, and learns it. */
	static struct udp_side C;
	cr_assert_eq(udp_side_open(&C, TERN_DRIVER_SOCKETS, "127.0.0.1", 0), 0);
	struct tern_session *cb = connect_to(&C, "127.0.0.1", B.addr.port);
	echo_calls(&C, &B, cb, 3, 64);
	cr_assert_eq(tern_session_path_hops(cb), 1);
	cr_assert_eq(B.e->hops_wanted, 0);
	tern_rpc_destroy(C.rpc);
	tern_rpc_destroy(A.rpc);
	tern_rpc_destroy(B.rpc);
}

struct whole_call {
	bool done;
	int status;
	uint8_t *resp;
	size_t len, cap;
};

static void whole_cont(int status, const void *resp, size_t len, void *arg)
{
	struct whole_call *w = arg;
	w->done = true;
	w->status = status;
	w->len = len;
	if (resp && len <= w->cap)
		memcpy(w->resp, resp, len);
}

/* An echo whose whole answer is kept (the harness keeps 64 bytes). The
 * client is polled eight times for each poll of the server, so that
 * several trains wait for the server's receive at once. */
static int echo_whole(struct udp_side *cli, struct udp_side *srv, struct tern_session *s, const void *data,
		      size_t len, struct whole_call *w)
{
	void *q = tern_rpc_alloc(cli->rpc, len);
	if (!q)
		return TERN_ENOMEM;
	memcpy(q, data, len);
	w->done = false;
	int r = tern_rpc_call(cli->rpc, s, ECHO, q, len, 5 * SEC, whole_cont, w, NULL);
	if (r) {
		tern_rpc_free(cli->rpc, q);
		return r;
	}
	uint64_t until = udp_now() + 10 * SEC;
	while (!w->done && udp_now() < until) {
		for (int k = 0; k < 8; k++)
			tern_engine_poll(cli->e);
		tern_engine_poll(srv->e);
	}
	return w->done ? w->status : TERN_ETIMEDOUT;
}

/* Large messages over the sockets driver leave as UDP GSO trains and,
 * where the kernel coalesces them (UDP_GRO), arrive as one datagram that
 * the driver splits into packets in place: every byte still arrives right. */
static int gro_on(struct udp_side *s)
{
	int v = -1;
	socklen_t l = sizeof(v);
	cr_assert_eq(getsockopt(sockets_fd(s), IPPROTO_UDP, TNI_UDP_GRO, &v, &l), 0);
	return v;
}

Test(udp, sockets_gro_is_on_while_trains_come_and_off_for_a_ping_pong)
{
	cr_assert_eq(udp_side_open(&A, TERN_DRIVER_SOCKETS, "127.0.0.1", 0), 0);
	cr_assert_eq(udp_side_open(&B, TERN_DRIVER_SOCKETS, "127.0.0.1", 0), 0);
	struct tern_session *ab = connect_to(&A, "127.0.0.1", B.addr.port);
	uint64_t sw = 0, trains = 0;
	echo_calls(&A, &B, ab, 50, 64);
	cr_assert_eq(gro_on(&B), 0, "small calls: no GRO");
	echo_calls(&A, &B, ab, 3, 1u << 20);
	cr_assert_eq(gro_on(&B), 1, "a stream came: GRO on");
	cr_assert_eq(tern_engine_driver_stat(B.e, "rx_gro_trains", &trains), 0);
	cr_assert_gt(trains, 0);
	/* A loaded host may bring B two datagrams a receive: count calls, not
	 * receives, and give it a bound. */
	int calls = 0;
	for (; calls < 40000 && gro_on(&B); calls += 500)
		echo_calls(&A, &B, ab, 500, 64);
	cr_log_info("GRO off after %d calls", calls);
	cr_assert_eq(gro_on(&B), 0, "a ping-pong again: GRO off");
	cr_assert_eq(tern_engine_driver_stat(B.e, "rx_gro_switches", &sw), 0);
	cr_assert_geq(sw, 2);
	echo_calls(&A, &B, ab, 2, 1u << 20); /* and on again, nothing lost meanwhile */
	cr_assert_eq(gro_on(&B), 1);
	tern_rpc_destroy(A.rpc);
	tern_rpc_destroy(B.rpc);
}

Test(udp, a_datagram_too_large_for_a_packet_is_dropped_by_the_driver)
{
	struct tern_udp_config uc = udp_config(TERN_DRIVER_SOCKETS, "127.0.0.1", NULL);
	uc.mtu = 1500;
	cr_assert_eq(udp_side_open_udp(&B, &uc), 0);
	cr_assert_eq(udp_side_open(&A, TERN_DRIVER_SOCKETS, "127.0.0.1", 0), 0);
	struct tern_session *ab = connect_to(&A, "127.0.0.1", B.addr.port);
	echo_calls(&A, &B, ab, 20, 64); /* hop counts known: one datagram per receive, no cmsg */
	static uint8_t big[4000];
	memset(big, 0xa5, sizeof(big));
	big[0] = TERN_WIRE_VERSION;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(B.addr.port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct tern_stats st0, st;
	tern_engine_stats(B.e, &st0);
	for (int i = 0; i < 3; i++)
		cr_assert_eq(sendto(fd, big, sizeof(big), 0, (struct sockaddr *)&to, sizeof(to)), (ssize_t)sizeof(big));
	close(fd);
	for (int i = 0; i < 1000; i++)
		tern_engine_poll(B.e);
	tern_engine_stats(B.e, &st);
	cr_assert_eq(st.rx_pkts, st0.rx_pkts, "no part of a truncated datagram reached the engine");
	echo_calls(&A, &B, ab, 20, 64);
	tern_rpc_destroy(A.rpc);
	tern_rpc_destroy(B.rpc);
}

/* Four echoes of 1 MiB from A to B on ab, each checked byte for byte
 * (content i * mul + (i >> shift)). */
static void echo_mib_four_times(struct tern_session *ab, unsigned mul, unsigned shift)
{
	size_t size = 1u << 20;
	uint8_t *buf = malloc(size);
	for (size_t i = 0; i < size; i++)
		buf[i] = (uint8_t)(i * mul + (i >> shift));
	struct whole_call w = { .resp = malloc(size), .cap = size };
	for (int k = 0; k < 4; k++) {
		memset(w.resp, 0, size);
		int r = echo_whole(&A, &B, ab, buf, size, &w);
		cr_assert_eq(r, 0, "%s", tern_strerror(r));
		cr_assert_eq(w.len, size);
		cr_assert_eq(memcmp(w.resp, buf, size), 0, "call %d: the echo differs", k);
	}
	free(w.resp);
	free(buf);
}

/* Loopback loses nothing: once both ends are quiet, each received every
 * packet the other sent. Returns A's stats. */
static struct tern_stats each_end_got_every_packet(void)
{
	for (uint64_t until = udp_now() + 50000000ull; udp_now() < until;) {
		tern_engine_poll(A.e);
		tern_engine_poll(B.e);
	}
	struct tern_stats sa, sb;
	tern_engine_stats(A.e, &sa);
	tern_engine_stats(B.e, &sb);
	cr_log_info("client sent %llu, server got %llu; server sent %llu, client got %llu",
		    (unsigned long long)sa.tx_pkts, (unsigned long long)sb.rx_pkts, (unsigned long long)sb.tx_pkts,
		    (unsigned long long)sa.rx_pkts);
	cr_assert_eq(sb.rx_pkts, sa.tx_pkts, "packets lost on the way to the server");
	cr_assert_eq(sa.rx_pkts, sb.tx_pkts, "packets lost on the way to the client");
	return sa;
}

Test(udp, sockets_send_gso_trains_and_split_gro_trains_in_place)
{
	cr_assert_eq(udp_side_open(&A, TERN_DRIVER_SOCKETS, "127.0.0.1", 0), 0);
	cr_assert_eq(udp_side_open(&B, TERN_DRIVER_SOCKETS, "127.0.0.1", 0), 0);
	struct tern_session *ab = connect_to(&A, "127.0.0.1", B.addr.port);
	size_t size = 1u << 20;
	echo_mib_four_times(ab, 131, 11);
	uint64_t gso = 0, gro = 0, segs = 0;
	cr_assert_eq(tern_engine_driver_stat(A.e, "tx_gso_trains", &gso), 0);
	cr_assert_gt(gso, 0, "no GSO train was sent");
	cr_assert_eq(tern_engine_driver_stat(B.e, "rx_gro_trains", &gro), 0);
	cr_assert_eq(tern_engine_driver_stat(B.e, "rx_gro_segments", &segs), 0);
	cr_log_info("client GSO trains %llu; server GRO trains %llu holding %llu packets", (unsigned long long)gso,
		    (unsigned long long)gro, (unsigned long long)segs);
	cr_assert_gt(gro, 0, "the kernel coalesced nothing (UDP_GRO on loopback)");
	cr_assert_gt(segs, gro, "a GRO train holds several packets");
	/* Every packet of a train reaches the engine, also when trains are
	 * longer than what is left of the engine's receive burst. */
	struct tern_stats sa = each_end_got_every_packet();
	/* Full packets leave from the message buffer (sendmmsg copies them
	 * once, into the kernel); only short tails are copied into packets. */
	cr_log_info("client sent %llu bytes from message buffers, copied %llu", (unsigned long long)sa.tx_attach_bytes,
		    (unsigned long long)sa.tx_copy_bytes);
	cr_assert_geq(sa.tx_attach_bytes, 4 * size, "every request's full packets went without a copy");
	cr_assert_lt(sa.tx_copy_bytes, 4 * 1024 * 4, "at most a short tail per request copied");
	tern_rpc_destroy(A.rpc);
	tern_rpc_destroy(B.rpc);
}

/* An echo side on 127.0.0.1 whose driver takes paths of at most mtu (0: the route's). */
static void open_with_mtu(struct udp_side *side, uint32_t mtu)
{
	struct tern_udp_config uc = udp_config(TERN_DRIVER_SOCKETS, "127.0.0.1", NULL);
	uc.mtu = mtu;
	cr_assert_eq(udp_side_open_udp(side, &uc), 0);
}

static uint64_t data_pkts_sent(struct udp_side *side)
{
	struct tern_stats st;
	tern_engine_stats(side->e, &st);
	return st.tx_data_pkts;
}

Test(udp, loopback_paths_agree_an_mtu_above_1500_and_the_smaller_end_wins)
{
	static struct udp_side C;
	open_with_mtu(&A, 0);
	open_with_mtu(&B, 0);
	open_with_mtu(&C, 1500);
	size_t size = 65536;
	uint8_t *buf = malloc(size);
	for (size_t i = 0; i < size; i++)
		buf[i] = (uint8_t)(i * 29 + 3);
	struct whole_call w = { .resp = malloc(size), .cap = size };

	/* Loopback's route MTU is 65536: both ends take the 9000 their
	 * buffers hold, and a 64 KiB message goes in 8 packets each way. */
	struct tern_session *ab = connect_to(&A, "127.0.0.1", B.addr.port);
	uint64_t a0 = data_pkts_sent(&A), b0 = data_pkts_sent(&B);
	cr_assert_eq(echo_whole(&A, &B, ab, buf, size, &w), 0);
	cr_assert(w.len == size && memcmp(w.resp, buf, size) == 0);
	cr_assert_eq(tern_session_mss(ab), 9000 - 28 - TERN_WIRE_HDR_LEN, "mss %u", tern_session_mss(ab));
	uint64_t pkts = (size + 16 + tern_session_mss(ab) - 1) / tern_session_mss(ab); /* with the RPC header */
	cr_assert_leq(data_pkts_sent(&A) - a0, pkts + 1, "request: %llu packets",
		      (unsigned long long)(data_pkts_sent(&A) - a0));
	cr_assert_leq(data_pkts_sent(&B) - b0, pkts + 1, "answer: %llu packets",
		      (unsigned long long)(data_pkts_sent(&B) - b0));

	/* C takes 1500 at most: A learns it from C's handshake, C from its own
	 * configuration, and neither sends C's side more. */
	struct tern_session *ac = connect_to(&A, "127.0.0.1", C.addr.port);
	uint64_t c0 = data_pkts_sent(&C);
	a0 = data_pkts_sent(&A);
	memset(w.resp, 0, size);
	cr_assert_eq(echo_whole(&A, &C, ac, buf, size, &w), 0);
	cr_assert(w.len == size && memcmp(w.resp, buf, size) == 0);
	uint32_t small = 1500 - 28 - TERN_WIRE_HDR_LEN;
	cr_assert_eq(tern_session_mss(ac), small, "mss %u", tern_session_mss(ac));
	cr_assert_geq(data_pkts_sent(&A) - a0, (size + small - 1) / small, "the request went in larger packets");
	cr_assert_geq(data_pkts_sent(&C) - c0, (size + small - 1) / small, "the answer went in larger packets");
	free(w.resp);
	free(buf);
	tern_rpc_destroy(A.rpc);
	tern_rpc_destroy(B.rpc);
	tern_rpc_destroy(C.rpc);
}

Test(udp, kernel_paths_wait_two_scheduler_ticks_before_a_timeout)
{
	/* The kernel's tick is CLOCK_MONOTONIC_COARSE's resolution; a
	 * scheduler may keep an engine from polling for about two. */
	struct timespec res;
	cr_assert_eq(clock_getres(CLOCK_MONOTONIC_COARSE, &res), 0);
	uint64_t want = 2 * ((uint64_t)res.tv_sec * 1000000000ull + (uint64_t)res.tv_nsec);
	want = want < 1000000 ? 1000000 : want > 50000000 ? 50000000 : want;
	open_with_mtu(&A, 0);
	open_with_mtu(&B, 0);
	struct tern_session *ab = connect_to(&A, "127.0.0.1", B.addr.port);
	echo_calls(&A, &B, ab, 1, 32); /* established, and the handshake exchanged the floors */
	cr_assert_eq(tern_rpc_engine(A.rpc)->drv->min_rto_ns, want);
	cr_assert_eq(ab->rtt.min_rto, want, "floor %llu ns, two ticks %llu", (unsigned long long)ab->rtt.min_rto,
		     (unsigned long long)want);
	cr_assert_geq(tni_rtt_timeout(&ab->rtt), want);
	tern_rpc_destroy(A.rpc);
	tern_rpc_destroy(B.rpc);
}

Test(udp, only_loopback_addresses_count_as_a_memory_link)
{
	struct tern_addr a = { .family = TERN_AF_INET, .ip = { 127, 0, 0, 1 } };
	cr_assert(tni_loopback_checked(TNI_LO_V4 | TNI_LO_V6, &a));
	a.ip[1] = 9, a.ip[3] = 200; /* all of 127/8 */
	cr_assert(tni_loopback_checked(TNI_LO_V4, &a));
	cr_assert(!tni_loopback_checked(TNI_LO_V6, &a), "route_localnet on: 127/8 may come from outside");
	a.ip[0] = 10;
	cr_assert(!tni_loopback_checked(TNI_LO_V4 | TNI_LO_V6, &a));
	struct tern_addr six = { .family = TERN_AF_INET6 };
	six.ip[15] = 1;
	cr_assert(tni_loopback_checked(TNI_LO_V6, &six));
	six.ip[15] = 2;
	cr_assert(!tni_loopback_checked(TNI_LO_V6, &six));
	six.ip[15] = 1, six.ip[0] = 0xfe;
	cr_assert(!tni_loopback_checked(TNI_LO_V6, &six));
	struct tern_addr sim = { .family = TERN_AF_SIM, .ip = { 127 } };
	cr_assert(!tni_loopback_checked(TNI_LO_V4 | TNI_LO_V6, &sim));
}

/* A datagram with NO_CRC and no CRC, from a loopback socket, for no
 * session: the engine drops it as bad_crc if it wants a CRC, else as an
 * unknown session. */
static void send_unchecked(uint16_t port)
{
	uint8_t buf[TERN_WIRE_HDR_LEN];
	struct tni_wire_hdr h = { .type = TERN_PKT_ACK, .flags = TERN_FLAG_NO_CRC, .dst_sid = 0x1234567, .src_sid = 99 };
	size_t len = tni_wire_encode(buf, &h, NULL);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	cr_assert_eq(sendto(fd, buf, len, 0, (struct sockaddr *)&to, sizeof(to)), (ssize_t)len);
	close(fd);
}

static struct tern_stats stats_after_unchecked(struct udp_side *s)
{
	struct tern_stats st0, st;
	tern_engine_stats(s->e, &st0);
	send_unchecked(s->addr.port);
	uint64_t until = udp_now() + 2 * SEC;
	/* Until it is dropped, one way or the other: a late packet of the
	 * sessions before (an ACK) may come first. */
	do {
		tern_engine_poll(s->e);
		tern_engine_stats(s->e, &st);
	} while (st.bad_crc == st0.bad_crc && st.unknown_session == st0.unknown_session && udp_now() < until);
	st.bad_crc -= st0.bad_crc;
	st.unknown_session -= st0.unknown_session;
	return st;
}

static void loopback_goes_without_crc(enum tern_driver_kind kind)
{
	static struct udp_side C;
	struct tern_udp_config uc = udp_config(kind, "127.0.0.1", NULL);
	cr_assert_eq(udp_side_open_udp(&A, &uc), 0);
	cr_assert_eq(udp_side_open_udp(&B, &uc), 0);
	uc.crc_on_loopback = true;
	cr_assert_eq(udp_side_open_udp(&C, &uc), 0);
	struct tern_session *ab = connect_to(&A, "127.0.0.1", B.addr.port);
	echo_calls(&A, &B, ab, 20, 2000);
	/* Unless an interface here lets 127/8 sources in from outside. */
	bool lo4 = tni_udp_loopback_checks() & TNI_LO_V4;
	cr_assert_eq(tern_session_link_checked(ab), lo4, "loopback: A sends B no CRC");
	struct tern_stats st = stats_after_unchecked(&B);
	cr_assert_eq(st.bad_crc, !lo4, "a loopback datagram without a CRC is taken as checked");
	cr_assert_eq(st.unknown_session, lo4);
	/* C keeps the CRC: it offers no LINK_CHECKED, so A sends it CRCs, and
	 * it sends them itself. */
	struct tern_session *ac = connect_to(&A, "127.0.0.1", C.addr.port);
	echo_calls(&A, &C, ac, 20, 2000);
	cr_assert(!tern_session_link_checked(ac), "C asked for the CRC");
	struct tern_session *ca = connect_to(&C, "127.0.0.1", A.addr.port);
	echo_calls(&C, &A, ca, 20, 2000);
	cr_assert(!tern_session_link_checked(ca), "crc_on_loopback: C sends CRCs");
	st = stats_after_unchecked(&C);
	cr_assert_eq(st.bad_crc, 1, "C takes no packet without a CRC");
	tern_rpc_destroy(A.rpc);
	tern_rpc_destroy(B.rpc);
	tern_rpc_destroy(C.rpc);
}

Test(udp, sockets_peers_on_loopback_go_without_the_crc_unless_configured)
{
	loopback_goes_without_crc(TERN_DRIVER_SOCKETS);
}

Test(udp, io_uring_peers_on_loopback_go_without_the_crc_unless_configured)
{
	loopback_goes_without_crc(TERN_DRIVER_URING);
}

Test(udp, io_uring_splits_gro_trains_in_place_and_loses_no_packet)
{
	int r = udp_side_open(&A, TERN_DRIVER_URING, "127.0.0.1", 0);
	if (r == TERN_ENOTSUP)
		cr_skip_test("no io_uring here");
	cr_assert_eq(r, 0);
	cr_assert_eq(udp_side_open(&B, TERN_DRIVER_URING, "127.0.0.1", 0), 0);
	struct tern_session *ab = connect_to(&A, "127.0.0.1", B.addr.port);
	echo_mib_four_times(ab, 151, 9);
	each_end_got_every_packet();
	uint64_t trains = 0, segs = 0, lost = 0;
	cr_assert_eq(tern_engine_driver_stat(B.e, "rx_gro_trains", &trains), 0);
	cr_assert_eq(tern_engine_driver_stat(B.e, "rx_gro_segments", &segs), 0);
	cr_assert_eq(tern_engine_driver_stat(B.e, "rx_gro_no_views", &lost), 0);
	cr_log_info("server: %llu GRO trains holding %llu packets", (unsigned long long)trains, (unsigned long long)segs);
	cr_assert_gt(trains, 0, "the kernel coalesced nothing (UDP_GRO on loopback)");
	cr_assert_gt(segs, trains, "a GRO train holds several packets");
	cr_assert_eq(lost, 0);
	tern_rpc_destroy(A.rpc);
	tern_rpc_destroy(B.rpc);
}

Test(udp, ipv6_and_host_names)
{
	int r = udp_side_open(&B, TERN_DRIVER_URING, "::1", 0);
	if (r == TERN_EINVAL || r == TERN_ENODEV)
		cr_skip_test("no IPv6 loopback here");
	cr_assert_eq(r, 0, "%s", tern_strerror(r));
	cr_assert_eq(udp_side_open(&A, TERN_DRIVER_AUTO, NULL, 0), 0);
	struct tern_session *s6 = connect_to(&A, "::1", B.addr.port);
	echo_calls(&A, &B, s6, 100, 300);
	cr_assert_eq(tern_session_path_hops(s6), 1, "the IPv6 hop limit is read too");
	echo_calls(&A, &B, connect_to(&A, "[::1]", B.addr.port), 10, 3000);
	tern_rpc_destroy(A.rpc);
	tern_rpc_destroy(B.rpc);
	/* A name that resolves, on a dual-stack server. */
	cr_assert_eq(udp_side_open(&B, TERN_DRIVER_SOCKETS, NULL, 0), 0);
	cr_assert_eq(udp_side_open(&A, TERN_DRIVER_SOCKETS, NULL, 0), 0);
	struct tern_session *sl = connect_to(&A, "localhost", B.addr.port);
	echo_calls(&A, &B, sl, 100, 64);
	cr_assert_eq(tern_session_path_hops(sl), 1, "dual-stack sockets read the TTL of either family");
	tern_rpc_destroy(A.rpc);
	tern_rpc_destroy(B.rpc);
	struct tern_addr x;
	cr_assert_eq(tern_addr_resolve("no-such-host.invalid", 1, &x), TERN_EINVAL);
}

/* A client engine: it accepts no sessions (so it may send to its one peer
 * through a connected socket). */
static int client_side_open(struct udp_side *s, enum tern_driver_kind kind)
{
	struct tern_rpc_config rc;
	tern_rpc_config_init(&rc);
	struct tern_engine_config ec;
	tern_engine_config_init(&ec);
	ec.accept = false;
	int r = udp_driver(kind, "127.0.0.1", 0, &ec.driver);
	return r ? r : udp_side_open_cfg(s, &rc, &ec);
}

static bool fd_connected_to(int fd, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t l = sizeof(ss);
	if (getpeername(fd, (struct sockaddr *)&ss, &l) < 0)
		return false;
	return ntohs(((struct sockaddr_in *)&ss)->sin_port) == port;
}

Test(udp, a_client_with_one_peer_sends_through_a_connected_socket_until_a_second_comes)
{
	static struct udp_side C;
	cr_assert_eq(client_side_open(&A, TERN_DRIVER_SOCKETS), 0);
	cr_assert_eq(udp_side_open(&B, TERN_DRIVER_SOCKETS, "127.0.0.1", 0), 0);
	cr_assert_eq(udp_side_open(&C, TERN_DRIVER_SOCKETS, "127.0.0.1", 0), 0);
	struct tern_addr before, after;
	tern_engine_local_addr(A.e, &before);
	struct tern_session *ab = connect_to(&A, "127.0.0.1", B.addr.port);
	echo_calls(&A, &B, ab, 20, 64);
	cr_assert(fd_connected_to(sockets_fd(&A), B.addr.port), "one peer: the client's socket is connected to it");
	cr_assert_eq(xstat(&A, "sole_peer_now"), 1);
	cr_assert_eq(xstat(&A, "sole_peer_connects"), 1);
	cr_assert_eq(xstat(&B, "sole_peer_now"), 0, "a server takes any peer");
	echo_calls(&A, &B, ab, 3, 200000); /* trains (sendmmsg, GSO) go the connected way too */

	/* A second peer: the socket takes any again, on the same port, and
	 * both sessions work. */
	struct tern_session *ac = connect_to(&A, "127.0.0.1", C.addr.port);
	cr_assert(!fd_connected_to(sockets_fd(&A), B.addr.port));
	cr_assert_eq(xstat(&A, "sole_peer_now"), 0);
	tern_engine_local_addr(A.e, &after);
	cr_assert(tern_addr_equal(&before, &after), "disconnecting kept the port");
	echo_calls(&A, &C, ac, 20, 64);
	echo_calls(&A, &B, ab, 20, 64);
	cr_assert_eq(xstat(&A, "sole_peer_now"), 0);

	/* Back to one peer: the next session to establish may connect again. */
	tern_session_close(ac);
	for (int i = 0; i < 100; i++) {
		tern_engine_poll(A.e);
		tern_engine_poll(C.e);
	}
	tern_rpc_destroy(C.rpc);
	tern_rpc_destroy(A.rpc);
	tern_rpc_destroy(B.rpc);
}

Test(udp, a_client_whose_server_answers_from_another_address_keeps_taking_any)
{
	cr_assert_eq(client_side_open(&A, TERN_DRIVER_SOCKETS), 0);
	/* Bound to every address: sent to at 127.0.0.2, it answers from the
	 * address its route to us picks, 127.0.0.1. A socket connected to
	 * 127.0.0.2 would drop every answer. */
	cr_assert_eq(udp_side_open(&B, TERN_DRIVER_SOCKETS, "0.0.0.0", 0), 0);
	struct tern_session *ab = connect_to(&A, "127.0.0.2", B.addr.port);
	echo_calls(&A, &B, ab, 20, 64);
	cr_assert_eq(xstat(&A, "sole_peer_now"), 0);
	cr_assert_eq(xstat(&A, "sole_peer_connects"), 0);
	cr_assert(!fd_connected_to(sockets_fd(&A), B.addr.port));
	tern_rpc_destroy(A.rpc);
	tern_rpc_destroy(B.rpc);
}

/* One datagram to the driver's port from a new socket on 127.0.0.1; the
 * sender's port. */
static uint16_t send_one_from_new_socket(uint16_t to_port, char tag, int *fd_out)
{
	struct tni_udp_socket t;
	cr_assert_eq(tni_udp_open("127.0.0.1", 0, &t), 0);
	struct tern_addr ta;
	cr_assert_eq(tni_udp_local_addr(&t, &ta), 0);
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(to_port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	cr_assert_eq(sendto(t.fd, &tag, 1, 0, (struct sockaddr *)&to, sizeof(to)), 1);
	*fd_out = t.fd;
	return ta.port;
}

/* The next datagram the driver receives (waiting up to a second). */
static struct tni_pkt *rx_one(struct tern_driver *d)
{
	struct tni_pkt *p = NULL;
	for (int i = 0; i < 100000 && !p; i++)
		if (!d->ops->rx_burst(d, &p, 1))
			p = NULL, usleep(10);
	cr_assert(p, "no datagram came");
	return p;
}

Test(udp, a_connected_sockets_driver_names_each_datagrams_own_sender)
{
	struct tern_driver *d;
	cr_assert_eq(udp_driver(TERN_DRIVER_SOCKETS, "127.0.0.1", 0, &d), 0);
	struct tern_addr me;
	cr_assert_eq(d->ops->local_addr(d, &me), 0);
	/* X's datagram is queued before the socket connects to P: the kernel
	 * keeps it, and it is X's, not P's. */
	int fx, fp;
	uint16_t x_port = send_one_from_new_socket(me.port, 'x', &fx);
	struct tni_udp_socket p_sock;
	cr_assert_eq(tni_udp_open("127.0.0.1", 0, &p_sock), 0);
	struct tern_addr p_addr;
	cr_assert_eq(tni_udp_local_addr(&p_sock, &p_addr), 0);
	usleep(1000);
	cr_assert_eq(d->ops->sole_peer(d, &p_addr), 0);
	struct tni_pkt *p = rx_one(d);
	cr_assert_eq(p->len, 1);
	cr_assert_eq(p->data[0], 'x');
	cr_assert_eq(p->peer.port, x_port, "queued before the connect: its own sender (%u), not the peer (%u)",
		     p->peer.port, p_addr.port);
	d->ops->free(d, p);
	/* The queue emptied; from now on only P's datagrams come, and they are
	 * named P's (asked for without an address). */
	struct tni_pkt *none = NULL;
	cr_assert_eq(d->ops->rx_burst(d, &none, 1), 0);
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(me.port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	for (int i = 0; i < 3; i++) {
		char tag = (char)('a' + i);
		cr_assert_eq(sendto(p_sock.fd, &tag, 1, 0, (struct sockaddr *)&to, sizeof(to)), 1);
		p = rx_one(d);
		cr_assert_eq(p->data[0], tag);
		cr_assert(tern_addr_equal(&p->peer, &p_addr), "the peer's datagram: port %u, not %u", p->peer.port,
			  p_addr.port);
		d->ops->free(d, p);
	}
	/* Disconnected, a new sender is named again. */
	cr_assert_eq(d->ops->sole_peer(d, NULL), 0);
	uint16_t y_port = send_one_from_new_socket(me.port, 'y', &fp);
	p = rx_one(d);
	cr_assert_eq(p->data[0], 'y');
	cr_assert_eq(p->peer.port, y_port);
	d->ops->free(d, p);
	close(fx);
	close(fp);
	tni_udp_close(&p_sock);
	tern_driver_destroy(d);
}

Test(udp, a_lone_packet_the_kernel_refuses_is_dropped_and_its_buffer_comes_back)
{
	struct tern_driver *d;
	cr_assert_eq(udp_driver(TERN_DRIVER_SOCKETS, "127.0.0.1", 0, &d), 0);
	struct tni_udp_socket r;
	cr_assert_eq(tni_udp_open("127.0.0.1", 0, &r), 0);
	struct tern_addr to;
	cr_assert_eq(tni_udp_local_addr(&r, &to), 0);
	/* Port 0 is refused (EINVAL) by every send: each packet is gone, and
	 * its buffer back in the pool (more sends than the pool holds). */
	struct tern_addr bad = to;
	bad.port = 0;
	for (int i = 0; i < 20000; i++) {
		struct tni_pkt *p = d->ops->alloc(d);
		cr_assert(p, "send %d: the pool ran dry", i);
		memcpy(p->data, "bad", 3);
		p->len = 3;
		p->peer = bad;
		cr_assert_eq(d->ops->tx_burst(d, &p, 1), 1);
	}
	struct tni_pkt *p = d->ops->alloc(d);
	memcpy(p->data, "good", 4);
	p->len = 4;
	p->peer = to;
	cr_assert_eq(d->ops->tx_burst(d, &p, 1), 1);
	char buf[8];
	ssize_t n = -1;
	for (int i = 0; i < 1000 && n < 0; i++)
		if ((n = recv(r.fd, buf, sizeof(buf), MSG_DONTWAIT)) < 0)
			usleep(1000);
	cr_assert_eq(n, 4);
	cr_assert_eq(memcmp(buf, "good", 4), 0);
	tni_udp_close(&r);
	tern_driver_destroy(d);
}

Test(udp, a_socket_on_a_port_the_kernel_picked_keeps_it_when_it_disconnects)
{
	struct tni_udp_socket s, t;
	cr_assert_eq(tni_udp_open("127.0.0.1", 0, &s), 0);
	cr_assert_eq(tni_udp_open("127.0.0.1", 0, &t), 0);
	struct tern_addr a0, a1, peer;
	cr_assert_eq(tni_udp_local_addr(&s, &a0), 0);
	cr_assert_eq(tni_udp_local_addr(&t, &peer), 0);
	cr_assert_neq(a0.port, 0);
	cr_assert_eq(tni_udp_connect(&s, &peer), 0);
	cr_assert(s.connected);
	cr_assert_eq(tni_udp_connect(&s, NULL), 0);
	cr_assert(!s.connected);
	cr_assert_eq(tni_udp_local_addr(&s, &a1), 0);
	cr_assert(tern_addr_equal(&a0, &a1), "port %u before, %u after", a0.port, a1.port);
	/* And it still receives there. */
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(a0.port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	cr_assert_eq(sendto(t.fd, "x", 1, 0, (struct sockaddr *)&to, sizeof(to)), 1);
	char c = 0;
	ssize_t n = -1;
	for (int i = 0; i < 1000 && n < 0; i++) {
		n = recv(s.fd, &c, 1, 0);
		if (n < 0)
			usleep(1000);
	}
	cr_assert_eq(n, 1);
	cr_assert_eq(c, 'x');
	tni_udp_close(&s);
	tni_udp_close(&t);
}

Test(udp, a_port_in_use_is_a_clear_error)
{
	for (int drv = TERN_DRIVER_URING; drv <= TERN_DRIVER_SOCKETS; drv++) {
		struct tern_engine_config ec;
		struct tern_engine *e1;
		struct tern_driver *d2;
		char line[256] = "";
		tern_engine_config_init(&ec);
		struct tern_udp_config uc;
		tern_udp_config_init(&uc);
		uc.kind = drv;
		uc.bind_host = "127.0.0.1";
		uc.log = udp_keep_line;
		uc.log_user = line;
		cr_assert_eq(tern_udp_open(&uc, &ec.driver), 0);
		cr_assert_eq(tern_engine_create(&ec, &e1), 0);
		struct tern_addr a;
		tern_engine_local_addr(e1, &a);
		uc.port = a.port;
		cr_assert_eq(tern_udp_open(&uc, &d2), TERN_EADDRINUSE, "driver %d", drv);
		uc.kind = TERN_DRIVER_AUTO; /* no fallback for a port that is taken */
		cr_assert_eq(tern_udp_open(&uc, &d2), TERN_EADDRINUSE);
		cr_assert_str_eq(line, "");
		tern_engine_destroy(e1);
	}
	cr_assert_str_eq(tern_strerror(TERN_EADDRINUSE), "address already in use");
}

/* As in a container that forbids io_uring: io_uring_setup fails with EPERM. */
/* In a forked child: install seccomp filter f (n statements), or exit 90. */
static void install_filter(struct sock_filter *f, unsigned short n)
{
	struct sock_fprog prog = { n, f };
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog))
		_exit(90);
}

/* Runs child(fd) in a forked process, which writes what it found to fd and
 * exits 0 on success; asserts it did, and returns what it wrote in buf. */
static void run_child(void (*child)(int fd), char *buf, size_t cap)
{
	int pipefd[2];
	cr_assert_eq(pipe(pipefd), 0);
	pid_t pid = fork();
	if (pid == 0) {
		close(pipefd[0]);
		child(pipefd[1]);
		_exit(0);
	}
	close(pipefd[1]);
	ssize_t n = read(pipefd[0], buf, cap - 1);
	close(pipefd[0]);
	buf[n > 0 ? n : 0] = 0;
	int st;
	waitpid(pid, &st, 0);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child failed: %d", WEXITSTATUS(st));
	cr_assert_gt(n, 0);
}

static void forbid_io_uring(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	install_filter(f, sizeof(f) / sizeof(f[0]));
}

/* The automatic choice follows the poll mode (docs/uring.md has the
 * measurements): busy polling gets sockets, adaptive polling io_uring
 * where the kernel allows it; an engine with no driver chooses the same. */
Test(udp, auto_picks_sockets_for_busy_polling_and_io_uring_for_adaptive)
{
	struct tern_udp_config uc;
	tern_udp_config_init(&uc);
	uc.kind = TERN_DRIVER_URING;
	uc.bind_host = "127.0.0.1";
	struct tern_driver *probe;
	bool have_uring = tern_udp_open(&uc, &probe) == 0;
	if (have_uring)
		tern_driver_destroy(probe);
	uc.kind = TERN_DRIVER_AUTO;
	for (int mode = TERN_POLL_BUSY; mode <= TERN_POLL_ADAPTIVE; mode++) {
		enum tern_driver_kind want = mode == TERN_POLL_BUSY || !have_uring ? TERN_DRIVER_SOCKETS : TERN_DRIVER_URING;
		struct tern_engine_config ec;
		tern_engine_config_init(&ec);
		ec.poll_mode = (enum tern_poll_mode)mode;
		uc.poll_mode = (enum tern_poll_mode)mode;
		struct tern_engine *e;
		cr_assert_eq(tern_udp_open(&uc, &ec.driver), 0);
		cr_assert_eq(tern_engine_create(&ec, &e), 0);
		cr_assert_eq(tern_engine_driver(e), want, "poll mode %d: got %s", mode,
			     tern_driver_name(tern_engine_driver(e)));
		tern_engine_destroy(e);
		/* No driver given: the engine's own choice, by its poll mode. */
		tern_engine_config_init(&ec);
		ec.poll_mode = (enum tern_poll_mode)mode;
		cr_assert_eq(tern_engine_create(&ec, &e), 0);
		cr_assert_eq(tern_engine_driver(e), want, "default driver, poll mode %d", mode);
		tern_engine_destroy(e);
	}
	uc.poll_mode = (enum tern_poll_mode)7;
	cr_assert_eq(tern_udp_open(&uc, &probe), TERN_EINVAL);
}

static void fallback_child(int fd)
{
	forbid_io_uring();
	char line[256] = "";
	struct tern_udp_config uc = udp_config(TERN_DRIVER_AUTO, "127.0.0.1", line);
	uc.poll_mode = TERN_POLL_ADAPTIVE; /* the mode whose choice is io_uring */
	struct udp_side probe;
	if (udp_side_open_udp(&probe, &uc))
		_exit(91);
	int kind = tern_engine_driver(probe.e);
	dprintf(fd, "%d|%s", kind, line);
	/* And it works: serve a call from a second engine in this process. */
	struct udp_side srv, cli;
	if (udp_side_open(&srv, TERN_DRIVER_AUTO, "127.0.0.1", 0) ||
	    udp_side_open(&cli, TERN_DRIVER_AUTO, "127.0.0.1", 0))
		_exit(92);
	struct tern_addr to = srv.addr;
	struct tern_session *s;
	struct udp_call c;
	if (tern_session_connect(cli.e, &to, &s) || udp_call_echo(&cli, &srv, s, "hi", 2, SEC, &c))
		_exit(93);
}

Test(udp, without_io_uring_auto_falls_back_to_sockets_and_says_why)
{
	char buf[300];
	run_child(fallback_child, buf, sizeof(buf));
	cr_assert_eq(atoi(buf), TERN_DRIVER_SOCKETS);
	cr_assert(strstr(buf, "io_uring unavailable (io_uring_setup failed: Operation not permitted"),
		  "log line: %s", buf);
	cr_assert(strstr(buf, "using the sockets driver"), "log line: %s", buf);
}

/* setsockopt(SOL_UDP, UDP_GRO) fails as on a kernel without it. */
static void forbid_udp_gro(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_setsockopt, 0, 5),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[1])),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_UDP, 0, 3),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[2])),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 104 /* UDP_GRO */, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (ENOPROTOOPT & SECCOMP_RET_DATA)),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	install_filter(f, sizeof(f) / sizeof(f[0]));
}

static void gro_refused_child(int fd)
{
	forbid_udp_gro();
	char line[256] = "";
	struct tern_udp_config uc = udp_config(TERN_DRIVER_SOCKETS, "127.0.0.1", line);
	struct udp_side srv, cli;
	if (udp_side_open_udp(&srv, &uc))
		_exit(91);
	if (udp_side_open(&cli, TERN_DRIVER_SOCKETS, "127.0.0.1", 0))
		_exit(92);
	struct tern_session *s;
	if (tern_session_connect(cli.e, &srv.addr, &s))
		_exit(93);
	size_t size = 256 * 1024;
	uint8_t *buf = malloc(size);
	for (size_t i = 0; i < size; i++)
		buf[i] = (uint8_t)(i * 13);
	struct whole_call w = { .resp = malloc(size), .cap = size };
	if (echo_whole(&cli, &srv, s, buf, size, &w) || w.len != size || memcmp(w.resp, buf, size))
		_exit(94);
	uint64_t gro = 1, gso = 0;
	tern_engine_driver_stat(srv.e, "rx_gro_trains", &gro);
	tern_engine_driver_stat(cli.e, "tx_gso_trains", &gso);
	dprintf(fd, "%llu %llu|%s", (unsigned long long)gro, (unsigned long long)gso, line);
}

Test(udp, where_the_kernel_refuses_gro_the_sockets_driver_says_so_and_still_receives_trains)
{
	char buf[400];
	run_child(gro_refused_child, buf, sizeof(buf));
	unsigned long long gro, gso;
	cr_assert_eq(sscanf(buf, "%llu %llu", &gro, &gso), 2);
	cr_assert_eq(gro, 0, "no GRO train where GRO was refused");
	cr_assert_gt(gso, 0, "the client's trains still went as GSO datagrams, split by the kernel");
	cr_assert(strstr(buf, "UDP GRO refused (Protocol not available); the sockets driver receives packet by packet"),
		  "log line: %s", buf);
}

Test(udp, io_uring_probes_send_zc_and_turns_it_off_where_the_kernel_copies)
{
	char line[256] = "";
	struct tern_udp_config uc = udp_config(TERN_DRIVER_URING, "127.0.0.1", line);
	int r = udp_side_open_udp(&A, &uc);
	if (r == TERN_ENOTSUP)
		cr_skip_test("no io_uring here");
	cr_assert_eq(r, 0);
	cr_assert_eq(udp_side_open(&B, TERN_DRIVER_URING, "127.0.0.1", 0), 0);
	struct tern_session *ab = connect_to(&A, "127.0.0.1", B.addr.port);
	size_t size = 1u << 20;
	uint8_t *buf = malloc(size);
	for (size_t i = 0; i < size; i++)
		buf[i] = (uint8_t)(i * 17 + 5);
	struct whole_call w = { .resp = malloc(size), .cap = size };
	for (int k = 0; k < 2; k++) {
		cr_assert_eq(echo_whole(&A, &B, ab, buf, size, &w), 0);
		cr_assert(w.len == size && memcmp(w.resp, buf, size) == 0, "echo %d differs", k);
	}
	uint64_t sends = xstat(&A, "tx_zc_sends");
	cr_log_info("SEND_ZC: %llu sends, %llu copied by the kernel; probe %llu", (unsigned long long)sends,
		    (unsigned long long)xstat(&A, "tx_zc_copied"), (unsigned long long)xstat(&A, "tx_zc_probe"));
	cr_assert_gt(sends, 0, "the first large trains went as SEND_ZC");
	cr_assert_gt(xstat(&A, "tx_zc_copied"), 0, "loopback copies them");
	cr_assert_eq(xstat(&A, "tx_zc_probe"), 2, "so the probe turned zero copy off");
	cr_assert(strstr(line, "SEND_ZC: the kernel copied the sends anyway"), "log line: %s", line);
	/* Off means off: more large messages, no more zero-copy sends. */
	cr_assert_eq(echo_whole(&A, &B, ab, buf, size, &w), 0);
	cr_assert_eq(xstat(&A, "tx_zc_sends"), sends);
	free(w.resp);
	free(buf);
	tern_rpc_destroy(A.rpc);
	tern_rpc_destroy(B.rpc);
}

static atomic_bool server_stop;
static atomic_bool server_hold; /* while set, the server thread does not poll */
static void *serve_until_stop(void *arg)
{
	struct udp_side *s = arg;
	while (!atomic_load(&server_stop))
		if (!atomic_load(&server_hold))
			tern_engine_poll(s->e);
	return NULL;
}

struct srv_thread {
	struct udp_side side;
	pthread_t t;
	atomic_int ready;
	enum tern_driver_kind drv;
	unsigned workers;
	uint64_t dead_after_ns; /* 0: the default */
};

static void *server_owner(void *arg)
{
	struct srv_thread *st = arg;
	struct tern_rpc_config rc;
	tern_rpc_config_init(&rc);
	rc.workers = st->workers;
	struct tern_engine_config ec;
	tern_engine_config_init(&ec);
	if (st->dead_after_ns)
		ec.dead_after_ns = st->dead_after_ns;
	if (udp_driver(st->drv, "127.0.0.1", 0, &ec.driver) || udp_side_open_cfg(&st->side, &rc, &ec)) {
		atomic_store(&st->ready, -1);
		return NULL;
	}
	atomic_store(&st->ready, 1);
	serve_until_stop(&st->side);
	tern_rpc_destroy(st->side.rpc);
	return NULL;
}

static void start_server_cfg(struct srv_thread *st, enum tern_driver_kind drv, unsigned workers,
			     uint64_t dead_after_ns)
{
	memset(st, 0, sizeof(*st));
	st->drv = drv;
	st->workers = workers;
	st->dead_after_ns = dead_after_ns;
	atomic_store(&server_stop, false);
	atomic_store(&server_hold, false);
	cr_assert_eq(pthread_create(&st->t, NULL, server_owner, st), 0);
	while (!atomic_load(&st->ready))
		;
	cr_assert_eq(atomic_load(&st->ready), 1);
}

static void start_server(struct srv_thread *st, enum tern_driver_kind drv, unsigned workers)
{
	start_server_cfg(st, drv, workers, 0);
}

static void stop_server(struct srv_thread *st)
{
	atomic_store(&server_stop, true);
	pthread_join(st->t, NULL);
}

Test(udp, sync_calls_to_worker_handlers_on_another_thread)
{
	static struct srv_thread st;
	start_server(&st, TERN_DRIVER_URING, 2);
	cr_assert_eq(udp_side_open(&A, TERN_DRIVER_URING, "127.0.0.1", 0), 0);
	struct tern_session *s = connect_to(&A, "127.0.0.1", st.side.addr.port);
	for (int i = 0; i < 2000; i++) {
		char q[32], r[32];
		size_t rl = 0;
		int n = snprintf(q, sizeof(q), "call %d", i);
		int rc = tern_rpc_call_sync(A.rpc, s, ECHO, q, (size_t)n, SEC, r, sizeof(r), &rl);
		cr_assert_eq(rc, 0, "%s", tern_strerror(rc));
		cr_assert_eq(rl, (size_t)n);
		cr_assert_eq(memcmp(q, r, rl), 0);
	}
	cr_assert_eq(atomic_load(&st.side.runs), 2000);
	tern_rpc_destroy(A.rpc);
	stop_server(&st);
}

static void *release_server_later(void *arg)
{
	(void)arg;
	struct timespec wait = { 0, 10 * (long)MS };
	nanosleep(&wait, NULL);
	atomic_store(&server_hold, false);
	return NULL;
}

/* Both ends unpolled for longer than dead_after, then a synchronous call:
 * its first clock reading must mark the pause like a poll's, or the polls
 * that wait for the answer find the peer silent for the whole pause. The
 * server starts polling 10 ms after the call, so those polls run first. */
Test(udp, a_sync_call_after_both_ends_paused_is_answered)
{
	static struct srv_thread st;
	const uint64_t dead = 200 * MS;
	start_server_cfg(&st, TERN_DRIVER_URING, 0, dead);
	struct tern_rpc_config rc;
	tern_rpc_config_init(&rc);
	struct tern_engine_config ec;
	tern_engine_config_init(&ec);
	ec.dead_after_ns = dead;
	cr_assert_eq(udp_driver(TERN_DRIVER_URING, "127.0.0.1", 0, &ec.driver), 0);
	cr_assert_eq(udp_side_open_cfg(&A, &rc, &ec), 0);
	struct tern_session *s = connect_to(&A, "127.0.0.1", st.side.addr.port);
	char r[8];
	size_t rl = 0;
	cr_assert_eq(tern_rpc_call_sync(A.rpc, s, ECHO, "one", 3, SEC, r, sizeof(r), &rl), 0);
	atomic_store(&server_hold, true);
	struct timespec pause = { 0, (long)(2 * dead) };
	nanosleep(&pause, NULL);
	pthread_t releaser;
	cr_assert_eq(pthread_create(&releaser, NULL, release_server_later, NULL), 0);
	int rc2 = tern_rpc_call_sync(A.rpc, s, ECHO, "two", 3, SEC, r, sizeof(r), &rl);
	cr_assert_eq(rc2, 0, "%s", tern_strerror(rc2));
	cr_assert_eq(rl, 3);
	pthread_join(releaser, NULL);
	tern_rpc_destroy(A.rpc);
	stop_server(&st);
}

Test(udp, hostile_datagrams_do_not_stop_real_calls)
{
	static struct srv_thread st;
	start_server(&st, TERN_DRIVER_URING, 0);
	cr_assert_eq(udp_side_open(&A, TERN_DRIVER_SOCKETS, "127.0.0.1", 0), 0);
	struct tern_session *s = connect_to(&A, "127.0.0.1", st.side.addr.port);
	echo_calls(&A, NULL, s, 10, 64);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(st.side.addr.port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct tni_rng r;
	tni_rng_seed(&r, 77);
	uint8_t buf[1500];
	for (int i = 0; i < 100000; i++) {
		size_t len = tni_rng_below(&r, sizeof(buf));
		for (size_t j = 0; j < len; j++)
			buf[j] = (uint8_t)tni_rng_next(&r);
		switch (i % 5) {
		case 0: /* random bytes */
			break;
		case 1: /* truncated header */
			len = tni_rng_below(&r, TERN_WIRE_HDR_LEN);
			buf[0] = 1;
			break;
		case 2: /* wrong version */
			buf[0] = 2;
			break;
		case 3: /* plausible header, huge claimed lengths, bad CRC */
			buf[0] = 1;
			buf[1] = 1;
			memset(buf + 2, 0, 2);
			memset(buf + 40, 0xff, 4);
			break;
		case 4: { /* a CRC-valid packet for the live session's slot, a guessed id */
			struct tni_wire_hdr h = { .type = TERN_PKT_DATA,
						   .dst_sid = (s->peer_sid & 0xffffff) | (tni_rng_next(&r) << 24),
						   .src_sid = s->sid, .psn = (uint32_t)i,
						   .msg_len = 8, .payload_len = 8 };
			len = tni_wire_encode(buf, &h, NULL);
			break;
		}
		}
		sendto(fd, buf, len, 0, (struct sockaddr *)&to, sizeof(to));
		if (i % 1000 == 0)
			echo_calls(&A, NULL, s, 1, 64); /* real calls still answered meanwhile */
	}
	close(fd);
	echo_calls(&A, NULL, s, 100, 64);
	stop_server(&st);
	tern_rpc_destroy(A.rpc);
}

/* More datagrams at once than the ring's completion queue holds: the
 * kernel keeps the overflow and ends the multishot receive. The driver
 * must flush that overflow, see the receive end and arm it again, or it
 * never receives another packet. */
static uint64_t dropped_by_engine(struct tern_engine *e)
{
	struct tern_stats st;
	tern_engine_stats(e, &st);
	return st.bad_crc + st.bad_header;
}

static void burst_beyond_the_cq(enum tern_uring_setup setup)
{
	struct tern_udp_config uc = udp_config(TERN_DRIVER_URING, "127.0.0.1", NULL);
	uc.uring_setup = setup;
	cr_assert_eq(udp_side_open_udp(&A, &uc), 0);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(A.addr.port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	uint8_t junk[TERN_WIRE_HDR_LEN] = { 1, TERN_PKT_DATA };
	/* A is not polled meanwhile: the burst waits for one poll. */
	for (int i = 0; i < 3000; i++)
		sendto(fd, junk, sizeof(junk), 0, (struct sockaddr *)&to, sizeof(to));
	for (int i = 0; i < 2000; i++)
		tern_engine_poll(A.e);
	uint64_t before = dropped_by_engine(A.e);
	cr_assert_gt(before, 1024, "the burst went beyond the completion queue");
	/* A has nothing of its own to send, so no submit flushes the
	 * kernel's overflow by the way: only the receive path can. */
	for (int i = 0; i < 10; i++)
		sendto(fd, junk, sizeof(junk), 0, (struct sockaddr *)&to, sizeof(to));
	close(fd);
	uint64_t until = udp_now() + 2 * SEC;
	while (dropped_by_engine(A.e) < before + 10 && udp_now() < until)
		tern_engine_poll(A.e);
	cr_assert_eq(dropped_by_engine(A.e), before + 10, "datagrams after the burst are received");
	cr_assert_eq(udp_side_open(&B, TERN_DRIVER_SOCKETS, "127.0.0.1", 0), 0);
	struct tern_session *ba = connect_to(&B, "127.0.0.1", A.addr.port);
	echo_calls(&B, &A, ba, 100, 64);
	tern_rpc_destroy(A.rpc);
	tern_rpc_destroy(B.rpc);
}

Test(udp, a_burst_beyond_the_completion_queue_does_not_stop_receive)
{
	burst_beyond_the_cq(TERN_URING_SETUP_AUTO);
}

/* A plain ring posts completions as packets arrive, not when polled. */
Test(udp, a_burst_beyond_the_completion_queue_of_a_plain_ring_does_not_stop_receive)
{
	burst_beyond_the_cq(TERN_URING_SETUP_PLAIN);
}

/* 20,000 SYNs with made-up ids from 64 addresses the server never heard
 * of, at a uring server that real calls keep reaching meanwhile: past its
 * backlog every SYN is answered with a cookie, and no state is kept. */
Test(udp, a_burst_of_forged_syns_holds_no_state_past_the_backlog_and_stops_no_calls)
{
	cr_assert_eq(udp_side_open(&A, TERN_DRIVER_URING, "127.0.0.1", 0), 0);
	cr_assert_eq(udp_side_open(&B, TERN_DRIVER_SOCKETS, "127.0.0.1", 0), 0);
	struct tern_session *ba = connect_to(&B, "127.0.0.1", A.addr.port);
	echo_calls(&B, &A, ba, 10, 64);
	enum { SOURCES = 64, SYNS = 20000 };
	int fds[SOURCES];
	for (int i = 0; i < SOURCES; i++) {
		fds[i] = socket(AF_INET, SOCK_DGRAM, 0);
		struct sockaddr_in me = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000200u + (uint32_t)i + 1) };
		cr_assert_eq(bind(fds[i], (struct sockaddr *)&me, sizeof(me)), 0, "bind 127.0.2.%d", i + 1);
	}
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(A.addr.port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct tern_stats st0;
	tern_engine_stats(A.e, &st0);
	struct tni_rng r;
	tni_rng_seed(&r, 2026);
	uint8_t buf[256];
	for (int i = 0; i < SYNS; i++) {
		struct tni_wire_hdr h = { .type = TERN_PKT_SYN, .src_sid = tni_rng_next(&r),
					   .src_epoch = (uint32_t)tni_rng_next(&r), .payload_len = TERN_WIRE_HANDSHAKE_LEN };
		struct tni_wire_handshake hs = { 1, 256, 1 << 20, 0, 0, 1392, 1000 };
		tni_wire_handshake_put(buf + TERN_WIRE_HDR_LEN, &hs);
		size_t len = tni_wire_encode(buf, &h, NULL);
		sendto(fds[i % SOURCES], buf, len, 0, (struct sockaddr *)&to, sizeof(to));
		if (i % 500 == 499) {
			for (int k = 0; k < 200; k++)
				tern_engine_poll(A.e);
			echo_calls(&B, &A, ba, 1, 64); /* real calls still answered meanwhile */
		}
	}
	echo_calls(&B, &A, ba, 100, 64);
	for (int i = 0; i < SOURCES; i++)
		close(fds[i]);
	struct tern_stats st1;
	tern_engine_stats(A.e, &st1);
	uint64_t opened = st1.sessions_opened - st0.sessions_opened, cookies = st1.syn_cookies_sent - st0.syn_cookies_sent;
	cr_log_info("%d forged SYNs sent: %lu cookies, %lu sessions opened", SYNS, (unsigned long)cookies,
		    (unsigned long)opened);
	cr_assert_leq(opened, TNI_SYN_BACKLOG, "state for no more than the backlog");
	cr_assert_geq(cookies, SYNS / 2, "the rest answered with cookies (some SYNs may be dropped by the socket)");
	struct tern_session *again = connect_to(&B, "127.0.0.1", A.addr.port);
	echo_calls(&B, &A, again, 10, 64); /* a new client gets in, with a cookie */
	struct tern_stats st2;
	tern_engine_stats(A.e, &st2);
	cr_assert_eq(st2.syn_cookies_ok - st1.syn_cookies_ok, 1);
	tern_rpc_destroy(A.rpc);
	tern_rpc_destroy(B.rpc);
}

/* A UDP relay between client and server that can drop and record packets. */
struct proxy {
	int fd;
	struct sockaddr_in server, client;
	bool have_client;
	int drop_responses;       /* data packets from the server to drop */
	uint8_t recorded[1500];   /* the first data packet from the client */
	size_t recorded_len;
};

static void proxy_pump(struct proxy *p)
{
	uint8_t buf[2048];
	struct sockaddr_in from;
	socklen_t fl = sizeof(from);
	ssize_t n;
	while ((n = recvfrom(p->fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from, &fl)) > 0) {
		bool from_server = from.sin_port == p->server.sin_port;
		bool data = n > 1 && buf[1] == TERN_PKT_DATA;
		if (from_server) {
			if (data && p->drop_responses > 0) {
				p->drop_responses--;
				continue;
			}
			if (p->have_client)
				sendto(p->fd, buf, (size_t)n, 0, (struct sockaddr *)&p->client, sizeof(p->client));
		} else {
			p->client = from;
			p->have_client = true;
			if (data && !p->recorded_len) {
				memcpy(p->recorded, buf, (size_t)n);
				p->recorded_len = (size_t)n;
			}
			sendto(p->fd, buf, (size_t)n, 0, (struct sockaddr *)&p->server, sizeof(p->server));
		}
		fl = sizeof(from);
	}
}

Test(udp, retransmitted_or_replayed_requests_run_once)
{
	cr_assert_eq(udp_side_open(&B, TERN_DRIVER_URING, "127.0.0.1", 0), 0);
	cr_assert_eq(udp_side_open(&A, TERN_DRIVER_URING, "127.0.0.1", 0), 0);
	struct proxy px = { .drop_responses = 3 };
	px.fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in pa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t pl = sizeof(pa);
	cr_assert_eq(bind(px.fd, (struct sockaddr *)&pa, sizeof(pa)), 0);
	getsockname(px.fd, (struct sockaddr *)&pa, &pl);
	px.server = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons(B.addr.port),
					  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct tern_session *s = connect_to(&A, "127.0.0.1", ntohs(pa.sin_port));
	/* The answer is lost three times: both ends retransmit, the handler runs once. */
	void *q = tern_rpc_alloc(A.rpc, 5);
	memcpy(q, "hello", 5);
	struct udp_call c = { 0 };
	cr_assert_eq(tern_rpc_call(A.rpc, s, ECHO, q, 5, 5 * SEC, udp_cont, &c, NULL), 0);
	uint64_t until = udp_now() + 10 * SEC;
	while (!c.done && udp_now() < until) {
		tern_engine_poll(A.e);
		proxy_pump(&px);
		tern_engine_poll(B.e);
		proxy_pump(&px);
	}
	cr_assert_eq(c.done, 1);
	cr_assert_eq(c.status, 0, "%s", tern_strerror(c.status));
	struct tern_stats sa, sb;
	tern_engine_stats(A.e, &sa);
	tern_engine_stats(B.e, &sb);
	cr_assert_gt(sa.retransmits + sb.retransmits, 0);
	cr_assert_eq(atomic_load(&B.runs), 1);
	/* The request datagram replayed as is, twenty times. */
	cr_assert_gt(px.recorded_len, 0);
	for (int i = 0; i < 20; i++) {
		sendto(px.fd, px.recorded, px.recorded_len, 0, (struct sockaddr *)&px.server, sizeof(px.server));
		for (int k = 0; k < 200; k++) {
			tern_engine_poll(B.e);
			proxy_pump(&px);
			tern_engine_poll(A.e);
		}
	}
	tern_engine_stats(B.e, &sb);
	cr_assert_eq(atomic_load(&B.runs), 1, "handler ran %u times", atomic_load(&B.runs));
	cr_assert_geq(sb.dup_pkts, 20);
	close(px.fd);
	tern_rpc_destroy(A.rpc);
	tern_rpc_destroy(B.rpc);
}

Test(udp, adaptive_engines_sleep_when_idle_and_still_answer)
{
	for (int drv = TERN_DRIVER_URING; drv <= TERN_DRIVER_SOCKETS; drv++) {
		struct udp_side *sides[2] = { &A, &B };
		for (int i = 0; i < 2; i++) {
			struct tern_rpc_config rc;
			tern_rpc_config_init(&rc);
			rc.workers = 0;
			struct tern_engine_config ec;
			tern_engine_config_init(&ec);
			ec.poll_mode = TERN_POLL_ADAPTIVE;
			ec.spin_polls = 100;
			ec.max_block_ns = 2 * MS;
			cr_assert_eq(udp_driver(drv, "127.0.0.1", 0, &ec.driver), 0);
			memset(sides[i], 0, sizeof(*sides[i]));
			cr_assert_eq(tern_rpc_create(&rc, &ec, &sides[i]->rpc), 0);
			sides[i]->e = tern_rpc_engine(sides[i]->rpc);
			tern_engine_local_addr(sides[i]->e, &sides[i]->addr);
			tern_rpc_register(sides[i]->rpc, ECHO, udp_echo, sides[i], 0);
		}
		struct tern_session *s = connect_to(&A, "127.0.0.1", B.addr.port);
		echo_calls(&A, &B, s, 200, 64);
		/* Idle: polls must sleep in the driver, not spin. */
		uint64_t until = udp_now() + 100 * MS;
		while (udp_now() < until) {
			tern_engine_poll(A.e);
			tern_engine_poll(B.e);
		}
		struct tern_stats st;
		tern_engine_stats(A.e, &st);
		cr_assert_gt(st.idle_blocks, 0, "driver %d never slept", drv);
		echo_calls(&A, &B, s, 200, 64);
		tern_rpc_destroy(A.rpc);
		tern_rpc_destroy(B.rpc);
	}
}
