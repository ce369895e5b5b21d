/* The acks held back until the answer leaves (transport/ackhold.h), driven
 * directly: what goes in comes out whole, oldest first, once; what was
 * taken out of turn is not seen again; a full hold refuses. */
#include <criterion/criterion.h>

#include "transport/ackhold.h"

static struct tni_ack_info info(uint32_t ack)
{
	return (struct tni_ack_info){ .ts_echo = 1000 + ack, .rx_ns = 2000 + ack, .ack = ack, .rwnd = 64,
				      .echo_delay = 7, .echo_hops = 2 };
}

Test(ackhold, what_is_held_comes_out_whole_oldest_first_and_once)
{
	struct tni_ackhold h;
	tni_ackhold_init(&h);
	cr_assert_not(tni_ackhold_any(&h));
	int owners[3];
	unsigned handle[3];
	for (int i = 0; i < 3; i++) {
		struct tni_ack_info a = info((uint32_t)i + 10);
		handle[i] = tni_ackhold_put(&h, &owners[i], &a);
		cr_assert_geq(handle[i], 1);
	}
	cr_assert(tni_ackhold_any(&h));
	for (int i = 0; i < 3; i++) {
		unsigned got;
		cr_assert_eq(tni_ackhold_oldest(&h, &got), &owners[i]);
		cr_assert_eq(got, handle[i]);
		struct tni_ack_info a;
		tni_ackhold_take(&h, got, &a);
		struct tni_ack_info want = info((uint32_t)i + 10);
		cr_assert(a.ts_echo == want.ts_echo && a.rx_ns == want.rx_ns && a.ack == want.ack &&
				  a.rwnd == want.rwnd && a.echo_delay == want.echo_delay && a.echo_hops == want.echo_hops,
			  "entry %d whole", i);
	}
	unsigned got;
	cr_assert_null(tni_ackhold_oldest(&h, &got));
	cr_assert_not(tni_ackhold_any(&h), "empty again once all came out");
}

Test(ackhold, one_taken_out_of_turn_is_not_seen_again)
{
	struct tni_ackhold h;
	tni_ackhold_init(&h);
	int owners[3];
	unsigned handle[3];
	for (int i = 0; i < 3; i++) {
		struct tni_ack_info a = info((uint32_t)i);
		handle[i] = tni_ackhold_put(&h, &owners[i], &a);
	}
	struct tni_ack_info a;
	tni_ackhold_take(&h, handle[1], &a); /* its session got another packet first */
	cr_assert_eq(a.ack, 1);
	unsigned got;
	cr_assert_eq(tni_ackhold_oldest(&h, &got), &owners[0]);
	tni_ackhold_take(&h, got, &a);
	cr_assert_eq(tni_ackhold_oldest(&h, &got), &owners[2]);
	tni_ackhold_take(&h, got, &a);
	cr_assert_eq(a.ack, 2);
	cr_assert_null(tni_ackhold_oldest(&h, &got));
	cr_assert_not(tni_ackhold_any(&h));
}

Test(ackhold, a_full_hold_refuses_and_takes_again_once_emptied)
{
	struct tni_ackhold h;
	tni_ackhold_init(&h);
	int owner;
	struct tni_ack_info a = info(5);
	for (unsigned i = 0; i < TNI_ACKHOLD_MAX; i++)
		cr_assert_eq(tni_ackhold_put(&h, &owner, &a), i + 1);
	cr_assert_eq(tni_ackhold_put(&h, &owner, &a), 0, "full: the caller processes the ack at once");
	unsigned got, n = 0;
	while (tni_ackhold_oldest(&h, &got)) {
		tni_ackhold_take(&h, got, &a);
		n++;
	}
	cr_assert_eq(n, TNI_ACKHOLD_MAX);
	cr_assert_eq(tni_ackhold_put(&h, &owner, &a), 1);
}
