/* kv-server: the example key-value service (kv.x), over tern with the
 * server skeleton terngen wrote. Keys in a sorted array; values copied in
 * (a request's views last only as long as the request). */
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>

#include "kv.h"
#include "kv_net.h"

#define MAX_KEYS 100000

struct entry {
	uint8_t *key, *val;
	uint32_t klen, vlen;
};

struct store {
	struct entry *e;
	uint32_t n;
	uint64_t gets, puts, deletes, scans;
};

static volatile sig_atomic_t stop;
static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int keycmp(const uint8_t *a, uint32_t al, const uint8_t *b, uint32_t bl)
{
	int c = memcmp(a, b, al < bl ? al : bl);
	return c ? c : (al > bl) - (al < bl);
}

/* The first entry not below key. */
static uint32_t lower_bound(const struct store *s, const uint8_t *k, uint32_t kl)
{
	uint32_t lo = 0, hi = s->n;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (keycmp(s->e[mid].key, s->e[mid].klen, k, kl) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool found(const struct store *s, uint32_t i, const kv_key *k)
{
	return i < s->n && !keycmp(s->e[i].key, s->e[i].klen, k->data, k->len);
}

static int do_get(const kv_key *k, kv_get_res *res, struct tern_xdr_req *req, void *arg)
{
	(void)req;
	struct store *s = arg;
	s->gets++;
	uint32_t i = lower_bound(s, k->data, k->len);
	if (!found(s, i, k)) {
		res->status = KV_NOTFOUND;
		return 0;
	}
	res->status = KV_OK;
	res->kv_get_res_u.val = (kv_val){ s->e[i].val, s->e[i].vlen }; /* a view: encoded before anything changes */
	return 0;
}

static int do_put(const kv_pair *p, kv_status *res, struct tern_xdr_req *req, void *arg)
{
	(void)req;
	struct store *s = arg;
	s->puts++;
	uint32_t i = lower_bound(s, p->key.data, p->key.len);
	uint8_t *v = malloc(p->val.len ? p->val.len : 1);
	if (!v)
		return TERN_ENOMEM;
	memcpy(v, p->val.data, p->val.len);
	if (found(s, i, &p->key)) {
		free(s->e[i].val);
		s->e[i].val = v;
		s->e[i].vlen = p->val.len;
		*res = KV_OK;
		return 0;
	}
	uint8_t *k = malloc(p->key.len ? p->key.len : 1);
	if (s->n == MAX_KEYS || !k) {
		free(v);
		free(k);
		*res = KV_FULL;
		return 0;
	}
	memcpy(k, p->key.data, p->key.len);
	memmove(&s->e[i + 1], &s->e[i], (s->n - i) * sizeof(s->e[0]));
	s->e[i] = (struct entry){ k, v, p->key.len, p->val.len };
	s->n++;
	*res = KV_OK;
	return 0;
}

static int do_delete(const kv_key *k, kv_status *res, struct tern_xdr_req *req, void *arg)
{
	(void)req;
	struct store *s = arg;
	s->deletes++;
	uint32_t i = lower_bound(s, k->data, k->len);
	if (!found(s, i, k)) {
		*res = KV_NOTFOUND;
		return 0;
	}
	free(s->e[i].key);
	free(s->e[i].val);
	memmove(&s->e[i], &s->e[i + 1], (s->n - i - 1) * sizeof(s->e[0]));
	s->n--;
	*res = KV_OK;
	return 0;
}

static int do_scan(const kv_scan_args *a, kv_scan_res *res, struct tern_xdr_req *req, void *arg)
{
	struct store *s = arg;
	s->scans++;
	uint32_t i = 0;
	if (!a->from_start) {
		i = lower_bound(s, a->after.data, a->after.len);
		if (found(s, i, &a->after))
			i++;
	}
	uint32_t limit = a->limit < KV_PAGE ? a->limit : KV_PAGE;
	uint32_t n = s->n - i < limit ? s->n - i : limit;
	/* The page's array from the request's arena: no malloc per call. */
	kv_pair *pairs = n ? tern_xdr_arena_alloc(req->arena, n * sizeof(*pairs)) : NULL;
	if (n && !pairs)
		return TERN_ENOMEM;
	for (uint32_t k = 0; k < n; k++)
		pairs[k] = (kv_pair){ { s->e[i + k].key, s->e[i + k].klen }, { s->e[i + k].val, s->e[i + k].vlen } };
	res->pairs.len = n;
	res->pairs.val = pairs;
	res->more = i + n < s->n;
	return 0;
}

static const struct kv_prog_1_ops ops = { do_get, do_put, do_delete, do_scan };

static void usage(FILE *f)
{
	fprintf(f, "usage: kv-server [options]\n\n"
		   "The example key-value service (examples/kv/kv.x) over tern, until SIGINT or SIGTERM.\n\n"
		   "options:\n"
		   "  --driver NAME   uring, sockets, dpdk or auto (default uring)\n"
		   "  --bind HOST     kernel UDP: the address to listen on (default 127.0.0.1)\n"
		   "  --port P        UDP port (default 7900)\n"
		   "  --eal ARGS      dpdk: EAL arguments, one string (a memif vdev, say)\n"
		   "  --dpdk-ip ADDR  dpdk: our IPv4 address on the port\n"
		   "  --help          this text\n");
}

int main(int argc, char **argv)
{
	struct kv_net net = { .driver = "uring", .bind = "127.0.0.1", .port = 7900 };
	static const struct option lo[] = { { "driver", required_argument, 0, 'd' }, { "bind", required_argument, 0, 'b' },
					    { "port", required_argument, 0, 'p' }, { "eal", required_argument, 0, 'e' },
					    { "dpdk-ip", required_argument, 0, 'i' }, { "help", no_argument, 0, 'h' },
					    { 0, 0, 0, 0 } };
	int c;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'd': net.driver = optarg; break;
		case 'b': net.bind = optarg; break;
		case 'p': net.port = (uint16_t)atoi(optarg); break;
		case 'e': net.eal = optarg; break;
		case 'i': net.ip = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	/* A log line is out when it happens, whatever stdout is. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	struct tern_rpc *rpc;
	if (kv_net_open(&net, "kv-server", &rpc))
		return 1;
	struct store st = { .e = calloc(MAX_KEYS, sizeof(struct entry)) };
	struct tern_xdr_server *xs;
	int r = st.e ? tern_xdr_server_create(rpc, 0, &xs) : TERN_ENOMEM;
	if (!r)
		r = kv_prog_1_serve(xs, &ops, &st);
	if (r) {
		fprintf(stderr, "kv-server: %s\n", tern_strerror(r));
		return 1;
	}
	struct tern_addr a;
	char as[64];
	tern_engine_local_addr(tern_rpc_engine(rpc), &a);
	printf("kv-server: KV_PROG version 1 on %s (driver %s)\n", tern_addr_format(&a, as, sizeof(as)),
	       tern_driver_name(tern_engine_driver(tern_rpc_engine(rpc))));
	fflush(stdout);
	while (!stop)
		tern_engine_poll(tern_rpc_engine(rpc));
	struct tern_xdr_server_stats xst;
	tern_xdr_server_stats(xs, &xst);
	printf("kv-server: %llu gets, %llu puts, %llu deletes, %llu scans; %llu bad arguments; %u keys left\n",
	       (unsigned long long)st.gets, (unsigned long long)st.puts, (unsigned long long)st.deletes,
	       (unsigned long long)st.scans, (unsigned long long)xst.bad_args, st.n);
	tern_xdr_server_destroy(xs);
	kv_net_close(&net, rpc);
	for (uint32_t i = 0; i < st.n; i++) {
		free(st.e[i].key);
		free(st.e[i].val);
	}
	free(st.e);
	return 0;
}
