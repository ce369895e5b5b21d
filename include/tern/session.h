/* Reliable sessions between two engines. */
#ifndef TERN_SESSION_H
#define TERN_SESSION_H

#include "export.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

struct tern_engine;
struct tern_session;

/* Start a handshake to peer. Messages may be sent at once; they leave when
 * the session is established. on_session(ESTABLISHED) reports success. */
TERN_API int tern_session_connect(struct tern_engine *e, const struct tern_addr *peer,
			 struct tern_session **out);

/* Queue len bytes for reliable delivery. buf must stay valid and unchanged
 * until on_send_done(cookie). TERN_EAGAIN: queue full, poll and retry.
 * TERN_ENOTOWNER on a session of an RPC engine (tern_rpc_create): the RPC
 * layer owns its sessions and sends only its own messages on them. */
TERN_API int tern_session_send(struct tern_session *s, const void *buf, size_t len, void *cookie);

/* End the session: tell the peer, fail pending sends with TERN_ECLOSED, and
 * free it. The pointer is invalid afterwards. */
TERN_API int tern_session_close(struct tern_session *s);

/* Ask for liveness on a session that may sit idle (on: true): while
 * nothing else is heard from the peer, the session asks it for an answer
 * every dead_after/4, and ends with TERN_EPEERDEAD after dead_after of
 * silence. Off by default: an idle session sends nothing and costs no
 * CPU. A session with data in flight (and an RPC session with calls
 * waiting) detects a dead peer whatever this says. */
TERN_API int tern_session_set_keepalive(struct tern_session *s, bool on);

TERN_API void tern_session_set_user(struct tern_session *s, void *user);
TERN_API void *tern_session_user(const struct tern_session *s);
TERN_API int tern_session_peer(const struct tern_session *s, struct tern_addr *out);
/* Smoothed RTT in ns (0 before the first sample). */
TERN_API uint64_t tern_session_srtt(const struct tern_session *s);
/* Links our packets cross to the peer (1: the same link), from the TTL the
 * peer saw and echoed back; 0 before the first echo, or if either end's
 * driver cannot read TTLs. Swift's target scales with it. */
TERN_API unsigned tern_session_path_hops(const struct tern_session *s);
/* The UDP source port our packets to the peer leave from because the peer
 * asked for it in the handshake (its NIC's RSS then puts them on the
 * peer's engine queue; docs/dpdk.md), or 0: the engine's own port. Only
 * the DPDK driver can send from another port; the others ignore it. */
TERN_API uint16_t tern_session_steer_port(const struct tern_session *s);
/* Our packets to the peer go without tern's CRC32C, because our link
 * checks them (memif, or a NIC's UDP checksum) and the peer's driver can
 * tell that it did (docs/protocol.md, Integrity). */
TERN_API bool tern_session_link_checked(const struct tern_session *s);
/* The largest payload of one data packet to the peer, in bytes: the path
 * MTU both ends agreed in the handshake (each its route's, the smaller
 * wins; tern_udp_config.mtu) less the IP, UDP and tern headers. A message
 * longer than this goes in several packets. */
TERN_API uint32_t tern_session_mss(const struct tern_session *s);

#endif
