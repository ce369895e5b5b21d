/* XDR (include/tern/xdr.h) and terngen's output for tests/xdr/alltypes.x:
 * the codec driven directly, hostile input, and typed calls over loopback
 * (client stubs, the server skeleton, its errors). */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

#include "alltypes.h"
#include "tern/tern.h"

#define SEC 1000000000ull

static uint8_t buf[1 << 16];
static uint8_t mem[1 << 16];

Test(xdr, basic_types_round_trip_big_endian)
{
	struct tern_xdr_enc e;
	tern_xdr_enc_init(&e, buf, sizeof(buf));
	cr_assert_eq(tern_xdr_put_i32(&e, -2), 0);
	cr_assert_eq(tern_xdr_put_u64(&e, 0x0102030405060708ull), 0);
	cr_assert_eq(tern_xdr_put_bool(&e, true), 0);
	cr_assert_eq(tern_xdr_put_double(&e, 1.5), 0);
	cr_assert_eq(tern_xdr_put_bytes(&e, "abcde", 5, 8), 0);
	cr_assert_eq(e.p - buf, 4 + 8 + 4 + 8 + 4 + 8);
	static const uint8_t want[] = { 0xff, 0xff, 0xff, 0xfe, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 1 };
	cr_assert_eq(memcmp(buf, want, sizeof(want)), 0);
	cr_assert_eq(memcmp(buf + 24, "\0\0\0\5abcde\0\0\0", 12), 0, "length, bytes, zero padding");
	struct tern_xdr_dec d;
	tern_xdr_dec_init(&d, buf, (size_t)(e.p - buf), NULL);
	int32_t i;
	uint64_t u;
	bool b;
	double f;
	struct tern_xdr_bytes by;
	cr_assert(!tern_xdr_get_i32(&d, &i) && i == -2);
	cr_assert(!tern_xdr_get_u64(&d, &u) && u == 0x0102030405060708ull);
	cr_assert(!tern_xdr_get_bool(&d, &b) && b);
	cr_assert(!tern_xdr_get_double(&d, &f) && f == 1.5);
	cr_assert(!tern_xdr_get_bytes(&d, &by, 8) && by.len == 5 && by.data == buf + 28, "a view, not a copy");
	cr_assert_eq(d.p, d.end);
	cr_assert_eq(tern_xdr_get_u32(&d, (uint32_t *)&i), TERN_EBADARGS, "nothing left");
	/* No room to encode. */
	tern_xdr_enc_init(&e, buf, 3);
	cr_assert_eq(tern_xdr_put_u32(&e, 1), TERN_EMSGSIZE);
	cr_assert_eq(tern_xdr_put_bytes(&e, "abc", 3, 2), TERN_EINVAL, "over the bound");
}

Test(xdr, what_is_not_xdr_does_not_decode)
{
	struct tern_xdr_dec d;
	bool b;
	uint8_t two[4] = { 0, 0, 0, 2 };
	tern_xdr_dec_init(&d, two, 4, NULL);
	cr_assert_eq(tern_xdr_get_bool(&d, &b), TERN_EBADARGS, "a bool is 0 or 1");
	uint8_t padded[8] = { 0, 0, 0, 1, 'x', 0, 1, 0 };
	struct tern_xdr_bytes by;
	tern_xdr_dec_init(&d, padded, 8, NULL);
	cr_assert_eq(tern_xdr_get_bytes(&d, &by, 4), TERN_EBADARGS, "padding is zero");
	uint8_t over[8] = { 0, 0, 0, 5, 'a', 'b', 'c', 'd' };
	tern_xdr_dec_init(&d, over, 8, NULL);
	cr_assert_eq(tern_xdr_get_bytes(&d, &by, 100), TERN_EBADARGS, "longer than the input");
	tern_xdr_dec_init(&d, over, 8, NULL);
	cr_assert_eq(tern_xdr_get_bytes(&d, &by, 4), TERN_EBADARGS, "longer than the bound");
	/* A color that is not one, a shape with no arm for its kind. */
	uint8_t bad_enum[4] = { 0, 0, 0, 2 };
	color c;
	tern_xdr_dec_init(&d, bad_enum, 4, NULL);
	cr_assert_eq(color_decode(&d, &c), TERN_EBADARGS);
	shape sh;
	tern_xdr_dec_init(&d, bad_enum, 4, NULL);
	cr_assert_eq(shape_decode(&d, &sh), TERN_EBADARGS);
	result r;
	uint8_t other[12] = { 0, 0, 0, 9, 0, 0, 0, 2, 'h', 'i', 0, 0 };
	tern_xdr_dec_init(&d, other, 12, NULL);
	cr_assert_eq(result_decode(&d, &r), 0, "the default arm takes any other status");
	cr_assert(r.status == 9 && r.result_u.why.len == 2 && !memcmp(r.result_u.why.data, "hi", 2));
}

Test(xdr, a_forged_count_asks_the_arena_for_nothing)
{
	/* names<>: a count of 2^32-1 names, and no names behind it. */
	static uint8_t in[4096];
	struct tern_xdr_arena a = { mem, sizeof(mem), 0 };
	struct tern_xdr_dec d;
	everything v;
	/* A whole `everything` but with a huge count at its end. */
	everything ok;
	memset(&ok, 0, sizeof(ok));
	static const uint8_t five[5];
	ok.fixed = five;
	struct tern_xdr_enc e;
	tern_xdr_enc_init(&e, in, sizeof(in));
	cr_assert_eq(everything_encode(&e, &ok), 0);
	size_t n = (size_t)(e.p - in);
	in[n - 4] = in[n - 3] = in[n - 2] = in[n - 1] = 0xff;
	tern_xdr_dec_init(&d, in, n, &a);
	cr_assert_eq(everything_decode(&d, &v), TERN_EBADARGS);
	cr_assert_eq(a.used, 0, "nothing allocated for it");
	/* Within what the input could hold but beyond the arena: refused too. */
	struct tern_xdr_arena tiny = { mem, 8, 0 };
	uint8_t pts[4 + 8 * 8] = { 0, 0, 0, 8 };
	tern_xdr_dec_init(&d, pts, sizeof(pts), &tiny);
	struct { uint32_t len; point *val; } arr;
	cr_assert_eq(tern_xdr_get_count(&d, &arr.len, 8, 8), 0);
	cr_assert_null(tern_xdr_arena_alloc(&tiny, arr.len * sizeof(point)));
}

Test(xdr, an_optional_chain_past_the_depth_limit_does_not_decode)
{
	/* node: id (8), label (4: empty), next flag (4) = 16 bytes a link. */
	size_t links = TERN_XDR_MAX_DEPTH + 2;
	static uint8_t in[(TERN_XDR_MAX_DEPTH + 2) * 16 + 4];
	memset(in, 0, sizeof(in));
	for (size_t k = 0; k < links; k++)
		in[k * 16 + 15] = 1; /* another follows */
	static uint8_t big[(TERN_XDR_MAX_DEPTH + 4) * sizeof(node)];
	struct tern_xdr_arena a = { big, sizeof(big), 0 };
	struct tern_xdr_dec d;
	tern_xdr_dec_init(&d, in, sizeof(in), &a);
	node n;
	cr_assert_eq(node_decode(&d, &n), TERN_EBADARGS);
	/* A chain within the limit decodes, links in the arena. */
	memset(in, 0, sizeof(in));
	for (size_t k = 0; k < 99; k++)
		in[k * 16 + 15] = 1;
	a.used = 0;
	tern_xdr_dec_init(&d, in, 100 * 16, &a);
	cr_assert_eq(node_decode(&d, &n), 0);
	size_t count = 1;
	for (node *p = n.next; p; p = p->next)
		count++;
	cr_assert_eq(count, 100);
}

Test(xdr, decoding_a_4_kib_opaque_copies_no_byte_of_it)
{
	static uint8_t data[4096];
	for (size_t k = 0; k < sizeof(data); k++)
		data[k] = (uint8_t)(k * 7);
	static const uint8_t five[5] = { 1, 2, 3, 4, 5 };
	uint64_t copied[2];
	for (int with = 0; with < 2; with++) {
		everything v;
		memset(&v, 0, sizeof(v));
		v.fixed = five;
		v.big = (struct tern_xdr_bytes){ data, with ? 4096u : 0u };
		struct tern_xdr_enc e;
		tern_xdr_enc_init(&e, buf, sizeof(buf));
		cr_assert_eq(everything_encode(&e, &v), 0);
		cr_assert_eq((size_t)(e.p - buf), everything_size(&v));
		struct tern_xdr_arena a = { mem, sizeof(mem), 0 };
		struct tern_xdr_dec d;
		tern_xdr_dec_init(&d, buf, (size_t)(e.p - buf), &a);
		everything w;
		cr_assert_eq(everything_decode(&d, &w), 0);
		cr_assert_eq(w.big.len, v.big.len);
		if (with) {
			cr_assert(w.big.data > buf && w.big.data + 4096 <= buf + sizeof(buf), "a view into the input");
			cr_assert_eq(memcmp(w.big.data, data, 4096), 0);
		}
		copied[with] = d.copied;
	}
	cr_assert_eq(copied[1], copied[0], "the 4 KiB opaque added %llu copied bytes",
		     (unsigned long long)(copied[1] - copied[0]));
}

/* ---- typed calls over loopback ---- */

static int srv_echo(const everything *arg, everything *res, struct tern_xdr_req *req, void *impl_arg)
{
	(void)req;
	(void)impl_arg;
	*res = *arg; /* views into the request: valid until the answer is encoded */
	return 0;
}

static int srv_ping(const void *arg, void *res, struct tern_xdr_req *req, void *impl_arg)
{
	(void)arg;
	(void)res;
	(void)req;
	atomic_fetch_add((atomic_uint *)impl_arg, 1);
	return 0;
}

static int srv_add(const point *arg, int32_t *res, struct tern_xdr_req *req, void *impl_arg)
{
	(void)req;
	(void)impl_arg;
	if (arg->x == 13)
		return 4242; /* the application's own error */
	*res = arg->x + arg->y;
	return 0;
}

static const struct alltypes_prog_1_ops ops = { srv_echo, srv_ping, srv_add };

struct server {
	pthread_t thread;
	atomic_int state; /* 0 starting, 1 up, -1 failed */
	atomic_bool stop;
	uint16_t port;
	atomic_uint pings;
	struct tern_xdr_server_stats stats;
};

static void *serve(void *arg)
{
	struct server *sv = arg;
	struct tern_rpc_config rc;
	tern_rpc_config_init(&rc);
	struct tern_engine_config ec;
	tern_engine_config_init(&ec);
	struct tern_udp_config uc;
	tern_udp_config_init(&uc);
	uc.bind_host = "127.0.0.1";
	struct tern_rpc *rpc;
	struct tern_xdr_server *xs;
	if (tern_udp_open(&uc, &ec.driver) || tern_rpc_create(&rc, &ec, &rpc)) {
		atomic_store(&sv->state, -1);
		return NULL;
	}
	if (tern_xdr_server_create(rpc, 0, &xs) || alltypes_prog_1_serve(xs, &ops, &sv->pings)) {
		atomic_store(&sv->state, -1);
		return NULL;
	}
	struct tern_addr a;
	tern_engine_local_addr(tern_rpc_engine(rpc), &a);
	sv->port = a.port;
	atomic_store(&sv->state, 1);
	while (!atomic_load(&sv->stop))
		tern_engine_poll(tern_rpc_engine(rpc));
	tern_xdr_server_stats(xs, &sv->stats);
	tern_xdr_server_destroy(xs);
	tern_rpc_destroy(rpc);
	return NULL;
}

static struct server S;
static struct tern_rpc *C;
static struct tern_session *CS;

static void start(void)
{
	memset(&S, 0, sizeof(S));
	cr_assert_eq(pthread_create(&S.thread, NULL, serve, &S), 0);
	while (atomic_load(&S.state) == 0)
		sched_yield();
	cr_assert_eq(atomic_load(&S.state), 1);
	struct tern_rpc_config rc;
	tern_rpc_config_init(&rc);
	struct tern_engine_config ec;
	tern_engine_config_init(&ec);
	cr_assert_eq(tern_rpc_create(&rc, &ec, &C), 0);
	struct tern_addr to;
	cr_assert_eq(tern_addr_resolve("127.0.0.1", S.port, &to), 0);
	cr_assert_eq(tern_session_connect(tern_rpc_engine(C), &to, &CS), 0);
}

static void stop(void)
{
	tern_rpc_destroy(C);
	atomic_store(&S.stop, true);
	pthread_join(S.thread, NULL);
}

struct got {
	int status, done;
	uint32_t big_len;
	bool big_same;
};

static uint8_t pattern[3000];

static void echo_done(int status, everything *res, void *arg)
{
	struct got *g = arg;
	g->status = status;
	g->done = 1;
	if (res) {
		g->big_len = res->big.len;
		g->big_same = res->big.len == sizeof(pattern) && !memcmp(res->big.data, pattern, sizeof(pattern)) &&
			      res->s.len == 5 && !memcmp(res->s.data, "hello", 5) && res->list && res->list->id == 77 &&
			      res->list->next == NULL;
	}
}

static void wait_for(struct got *g)
{
	for (time_t until = time(NULL) + 10; !g->done && time(NULL) < until;)
		tern_engine_poll(tern_rpc_engine(C));
	cr_assert(g->done, "no answer");
}

Test(xdr, a_generated_async_call_echoes_every_field)
{
	start();
	for (size_t k = 0; k < sizeof(pattern); k++)
		pattern[k] = (uint8_t)(k * 13 + 1);
	static const uint8_t five[5] = { 9, 8, 7, 6, 5 };
	node n1 = { 77, { "lab", 3 }, NULL };
	everything v;
	memset(&v, 0, sizeof(v));
	v.fixed = five;
	v.big = (struct tern_xdr_bytes){ pattern, sizeof(pattern) };
	v.s = (struct tern_xdr_string){ "hello", 5 };
	v.list = &n1;
	struct tern_xdr_call call;
	struct tern_xdr_arena a = { mem, sizeof(mem), 0 };
	struct got g = { 0 };
	cr_assert_eq(echo_1(C, CS, &v, 5 * SEC, &call, &a, echo_done, &g), 0);
	wait_for(&g);
	cr_assert_eq(g.status, 0, "%s", tern_strerror(g.status));
	cr_assert(g.big_same, "the answer's fields");
	stop();
}

Test(xdr, generated_sync_calls_answer_and_report_the_servers_errors)
{
	start();
	uint8_t resp[256];
	point p = { 40, 2 };
	int32_t sum = 0;
	cr_assert_eq(add_1_sync(C, CS, &p, &sum, 5 * SEC, NULL, resp, sizeof(resp), NULL), 0);
	cr_assert_eq(sum, 42);
	cr_assert_eq(ping_1_sync(C, CS, NULL, NULL, 5 * SEC, NULL, resp, sizeof(resp), NULL), 0);
	cr_assert_eq(atomic_load(&S.pings), 1);
	p.x = 13;
	cr_assert_eq(add_1_sync(C, CS, &p, &sum, 5 * SEC, NULL, resp, sizeof(resp), NULL), TERN_EREMOTE,
		     "the procedure's own error");
	stop();
	cr_assert_eq(S.stats.calls, 3);
}

static void raw_done(int status, const void *resp, size_t len, void *arg)
{
	(void)resp;
	(void)len;
	struct got *g = arg;
	g->status = status;
	g->done = 1;
}

/* A request built by hand: the three numbers, then len bytes of args. */
static uint8_t *request(uint32_t prog, uint32_t vers, uint32_t proc, const uint8_t *args, size_t len)
{
	uint8_t *b = tern_rpc_alloc(C, 12 + len);
	struct tern_xdr_enc e;
	tern_xdr_enc_init(&e, b, 12 + len);
	tern_xdr_put_u32(&e, prog);
	tern_xdr_put_u32(&e, vers);
	tern_xdr_put_u32(&e, proc);
	if (len)
		memcpy(e.p, args, len);
	return b;
}

static int raw_call(uint32_t prog, uint32_t vers, uint32_t proc, const uint8_t *args, size_t len)
{
	uint8_t *b = request(prog, vers, proc, args, len);
	struct got g = { 0 };
	cr_assert_eq(tern_rpc_call(C, CS, TERN_XDR_RPC_TYPE, b, 12 + len, 5 * SEC, raw_done, &g, NULL), 0);
	wait_for(&g);
	return g.status;
}

Test(xdr, bad_arguments_and_unknown_procedures_get_clear_statuses)
{
	start();
	uint8_t args[12] = { 0, 0, 0, 1, 0, 0, 0, 2, 0xde, 0xad, 0xbe, 0xef };
	cr_assert_eq(raw_call(ALLTYPES_PROG, ALLTYPES_V1, ADD, args, 8), 0, "well formed");
	cr_assert_eq(raw_call(ALLTYPES_PROG, ALLTYPES_V1, ADD, args, 4), TERN_EBADARGS, "short");
	cr_assert_eq(raw_call(ALLTYPES_PROG, ALLTYPES_V1, ADD, args, 12), TERN_EBADARGS, "bytes left over");
	cr_assert_eq(raw_call(ALLTYPES_PROG, ALLTYPES_V1, 99, args, 8), TERN_ENOHANDLER, "no such procedure");
	cr_assert_eq(raw_call(ALLTYPES_PROG, 7, ADD, args, 8), TERN_ENOHANDLER, "no such version");
	cr_assert_eq(raw_call(0x12345, 1, 1, args, 8), TERN_ENOHANDLER, "no such program");
	uint8_t *b = request(ALLTYPES_PROG, ALLTYPES_V1, PING, NULL, 0);
	struct tern_xdr_call c;
	memset(&c, 0, sizeof(c));
	cr_assert_eq(tern_xdr_call_start(C, CS, b, 12, 5 * SEC, &c), TERN_EINVAL, "a call needs its finish");
	tern_rpc_free(C, b);
	stop();
	cr_assert_eq(S.stats.bad_args, 2);
	cr_assert_eq(S.stats.no_proc, 3);
}

static int versions_seen[3];
static void vfinish(struct tern_xdr_call *c, int status, struct tern_xdr_dec *res)
{
	(void)res;
	versions_seen[0] = status;
	versions_seen[1] = (int)c->low;
	versions_seen[2] = (int)c->high;
}

Test(xdr, a_call_to_a_missing_version_learns_the_versions_served)
{
	start();
	uint8_t *b = request(ALLTYPES_PROG, 5, PING, NULL, 0);
	struct tern_xdr_call c;
	memset(&c, 0, sizeof(c));
	c.finish = vfinish;
	versions_seen[0] = 1;
	cr_assert_eq(tern_xdr_call_start(C, CS, b, 12, 5 * SEC, &c), 0);
	uint8_t resp[64];
	cr_assert_eq(tern_xdr_call_wait(&c, resp, sizeof(resp), NULL), TERN_ENOHANDLER);
	cr_assert_eq(versions_seen[0], TERN_ENOHANDLER);
	cr_assert(versions_seen[1] == 1 && versions_seen[2] == 1, "served: %d..%d", versions_seen[1], versions_seen[2]);
	stop();
}

static void add_done(int status, int32_t *res, void *arg)
{
	(void)res;
	struct got *g = arg;
	g->status = status;
	g->done = 1;
}

Test(xdr, calls_are_cancellable_async_and_sync)
{
	start();
	/* Async: the callback runs at once with TERN_ECANCELED. */
	point p = { 1, 2 };
	struct tern_xdr_call call;
	struct got g = { 0 };
	cr_assert_eq(add_1(C, CS, &p, 5 * SEC, &call, NULL, add_done, &g), 0);
	cr_assert_eq(tern_xdr_cancel(&call), 0);
	cr_assert(g.done && g.status == TERN_ECANCELED, "the callback ran, cancelled");
	cr_assert_eq(tern_xdr_cancel(&call), TERN_EINVAL, "ended already");
	/* Sync: a flag set before (or while) it waits. */
	atomic_bool cancel = true;
	uint8_t resp[64];
	int32_t sum;
	cr_assert_eq(add_1_sync(C, CS, &p, &sum, 5 * SEC, NULL, resp, sizeof(resp), &cancel), TERN_ECANCELED);
	stop();
}
