/* SYN cookies: keyed signatures of a SYN's source, rotated keys. */
#include <string.h>

#include "cookie.h"

void tni_cookie_init(struct tni_cookie_jar *j, uint64_t now, uint64_t (*random)(void *), void *arg)
{
	j->random = random;
	j->random_arg = arg;
	j->period = now / TNI_COOKIE_PERIOD_NS;
	for (int i = 0; i < 2; i++)
		j->key[i] = (struct tni_sipkey){ random(arg), random(arg) };
}

/* Keys drawn as periods pass, when a cookie is next made or checked: the
 * one of the period before, if that is the last one drawn, stays good. */
static void rotate(struct tni_cookie_jar *j, uint64_t now)
{
	uint64_t period = now / TNI_COOKIE_PERIOD_NS;
	if (period <= j->period)
		return;
	if (period == j->period + 1)
		j->key[1] = j->key[0];
	else
		j->key[1] = (struct tni_sipkey){ j->random(j->random_arg), j->random(j->random_arg) };
	j->key[0] = (struct tni_sipkey){ j->random(j->random_arg), j->random(j->random_arg) };
	j->period = period;
}

static uint64_t sign(const struct tni_sipkey *k, const struct tern_addr *from, uint64_t sid, uint32_t epoch)
{
	struct {
		uint8_t ip[16];
		uint16_t family, port;
		uint32_t epoch;
		uint64_t sid;
	} in = { .family = from->family, .port = from->port, .epoch = epoch, .sid = sid };
	_Static_assert(sizeof(in) == 32, "no padding is hashed");
	memcpy(in.ip, from->ip, sizeof(in.ip));
	uint64_t c = tni_siphash24(k, &in, sizeof(in));
	return c ? c : 1;
}

uint64_t tni_cookie_make(struct tni_cookie_jar *j, uint64_t now, const struct tern_addr *from, uint64_t sid,
			 uint32_t epoch)
{
	rotate(j, now);
	return sign(&j->key[0], from, sid, epoch);
}

bool tni_cookie_check(struct tni_cookie_jar *j, uint64_t now, const struct tern_addr *from, uint64_t sid,
		      uint32_t epoch, uint64_t cookie)
{
	rotate(j, now);
	return cookie == sign(&j->key[0], from, sid, epoch) || cookie == sign(&j->key[1], from, sid, epoch);
}
