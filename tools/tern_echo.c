/* tern-echo: an RPC echo server and a client that measures it. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dpdk_setup.h"
#include "driver_why.h"
#include "tern/tern.h"

#define ECHO_TYPE 1

static volatile sig_atomic_t stop;
static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

struct opts {
	const char *mode, *host, *bind;
	int port;
	int driver;
	int poll_mode;
	size_t size;
	unsigned long count;
	unsigned depth;
	double timeout_ms;
	int reconnect;
	int workers;
	int quiet;
	int uring_setup, no_gso;
	unsigned long zc_min;
	int cc;
	unsigned long cc_target_us;
	long reply; /* server: answer with this many bytes; -1: echo the request */
	struct dpdk_setup dpdk;
	int local_port; /* dpdk client: our UDP port */
	struct tern_dpdk_port *dpdk_port;
};


static void usage(FILE *f)
{
	fprintf(f,
		"usage: tern-echo server [options]\n"
		"       tern-echo client HOST [options]\n"
		"\n"
		"An RPC echo server, and a client that calls it and prints latency\n"
		"percentiles and errors. Both speak tern over kernel UDP or DPDK, and\n"
		"each kind talks to the other.\n"
		"\n"
		"common options:\n"
		"  --port N          UDP port of the server (default 7100; a server given 0\n"
		"                    takes any free port and prints it)\n"
		"  --driver NAME     auto, uring, sockets or dpdk (default auto: sockets for\n"
		"                    busy polling, io_uring for adaptive where the kernel\n"
		"                    allows it; a line says which and why)\n"
		"  --poll MODE       busy or adaptive (default busy: lowest latency, one core)\n"
		"  --uring-setup M   io_uring ring: auto, defer-taskrun, coop-taskrun, plain,\n"
		"                    sqpoll (default auto; see docs/uring.md)\n"
		"  --no-gso          io_uring: send packet by packet, not as UDP GSO trains\n"
		"  --zc-min BYTES    io_uring: SEND_ZC for trains of at least BYTES, always (default:\n"
		"                    tried on the first trains of 16 KiB and up, kept where not copied)\n"
		"  --cc NAME         congestion control: aimd, off, timely, swift (default aimd)\n"
		"  --cc-target-us N  Swift's target delay (default 25; above the path's idle RTT)\n"
		"dpdk options (docs/dpdk.md):\n"
		"  --eal ARGS        EAL arguments, one string (\"--no-huge -m 512 --vdev=...\")\n"
		"  --dpdk-dev NAME   the port (default: port 0)\n"
		"  --dpdk-ip ADDR    our IPv4 address on the port (required)\n"
		"  --neighbor IP=MAC a static neighbour, used before ARP\n"
		"  --local-port N    client: our UDP port (default 7200)\n"
		"  --no-offload      compute checksums in software\n"
		"server options:\n"
		"  --bind HOST       address to serve on (default: all, IPv6 and IPv4)\n"
		"  --workers         run the handler on a worker thread\n"
		"  --reply BYTES     answer with BYTES instead of echoing the request\n"
		"                    (the client then accepts answers of that size)\n"
		"client options:\n"
		"  --size BYTES      request size; the answer is as large (default 64)\n"
		"  --count N         calls to make (default 100000)\n"
		"  --depth N         calls in flight at once (default 1)\n"
		"  --timeout MS      deadline of each call (default 1000)\n"
		"  --reconnect       open a new session when the server dies or restarts\n"
		"  --reply BYTES     expect answers of BYTES (a server run with --reply)\n"
		"  --quiet           print only the summary line\n"
		"  --help            this text\n"
		"\n"
		"The client exits 0 when every call succeeded, 1 otherwise.\n");
}

static int parse(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "port", required_argument, 0, 'p' }, { "driver", required_argument, 0, 'd' },
		{ "poll", required_argument, 0, 'P' }, { "bind", required_argument, 0, 'b' },
		{ "workers", no_argument, 0, 'w' }, { "size", required_argument, 0, 's' },
		{ "count", required_argument, 0, 'n' }, { "depth", required_argument, 0, 'D' },
		{ "timeout", required_argument, 0, 't' }, { "reconnect", no_argument, 0, 'r' },
		{ "quiet", no_argument, 0, 'q' }, { "help", no_argument, 0, 'h' },
		{ "uring-setup", required_argument, 0, 'U' }, { "no-gso", no_argument, 0, 'G' },
		{ "zc-min", required_argument, 0, 'Z' }, { "cc", required_argument, 0, 'C' },
		{ "reply", required_argument, 0, 'R' }, { "cc-target-us", required_argument, 0, 'T' },
		{ "eal", required_argument, 0, 'E' }, { "dpdk-dev", required_argument, 0, 'V' },
		{ "dpdk-ip", required_argument, 0, 'I' }, { "neighbor", required_argument, 0, 'N' },
		{ "local-port", required_argument, 0, 'L' }, { "no-offload", no_argument, 0, 'O' }, { 0, 0, 0, 0 },
	};
	*o = (struct opts){ .port = 7100, .size = 64, .count = 100000, .depth = 1, .timeout_ms = 1000, .reply = -1,
			    .local_port = 7200 };
	int c;
	char *end = NULL;
	int li = 0;
	while ((c = getopt_long(argc, argv, "h", lo, &li)) != -1) {
		switch (c) {
		case 'p': o->port = (int)strtol(optarg, &end, 10); if (*end || o->port < 0 || o->port > 65535) goto bad; break;
		case 'd': o->driver = tern_driver_parse(optarg); if (o->driver < 0 || o->driver == TERN_DRIVER_SIM) goto bad; break;
		case 'P':
			if (strcmp(optarg, "busy") == 0) o->poll_mode = TERN_POLL_BUSY;
			else if (strcmp(optarg, "adaptive") == 0) o->poll_mode = TERN_POLL_ADAPTIVE;
			else goto bad;
			break;
		case 'b': o->bind = optarg; break;
		case 'w': o->workers = 1; break;
		case 's': o->size = strtoull(optarg, &end, 10); if (*end || o->size > (64u << 20) - 64) goto bad; break;
		case 'n': o->count = strtoul(optarg, &end, 10); if (*end || !o->count) goto bad; break;
		case 'D': o->depth = (unsigned)strtoul(optarg, &end, 10); if (*end || !o->depth || o->depth > 64) goto bad; break;
		case 't': o->timeout_ms = strtod(optarg, &end); if (*end || o->timeout_ms <= 0) goto bad; break;
		case 'r': o->reconnect = 1; break;
		case 'q': o->quiet = 1; break;
		case 'U': o->uring_setup = tern_uring_setup_parse(optarg); if (o->uring_setup < 0) goto bad; break;
		case 'G': o->no_gso = 1; break;
		case 'Z': o->zc_min = strtoul(optarg, &end, 10); if (*end) goto bad; break;
		case 'C': o->cc = tern_cc_parse(optarg); if (o->cc < 0) goto bad; break;
		case 'T': o->cc_target_us = strtoul(optarg, &end, 10); if (*end || !o->cc_target_us || o->cc_target_us > 1000000) goto bad; break;
		case 'R': o->reply = strtol(optarg, &end, 10); if (*end || o->reply < 0 || o->reply > (64l << 20)) goto bad; break;
		case 'E': o->dpdk.eal = optarg; break;
		case 'V': o->dpdk.dev = optarg; break;
		case 'I': o->dpdk.ip = optarg; break;
		case 'N': o->dpdk.neighbor = optarg; break;
		case 'O': o->dpdk.no_offload = 1; break;
		case 'L': o->local_port = (int)strtol(optarg, &end, 10); if (*end || o->local_port < 1 || o->local_port > 65535) goto bad; break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return -1;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return -1;
	}
	o->mode = argv[optind++];
	if (strcmp(o->mode, "client") == 0) {
		if (optind >= argc) {
			fprintf(stderr, "tern-echo: client needs the server's HOST\n");
			return -1;
		}
		o->host = argv[optind++];
		if (o->port == 0) {
			fprintf(stderr, "tern-echo: the client needs the server's --port\n");
			return -1;
		}
	} else if (strcmp(o->mode, "server") != 0) {
		fprintf(stderr, "tern-echo: unknown mode '%s' (server or client)\n", o->mode);
		return -1;
	}
	if (o->driver == TERN_DRIVER_DPDK) {
		bool server = strcmp(o->mode, "server") == 0;
		if (server && o->port == 0) {
			fprintf(stderr, "tern-echo: a dpdk server needs a --port\n");
			return -1;
		}
		o->dpdk.udp_port = (uint16_t)(server ? o->port : o->local_port);
		if (!(o->dpdk_port = dpdk_setup_open(&o->dpdk, "tern-echo")))
			return -1;
	}
	if (optind < argc) {
		fprintf(stderr, "tern-echo: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	return 0;
bad:
	fprintf(stderr, "tern-echo: bad value \'%s\' for --%s\n", optarg, lo[li].name);
	return -1;
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static struct tern_rpc *make_rpc(const struct opts *o, bool server, void *user,
				 void (*on_session)(struct tern_session *, enum tern_session_event, int, void *))
{
	struct tern_rpc_config rc;
	tern_rpc_config_init(&rc);
	rc.workers = server && o->workers ? 2 : 0;
	struct tern_engine_config ec;
	tern_engine_config_init(&ec);
	ec.poll_mode = (enum tern_poll_mode)o->poll_mode;
	ec.cc = (enum tern_cc_algo)o->cc;
	if (o->cc_target_us)
		ec.cc_target_ns = o->cc_target_us * 1000;
	ec.cb.on_session = on_session;
	ec.cb.user = user;
	/* A client accepts no sessions: with its one server the kernel
	 * drivers send through a connected socket (docs/uring.md). */
	ec.accept = server;
	int rc_;
	if (o->driver == TERN_DRIVER_DPDK) {
		rc_ = tern_dpdk_driver_open(o->dpdk_port, 0, &ec.driver);
	} else {
		struct tern_udp_config uc;
		tern_udp_config_init(&uc);
		uc.kind = (enum tern_driver_kind)o->driver;
		uc.bind_host = server ? o->bind : NULL;
		uc.port = server ? (uint16_t)o->port : 0;
		uc.uring_setup = (enum tern_uring_setup)o->uring_setup;
		uc.uring_no_gso = o->no_gso;
		uc.uring_zc_min_bytes = (uint32_t)o->zc_min;
		uc.poll_mode = ec.poll_mode;
		rc_ = tern_udp_open(&uc, &ec.driver);
	}
	struct tern_rpc *rpc;
	if (rc_ == 0)
		rc_ = tern_rpc_create(&rc, &ec, &rpc);
	if (rc_ == 0 && o->driver == TERN_DRIVER_AUTO)
		fprintf(stderr, "tern-echo: driver auto: %s\n",
			driver_auto_why(ec.poll_mode, tern_engine_driver(tern_rpc_engine(rpc))));
	if (rc_) {
		fprintf(stderr, "tern-echo: cannot start: %s\n", tern_strerror(rc_));
		return NULL;
	}
	return rpc;
}

/* ---- server ---- */

struct server {
	struct tern_rpc *rpc;
	unsigned long served;
	long reply;
};

static void echo(struct tern_rpc_req *req, void *arg)
{
	struct server *sv = arg;
	size_t n = sv->reply >= 0 ? (size_t)sv->reply : tern_rpc_req_len(req);
	void *out = tern_rpc_alloc(sv->rpc, n);
	if (!out) {
		tern_rpc_respond_error(req, 12);
		return;
	}
	if (sv->reply < 0)
		memcpy(out, tern_rpc_req_data(req), n);
	else
		memset(out, 0x5a, n);
	tern_rpc_respond(req, out, n);
	__atomic_add_fetch(&sv->served, 1, __ATOMIC_RELAXED);
}

static int run_server(const struct opts *o)
{
	struct server sv = { .reply = o->reply };
	sv.rpc = make_rpc(o, true, &sv, NULL);
	if (!sv.rpc)
		return 1;
	int rc = tern_rpc_register(sv.rpc, ECHO_TYPE, echo, &sv, o->workers ? TERN_RPC_WORKER : 0);
	if (rc) {
		fprintf(stderr, "tern-echo: %s\n", tern_strerror(rc));
		tern_rpc_destroy(sv.rpc);
		return 1;
	}
	struct tern_engine *e = tern_rpc_engine(sv.rpc);
	struct tern_addr a;
	char buf[80];
	tern_engine_local_addr(e, &a);
	printf("tern-echo: serving on %s, driver %s\n", tern_addr_format(&a, buf, sizeof(buf)),
	       tern_driver_name(tern_engine_driver(e)));
	fflush(stdout);
	while (!stop)
		tern_engine_poll(e);
	struct tern_stats st;
	tern_engine_stats(e, &st);
	printf("tern-echo: served %lu calls; %llu packets in, %llu out, %llu retransmits, %llu bad packets\n",
	       sv.served, (unsigned long long)st.rx_pkts, (unsigned long long)st.tx_pkts,
	       (unsigned long long)st.retransmits,
	       (unsigned long long)(st.bad_crc + st.bad_header + st.bad_peer + st.unknown_session));
	if (!o->quiet)
		print_driver_stats(stdout, "server", e);
	tern_rpc_destroy(sv.rpc);
	return 0;
}

/* ---- client ---- */

struct client {
	const struct opts *o;
	struct tern_rpc *rpc;
	struct tern_session *s;
	struct tern_addr server;
	uint64_t *lat;
	unsigned long issued, done, ok, errors[8];
	unsigned inflight;
	uint8_t *pattern;
	int session_status;
};

enum { E_TIMEOUT, E_PEERDEAD, E_RESTART, E_CLOSED, E_REMOTE, E_NOHANDLER, E_MSGSIZE, E_OTHER };
static const char *const err_names[] = { "timeout", "peer dead", "peer restarted", "closed", "remote error",
					 "no handler", "message too big", "other" };

static int err_index(int status)
{
	switch (status) {
	case TERN_ETIMEDOUT: return E_TIMEOUT;
	case TERN_EPEERDEAD: return E_PEERDEAD;
	case TERN_EPEERRESTART: return E_RESTART;
	case TERN_ECLOSED: return E_CLOSED;
	case TERN_EREMOTE: return E_REMOTE;
	case TERN_ENOHANDLER: return E_NOHANDLER;
	case TERN_EMSGSIZE: return E_MSGSIZE;
	default: return E_OTHER;
	}
}

struct call_ctx {
	struct client *cl;
	uint64_t sent;
};

static void client_on_session(struct tern_session *s, enum tern_session_event ev, int status, void *user)
{
	struct client *cl = user;
	if (ev == TERN_SESSION_DEAD && s == cl->s) {
		cl->s = NULL;
		cl->session_status = status;
	}
}

static void on_reply(int status, const void *resp, size_t len, void *arg)
{
	struct call_ctx *ctx = arg;
	struct client *cl = ctx->cl;
	cl->inflight--;
	bool right = cl->o->reply >= 0 ? len == (size_t)cl->o->reply
				       : len == cl->o->size && (len == 0 || memcmp(resp, cl->pattern, len) == 0);
	if (status == 0 && right) {
		cl->lat[cl->ok++] = now_ns() - ctx->sent;
	} else {
		int i = status == 0 ? E_OTHER : err_index(status);
		if (cl->errors[i]++ == 0 && !cl->o->quiet)
			fprintf(stderr, "tern-echo: call failed: %s\n",
				status ? tern_strerror(status) : "wrong answer");
	}
	cl->done++;
	free(ctx);
}

static int issue(struct client *cl)
{
	void *q = tern_rpc_alloc(cl->rpc, cl->o->size);
	struct call_ctx *ctx = malloc(sizeof(*ctx));
	if (!q || !ctx) {
		free(ctx);
		tern_rpc_free(cl->rpc, q);
		return TERN_ENOMEM;
	}
	memcpy(q, cl->pattern, cl->o->size);
	*ctx = (struct call_ctx){ cl, now_ns() };
	int rc = tern_rpc_call(cl->rpc, cl->s, ECHO_TYPE, q, cl->o->size, (uint64_t)(cl->o->timeout_ms * 1e6),
			       on_reply, ctx, NULL);
	if (rc) {
		free(ctx);
		tern_rpc_free(cl->rpc, q);
		return rc;
	}
	cl->issued++;
	cl->inflight++;
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static double pct(const uint64_t *v, unsigned long n, double p)
{
	return n ? (double)v[(unsigned long)(p / 100.0 * (double)(n - 1) + 0.5)] / 1000.0 : 0;
}

static int run_client(const struct opts *o)
{
	struct client cl = { .o = o };
	int rc = tern_addr_resolve(o->host, (uint16_t)o->port, &cl.server);
	if (rc) {
		fprintf(stderr, "tern-echo: cannot resolve '%s'\n", o->host);
		return 1;
	}
	cl.lat = calloc(o->count, sizeof(*cl.lat));
	cl.pattern = malloc(o->size ? o->size : 1);
	cl.rpc = make_rpc(o, false, &cl, client_on_session);
	if (!cl.lat || !cl.pattern || !cl.rpc)
		return 1;
	for (size_t i = 0; i < o->size; i++)
		cl.pattern[i] = (uint8_t)(i * 131 + 7);
	struct tern_engine *e = tern_rpc_engine(cl.rpc);
	if (!o->quiet)
		fprintf(stderr, "tern-echo: client driver %s\n", tern_driver_name(tern_engine_driver(e)));
	uint64_t t0 = now_ns();
	while (cl.done < o->count && !stop) {
		if (!cl.s) {
			if (cl.session_status && !o->reconnect)
				break;
			if (cl.inflight == 0) {
				rc = tern_session_connect(e, &cl.server, &cl.s);
				if (rc) {
					fprintf(stderr, "tern-echo: connect: %s\n", tern_strerror(rc));
					break;
				}
			}
		}
		while (cl.s && cl.inflight < o->depth && cl.issued < o->count && issue(&cl) == 0)
			;
		tern_engine_poll(e);
	}
	double secs = (double)(now_ns() - t0) / 1e9;
	/* Calls never issued (session dead, no reconnect) count as failed. */
	unsigned long failed = o->count - cl.ok;
	qsort(cl.lat, cl.ok, sizeof(*cl.lat), cmp_u64);
	if (!o->quiet) {
		printf("tern-echo: %lu calls of %zu B to %s, depth %u, driver %s\n", o->count, o->size, o->host,
		       o->depth, tern_driver_name(tern_engine_driver(e)));
		printf("%-24s %9s %9s %9s %9s %9s\n", "latency (us)", "p50", "p90", "p99", "p99.9", "max");
		printf("%-24s %9.2f %9.2f %9.2f %9.2f %9.2f\n", "round trip", pct(cl.lat, cl.ok, 50),
		       pct(cl.lat, cl.ok, 90), pct(cl.lat, cl.ok, 99), pct(cl.lat, cl.ok, 99.9),
		       pct(cl.lat, cl.ok, 100));
		for (int i = 0; i < 8; i++)
			if (cl.errors[i])
				printf("errors: %lu %s\n", cl.errors[i], err_names[i]);
	}
	struct tern_stats st;
	tern_engine_stats(e, &st);
	printf("ok %lu failed %lu rate %.0f calls/s p50 %.2f us p99 %.2f us goodput %.1f MB/s out retransmits %llu "
	       "data %llu\n",
	       cl.ok, failed, cl.ok / secs, pct(cl.lat, cl.ok, 50), pct(cl.lat, cl.ok, 99),
	       cl.ok * (double)o->size / secs / 1e6, (unsigned long long)st.retransmits,
	       (unsigned long long)st.tx_data_pkts);
	if (!o->quiet)
		printf("client: %llu packets out, %llu retransmits, %llu standalone acks\n",
		       (unsigned long long)st.tx_pkts, (unsigned long long)st.retransmits,
		       (unsigned long long)st.acks_sent);
	if (!o->quiet)
		print_driver_stats(stdout, "client", e);
	tern_rpc_destroy(cl.rpc);
	free(cl.lat);
	free(cl.pattern);
	return failed ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct opts o;
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		usage(stdout);
		return 0;
	}
	if (parse(argc, argv, &o))
		return 2;
	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	int rc = strcmp(o.mode, "server") == 0 ? run_server(&o) : run_client(&o);
	if (o.dpdk_port)
		tern_dpdk_port_destroy(o.dpdk_port);
	return rc;
}
