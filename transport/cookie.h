/* SYN cookies: what a server sends instead of keeping state for a SYN, and
 * checks when the client sends it back (docs/protocol.md, "Handshake").
 * A cookie signs the client's address, id and epoch with a key from the
 * CSPRNG; the key changes every TNI_COOKIE_PERIOD_NS, and a cookie is good
 * under the key it was made with and the next one: one to two periods. */
#ifndef TERN_COOKIE_H
#define TERN_COOKIE_H

#include <stdbool.h>
#include <stdint.h>

#include "../util/siphash.h"
#include "tern/addr.h"

#define TNI_COOKIE_PERIOD_NS 1000000000ull

struct tni_cookie_jar {
	struct tni_sipkey key[2]; /* this period's, the last one's */
	uint64_t period;          /* now / TNI_COOKIE_PERIOD_NS when key[0] was drawn */
	uint64_t (*random)(void *arg); /* 64 unpredictable bits */
	void *random_arg;
};

void tni_cookie_init(struct tni_cookie_jar *j, uint64_t now, uint64_t (*random)(void *), void *arg);
/* The cookie for a SYN from `from` with the client's id and epoch; never 0. */
uint64_t tni_cookie_make(struct tni_cookie_jar *j, uint64_t now, const struct tern_addr *from, uint64_t sid,
			 uint32_t epoch);
bool tni_cookie_check(struct tni_cookie_jar *j, uint64_t now, const struct tern_addr *from, uint64_t sid,
		      uint32_t epoch, uint64_t cookie);

#endif
