/* Sessions by their peer, for the handshake: a retransmitted SYN finds
 * the session it opened (by the peer's address and session id), and a SYN
 * from a peer address with a new epoch finds that address's other
 * sessions (a restarted peer) without a look at anyone else's. Both are
 * hash tables with open addressing, sized for the engine's max_sessions
 * at creation, keyed with a per-engine secret so that a sender cannot
 * choose keys that collide. Every operation costs what it finds. */
#ifndef TNI_PEERS_H
#define TNI_PEERS_H

#include <stdbool.h>
#include <stdint.h>

#include "tern/addr.h"

struct tni_peer_group;

/* Embedded in what is filed (a session): its key and its address's list. */
struct tni_peer_link {
	struct tern_addr addr;
	uint64_t peer_sid;
	uint32_t epoch;
	struct tni_peer_link *next, *prev; /* the address's list */
	struct tni_peer_group *group;
};

/* All links of one address. */
struct tni_peer_group {
	struct tern_addr addr;
	uint32_t epoch;      /* the newest epoch a SYN from it showed */
	uint64_t swept_ns;   /* when its links were last offered to a sweep */
	bool swept;
	struct tni_peer_link *head;
	uint32_t n;
	struct tni_peer_group *free_next;
};

struct tni_peers {
	struct tni_peer_link **by_id;    /* (addr, peer_sid) */
	struct tni_peer_group **by_addr; /* addr */
	uint32_t mask;                   /* both tables: mask + 1 >= 2 * max */
	struct tni_peer_group *groups, *group_free;
	uint32_t max, n;
	uint64_t k0, k1;
};

/* Room for max links; the key k0, k1 from the CSPRNG. */
int tni_peers_init(struct tni_peers *p, uint32_t max, uint64_t k0, uint64_t k1);
void tni_peers_destroy(struct tni_peers *p);
/* File l (its addr, peer_sid and epoch set); false when full or when a
 * link with the same address and id is filed already. */
bool tni_peers_add(struct tni_peers *p, struct tni_peer_link *l);
/* Unfile l; nothing when it is not filed (its group is NULL: a link
 * starts zeroed, and add sets it only on success). */
void tni_peers_remove(struct tni_peers *p, struct tni_peer_link *l);
struct tni_peer_link *tni_peers_find(const struct tni_peers *p, const struct tern_addr *addr, uint64_t peer_sid);
/* A SYN from addr with epoch: calls fn on each link of addr filed with
 * another epoch, unless the address showed this epoch already or was
 * swept less than min_gap_ns ago (so forged SYNs from a real peer's
 * address cannot make every one of them cost a sweep). Returns how many. */
unsigned tni_peers_sweep(struct tni_peers *p, const struct tern_addr *addr, uint32_t epoch, uint64_t now,
			 uint64_t min_gap_ns, void (*fn)(struct tni_peer_link *l, void *arg), void *arg);

#endif
