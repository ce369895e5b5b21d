/* tern between processes: loopback, a veth pair between two network
 * namespaces, and a server killed and restarted in the middle of calls. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tern_config.h"
#include "udp_harness.h"

#define MS 1000000ull
#define SEC 1000000000ull

struct proc {
	pid_t pid;
	int out; /* its stdout */
	int port;
};

static const char *echo_bin(void)
{
	const char *p = getenv("TERN_ECHO");
	cr_assert_not_null(p, "TERN_ECHO must name the tern-echo binary (meson sets it)");
	return p;
}

/* Start argv (in network namespace ns if not NULL) with its stdout piped. */
static struct proc spawn(const char *ns, char *const argv[])
{
	int fds[2];
	cr_assert_eq(pipe(fds), 0);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		/* Dies with the test, even one that stops at a failed assertion. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(fds[1], 1);
		close(fds[0]);
		close(fds[1]);
		if (ns) {
			char *full[32] = { "ip", "netns", "exec", (char *)ns };
			int i = 0;
			for (; argv[i] && i < 27; i++)
				full[4 + i] = argv[i];
			full[4 + i] = NULL;
			execvp("ip", full);
		} else {
			execv(argv[0], argv);
		}
		_exit(127);
	}
	close(fds[1]);
	return (struct proc){ .pid = pid, .out = fds[0] };
}

static void stop(struct proc *p, int sig);

/* Read the server's "serving on ...:PORT" line (5 s at most); -1 if it
 * exited without one. */
static int wait_serving_soft(struct proc *p)
{
	char buf[512];
	size_t n = 0;
	uint64_t until = udp_now() + 5 * SEC;
	while (udp_now() < until && n < sizeof(buf) - 1) {
		struct pollfd pfd = { p->out, POLLIN, 0 };
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		ssize_t r = read(p->out, buf + n, sizeof(buf) - 1 - n);
		if (r <= 0)
			break;
		n += (size_t)r;
		buf[n] = 0;
		char *nl = strchr(buf, '\n');
		if (nl) {
			*nl = 0;
			char *colon = strrchr(buf, ':');
			cr_assert(strstr(buf, "serving on") && colon, "server said: %s", buf);
			p->port = atoi(colon + 1);
			return p->port;
		}
	}
	return -1;
}

static int wait_serving(struct proc *p)
{
	int port = wait_serving_soft(p);
	cr_assert_gt(port, 0, "server did not start");
	return port;
}

/* A server restarted on the port of one just killed. The kernel frees an
 * io_uring process's socket asynchronously, a moment after the process is
 * gone, so retry the bind for a while as a supervisor would. */
static struct proc restart_on(char *const argv[])
{
	uint64_t until = udp_now() + 3 * SEC;
	for (;;) {
		struct proc p = spawn(NULL, argv);
		if (wait_serving_soft(&p) > 0)
			return p;
		stop(&p, SIGKILL);
		cr_assert_lt(udp_now(), until, "could not restart the server");
		usleep(20000);
	}
}

static void stop(struct proc *p, int sig)
{
	if (p->pid > 0) {
		kill(p->pid, sig);
		waitpid(p->pid, NULL, 0);
		close(p->out);
		p->pid = 0;
	}
}

/* Wait for p to exit (bounded); returns its exit status, -1 if killed. */
static int finish(struct proc *p, char *out, size_t cap, uint64_t limit_ns)
{
	size_t n = 0;
	uint64_t until = udp_now() + limit_ns;
	int st = 0;
	for (;;) {
		struct pollfd pfd = { p->out, POLLIN, 0 };
		if (poll(&pfd, 1, 50) > 0) {
			ssize_t r = read(p->out, out + n, cap - 1 - n);
			if (r > 0)
				n += (size_t)r;
		}
		out[n] = 0;
		pid_t w = waitpid(p->pid, &st, WNOHANG);
		if (w == p->pid)
			break;
		if (udp_now() > until) {
			kill(p->pid, SIGKILL);
			waitpid(p->pid, &st, 0);
			close(p->out);
			return -1;
		}
	}
	ssize_t r;
	while (n < cap - 1 && (r = read(p->out, out + n, cap - 1 - n)) > 0)
		n += (size_t)r;
	out[n] = 0;
	close(p->out);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void client_server(const char *srv_ns, const char *cli_ns, const char *host, const char *driver)
{
	char *sargv[] = { (char *)echo_bin(), "server", "--port", "0", "--driver", (char *)driver, NULL };
	struct proc srv = spawn(srv_ns, sargv);
	char port[16];
	snprintf(port, sizeof(port), "%d", wait_serving(&srv));
	char *cargv[] = { (char *)echo_bin(), "client", (char *)host, "--port", port, "--driver", (char *)driver,
			  "--count", "3000", "--depth", "4", "--quiet", NULL };
	struct proc cli = spawn(cli_ns, cargv);
	char out[2048];
	int rc = finish(&cli, out, sizeof(out), 60 * SEC);
	char big[16];
	snprintf(big, sizeof(big), "%d", 100000);
	char *bargv[] = { (char *)echo_bin(), "client", (char *)host, "--port", port, "--driver", (char *)driver,
			  "--count", "20", "--size", big, "--quiet", NULL };
	struct proc bcli = spawn(cli_ns, bargv);
	char bout[2048];
	int brc = finish(&bcli, bout, sizeof(bout), 60 * SEC);
	stop(&srv, SIGTERM);
	cr_assert_eq(rc, 0, "client: %s", out);
	cr_assert(strstr(out, "ok 3000 failed 0"), "client said: %s", out);
	cr_assert_eq(brc, 0, "client (100 kB): %s", bout);
}

Test(process, two_processes_over_loopback_io_uring, .timeout = 120)
{
	client_server(NULL, NULL, "127.0.0.1", "uring");
}

Test(process, two_processes_over_loopback_sockets_forced, .timeout = 120)
{
	client_server(NULL, NULL, "127.0.0.1", "sockets");
}

/* ---- network namespaces ---- */

static char ns_a[64], ns_b[64];

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

static void netns_down(void)
{
	sh("ip netns del %s 2>/dev/null", ns_a); /* the veth pair goes with it */
	sh("ip netns del %s 2>/dev/null", ns_b);
}

/* Two namespaces joined by a veth pair: 10.213.N.1 in a, 10.213.N.2 in b. */
static int netns_up(char *addr_a, size_t len)
{
	if (geteuid() != 0 || sh("command -v ip >/dev/null 2>&1") != 0)
		return -1;
	int id = getpid() % 250;
	snprintf(ns_a, sizeof(ns_a), "tern-test-%d-a", getpid());
	snprintf(ns_b, sizeof(ns_b), "tern-test-%d-b", getpid());
	snprintf(addr_a, len, "10.213.%d.1", id);
	netns_down();
	if (sh("ip netns add %s && ip netns add %s", ns_a, ns_b) ||
	    sh("ip link add tv%da netns %s type veth peer name tv%db netns %s", getpid(), ns_a, getpid(), ns_b) ||
	    sh("ip -n %s addr add 10.213.%d.1/24 dev tv%da && ip -n %s link set tv%da up && ip -n %s link set lo up",
	       ns_a, id, getpid(), ns_a, getpid(), ns_a) ||
	    sh("ip -n %s addr add 10.213.%d.2/24 dev tv%db && ip -n %s link set tv%db up && ip -n %s link set lo up",
	       ns_b, id, getpid(), ns_b, getpid(), ns_b)) {
		netns_down();
		return -1;
	}
	return 0;
}

Test(process, veth_between_two_namespaces, .timeout = 180, .fini = netns_down)
{
	char addr[32];
	if (netns_up(addr, sizeof(addr)))
		cr_skip_test("needs root and iproute2 to create network namespaces");
	client_server(ns_a, ns_b, addr, "uring");
	client_server(ns_a, ns_b, addr, "sockets");
	/* Mixed: an io_uring server and a sockets client on the same wire. */
	client_server(ns_a, ns_b, addr, "auto");
}

/* ---- a server killed in the middle of calls, then restarted ---- */

struct tracked {
	uint64_t issued;
	int status;
	bool done;
};

static struct udp_side C;
static unsigned late, ended, ok_calls, failed_calls, restart_seen;
static uint64_t deadline_ns = 300 * MS;

static void tracked_cont(int status, const void *resp, size_t len, void *arg)
{
	(void)resp;
	(void)len;
	struct tracked *t = arg;
	t->done = true;
	t->status = status;
	uint64_t took = udp_now() - t->issued;
	if (took > deadline_ns + 100 * MS)
		late++;
	ended++;
	if (status == 0)
		ok_calls++;
	else {
		cr_assert(status == TERN_ETIMEDOUT || status == TERN_EPEERDEAD || status == TERN_EPEERRESTART ||
				  status == TERN_ECLOSED,
			  "unexpected status %s", tern_strerror(status));
		failed_calls++;
		restart_seen += status == TERN_EPEERRESTART;
	}
	free(t);
}

static struct tern_session *sess;
static int sess_status;
static void on_session(struct tern_session *s, enum tern_session_event ev, int status, void *user)
{
	(void)user;
	if (ev == TERN_SESSION_DEAD && s == sess) {
		sess = NULL;
		sess_status = status;
	}
}

/* Keep depth calls in flight for dur_ns, reconnecting when the session ends. */
static void drive(struct tern_addr *to, unsigned depth, uint64_t dur_ns, unsigned *inflight)
{
	uint64_t until = udp_now() + dur_ns;
	while (udp_now() < until) {
		if (!sess && *inflight == 0)
			cr_assert_eq(tern_session_connect(C.e, to, &sess), 0);
		while (sess && ended + depth > ok_calls + failed_calls + *inflight && *inflight < depth) {
			void *q = tern_rpc_alloc(C.rpc, 32);
			struct tracked *t = calloc(1, sizeof(*t));
			t->issued = udp_now();
			if (tern_rpc_call(C.rpc, sess, ECHO, q, 32, deadline_ns, tracked_cont, t, NULL)) {
				tern_rpc_free(C.rpc, q);
				free(t);
				break;
			}
			(*inflight)++;
		}
		unsigned before = ended;
		tern_engine_poll(C.e);
		*inflight -= ended - before;
	}
}

Test(process, server_killed_mid_calls_then_restarted, .timeout = 120)
{
	struct tern_rpc_config rc;
	tern_rpc_config_init(&rc);
	rc.workers = 0;
	struct tern_engine_config ec;
	tern_engine_config_init(&ec);
	ec.dead_after_ns = 1 * SEC;
	ec.cb.on_session = on_session;
	cr_assert_eq(udp_driver(TERN_DRIVER_AUTO, "127.0.0.1", 0, &ec.driver), 0);
	cr_assert_eq(tern_rpc_create(&rc, &ec, &C.rpc), 0);
	C.e = tern_rpc_engine(C.rpc);

	char *sargv[] = { (char *)echo_bin(), "server", "--port", "0", NULL };
	struct proc srv = spawn(NULL, sargv);
	int port = wait_serving(&srv);
	struct tern_addr to;
	tern_addr_resolve("127.0.0.1", (uint16_t)port, &to);
	unsigned inflight = 0;
	/* Enough calls to be mid-stream (a loaded machine takes longer). */
	uint64_t give_up = udp_now() + 10 * SEC;
	do
		drive(&to, 8, 100 * MS, &inflight);
	while (ok_calls <= 100 && udp_now() < give_up);
	unsigned ok_before = ok_calls;
	cr_assert_gt(ok_before, 100, "calls before the kill: %u", ok_before);
	cr_assert_eq(failed_calls, 0);

	stop(&srv, SIGKILL); /* mid-calls: 8 are in flight */
	drive(&to, 8, 1500 * MS, &inflight);
	cr_assert_gt(failed_calls, 0, "calls to a dead server must fail");
	cr_assert_eq(late, 0, "%u calls ended after their deadline", late);

	/* A new server process on the same port: the client learns of the new
	 * epoch (RST), reconnects, and calls succeed again. */
	char pstr[16];
	snprintf(pstr, sizeof(pstr), "%d", port);
	char *rargv[] = { (char *)echo_bin(), "server", "--port", pstr, NULL };
	struct proc srv2 = restart_on(rargv);
	unsigned ok_mid = ok_calls;
	drive(&to, 8, 1500 * MS, &inflight);
	drive(&to, 0, 500 * MS, &inflight); /* let the last calls end */
	cr_assert_gt(ok_calls - ok_mid, 100, "calls after the restart: %u", ok_calls - ok_mid);
	cr_assert_eq(late, 0, "%u calls ended after their deadline", late);
	cr_assert_eq(inflight, 0);
	/* Killed and back at once, before the session could time out: the
	 * client must see the restart itself (new epoch), not a timeout. */
	stop(&srv2, SIGKILL);
	struct proc srv3 = restart_on(rargv);
	unsigned ok_late = ok_calls;
	drive(&to, 8, 1000 * MS, &inflight);
	drive(&to, 0, 500 * MS, &inflight);
	cr_assert_geq(restart_seen, 1, "the restart was not recognised");
	cr_assert_gt(ok_calls - ok_late, 100);
	cr_assert_eq(late, 0);
	printf("[kill/restart] ok %u, failed %u (peer restarted %u), none after its deadline\n", ok_calls,
	       failed_calls, restart_seen);
	stop(&srv3, SIGTERM);
	tern_rpc_destroy(C.rpc);
}

/* ---- DPDK: memif between two processes, af_packet and af_xdp on a veth
 * end, talking to io_uring on the other end ---- */

#if TERN_HAVE_DPDK
#define EAL "--no-huge -m 512 --no-pci --single-file-segments --log-level=lib.eal:warning " \
	    "--log-level=pmd.net.memif:warning --log-level=pmd.net.af_xdp:error --file-prefix="

static void dpdk_files_gone(void)
{
	sh("rm -rf /var/run/dpdk/tern-ptest-%d-*", getpid());
}

static void dpdk_down(void)
{
	dpdk_files_gone();
	netns_down();
}

/* "--eal ..." for a side named who, with these vdevs. */
static const char *eal_args(char *buf, size_t len, const char *who, const char *vdev)
{
	snprintf(buf, len, EAL "tern-ptest-%d-%s --vdev=%s", getpid(), who, vdev);
	return buf;
}

/* A server with srv_args on port 7100, then two clients in turn with
 * cli_args: 3000 small calls 4 deep, and 20 of 100 kB; the server must
 * outlive both (the memif socket file, if any, is removed first). A memif
 * server once died now and then as its first client exited: DPDK 22.11's
 * memif unmaps the rings on the interrupt thread without waiting for the
 * datapath (docs/dpdk.md, "the interrupt thread's gate"). */
static void pair_run(const char *srv_ns, const char *const *srv_args, const char *cli_ns,
		     const char *const *cli_args, const char *host, const char *memif_sock)
{
	char *argv[40] = { (char *)echo_bin(), "server", "--port", "7100" };
	int n = 4;
	for (int i = 0; srv_args[i]; i++)
		argv[n++] = (char *)srv_args[i];
	argv[n] = NULL;
	struct proc srv = { 0 };
	static const char *const tails[2][9] = {
		{ "--count", "3000", "--depth", "4", "--timeout", "5000", "--quiet", NULL },
		{ "--count", "20", "--size", "100000", "--timeout", "5000", "--quiet", NULL },
	};
	char out[2][2048];
	int rc[2];
	if (memif_sock)
		unlink(memif_sock);
	srv = spawn(srv_ns, argv);
	cr_assert_eq(wait_serving(&srv), 7100);
	for (int k = 0; k < 2; k++) {
		char *cargv[40] = { (char *)echo_bin(), "client", (char *)host, "--port", "7100" };
		int m = 5;
		for (int i = 0; cli_args[i]; i++)
			cargv[m++] = (char *)cli_args[i];
		for (int i = 0; tails[k][i]; i++)
			cargv[m++] = (char *)tails[k][i];
		cargv[m] = NULL;
		struct proc cli = spawn(cli_ns, cargv);
		rc[k] = finish(&cli, out[k], sizeof(out[k]), 60 * SEC);
	}
	usleep(200000); /* what a peer's exit sets off on the server has run */
	int st = 0;
	pid_t gone = waitpid(srv.pid, &st, WNOHANG);
	cr_assert_eq(gone, 0, "the server died after its clients (%s %d)", WIFSIGNALED(st) ? "signal" : "status",
		     WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
	stop(&srv, SIGTERM);
	cr_assert_eq(rc[0], 0, "client: %s", out[0]);
	cr_assert(strstr(out[0], "ok 3000 failed 0"), "client said: %s", out[0]);
	/* Calls that succeed only by retransmission hide a path that drops
	 * packets (an unsegmented GSO train did, two thirds of them). */
	const char *rt = strstr(out[0], "out retransmits ");
	cr_assert_not_null(rt, "client said: %s", out[0]);
	cr_assert_lt(strtoul(rt + strlen("out retransmits "), NULL, 10), 300, "client said: %s", out[0]);
	cr_assert_eq(rc[1], 0, "client (100 kB): %s", out[1]);
	cr_assert(strstr(out[1], "ok 20 failed 0"), "client said: %s", out[1]);
}

static void memif_processes(bool zero_copy)
{
	char sock[64], sv[128], cv[160], se[512], ce[512];
	snprintf(sock, sizeof(sock), "/tmp/tern-ptest-%d.sock", getpid());
	snprintf(sv, sizeof(sv), "net_memif0,role=server,socket=%s", sock);
	snprintf(cv, sizeof(cv), "net_memif0,role=client,socket=%s%s", sock, zero_copy ? ",zero-copy=yes" : "");
	const char *srv[] = { "--driver", "dpdk", "--dpdk-ip", "10.215.0.1", "--eal", eal_args(se, sizeof(se), "s", sv),
			      NULL };
	const char *cli[] = { "--driver", "dpdk", "--dpdk-ip", "10.215.0.2", "--eal", eal_args(ce, sizeof(ce), "c", cv),
			      NULL };
	pair_run(NULL, srv, NULL, cli, "10.215.0.1", sock);
}

Test(process, dpdk_memif_between_two_processes_copy_mode, .timeout = 120, .fini = dpdk_files_gone)
{
	memif_processes(false);
}

Test(process, dpdk_memif_between_two_processes_zero_copy_mode, .timeout = 120, .fini = dpdk_files_gone)
{
	memif_processes(true);
}

/* DPDK on the a end of a veth pair (address .3, beside the kernel's .1),
 * io_uring in namespace b: each calls the other. */
static void veth_interop(const char *pmd)
{
	char addr[32];
	if (netns_up(addr, sizeof(addr)))
		cr_skip_test("needs root and iproute2 to create network namespaces");
	/* veth hands a UDP GSO train to its peer unsegmented, and the DPDK
	 * port on that peer sees one oversized frame (docs/dpdk.md): the
	 * kernel end segments before the wire, as a real NIC does. */
	cr_assert_eq(sh("ip -n %s link set dev tv%db gso_max_segs 1", ns_b, getpid()), 0);
	char dpdk_ip[32], kernel_ip[32], vdev[96], e1[512], e2[512];
	snprintf(dpdk_ip, sizeof(dpdk_ip), "%.*s3", (int)(strlen(addr) - 1), addr);
	snprintf(kernel_ip, sizeof(kernel_ip), "%.*s2", (int)(strlen(addr) - 1), addr);
	snprintf(vdev, sizeof(vdev), "%s0,iface=tv%da", pmd, getpid());
	const char *dpdk_srv[] = { "--driver", "dpdk", "--dpdk-ip", dpdk_ip, "--eal", eal_args(e1, sizeof(e1), "s", vdev),
				   NULL };
	/* The kernel side sleeps when idle: on two cores, two spinning
	 * processes would starve the softirq work of the veth pair. */
	const char *uring[] = { "--driver", "uring", "--poll", "adaptive", NULL };
	pair_run(ns_a, dpdk_srv, ns_b, uring, dpdk_ip, NULL);
	const char *dpdk_cli[] = { "--driver", "dpdk", "--dpdk-ip", dpdk_ip, "--eal", eal_args(e2, sizeof(e2), "c", vdev),
				   NULL };
	pair_run(ns_b, uring, ns_a, dpdk_cli, kernel_ip, NULL);
}

Test(process, dpdk_af_packet_and_io_uring_call_each_other_over_veth, .timeout = 180, .fini = dpdk_down)
{
	veth_interop("net_af_packet");
}

Test(process, dpdk_af_xdp_and_io_uring_call_each_other_over_veth, .timeout = 180, .fini = dpdk_down)
{
	veth_interop("net_af_xdp");
}
#endif
