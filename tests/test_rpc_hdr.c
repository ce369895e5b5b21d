/* The RPC header codec, the wire's status codes and deadlines, driven
 * directly. */
#include <criterion/criterion.h>
#include <string.h>

#include "rpc/rpc_hdr.h"
#include "tern/error.h"

Test(rpc_hdr, round_trip_and_layout)
{
	uint8_t b[RPC_HDR_LEN];
	struct rpc_hdr h = { .kind = RPC_RESP, .type = 0x1234, .word = RPC_ST_APP_ERROR, .req_id = 0x0102030405060708ull };
	tni_rpc_hdr_put(b, &h);
	const uint8_t want[RPC_HDR_LEN] = { 2, 0, 0x34, 0x12, 2, 0, 0, 0, 8, 7, 6, 5, 4, 3, 2, 1 };
	cr_assert_arr_eq(b, want, RPC_HDR_LEN, "docs/protocol.md's layout, little-endian");
	struct rpc_hdr g;
	cr_assert_eq(tni_rpc_hdr_get(b, sizeof(b), &g), 0);
	cr_assert_eq(g.kind, h.kind);
	cr_assert_eq(g.type, h.type);
	cr_assert_eq(g.word, h.word);
	cr_assert_eq(g.req_id, h.req_id);
}

Test(rpc_hdr, refuses_short_flagged_and_unknown_kinds)
{
	uint8_t b[RPC_HDR_LEN];
	struct rpc_hdr h = { .kind = RPC_CANCEL, .req_id = 9 }, g;
	tni_rpc_hdr_put(b, &h);
	cr_assert_eq(tni_rpc_hdr_get(b, sizeof(b), &g), 0);
	cr_assert_eq(tni_rpc_hdr_get(b, RPC_HDR_LEN - 1, &g), -1);
	b[1] = 1;
	cr_assert_eq(tni_rpc_hdr_get(b, sizeof(b), &g), -1, "flags must be 0");
	b[1] = 0;
	for (unsigned k = 0; k < 256; k++) {
		b[0] = (uint8_t)k;
		bool known = k >= RPC_REQ && k <= RPC_CANCEL;
		cr_assert_eq(tni_rpc_hdr_get(b, sizeof(b), &g), known ? 0 : -1, "kind %u", k);
	}
}

Test(rpc_hdr, statuses_are_protocol_constants)
{
	/* The numbers are the protocol's; they must never change. */
	cr_assert_eq(RPC_ST_OK, 0);
	cr_assert_eq(RPC_ST_NO_HANDLER, 1);
	cr_assert_eq(RPC_ST_APP_ERROR, 2);
	cr_assert_eq(RPC_ST_TOO_BIG, 3);
	cr_assert_eq(RPC_ST_BUSY, 4);
	cr_assert_eq(RPC_ST_BAD_ARGS, 5);
	int codes[] = { 0, TERN_ENOHANDLER, TERN_EREMOTE, TERN_EMSGSIZE, TERN_EAGAIN, TERN_EBADARGS };
	for (uint32_t w = 0; w <= RPC_ST_BAD_ARGS; w++) {
		cr_assert_eq(tni_rpc_status_to_tern(w), codes[w]);
		cr_assert_eq(tni_rpc_status_from_tern(codes[w]), w);
	}
	cr_assert_eq(tni_rpc_status_to_tern(6), TERN_EPROTO, "an unknown status is the peer's fault");
	cr_assert_eq(tni_rpc_status_to_tern(0xfffffff5u), TERN_EPROTO, "a negative errno from an old peer too");
}

Test(rpc_hdr, deadlines_survive_the_32_bit_field)
{
	uint64_t starts[] = { 0, 5, 1000000000ull, 4294967295ull * 1000 - 50000, 4294967296ull * 1000 * 7 + 123,
			      0x7fffffffffffull };
	uint64_t spans[] = { 1, 999, 1000, 1001, 5000000, 60000000000ull, RPC_DEADLINE_MAX_NS };
	for (unsigned i = 0; i < sizeof(starts) / sizeof(starts[0]); i++)
		for (unsigned j = 0; j < sizeof(spans) / sizeof(spans[0]); j++) {
			uint64_t now = starts[i], d = now + spans[j];
			uint32_t w = tni_rpc_deadline_put(d, now);
			cr_assert_neq(w, 0);
			/* Read back near the time it is sent, or a while later. */
			for (uint64_t later = 0; later <= 10000000000ull; later += 2500000000ull) {
				uint64_t got = tni_rpc_deadline_get(w, now + later);
				cr_assert(got >= d && got < d + 2000, "start %llu span %llu: %llu",
					  (unsigned long long)now, (unsigned long long)spans[j], (unsigned long long)got);
			}
		}
	cr_assert_eq(tni_rpc_deadline_put(100 + RPC_DEADLINE_MAX_NS + 1, 100), 0, "too far out: none");
	cr_assert_eq(tni_rpc_deadline_get(0, 12345), 0, "0 is none");
	/* A deadline already past stays in the past. */
	uint64_t now = 3000000000000ull;
	uint32_t w = tni_rpc_deadline_put(now - 5000, now);
	cr_assert_lt(tni_rpc_deadline_get(w, now), now);
}

/* Found by fuzz_rpc_hdr: a deadline the 32 bits place before our clock's
 * zero wrapped to a time 584 years away, so a hostile or confused peer's
 * long-expired request looked as if it had forever. It is in the past. */
Test(rpc_hdr, a_deadline_before_the_clocks_zero_stays_in_the_past)
{
	uint64_t near = 328336474112ull; /* 328 s after the clock's zero */
	uint64_t got = tni_rpc_deadline_get(0xfff80000u, near);
	cr_assert(got != 0 && got <= near, "got %llu", (unsigned long long)got);
	cr_assert_leq(tni_rpc_deadline_get(0x80000000u, 5), 5);
}
