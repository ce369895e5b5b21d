/* The TCP baselines of tput and bw: what a plain TCP connection does on
 * the same hosts, with the same sizes and the same number in flight.
 * The peer (tern-bench serve) runs the reflector; a connection's first 5
 * bytes say what it wants: 'E' and a 4-byte little-endian size (every
 * message of that size comes back), or 'S' and the size (each message is
 * answered with one byte). */
#ifndef TERN_BENCH_BASELINE_TCP_H
#define TERN_BENCH_BASELINE_TCP_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

struct tcp_reflector;

/* Listen on host:port (0: any free port; *bound gets it) and serve every
 * connection on a thread of its own until stopped. */
int tcp_reflector_start(const char *host, uint16_t port, uint16_t *bound, struct tcp_reflector **out);
void tcp_reflector_stop(struct tcp_reflector *r);

/* Echoes of size bytes per second over conns connections, depth in flight
 * on each, for seconds; -1 if the peer cannot be reached. */
double tcp_echo_rate(const struct sockaddr_in *to, unsigned conns, unsigned depth, size_t size, double seconds);
/* Bytes per second of messages of size bytes on one connection, window
 * unanswered at most, for seconds (at least two messages). */
double tcp_stream_rate(const struct sockaddr_in *to, size_t size, unsigned window, double seconds);

#endif
