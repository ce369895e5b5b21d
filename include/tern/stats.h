/* The transport's counters, the same on every driver; read them with
 * tern_engine_stats(). The driver's own counters are read by name
 * (tern_engine_driver_stats). New counters go at the end: an application
 * built against an older header gets the ones it knows of. */
#ifndef TERN_STATS_H
#define TERN_STATS_H

#include <stdint.h>

struct tern_stats {
	uint64_t rx_pkts, tx_pkts, rx_bytes, tx_bytes;
	uint64_t tx_data_pkts;       /* data packets, first sends and retransmits */
	uint64_t retransmits;        /* data packets sent again */
	uint64_t fast_retransmits;   /* of which found lost by SACK/RACK, not RTO */
	uint64_t rto_fired;          /* retransmission timeouts */
	uint64_t rto_spurious;       /* of which undone: the originals had arrived (Eifel) */
	uint64_t acks_sent;          /* standalone ACK packets */
	uint64_t dup_pkts;           /* data packets received twice, dropped */
	uint64_t out_of_window;      /* data packets beyond the receive window */
	uint64_t bad_crc;            /* dropped: CRC32C mismatch, or no CRC where the link did not check */
	uint64_t bad_header;         /* dropped: malformed or unknown version */
	uint64_t bad_peer;           /* dropped: for a live session, but from another id or epoch than its peer's, or a RST not echoing ours */
	uint64_t unknown_session;    /* dropped: no such session */
	uint64_t tx_no_buffer;       /* packet pool empty when sending */
	uint64_t rx_no_memory;       /* fragments refused: reassembly memory limit or malloc failed */
	uint64_t msgs_sent;          /* messages fully acknowledged */
	uint64_t msgs_delivered;     /* messages handed to the application */
	uint64_t tx_copy_bytes;      /* bytes copied from user buffers into packets */
	uint64_t tx_attach_bytes;    /* bytes sent from user buffers without a copy (DPDK external buffers) */
	uint64_t tx_attach_held;     /* messages acked while the device still held their buffer: given back later */
	uint64_t rx_copy_bytes;      /* bytes copied during reassembly */
	uint64_t sessions_opened, sessions_dead;
	uint64_t idle_blocks;        /* adaptive mode: times the engine slept in the driver */
	uint64_t polls;              /* tern_engine_poll calls */
	uint64_t rx_polls;           /* of which received at least one packet (rx_pkts / rx_polls: the burst) */
	uint64_t rx_overlaps;        /* fragments dropped: they claimed bytes of a message already received */
	uint64_t tlp_probes;         /* tail loss probes sent (also counted in retransmits) */
	uint64_t dsacks;             /* duplicates the peer reported: retransmissions that were not needed */
	uint64_t tx_no_memory;       /* sends put off: no memory for a scoreboard */
	uint64_t sessions_idled;     /* times a session gave back its window memory, idle */
	uint64_t syn_cookies_sent;   /* SYNs answered with a cookie, no state kept: the backlog was full */
	uint64_t syn_cookies_ok;     /* SYNs that brought back a good cookie: sessions opened for them */
	uint64_t syn_cookies_bad;    /* SYNs with a cookie that was forged or too old */
	uint64_t syn_unconfirmed;    /* accepted sessions dropped: the client never answered our SYN_ACK */
};

#endif
