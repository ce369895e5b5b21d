/* Test helpers: two engines on a simulated network, seeded message
 * contents, and counters the callbacks fill in. */
#ifndef TERN_TEST_HARNESS_H
#define TERN_TEST_HARNESS_H

#include <malloc.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tern/sim.h"
#include "tern/tern.h"

/* Sanitizers keep freed memory in quarantine: a heap figure means
 * nothing under them. */
#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

/* Bytes the C heap holds for the program now. */
static inline size_t heap_used(void)
{
	struct mallinfo2 mi = mallinfo2();
	return mi.uordblks + mi.hblkhd;
}

struct pair {
	struct tern_sim_net *net;
	struct tern_engine *eng[2]; /* [0] client on node 1, [1] server on node 2 */
	struct tern_session *client, *server;
	int client_status, server_status; /* status of a DEAD event, 1 while alive */
	bool established;
	uint64_t delivered[2];
	void *user;
	/* optional extra hooks for a test */
	void (*on_message)(struct pair *p, int side, struct tern_session *s, const struct tern_rx_msg *m);
	void (*on_send_done)(struct pair *p, int side, void *cookie, int status);
};

/* Content of message k of a run: deterministic, cheap, different per k. */
static inline uint64_t content_word(uint64_t key, uint64_t i)
{
	uint64_t z = key * 0x9e3779b97f4a7c15ull + i * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 31)) * 0x94d049bb133111ebull;
	return z ^ (z >> 29);
}

static inline void content_fill(uint8_t *buf, size_t len, uint64_t key)
{
	size_t i = 0;
	for (; i + 8 <= len; i += 8) {
		uint64_t w = content_word(key, i / 8);
		memcpy(buf + i, &w, 8);
	}
	uint64_t w = content_word(key, i / 8);
	memcpy(buf + i, &w, len - i);
}

static inline bool content_check(const uint8_t *buf, size_t len, uint64_t key)
{
	size_t i = 0;
	for (; i + 8 <= len; i += 8) {
		uint64_t w = content_word(key, i / 8);
		if (memcmp(buf + i, &w, 8))
			return false;
	}
	uint64_t w = content_word(key, i / 8);
	return memcmp(buf + i, &w, len - i) == 0;
}

static inline int pair_side(struct pair *p, struct tern_session *s)
{
	return s == p->client ? 0 : 1;
}

static inline void pair_on_session(struct tern_session *s, enum tern_session_event ev, int status, void *user)
{
	struct pair *p = user;
	/* Only the first accepted session is "the server": forged SYNs in some
	 * tests open others. */
	if (ev == TERN_SESSION_ACCEPTED && !p->server)
		p->server = s;
	if (ev == TERN_SESSION_ESTABLISHED)
		p->established = true;
	if (ev == TERN_SESSION_DEAD) {
		if (s == p->client) {
			p->client_status = status;
			p->client = NULL;
		} else if (s == p->server) {
			p->server_status = status;
			p->server = NULL;
		}
	}
}

static inline void pair_on_message(struct tern_session *s, const struct tern_rx_msg *m, void *user)
{
	struct pair *p = user;
	int side = pair_side(p, s);
	p->delivered[side]++;
	if (p->on_message)
		p->on_message(p, side, s, m);
}

static inline void pair_on_send_done(struct tern_session *s, void *cookie, int status, void *user)
{
	struct pair *p = user;
	if (p->on_send_done)
		p->on_send_done(p, pair_side(p, s), cookie, status);
}

static inline void pair_engine_config(struct pair *p, struct tern_engine_config *ec, uint32_t node, uint64_t seed)
{
	tern_engine_config_init(ec);
	tern_sim_driver_open(p->net, node, &ec->driver);
	ec->seed = seed;
	ec->cb = (struct tern_callbacks){ pair_on_session, pair_on_message, pair_on_send_done, p };
}

/* Network and both engines; ec_tweak may change the engine configs. */
static inline int pair_open(struct pair *p, const struct tern_sim_config *sc,
			    void (*ec_tweak)(struct tern_engine_config *ec))
{
	p->client_status = p->server_status = 1;
	int rc = tern_sim_create(sc, &p->net);
	if (rc)
		return rc;
	for (int i = 0; i < 2; i++) {
		struct tern_engine_config ec;
		pair_engine_config(p, &ec, (uint32_t)i + 1, sc->seed * 16 + (uint64_t)i + 1);
		if (ec_tweak)
			ec_tweak(&ec);
		rc = tern_engine_create(&ec, &p->eng[i]);
		if (rc)
			return rc;
	}
	return 0;
}

static inline int pair_connect(struct pair *p)
{
	struct tern_addr a = tern_addr_sim(2);
	return tern_session_connect(p->eng[0], &a, &p->client);
}

static inline bool pair_established(void *arg)
{
	struct pair *p = arg;
	return p->established && p->server;
}

static inline int pair_run(struct pair *p, uint64_t for_ns, bool (*done)(void *), void *arg)
{
	return tern_sim_run(p->net, p->eng, 2, tern_sim_now(p->net) + for_ns, done, arg);
}

static inline void pair_close(struct pair *p)
{
	tern_engine_destroy(p->eng[0]);
	tern_engine_destroy(p->eng[1]);
	tern_sim_destroy(p->net);
}

#endif
