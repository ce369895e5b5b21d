/* kv-client: talks to kv-server through the stubs terngen wrote for kv.x:
 * puts many keys with asynchronous calls (16 in flight), reads them back
 * and deletes some with synchronous ones, then pages through the rest with
 * a scan, checking every answer. */
#include <getopt.h>
#include <stdbool.h>
#include <time.h>

#include "kv.h"
#include "kv_net.h"

#define SEC 1000000000ull
#define WINDOW 16

static int keys = 200;

static void key_of(int i, char *k, uint32_t *len)
{
	*len = (uint32_t)snprintf(k, 32, "key-%05d", i);
}

/* Value i: (i * 37) % 4096 + 1 bytes of a pattern from i. */
static uint32_t val_of(int i, uint8_t *v)
{
	uint32_t n = (uint32_t)(i * 37) % 4096 + 1;
	for (uint32_t k = 0; k < n; k++)
		v[k] = (uint8_t)(i + k * 11);
	return n;
}

struct puts_state {
	int in_flight, done, failed;
};

static void put_done(int status, kv_status *res, void *arg)
{
	struct puts_state *p = arg;
	p->in_flight--;
	p->done++;
	if (status || *res != KV_OK)
		p->failed++;
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * SEC + (uint64_t)ts.tv_nsec;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: kv-client [options]\n\n"
		   "Runs a fixed workload against kv-server (examples/kv/kv.x): KEYS puts (asynchronous,\n"
		   "16 in flight), a get of each, a delete of every third, and a paged scan, checking\n"
		   "every answer. Exits 0 when all were right.\n\n"
		   "options:\n"
		   "  --server HOST:PORT  where kv-server listens (default 127.0.0.1:7900)\n"
		   "  --keys N            how many keys (default 200)\n"
		   "  --driver NAME       uring, sockets, dpdk or auto (default uring)\n"
		   "  --eal ARGS          dpdk: EAL arguments, one string (a memif vdev, say)\n"
		   "  --dpdk-ip ADDR      dpdk: our IPv4 address on the port\n"
		   "  --help              this text\n");
}

#define CHECK(cond, ...)                                  \
	do {                                              \
		if (!(cond)) {                            \
			fprintf(stderr, "kv-client: " __VA_ARGS__); \
			fprintf(stderr, "\n");            \
			return 1;                         \
		}                                         \
	} while (0)

static int run(struct tern_rpc *rpc, struct tern_session *s)
{
	struct tern_engine *e = tern_rpc_engine(rpc);
	static struct tern_xdr_call calls[WINDOW];
	static uint8_t vals[WINDOW][4096];
	static char ks[WINDOW][32];
	struct puts_state ps = { 0 };
	uint64_t until = now_ns() + 30 * SEC;
	/* Puts: asynchronous, WINDOW in flight; each request is encoded into
	 * its message buffer when the stub is called, so the slot's key and
	 * value may be reused as soon as it returns. */
	for (int i = 0; i < keys;) {
		if (ps.in_flight < WINDOW) {
			int slot = i % WINDOW;
			kv_pair p;
			key_of(i, ks[slot], &p.key.len);
			p.key.data = (const uint8_t *)ks[slot];
			p.val.len = val_of(i, vals[slot]);
			p.val.data = vals[slot];
			int r = kv_put_1(rpc, s, &p, 5 * SEC, &calls[slot], NULL, put_done, &ps);
			CHECK(r == 0, "put %d: %s", i, tern_strerror(r));
			ps.in_flight++;
			i++;
		} else {
			tern_engine_poll(e);
		}
		CHECK(now_ns() < until, "puts took over 30 s");
	}
	while (ps.in_flight && now_ns() < until)
		tern_engine_poll(e);
	CHECK(ps.done == keys && ps.failed == 0, "%d puts answered, %d failed", ps.done, ps.failed);
	/* Gets and deletes: synchronous. */
	static uint8_t resp[8192], want[4096];
	int deleted = 0;
	for (int i = 0; i < keys; i++) {
		char k[32];
		kv_key key;
		key_of(i, k, &key.len);
		key.data = (const uint8_t *)k;
		kv_get_res g;
		int r = kv_get_1_sync(rpc, s, &key, &g, 5 * SEC, NULL, resp, sizeof(resp), NULL);
		CHECK(r == 0 && g.status == KV_OK, "get %d: %s, status %d", i, tern_strerror(r), g.status);
		uint32_t n = val_of(i, want);
		CHECK(g.kv_get_res_u.val.len == n && !memcmp(g.kv_get_res_u.val.data, want, n), "get %d: wrong value", i);
		if (i % 3 == 0) {
			kv_status st;
			r = kv_delete_1_sync(rpc, s, &key, &st, 5 * SEC, NULL, resp, sizeof(resp), NULL);
			CHECK(r == 0 && st == KV_OK, "delete %d: %s", i, tern_strerror(r));
			r = kv_get_1_sync(rpc, s, &key, &g, 5 * SEC, NULL, resp, sizeof(resp), NULL);
			CHECK(r == 0 && g.status == KV_NOTFOUND, "get of deleted %d: status %d", i, g.status);
			deleted++;
		}
	}
	/* A paged scan: 32 a page, each page after the last key of the one before. */
	static uint8_t page[1 << 18];
	static uint8_t mem[1 << 14];
	kv_scan_args a = { true, { NULL, 0 }, 32 };
	char last[32];
	int seen = 0, pages = 0, next = 0;
	for (;;) {
		struct tern_xdr_arena arena = { mem, sizeof(mem), 0 };
		kv_scan_res res;
		int r = kv_scan_1_sync(rpc, s, &a, &res, 5 * SEC, &arena, page, sizeof(page), NULL);
		CHECK(r == 0, "scan: %s", tern_strerror(r));
		pages++;
		for (uint32_t k = 0; k < res.pairs.len; k++, seen++) {
			while (next % 3 == 0)
				next++; /* deleted */
			char want_k[32];
			uint32_t wl;
			key_of(next, want_k, &wl);
			CHECK(res.pairs.val[k].key.len == wl && !memcmp(res.pairs.val[k].key.data, want_k, wl),
			      "scan: key %d out of order or missing", seen);
			uint32_t n = val_of(next, want);
			CHECK(res.pairs.val[k].val.len == n && !memcmp(res.pairs.val[k].val.data, want, n),
			      "scan: wrong value for key %d", next);
			next++;
		}
		if (!res.more)
			break;
		CHECK(res.pairs.len > 0, "scan: an empty page that says more follows");
		kv_key lk = res.pairs.val[res.pairs.len - 1].key;
		memcpy(last, lk.data, lk.len); /* the page buffer is reused */
		a = (kv_scan_args){ false, { (const uint8_t *)last, lk.len }, 32 };
	}
	CHECK(seen == keys - deleted, "scan saw %d keys, want %d", seen, keys - deleted);
	printf("kv-client: %d puts (async), %d gets, %d deletes, scan of %d keys in %d pages: all answers right\n", keys,
	       keys + deleted, deleted, seen, pages);
	return 0;
}

int main(int argc, char **argv)
{
	struct kv_net net = { .driver = "uring", .bind = NULL, .port = 0, .client = 1 };
	const char *server = "127.0.0.1:7900";
	static const struct option lo[] = { { "server", required_argument, 0, 's' }, { "keys", required_argument, 0, 'k' },
					    { "driver", required_argument, 0, 'd' }, { "eal", required_argument, 0, 'e' },
					    { "dpdk-ip", required_argument, 0, 'i' }, { "help", no_argument, 0, 'h' },
					    { 0, 0, 0, 0 } };
	int c;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 's': server = optarg; break;
		case 'k': keys = atoi(optarg); break;
		case 'd': net.driver = optarg; break;
		case 'e': net.eal = optarg; break;
		case 'i': net.ip = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc || keys < 1 || keys > 99999) {
		usage(stderr);
		return 2;
	}
	char host[128];
	const char *colon = strrchr(server, ':');
	if (!colon || (size_t)(colon - server) >= sizeof(host)) {
		fprintf(stderr, "kv-client: --server wants HOST:PORT, not '%s'\n", server);
		return 2;
	}
	memcpy(host, server, (size_t)(colon - server));
	host[colon - server] = 0;
	struct tern_addr to;
	if (tern_addr_resolve(host, (uint16_t)atoi(colon + 1), &to)) {
		fprintf(stderr, "kv-client: cannot resolve '%s'\n", host);
		return 2;
	}
	if (!strcmp(net.driver, "dpdk"))
		net.port = 7901;
	struct tern_rpc *rpc;
	if (kv_net_open(&net, "kv-client", &rpc))
		return 1;
	struct tern_session *s;
	int r = tern_session_connect(tern_rpc_engine(rpc), &to, &s);
	if (r) {
		fprintf(stderr, "kv-client: connect: %s\n", tern_strerror(r));
		return 1;
	}
	int rc = run(rpc, s);
	kv_net_close(&net, rpc);
	return rc;
}
