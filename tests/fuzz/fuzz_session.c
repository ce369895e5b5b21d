/* libFuzzer target: packets injected into a live session on the simulated
 * network, between real messages the client sends. Each record of the
 * input builds one packet (valid, forged, overlapping, out of window) and
 * puts it on the wire; the engines run in between. Checked: no crash and
 * no sanitizer report, no message delivered twice, the real messages
 * delivered intact and in order while the session lives, and the memory
 * a session holds for reassembly within its bound. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tern/sim.h"
#include "tern/tern.h"
#include "transport/session_internal.h"
#include "transport/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REC 20
#define MAX_IDS 4096

struct world {
	struct tern_sim_net *net;
	struct tern_engine *eng[2];
	struct tern_session *client, *server;
	uint8_t seen[2][MAX_IDS / 8]; /* message ids delivered, per side */
	uint64_t real_sent, real_got;
	bool real_broken;
};

static uint8_t real_byte(uint64_t k, size_t i)
{
	return (uint8_t)(k * 131 + i * 7 + 1);
}

static size_t real_len(uint64_t k)
{
	return 1 + (size_t)(k * 977 % 3000);
}

static uint8_t real_buf[64][3000];

static void on_session(struct tern_session *s, enum tern_session_event ev, int status, void *user)
{
	(void)status;
	struct world *w = user;
	if (ev == TERN_SESSION_ACCEPTED && !w->server)
		w->server = s;
	if (ev == TERN_SESSION_DEAD) {
		if (s == w->server)
			w->server = NULL;
		if (s == w->client)
			w->client = NULL;
	}
}

static void on_message(struct tern_session *s, const struct tern_rx_msg *m, void *user)
{
	struct world *w = user;
	int side = s == w->client ? 0 : 1;
	if (m->seq < MAX_IDS) {
		uint8_t bit = (uint8_t)(1u << (m->seq % 8));
		if (w->seen[side][m->seq / 8] & bit)
			__builtin_trap(); /* delivered twice */
		w->seen[side][m->seq / 8] |= bit;
	}
	if (side != 1 || s != w->server)
		return;
	/* The server's session with the real client: in-order delivery, so
	 * its messages come intact and in send order unless the fuzzer, which
	 * knows the ids, took the client's place. */
	uint64_t k = w->real_got;
	if (m->len == real_len(k)) {
		const uint8_t *p = m->data;
		bool ok = true;
		for (size_t i = 0; i < m->len && ok; i++)
			ok = p[i] == real_byte(k, i);
		if (ok) {
			w->real_got++;
			return;
		}
	}
	w->real_broken = true;
}

static bool established(void *arg)
{
	struct world *w = arg;
	return w->server && w->client && w->client->state == S_ESTABLISHED;
}

static int open_world(struct world *w)
{
	memset(w, 0, sizeof(*w));
	struct tern_sim_config sc;
	tern_sim_config_init(&sc);
	sc.seed = 3;
	if (tern_sim_create(&sc, &w->net))
		return -1;
	for (int i = 0; i < 2; i++) {
		struct tern_engine_config ec;
		tern_engine_config_init(&ec);
		ec.seed = 10 + (uint64_t)i;
		ec.window_pkts = 64;
		ec.max_msg_size = 1 << 20;
		ec.cb = (struct tern_callbacks){ on_session, on_message, NULL, w };
		if (tern_sim_driver_open(w->net, (uint32_t)i + 1, &ec.driver) || tern_engine_create(&ec, &w->eng[i]))
			return -1;
	}
	struct tern_addr srv = tern_addr_sim(2);
	if (tern_session_connect(w->eng[0], &srv, &w->client))
		return -1;
	return tern_sim_run(w->net, w->eng, 2, tern_sim_now(w->net) + 10000000, established, w);
}

static void close_world(struct world *w)
{
	for (int i = 0; i < 2; i++)
		tern_engine_destroy(w->eng[i]);
	tern_sim_destroy(w->net);
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

/* One record: a packet towards the server (or, bit 0 of r[1], the
 * client), with ids, epoch and sequence numbers right or wrong as the
 * record says, and a payload of its own bytes. */
static void inject(struct world *w, const uint8_t *r)
{
	struct tern_session *to = r[1] & 1 ? w->client : w->server;
	if (!to)
		return;
	static uint8_t pkt[2048];
	struct tni_wire_hdr h = {
		.type = (uint8_t)(1 + r[0] % 7),
		.flags = r[2] & TERN_FLAG_ALL,
		.dst_sid = r[1] & 2 ? to->sid ^ ((uint64_t)r[3] << 32) : to->sid,
		.src_sid = r[1] & 4 ? to->peer_sid ^ r[4] : to->peer_sid,
		.src_epoch = r[1] & 8 ? to->peer_epoch + 1 : to->peer_epoch,
		.psn = to->rx.nxt + (uint32_t)(int16_t)get16(r + 5),
		.ack = to->sb.una + (uint32_t)(int8_t)r[7],
		.rwnd = r[8],
		.msg_id = to->deliver_next + r[9] % 80,
		.msg_len = (uint32_t)get16(r + 10) * (r[1] & 16 ? 17 : 1),
		.frag_off = get16(r + 12),
		.payload_len = (uint16_t)(get16(r + 14) % 1400),
		.n_sack = (uint8_t)(r[16] % 4),
		.ts = tern_sim_now(w->net) - r[17],
		.ts_echo = r[18],
	};
	if (h.type == TERN_PKT_SYN || h.type == TERN_PKT_SYN_ACK)
		h.payload_len = TERN_WIRE_HANDSHAKE_LEN;
	else if (h.type != TERN_PKT_DATA)
		h.payload_len = 0;
	struct tni_wire_sack sacks[3];
	for (unsigned i = 0; i < h.n_sack; i++) {
		uint32_t start = to->sb.una + (uint32_t)(r[19] >> (2 * i) & 15);
		sacks[i] = (struct tni_wire_sack){ start, start + 1 + i };
	}
	memset(pkt + tni_wire_hdr_len(h.n_sack), r[19] | 0x80, h.payload_len);
	size_t len = tni_wire_encode(pkt, &h, sacks);
	uint32_t src = r[1] & 1 ? 2 : 1, dst = r[1] & 1 ? 1 : 2;
	tern_sim_inject(w->net, src, dst, pkt, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct world w;
	if (open_world(&w)) {
		close_world(&w);
		return 0;
	}
	for (size_t off = 0; off + REC <= size && off / REC < 64; off += REC) {
		const uint8_t *r = data + off;
		if (r[0] & 0x80 && w.client && w.real_sent < 64) {
			uint64_t k = w.real_sent;
			size_t n = real_len(k);
			for (size_t i = 0; i < n; i++)
				real_buf[k][i] = real_byte(k, i);
			if (tern_session_send(w.client, real_buf[k], n, NULL) == 0)
				w.real_sent++;
		}
		inject(&w, r);
		tern_sim_run(w.net, w.eng, 2, tern_sim_now(w.net) + 20000 + (uint64_t)r[0] * 100, NULL, NULL);
		for (int i = 0; i < 2; i++)
			for (uint32_t k = 0; k < w.eng[i]->cfg.max_sessions; k++) {
				struct tern_session *s = w.eng[i]->sessions[k];
				if (s && s->rx_alloc > w.eng[i]->rx_alloc_limit)
					__builtin_trap(); /* reassembly past its bound */
			}
	}
	/* Left alone, the real messages arrive, unless the session died or the
	 * fuzzer spoke for the client. */
	tern_sim_run(w.net, w.eng, 2, tern_sim_now(w.net) + 50000000, NULL, NULL);
	if (w.client && w.server && w.client->state == S_ESTABLISHED && !w.real_broken && w.real_got > w.real_sent)
		__builtin_trap(); /* more real messages than were sent */
	close_world(&w);
	return 0;
}
