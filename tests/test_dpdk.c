/* The DPDK driver in one process: two memif ports joined by one socket
 * (a server and a client role), so every engine is polled by the test
 * thread. Criterion runs each test in its own process, and each starts
 * its own EAL. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

#include <rte_alarm.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "drivers/dpdk/dpdk_internal.h"
#include "drivers/rss_toeplitz.h"
#include "util/rng.h"
#include "transport/session_internal.h"
#include "udp_harness.h"
#include "tern/dpdk.h"

#define MS 1000000ull
#define SEC 1000000000ull
#define SRV_IP "10.77.0.1"
#define CLI_IP "10.77.0.2"
#define SRV_PORT 7100
#define CLI_PORT 7200

static struct tern_dpdk_port *SP, *CP;
static bool dpdk_buffers; /* the next ports give message buffers from DPDK memory */
static uint16_t rss_reta[128];
static bool rss_steering; /* the next ports steer by RSS with the well-known key and rss_reta */
static uint16_t reflect_port; /* the next ports' reflect_udp_port */
static char sock_path[64];

/* What the EAL leaves behind: its runtime directory, our memif socket. */
static void eal_files_gone(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf /var/run/dpdk/tern-test-%d", getpid());
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove /var/run/dpdk/tern-test-%d\n", getpid());
	unlink(sock_path);
}

static void eal_up(bool zero_copy)
{
	snprintf(sock_path, sizeof(sock_path), "/tmp/tern-test-memif-%d.sock", getpid());
	unlink(sock_path);
	char eal[512];
	snprintf(eal, sizeof(eal),
		 "--no-huge -m 512 --no-pci --single-file-segments --file-prefix=tern-test-%d "
		 "--log-level=lib.eal:warning --log-level=pmd.net.memif:warning "
		 "--vdev=net_memif0,role=server,socket=%s --vdev=net_memif1,role=client,socket=%s%s",
		 getpid(), sock_path, sock_path, zero_copy ? ",zero-copy=yes" : "");
	int rc = tern_dpdk_init_str(eal);
	if (rc == TERN_ENOTSUP)
		cr_skip_test("tern was built without DPDK");
	cr_assert_eq(rc, 0, "EAL: %s", tern_strerror(rc));
}

static struct tern_dpdk_port *port_up(const char *dev, const char *ip, uint16_t udp, uint16_t queues, bool arp)
{
	struct tern_dpdk_port_config pc;
	tern_dpdk_port_config_init(&pc);
	pc.device = dev;
	pc.ip = ip;
	pc.udp_port = udp;
	pc.queues = queues;
	pc.no_arp = !arp;
	pc.mbufs = 4095;
	pc.dpdk_buffers = dpdk_buffers;
	pc.reflect_udp_port = reflect_port;
	if (rss_steering) {
		pc.steering = TERN_STEER_RSS;
		pc.rss_key = tni_rss_well_known_key;
		pc.rss_key_len = sizeof(tni_rss_well_known_key);
		pc.rss_reta = rss_reta;
		pc.rss_reta_size = 128;
	}
	struct tern_dpdk_port *p;
	int rc = tern_dpdk_port_create(&pc, &p);
	cr_assert_eq(rc, 0, "port %s: %s", dev, tern_strerror(rc));
	return p;
}

/* Both ports started, and the memif link up on both. */
static void pair_up(bool zero_copy, uint16_t queues, bool arp)
{
	eal_up(zero_copy);
	SP = port_up("net_memif0", SRV_IP, SRV_PORT, queues, arp);
	CP = port_up("net_memif1", CLI_IP, CLI_PORT, queues, arp);
	uint64_t until = udp_now() + 5 * SEC;
	struct tern_dpdk_port_info a, b;
	do {
		tern_dpdk_port_info(SP, &a);
		tern_dpdk_port_info(CP, &b);
	} while (!(a.link_up && b.link_up) && udp_now() < until);
	cr_assert(a.link_up && b.link_up, "memif link did not come up");
	cr_assert_str_eq(a.driver, "net_memif");
}

static void pair_down(void)
{
	if (CP)
		cr_assert_eq(tern_dpdk_port_destroy(CP), 0);
	CP = NULL;
	/* Let memif's control thread finish with the client's disconnect
	 * before the server goes: closing the server while that thread still
	 * handles the disconnect crashed it now and then. */
	struct tern_dpdk_port_info si = { .link_up = true };
	uint64_t until = udp_now() + 2 * SEC;
	while (SP && CP == NULL && si.link_up && udp_now() < until)
		tern_dpdk_port_info(SP, &si);
	if (SP)
		cr_assert_eq(tern_dpdk_port_destroy(SP), 0);
	CP = SP = NULL;
}

/* A counter of the engine's DPDK driver. */
static uint64_t dstat(struct tern_engine *e, const char *name)
{
	uint64_t v = 0;
	cr_assert_eq(tern_engine_driver_stat(e, name, &v), 0, "no driver counter %s", name);
	return v;
}

static void side_up(struct udp_side *s, struct tern_dpdk_port *p, uint16_t q, unsigned workers)
{
	struct tern_rpc_config rc;
	tern_rpc_config_init(&rc);
	rc.workers = workers;
	struct tern_engine_config ec;
	tern_engine_config_init(&ec);
	int r = tern_dpdk_driver_open(p, q, &ec.driver);
	cr_assert_eq(r, 0, "%s", tern_strerror(r));
	r = udp_side_open_cfg(s, &rc, &ec);
	cr_assert_eq(r, 0, "%s", tern_strerror(r));
	cr_assert_eq(tern_engine_driver(s->e), TERN_DRIVER_DPDK);
}

static struct tern_session *connect_to(struct udp_side *c, const char *ip, uint16_t port)
{
	struct tern_addr a;
	cr_assert_eq(tern_addr_resolve(ip, port, &a), 0);
	struct tern_session *s;
	cr_assert_eq(tern_session_connect(c->e, &a, &s), 0);
	return s;
}

static uint8_t pattern[1 << 20];
static struct sized_call {
	int done, status;
	size_t want, len;
	bool same;
} res;

static void sized_cont(int status, const void *resp, size_t len, void *arg)
{
	(void)arg;
	res.done = 1;
	res.status = status;
	res.len = len;
	res.same = status == 0 && len == res.want && (len == 0 || memcmp(resp, pattern, len) == 0);
}

/* Echo each size once, checking every byte. */
static void echo_sizes(struct udp_side *cli, struct udp_side *srv, struct tern_session *s)
{
	static const size_t sizes[] = { 0, 1, 64, 1000, 1400, 1500, 4096, 9000, 65536, 1 << 20 };
	struct tni_rng r;
	tni_rng_seed(&r, 42);
	for (size_t i = 0; i < sizeof(pattern); i++)
		pattern[i] = (uint8_t)tni_rng_next(&r);
	for (unsigned k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		size_t n = sizes[k];
		void *q = tern_rpc_alloc(cli->rpc, n);
		cr_assert_not_null(q);
		memcpy(q, pattern, n);
		res = (struct sized_call){ .want = n };
		cr_assert_eq(tern_rpc_call(cli->rpc, s, ECHO, q, n, 5 * SEC, sized_cont, NULL, NULL), 0);
		uint64_t until = udp_now() + 10 * SEC;
		while (!res.done && udp_now() < until) {
			tern_engine_poll(cli->e);
			tern_engine_poll(srv->e);
		}
		cr_assert(res.done, "size %zu: no answer", n);
		cr_assert_eq(res.status, 0, "size %zu: %s", n, tern_strerror(res.status));
		cr_assert(res.same, "size %zu: %zu bytes came back, not the same", n, res.len);
	}
}

static void echo_calls(struct udp_side *cli, struct udp_side *srv, struct tern_session *s, int n)
{
	for (int i = 0; i < n; i++) {
		char q[32];
		int len = snprintf(q, sizeof(q), "call %d", i);
		struct udp_call c;
		int rc = udp_call_echo(cli, srv, s, q, (size_t)len, SEC, &c);
		cr_assert_eq(rc, 0, "call %d: %s", i, tern_strerror(rc));
		cr_assert_eq(c.len, (size_t)len);
		cr_assert_eq(memcmp(c.resp, q, c.len), 0);
	}
}

static struct udp_side S, C;

static void rpc_over_memif(bool zero_copy)
{
	pair_up(zero_copy, 1, true);
	side_up(&S, SP, 0, 0);
	side_up(&C, CP, 0, 0);
	cr_assert_eq(S.addr.port, SRV_PORT);
	struct tern_session *s = connect_to(&C, SRV_IP, SRV_PORT);
	echo_sizes(&C, &S, s);
	echo_calls(&C, &S, s, 2000);
	struct tern_stats cs, ss;
	tern_engine_stats(C.e, &cs);
	tern_engine_stats(S.e, &ss);
	cr_assert_geq(dstat(C.e, "arp_requests_sent"), 1, "the client found the server by ARP");
	cr_assert_geq(dstat(S.e, "arp_replies_sent"), 1);
	cr_assert_eq(dstat(C.e, "steer_handoffs") + dstat(S.e, "steer_handoffs"), 0);
	cr_assert_eq(dstat(C.e, "nic_rx_other") + dstat(S.e, "nic_rx_other"), 0);
	cr_assert_eq(cs.bad_crc + ss.bad_crc + cs.bad_header + ss.bad_header, 0);
	cr_assert_geq(dstat(S.e, "nic_rx_frames"), 2000);
	cr_assert_eq(tern_session_path_hops(s), 1, "the TTL read from the frame: one link");
	/* Full fragments of the large echoes leave from the message buffers,
	 * except from a memif end in zero-copy mode, which must copy into its
	 * shared region. Every byte was checked above either way. */
	struct tern_dpdk_port_info ci, si;
	tern_dpdk_port_info(CP, &ci);
	tern_dpdk_port_info(SP, &si);
	cr_assert(si.tx_attach, "the memif server end copies every segment");
	cr_assert_eq(ci.tx_attach, !zero_copy);
	/* memif is memory: both ends leave tern's CRC out (docs/protocol.md),
	 * and the echoes above were still byte-exact. */
	cr_assert(ci.link_checks_tx && si.link_checks_tx);
	cr_assert(tern_session_link_checked(s), "the client sends without a CRC");
	cr_assert_geq(ss.tx_attach_bytes, 1u << 20, "the 1 MiB answer went out attached");
	cr_assert_lt(ss.tx_copy_bytes, 200000, "only small payloads and fragment tails copied");
	if (zero_copy)
		cr_assert_eq(cs.tx_attach_bytes, 0);
	else
		cr_assert_geq(cs.tx_attach_bytes, 1u << 20);
	tern_rpc_destroy(C.rpc);
	tern_rpc_destroy(S.rpc);
	pair_down();
}

Test(dpdk, rpc_over_memif_copy_mode, .timeout = 60, .fini = eal_files_gone)
{
	rpc_over_memif(false);
}

Test(dpdk, rpc_over_memif_zero_copy_mode, .timeout = 60, .fini = eal_files_gone)
{
	rpc_over_memif(true);
}

/* A NIC sends a payload in place only from DPDK memory, so on such ports
 * (or when asked, as here on memif) large RPC buffers come from it; small
 * ones stay in the RPC layer's pool. */
Test(dpdk, large_rpc_buffers_come_from_dpdk_memory_where_the_device_needs_it, .timeout = 60,
     .fini = eal_files_gone)
{
	dpdk_buffers = true;
	pair_up(false, 1, true);
	side_up(&S, SP, 0, 0);
	side_up(&C, CP, 0, 0);
	void *big = tern_rpc_alloc(C.rpc, 65536), *small = tern_rpc_alloc(C.rpc, 100);
	cr_assert(big && small);
	cr_assert_not_null(rte_mem_virt2memseg_list(big), "a large buffer in DPDK memory");
	cr_assert_null(rte_mem_virt2memseg_list(small));
	tern_rpc_free(C.rpc, big);
	tern_rpc_free(C.rpc, small);
	void *raw = tern_engine_alloc_buffer(C.e, 4096);
	cr_assert_not_null(rte_mem_virt2memseg_list(raw));
	tern_engine_free_buffer(C.e, raw);
	struct tern_session *s = connect_to(&C, SRV_IP, SRV_PORT);
	echo_sizes(&C, &S, s); /* up to 1 MiB, every byte checked, attached from DPDK memory */
	struct tern_stats ss;
	tern_engine_stats(S.e, &ss);
	cr_assert_geq(ss.tx_attach_bytes, 1u << 20);
	tern_rpc_destroy(C.rpc);
	tern_rpc_destroy(S.rpc);
	pair_down();
	dpdk_buffers = false;
}

/* By default a port that copies every segment (memif) keeps the heap. */
Test(dpdk, rpc_buffers_stay_on_the_heap_where_the_port_copies, .timeout = 60, .fini = eal_files_gone)
{
	pair_up(false, 1, true);
	side_up(&C, CP, 0, 0);
	void *big = tern_rpc_alloc(C.rpc, 65536);
	cr_assert_not_null(big);
	cr_assert_null(rte_mem_virt2memseg_list(big));
	tern_rpc_free(C.rpc, big);
	tern_rpc_destroy(C.rpc);
	pair_down();
}

Test(dpdk, init_twice_and_bad_configurations_are_clear_errors, .timeout = 60, .fini = eal_files_gone)
{
	struct tern_dpdk_port_config pc;
	tern_dpdk_port_config_init(&pc);
	pc.device = "net_memif0";
	pc.ip = SRV_IP;
	pc.udp_port = SRV_PORT;
	struct tern_dpdk_port *p;
	eal_up(false);
	cr_assert_eq(tern_dpdk_init_str("--no-huge -m 64 --no-pci"), 0, "a started EAL is used as it is");
	pc.ip = NULL;
	cr_assert_eq(tern_dpdk_port_create(&pc, &p), TERN_EINVAL);
	pc.ip = "10.77.0.999";
	cr_assert_eq(tern_dpdk_port_create(&pc, &p), TERN_EINVAL);
	pc.ip = SRV_IP;
	pc.device = "net_no_such_port";
	cr_assert_eq(tern_dpdk_port_create(&pc, &p), TERN_ENODEV);
	pc.device = "net_memif0";
	pc.queues = 0;
	cr_assert_eq(tern_dpdk_port_create(&pc, &p), TERN_EINVAL);
	pc.queues = 1;
	cr_assert_eq(tern_dpdk_port_create(&pc, &p), 0);
	/* One engine per queue, no queue past the last, no destroy under an engine. */
	struct tern_engine_config ec;
	tern_engine_config_init(&ec);
	struct tern_engine *e1;
	struct tern_driver *d2;
	cr_assert_eq(tern_dpdk_driver_open(NULL, 0, &ec.driver), TERN_EINVAL, "no port given");
	cr_assert_eq(tern_dpdk_driver_open(p, 1, &ec.driver), TERN_EINVAL, "no queue 1");
	cr_assert_eq(tern_dpdk_driver_open(p, 0, &ec.driver), 0);
	cr_assert_eq(tern_engine_create(&ec, &e1), 0);
	cr_assert_eq(tern_dpdk_driver_open(p, 0, &d2), TERN_EBUSY);
	cr_assert_eq(tern_dpdk_port_destroy(p), TERN_EBUSY);
	struct tern_addr a;
	cr_assert_eq(tern_engine_local_addr(e1, &a), 0);
	cr_assert_eq(a.port, SRV_PORT);
	char buf[64];
	cr_assert_str_eq(tern_addr_format(&a, buf, sizeof(buf)), SRV_IP ":7100");
	tern_engine_destroy(e1);
	cr_assert_eq(tern_dpdk_port_destroy(p), 0);
}

/* Two engines a side over a two-queue memif: queue i meets queue i, so a
 * client engine i that calls server port base+i lands on server engine i,
 * with no software hop. */
Test(dpdk, two_engines_per_side_each_session_on_its_own_engine, .timeout = 60, .fini = eal_files_gone)
{
	static struct udp_side S2[2], C2[2];
	pair_up(false, 2, true);
	struct tern_dpdk_port_info info;
	tern_dpdk_port_info(SP, &info);
	cr_assert_eq(info.queues, 2);
	for (uint16_t q = 0; q < 2; q++) {
		side_up(&S2[q], SP, q, 0);
		side_up(&C2[q], CP, q, 0);
		cr_assert_eq(S2[q].addr.port, SRV_PORT + q);
	}
	struct tern_session *s[2];
	for (int q = 0; q < 2; q++)
		s[q] = connect_to(&C2[q], SRV_IP, (uint16_t)(SRV_PORT + q));
	/* Interleave the two engines' calls, polling all four engines. */
	for (int i = 0; i < 500; i++) {
		struct udp_call c[2] = { 0 };
		for (int q = 0; q < 2; q++) {
			void *m = tern_rpc_alloc(C2[q].rpc, 16);
			memset(m, 'a' + q, 16);
			cr_assert_eq(tern_rpc_call(C2[q].rpc, s[q], ECHO, m, 16, SEC, udp_cont, &c[q], NULL), 0);
		}
		uint64_t until = udp_now() + 2 * SEC;
		while (!(c[0].done && c[1].done) && udp_now() < until)
			for (int q = 0; q < 2; q++) {
				tern_engine_poll(C2[q].e);
				tern_engine_poll(S2[q].e);
			}
		for (int q = 0; q < 2; q++) {
			cr_assert(c[q].done && c[q].status == 0, "engine %d call %d", q, i);
			cr_assert_eq(c[q].resp[0], 'a' + q);
		}
	}
	for (int q = 0; q < 2; q++) {
		cr_assert_eq(atomic_load(&S2[q].runs), 500, "server engine %d ran %u", q, atomic_load(&S2[q].runs));
		struct tern_stats st;
		tern_engine_stats(S2[q].e, &st);
		cr_assert_eq(dstat(S2[q].e, "steer_handoffs"), 0, "server engine %d handed off %llu", q,
			     (unsigned long long)dstat(S2[q].e, "steer_handoffs"));
		tern_engine_stats(C2[q].e, &st);
		cr_assert_eq(dstat(C2[q].e, "steer_handoffs"), 0);
		tern_rpc_destroy(C2[q].rpc);
		tern_rpc_destroy(S2[q].rpc);
	}
	pair_down();
}

/* A frame on the wrong queue still reaches its engine, through a ring, and
 * is counted. */
Test(dpdk, a_frame_on_another_engines_queue_is_handed_over_and_counted, .timeout = 60, .fini = eal_files_gone)
{
	static struct udp_side S2[2], C2[2];
	pair_up(false, 2, true);
	for (uint16_t q = 0; q < 2; q++) {
		side_up(&S2[q], SP, q, 0);
		side_up(&C2[q], CP, q, 0);
	}
	/* Client engine 0 (queue 0) calls server engine 1 (port base+1). */
	struct tern_session *s = connect_to(&C2[0], SRV_IP, SRV_PORT + 1);
	for (int i = 0; i < 200; i++) {
		struct udp_call c = { 0 };
		void *m = tern_rpc_alloc(C2[0].rpc, 8);
		memcpy(m, "handoff", 8);
		cr_assert_eq(tern_rpc_call(C2[0].rpc, s, ECHO, m, 8, SEC, udp_cont, &c, NULL), 0);
		uint64_t until = udp_now() + 2 * SEC;
		while (!c.done && udp_now() < until)
			for (int q = 0; q < 2; q++) {
				tern_engine_poll(C2[q].e);
				tern_engine_poll(S2[q].e);
			}
		cr_assert(c.done && c.status == 0, "call %d: %s", i, tern_strerror(c.status));
	}
	cr_assert_eq(atomic_load(&S2[1].runs), 200);
	cr_assert_eq(atomic_load(&S2[0].runs), 0);
	struct tern_stats st0, cst1;
	tern_engine_stats(S2[0].e, &st0);
	tern_engine_stats(C2[1].e, &cst1);
	cr_assert_geq(dstat(S2[0].e, "steer_handoffs"), 200, "server queue 0 passed the requests on");
	cr_assert_geq(dstat(C2[1].e, "steer_handoffs"), 200, "client queue 1 passed the answers on");
	cr_assert_eq(dstat(S2[0].e, "steer_drops"), 0);
	for (int q = 0; q < 2; q++) {
		tern_rpc_destroy(C2[q].rpc);
		tern_rpc_destroy(S2[q].rpc);
	}
	pair_down();
}

static uint32_t ip_of(const char *s)
{
	struct tern_addr a;
	cr_assert_eq(tern_addr_resolve(s, 1, &a), 0);
	uint32_t ip;
	memcpy(&ip, a.ip, 4);
	return ip;
}

/* RSS steering with the key and table given (memif reports neither, and
 * pairs queue i with queue i whatever the hash, so this checks what each
 * side asks for and that the other sends from it). Each engine asks its
 * peer for a source port whose Toeplitz hash lands on the engine's own
 * queue; every frame then leaves from it, and a RST sent back to that
 * port still finds the engine that used it. */
Test(dpdk, rss_steering_peers_send_from_the_port_each_side_asked_for, .timeout = 60, .fini = eal_files_gone)
{
	static struct udp_side S2[2], C2[2];
	for (int i = 0; i < 128; i++)
		rss_reta[i] = (uint16_t)(i % 2);
	struct tni_rss rss = { .key_len = sizeof(tni_rss_well_known_key), .reta_size = 128 };
	memcpy(rss.key, tni_rss_well_known_key, sizeof(tni_rss_well_known_key));
	memcpy(rss.reta, rss_reta, sizeof(rss_reta));
	rss_steering = true;
	pair_up(false, 2, true);
	struct tern_dpdk_port_info si, ci;
	tern_dpdk_port_info(SP, &si);
	tern_dpdk_port_info(CP, &ci);
	cr_assert_eq(si.steering, TERN_STEER_RSS);
	cr_assert_eq(ci.steering, TERN_STEER_RSS);
	for (uint16_t q = 0; q < 2; q++) {
		side_up(&S2[q], SP, q, 0);
		side_up(&C2[q], CP, q, 0);
	}
	struct tern_session *s[2];
	for (int q = 0; q < 2; q++) {
		s[q] = connect_to(&C2[q], SRV_IP, (uint16_t)(SRV_PORT + q));
		echo_calls(&C2[q], &S2[q], s[q], 100);
	}
	uint32_t sip = ip_of(SRV_IP), cip = ip_of(CLI_IP);
	for (int q = 0; q < 2; q++) {
		/* What the server engine asked of the client, and the reverse. */
		uint16_t to_srv = tern_session_steer_port(s[q]);
		cr_assert_geq(to_srv, 49152, "engine %d: no port asked for", q);
		cr_assert_eq(tni_rss_queue_udp4(&rss, cip, sip, to_srv, (uint16_t)(SRV_PORT + q)), q);
		struct tern_session *back = NULL; /* the server's end: its only session */
		for (uint32_t i = 0; !back && i < S2[q].e->cfg.max_sessions; i++)
			back = S2[q].e->sessions[i];
		cr_assert_not_null(back);
		uint16_t to_cli = tern_session_steer_port(back);
		cr_assert_geq(to_cli, 49152);
		cr_assert_eq(tni_rss_queue_udp4(&rss, sip, cip, to_cli, (uint16_t)(CLI_PORT + q)), q);
		struct tern_stats cs, ss;
		tern_engine_stats(C2[q].e, &cs);
		tern_engine_stats(S2[q].e, &ss);
		cr_assert_geq(dstat(C2[q].e, "steer_ports_asked"), 1);
		cr_assert_geq(dstat(S2[q].e, "steer_ports_asked"), 1);
		cr_assert_geq(dstat(C2[q].e, "steer_port_frames"), 100, "client engine %d sent %llu from the port", q,
			      (unsigned long long)dstat(C2[q].e, "steer_port_frames"));
		cr_assert_geq(dstat(S2[q].e, "steer_port_frames"), 100);
		cr_assert_eq(dstat(C2[q].e, "steer_handoffs") + dstat(S2[q].e, "steer_handoffs"), 0);
	}
	/* The server forgets client 1's session (as if it had lost it): it
	 * answers the next request with a RST to the client's steered port,
	 * which must still reach client engine 1 and end the call at once. */
	s[1]->peer_sid ^= 1ull << 40;
	struct udp_call c;
	int rc = udp_call_echo(&C2[1], &S2[1], s[1], "gone?", 5, 5 * SEC, &c);
	cr_assert_eq(rc, TERN_ECLOSED, "%s", tern_strerror(rc));
	struct tern_stats cs;
	tern_engine_stats(C2[1].e, &cs);
	cr_assert_geq(dstat(C2[1].e, "steer_port_replies"), 1, "the RST came back to the steered port");
	echo_calls(&C2[0], &S2[0], s[0], 10); /* the other engine is untouched */
	for (int q = 0; q < 2; q++) {
		tern_rpc_destroy(C2[q].rpc);
		tern_rpc_destroy(S2[q].rpc);
	}
	pair_down();
	rss_steering = false;
}

Test(dpdk, rss_steering_refused_without_a_known_key_and_table, .timeout = 60, .fini = eal_files_gone)
{
	eal_up(false);
	struct tern_dpdk_port_config pc;
	tern_dpdk_port_config_init(&pc);
	pc.device = "net_memif0";
	pc.ip = SRV_IP;
	pc.udp_port = SRV_PORT;
	pc.queues = 2;
	pc.steering = TERN_STEER_RSS;
	struct tern_dpdk_port *p;
	cr_assert_eq(tern_dpdk_port_create(&pc, &p), TERN_ENOTSUP, "memif has no RSS to learn");
	pc.rss_key = tni_rss_well_known_key;
	pc.rss_key_len = sizeof(tni_rss_well_known_key);
	cr_assert_eq(tern_dpdk_port_create(&pc, &p), TERN_ENOTSUP, "a key but no table");
	pc.rss_key_len = 8;
	cr_assert_eq(tern_dpdk_port_create(&pc, &p), TERN_EINVAL, "key too short");
	pc.rss_key_len = sizeof(tni_rss_well_known_key);
	uint16_t bad[4] = { 0, 1, 2, 1 };
	pc.rss_reta = bad;
	pc.rss_reta_size = 4;
	cr_assert_eq(tern_dpdk_port_create(&pc, &p), TERN_EINVAL, "a table entry names no queue of ours");
	pc.steering = 4;
	cr_assert_eq(tern_dpdk_port_create(&pc, &p), TERN_EINVAL);
	/* Refused before the device was touched: it can still be used. AUTO
	 * on a port without flow rules or RSS: software. */
	pc.steering = TERN_STEER_AUTO;
	pc.rss_key = NULL;
	pc.rss_reta = NULL;
	cr_assert_eq(tern_dpdk_port_create(&pc, &p), 0);
	struct tern_dpdk_port_info info;
	tern_dpdk_port_info(p, &info);
	cr_assert_eq(info.steering, TERN_STEER_SOFTWARE);
	cr_assert_eq(tern_dpdk_port_destroy(p), 0);
}

Test(dpdk, static_neighbours_without_arp, .timeout = 60, .fini = eal_files_gone)
{
	pair_up(false, 1, false);
	struct tern_dpdk_port_info si, ci;
	tern_dpdk_port_info(SP, &si);
	tern_dpdk_port_info(CP, &ci);
	struct tern_dpdk_neighbor ns = { .ip = { 10, 77, 0, 2 } }, nc = { .ip = { 10, 77, 0, 1 } };
	memcpy(ns.mac, ci.mac, 6);
	memcpy(nc.mac, si.mac, 6);
	cr_assert_eq(tern_dpdk_port_add_neighbor(SP, &ns), 0);
	cr_assert_eq(tern_dpdk_port_add_neighbor(CP, &nc), 0);
	struct tern_dpdk_neighbor bad = { .ip = { 10, 77, 0, 3 }, .mac = { 1, 2, 3, 4, 5, 6 } }; /* multicast */
	cr_assert_eq(tern_dpdk_port_add_neighbor(CP, &bad), TERN_EINVAL);
	struct tern_dpdk_neighbor look = { .ip = { 10, 77, 0, 1 } };
	cr_assert_eq(tern_dpdk_port_neighbor(CP, &look), 0);
	cr_assert_arr_eq(look.mac, si.mac, 6);
	struct tern_dpdk_neighbor unknown = { .ip = { 10, 77, 0, 9 } };
	cr_assert_eq(tern_dpdk_port_neighbor(CP, &unknown), TERN_EAGAIN);
	side_up(&S, SP, 0, 0);
	side_up(&C, CP, 0, 2);
	struct tern_session *s = connect_to(&C, SRV_IP, SRV_PORT);
	echo_calls(&C, &S, s, 200);
	struct tern_stats cs, ss;
	tern_engine_stats(C.e, &cs);
	tern_engine_stats(S.e, &ss);
	cr_assert_eq(dstat(C.e, "arp_requests_sent") + dstat(S.e, "arp_requests_sent") + dstat(C.e, "arp_replies_sent") + dstat(S.e, "arp_replies_sent"), 0);
	cr_assert_eq(dstat(C.e, "arp_unresolved_drops"), 0);
	tern_rpc_destroy(C.rpc);
	tern_rpc_destroy(S.rpc);
	pair_down();
}

/* A pair of engines with a session that made a few calls, and a pool to
 * put frames of our own straight onto the client's queue. */
static struct rte_mempool *frames_up(struct tern_session **s, struct tern_dpdk_port_info *si,
				     struct tern_dpdk_port_info *ci)
{
	pair_up(false, 1, true);
	side_up(&S, SP, 0, 0);
	side_up(&C, CP, 0, 0);
	*s = connect_to(&C, SRV_IP, SRV_PORT);
	echo_calls(&C, &S, *s, 10);
	tern_dpdk_port_info(SP, si);
	tern_dpdk_port_info(CP, ci);
	struct rte_mempool *mp = rte_pktmbuf_pool_create("tern_test_frames", 1023, 0, 0, 2048 + 128, SOCKET_ID_ANY);
	cr_assert_not_null(mp);
	return mp;
}

/* What ARP taught the port, an application can read (tern-bench's raw
 * frames go to the MAC tern's session found). */
Test(dpdk, a_neighbour_learnt_by_arp_can_be_looked_up, .timeout = 60, .fini = eal_files_gone)
{
	struct tern_dpdk_port_info si, ci;
	struct tern_session *s;
	struct rte_mempool *mp = frames_up(&s, &si, &ci);
	struct tern_dpdk_neighbor n = { .ip = { 10, 77, 0, 1 } };
	cr_assert_eq(tern_dpdk_port_neighbor(CP, &n), 0);
	cr_assert_arr_eq(n.mac, si.mac, 6);
	cr_assert(dstat(C.e, "arp_requests_sent") + dstat(S.e, "arp_requests_sent") > 0, "learnt by ARP, not given");
	cr_assert_eq(tern_dpdk_port_neighbor(CP, NULL), TERN_EINVAL);
	rte_mempool_free(mp);
	tern_rpc_destroy(C.rpc);
	tern_rpc_destroy(S.rpc);
	pair_down();
}

/* Seeded junk and half-valid frames straight onto the wire: counted and
 * dropped, and the calls go on. */
Test(dpdk, hostile_frames_are_dropped_and_counted, .timeout = 60, .fini = eal_files_gone)
{
	struct tern_dpdk_port_info si, ci;
	struct tern_session *s;
	struct rte_mempool *mp = frames_up(&s, &si, &ci);
	struct tni_rng r;
	tni_rng_seed(&r, 7);
	for (int i = 0; i < 3000; i++) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
		cr_assert_not_null(m);
		uint16_t len = (uint16_t)(tni_rng_next(&r) % 1400);
		uint8_t *d = (uint8_t *)rte_pktmbuf_append(m, len < 14 ? 14 : len);
		for (unsigned k = 0; k < m->data_len; k++)
			d[k] = (uint8_t)tni_rng_next(&r);
		/* Most frames look like IPv4/UDP to the server: the parser's
		 * length checks, then the tern decoder, see them. */
		if (i % 4 != 0 && m->data_len >= 42) {
			memcpy(d, si.mac, 6);
			memcpy(d + 6, ci.mac, 6);
			d[12] = 0x08, d[13] = 0x00;
			d[14] = 0x45;
			d[23] = 17;
			memcpy(d + 30, (uint8_t[]){ 10, 77, 0, 1 }, 4);
			d[36] = SRV_PORT >> 8, d[37] = SRV_PORT & 0xff;
			if (i % 2) { /* consistent lengths: reaches the tern decoder */
				uint16_t ipl = (uint16_t)(m->data_len - 14), ul = (uint16_t)(ipl - 20);
				d[16] = (uint8_t)(ipl >> 8), d[17] = (uint8_t)ipl;
				d[20] = d[21] = 0;
				d[38] = (uint8_t)(ul >> 8), d[39] = (uint8_t)ul;
			}
		}
		if (i % 16 == 1 && m->data_len >= 42) {
			d[12] = 0x08, d[13] = 0x06; /* a mangled ARP */
		}
		uint16_t sent = 0;
		for (int t = 0; t < 100 && !sent; t++) {
			sent = rte_eth_tx_burst(ci.port_id, 0, &m, 1);
			tern_engine_poll(S.e);
		}
		if (!sent)
			rte_pktmbuf_free(m);
	}
	for (int k = 0; k < 1000; k++)
		tern_engine_poll(S.e);
	echo_calls(&C, &S, s, 100);
	struct tern_stats ss;
	tern_engine_stats(S.e, &ss);
	cr_assert_gt(dstat(S.e, "nic_rx_other"), 0);
	cr_assert_gt(ss.bad_crc + ss.bad_header, 0);
	cr_assert_eq(atomic_load(&S.runs), 110);
	tern_rpc_destroy(C.rpc);
	tern_rpc_destroy(S.rpc);
	rte_mempool_free(mp);
	pair_down();
}

/* tern-bench serve's raw reflector: a UDP frame to the reflect port comes
 * back with its addresses and ports swapped and its payload intact, while
 * the engine polling the queue sees no packet; tern on the same port is
 * unaffected. An engine's own port cannot be the reflector's. */
Test(dpdk, frames_to_the_reflect_port_come_back_swapped_with_no_tern_work, .timeout = 60, .fini = eal_files_gone)
{
	reflect_port = 9000;
	struct tern_dpdk_port_info si, ci;
	struct tern_session *s;
	struct rte_mempool *mp = frames_up(&s, &si, &ci);
	struct tern_stats before;
	tern_engine_stats(S.e, &before);
	uint32_t sip = ip_of(SRV_IP), cip = ip_of(CLI_IP);
	for (int i = 0; i < 100; i++) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
		uint16_t payload = (uint16_t)(1 + i * 13);
		uint8_t *d = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(42 + payload));
		memset(d, 0, 42);
		memcpy(d, si.mac, 6);
		memcpy(d + 6, ci.mac, 6);
		d[12] = 0x08, d[13] = 0x00;
		d[14] = 0x45;
		uint16_t ipl = (uint16_t)(28 + payload), ul = (uint16_t)(8 + payload);
		d[16] = (uint8_t)(ipl >> 8), d[17] = (uint8_t)ipl;
		d[22] = 64, d[23] = 17;
		memcpy(d + 26, &cip, 4);
		memcpy(d + 30, &sip, 4);
		d[34] = 0x30, d[35] = 0x39; /* from 12345 */
		d[36] = 9000 >> 8, d[37] = 9000 & 0xff;
		d[38] = (uint8_t)(ul >> 8), d[39] = (uint8_t)ul;
		for (unsigned k = 0; k < payload; k++)
			d[42 + k] = (uint8_t)(i + k);
		/* Odd frames carry a UDP checksum that is wrong, as a kernel on a
		 * veth leaves it (the offload never runs): the echo's is right. */
		if (i % 2)
			d[40] = 0x12, d[41] = 0x34;
		cr_assert_eq(rte_eth_tx_burst(ci.port_id, 0, &m, 1), 1);
		struct rte_mbuf *r = NULL;
		for (int t = 0; t < 100000 && !r; t++) {
			tern_engine_poll(S.e);
			if (rte_eth_rx_burst(ci.port_id, 0, &r, 1) == 0) {
				r = NULL;
			} else if (r->data_len < 42 || rte_pktmbuf_mtod(r, const uint8_t *)[37] != 0x39) {
				rte_pktmbuf_free(r); /* tern's own, for the client engine we do not poll */
				r = NULL;
			}
		}
		cr_assert_not_null(r, "frame %d came back", i);
		const uint8_t *b = rte_pktmbuf_mtod(r, const uint8_t *);
		cr_assert_eq(r->data_len, 42 + payload);
		cr_assert_eq(memcmp(b, ci.mac, 6), 0);
		cr_assert_eq(memcmp(b + 6, si.mac, 6), 0);
		cr_assert_eq(memcmp(b + 26, &sip, 4), 0);
		cr_assert_eq(memcmp(b + 30, &cip, 4), 0);
		cr_assert(b[34] == (9000 >> 8) && b[35] == (9000 & 0xff) && b[36] == 0x30 && b[37] == 0x39);
		for (unsigned k = 0; k < payload; k++)
			cr_assert_eq(b[42 + k], (uint8_t)(i + k));
		if (i % 2) {
			/* The one's-complement sum over pseudo-header, header and
			 * payload, checksum included, is all ones. */
			uint32_t sum = 0;
			for (int k = 26; k < 34; k += 2)
				sum += (uint32_t)(b[k] << 8 | b[k + 1]);
			sum += 17 + (uint32_t)(8 + payload);
			for (unsigned k = 34; k < 42u + payload; k += 2)
				sum += (uint32_t)(b[k] << 8 | (k + 1 < 42u + payload ? b[k + 1] : 0));
			while (sum >> 16)
				sum = (sum & 0xffff) + (sum >> 16);
			cr_assert_eq(sum, 0xffff, "frame %d: the echo's UDP checksum is right", i);
		} else
			cr_assert(b[40] == 0 && b[41] == 0, "no checksum stays none");
		rte_pktmbuf_free(r);
	}
	struct tern_stats after;
	tern_engine_stats(S.e, &after);
	cr_assert_eq(dstat(S.e, "reflected"), 100);
	cr_assert_eq(after.rx_pkts, before.rx_pkts, "tern saw none of them");
	echo_calls(&C, &S, s, 10);
	struct tern_dpdk_port_config pc;
	tern_dpdk_port_config_init(&pc);
	pc.device = "net_memif0";
	pc.ip = SRV_IP;
	pc.udp_port = 9000;
	pc.queues = 2;
	pc.reflect_udp_port = 9001;
	struct tern_dpdk_port *bad;
	cr_assert_eq(tern_dpdk_port_create(&pc, &bad), TERN_EINVAL);
	tern_rpc_destroy(C.rpc);
	tern_rpc_destroy(S.rpc);
	rte_mempool_free(mp);
	pair_down();
}

/* The server's port goes away: the client's link goes down, its calls end
 * by their deadline, and sending never spins. */
Test(dpdk, peer_port_gone_calls_fail_in_time_and_tx_is_bounded, .timeout = 60, .fini = eal_files_gone)
{
	pair_up(false, 1, true);
	side_up(&S, SP, 0, 0);
	side_up(&C, CP, 0, 0);
	struct tern_session *s = connect_to(&C, SRV_IP, SRV_PORT);
	echo_calls(&C, &S, s, 10);
	tern_rpc_destroy(S.rpc);
	cr_assert_eq(tern_dpdk_port_destroy(SP), 0);
	SP = NULL;
	uint64_t t0 = udp_now();
	int failed = 0;
	for (int i = 0; i < 20; i++) {
		struct udp_call c;
		int rc = udp_call_echo(&C, NULL, s, "x", 1, 100 * MS, &c);
		if (rc == TERN_ECLOSED || rc == TERN_EPEERDEAD) {
			failed += 20 - i;
			break;
		}
		cr_assert_eq(rc, TERN_ETIMEDOUT, "%s", tern_strerror(rc));
		failed++;
	}
	cr_assert_eq(failed, 20);
	cr_assert_lt(udp_now() - t0, 10 * SEC);
	tern_rpc_destroy(C.rpc);
	pair_down();
}

static void alarm_ran(void *arg)
{
	atomic_store((atomic_bool *)arg, true);
}

/* memif unmaps its rings on the EAL's interrupt thread when a peer goes
 * (dpdk_gate.h): while a burst runs, that thread runs no callback at all.
 * An alarm stands in for memif's handler (alarms run on that thread too),
 * and the test holds a burst's place in the gate, as the driver does
 * around rte_eth_tx_burst. */
Test(dpdk, the_interrupt_thread_runs_no_callback_while_a_memif_burst_runs, .timeout = 60, .fini = eal_files_gone)
{
	pair_up(false, 1, true);
	cr_assert_not_null(SP->gate, "a memif port has no gate");
	cr_assert_eq(SP->gate, CP->gate, "two gates for one interrupt thread");
	struct tni_gate *g = SP->gate;
	int slot = tni_gate_slot_get(g);
	cr_assert_geq(slot, 0);
	uint64_t until = udp_now() + 5 * SEC;
	while (!tni_gate_enter(g, slot))
		cr_assert_lt(udp_now(), until, "the interrupt thread never parked");
	static atomic_bool ran;
	atomic_store(&ran, false);
	cr_assert_eq(rte_eal_alarm_set(1, alarm_ran, &ran), 0);
	/* The thread's park ends, and it waits for the burst to. */
	until = udp_now() + 5 * SEC;
	while (!atomic_load(&g->out))
		cr_assert_lt(udp_now(), until, "the interrupt thread's park never ended");
	usleep(100000);
	cr_assert(!atomic_load(&ran), "a callback ran on the interrupt thread inside a burst");
	uint64_t outings = atomic_load(&g->outings);
	tni_gate_leave(g, slot);
	until = udp_now() + 5 * SEC;
	while (!atomic_load(&ran))
		cr_assert_lt(udp_now(), until, "the interrupt thread stayed parked after the burst");
	cr_assert_gt(atomic_load(&g->outings), outings);
	cr_assert_geq(atomic_load(&g->waited_out), 1, "the thread did not wait for the burst");
	tni_gate_slot_put(g, slot);
	pair_down();
}

/* The server engine runs on its own thread (an EAL-foreign thread, as in a
 * user's program) with handlers on worker threads; the client makes
 * blocking calls from the test thread. */
struct server_thread {
	pthread_t t;
	atomic_int state; /* 0 starting, 1 serving, -1 failed */
	atomic_bool stop;
};

static void *serve_memif(void *arg)
{
	struct server_thread *st = arg;
	struct tern_rpc_config rc;
	tern_rpc_config_init(&rc);
	rc.workers = 2;
	struct tern_engine_config ec;
	tern_engine_config_init(&ec);
	if (tern_dpdk_driver_open(SP, 0, &ec.driver) || udp_side_open_cfg(&S, &rc, &ec)) {
		atomic_store(&st->state, -1);
		return NULL;
	}
	atomic_store(&st->state, 1);
	while (!atomic_load(&st->stop))
		tern_engine_poll(S.e);
	tern_rpc_destroy(S.rpc);
	return NULL;
}

Test(dpdk, sync_calls_to_worker_handlers_on_another_thread, .timeout = 60, .fini = eal_files_gone)
{
	pair_up(false, 1, true);
	static struct server_thread st;
	cr_assert_eq(pthread_create(&st.t, NULL, serve_memif, &st), 0);
	while (atomic_load(&st.state) == 0)
		;
	cr_assert_eq(atomic_load(&st.state), 1);
	side_up(&C, CP, 0, 0);
	struct tern_session *s = connect_to(&C, SRV_IP, SRV_PORT);
	for (int i = 0; i < 2000; i++) {
		char q[32], r[32];
		size_t rl = 0;
		int n = snprintf(q, sizeof(q), "call %d", i);
		int rc = tern_rpc_call_sync(C.rpc, s, ECHO, q, (size_t)n, SEC, r, sizeof(r), &rl);
		cr_assert_eq(rc, 0, "call %d: %s", i, tern_strerror(rc));
		cr_assert_eq(rl, (size_t)n);
		cr_assert_eq(memcmp(q, r, rl), 0);
	}
	cr_assert_eq(atomic_load(&S.runs), 2000);
	tern_rpc_destroy(C.rpc);
	atomic_store(&st.stop, true);
	pthread_join(st.t, NULL);
	pair_down();
}
