/* SYN cookies, driven directly: who can make one, for whom, how long it lasts. */
#include <criterion/criterion.h>

#include "transport/cookie.h"
#include "util/rng.h"

#define PERIOD TNI_COOKIE_PERIOD_NS

static uint64_t seeded(void *arg)
{
	return tni_rng_next(arg);
}

static struct tni_rng rng;
static struct tni_cookie_jar jar;
static struct tern_addr from;

static void setup(void)
{
	tni_rng_seed(&rng, 42);
	tni_cookie_init(&jar, 5 * PERIOD + 7, seeded, &rng);
	tern_addr_resolve("192.0.2.7", 4791, &from);
}

TestSuite(cookie, .init = setup);

Test(cookie, is_good_for_the_source_id_and_epoch_it_was_made_for)
{
	uint64_t now = 5 * PERIOD + 100;
	uint64_t c = tni_cookie_make(&jar, now, &from, 0xabcdef12345678ull, 99);
	cr_assert_neq(c, 0);
	cr_assert(tni_cookie_check(&jar, now, &from, 0xabcdef12345678ull, 99, c));
	cr_assert_not(tni_cookie_check(&jar, now, &from, 0xabcdef12345679ull, 99, c), "another client id");
	cr_assert_not(tni_cookie_check(&jar, now, &from, 0xabcdef12345678ull, 98, c), "another epoch");
	struct tern_addr other = from;
	other.port++;
	cr_assert_not(tni_cookie_check(&jar, now, &other, 0xabcdef12345678ull, 99, c), "another port");
	other = from;
	other.ip[3] ^= 1;
	cr_assert_not(tni_cookie_check(&jar, now, &other, 0xabcdef12345678ull, 99, c), "another address");
	for (int bit = 0; bit < 64; bit++)
		cr_assert_not(tni_cookie_check(&jar, now, &from, 0xabcdef12345678ull, 99, c ^ (1ull << bit)), "bit %d", bit);
	cr_assert_not(tni_cookie_check(&jar, now, &from, 0xabcdef12345678ull, 99, 0));
}

Test(cookie, lasts_into_the_next_period_and_no_longer)
{
	uint64_t t0 = 5 * PERIOD + PERIOD - 1; /* the last nanosecond of its period */
	uint64_t c = tni_cookie_make(&jar, t0, &from, 1, 2);
	cr_assert(tni_cookie_check(&jar, t0 + 1, &from, 1, 2, c), "the next period");
	cr_assert(tni_cookie_check(&jar, t0 + PERIOD, &from, 1, 2, c), "the end of the next period");
	cr_assert_not(tni_cookie_check(&jar, t0 + PERIOD + 1, &from, 1, 2, c), "two periods on");
	/* A jump of many periods draws both keys anew. */
	uint64_t t1 = 100 * PERIOD;
	uint64_t c1 = tni_cookie_make(&jar, t1, &from, 1, 2);
	cr_assert_not(tni_cookie_check(&jar, t1 + 10 * PERIOD, &from, 1, 2, c1));
}

Test(cookie, another_engine_secret_makes_other_cookies)
{
	struct tni_rng r2;
	tni_rng_seed(&r2, 43);
	struct tni_cookie_jar other;
	tni_cookie_init(&other, 5 * PERIOD, seeded, &r2);
	uint64_t now = 5 * PERIOD + 1;
	for (uint64_t sid = 1; sid < 1000; sid++) {
		uint64_t c = tni_cookie_make(&jar, now, &from, sid, 7);
		cr_assert_not(tni_cookie_check(&other, now, &from, sid, 7, c));
	}
}
