/* tern-relay: a seeded, lossy UDP relay between one client and one server
 * on this host, so that loss recovery over the kernel path can be measured
 * between real processes (bench/tail_uring.sh). It forwards every datagram
 * in both directions and drops each with probability --loss. It blocks in
 * poll(), so it costs no core of its own; both directions pay the same
 * wake-ups with or without loss. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static uint64_t rng_state;

static double uniform(void)
{
	/* splitmix64: seeded, so a run's drops repeat */
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	z ^= z >> 31;
	return (double)(z >> 11) / 9007199254740992.0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: tern-relay --listen PORT --to PORT [--loss P] [--seed N]\n"
		"\n"
		"Relays UDP datagrams between one client, which sends to 127.0.0.1:PORT\n"
		"(--listen), and a server at 127.0.0.1 --to PORT, in both directions,\n"
		"dropping each with probability P (default 0), from a seeded generator\n"
		"(default seed 1). Prints one line when it listens, and the counts when\n"
		"stopped (SIGINT or SIGTERM).\n");
}

static int udp_socket(uint16_t port)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	int buf = 4 << 20;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "listen", required_argument, 0, 'l' }, { "to", required_argument, 0, 't' },
		{ "loss", required_argument, 0, 'p' },   { "seed", required_argument, 0, 's' },
		{ "help", no_argument, 0, 'h' },         { 0, 0, 0, 0 },
	};
	long listen_port = -1, to_port = -1;
	double loss = 0;
	rng_state = 1;
	char *end;
	int c;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'l': listen_port = strtol(optarg, &end, 10); if (*end || listen_port < 1 || listen_port > 65535) goto bad; break;
		case 't': to_port = strtol(optarg, &end, 10); if (*end || to_port < 1 || to_port > 65535) goto bad; break;
		case 'p': loss = strtod(optarg, &end); if (*end || !(loss >= 0 && loss <= 1)) goto bad; break;
		case 's': rng_state = strtoull(optarg, &end, 10); if (*end) goto bad; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (listen_port < 0 || to_port < 0 || optind != argc) {
		usage(stderr);
		return 2;
	}
	int front = udp_socket((uint16_t)listen_port), back = udp_socket(0);
	if (front < 0 || back < 0) {
		fprintf(stderr, "tern-relay: cannot bind: %s\n", strerror(errno));
		return 1;
	}
	struct sockaddr_in server = { .sin_family = AF_INET, .sin_port = htons((uint16_t)to_port),
				      .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct sockaddr_in client = { 0 };
	bool have_client = false;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	printf("tern-relay: 127.0.0.1:%ld <-> 127.0.0.1:%ld, loss %.4f\n", listen_port, to_port, loss);
	fflush(stdout);
	unsigned long fwd[2] = { 0 }, dropped[2] = { 0 };
	static uint8_t buf[65536];
	while (!stop) {
		struct pollfd p[2] = { { front, POLLIN, 0 }, { back, POLLIN, 0 } };
		if (poll(p, 2, 200) <= 0)
			continue;
		for (int dir = 0; dir < 2; dir++) {
			if (!(p[dir].revents & POLLIN))
				continue;
			struct sockaddr_in from;
			socklen_t fl = sizeof(from);
			ssize_t n = recvfrom(p[dir].fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
			if (n < 0)
				continue;
			if (dir == 0) {
				client = from;
				have_client = true;
			}
			if (uniform() < loss) {
				dropped[dir]++;
				continue;
			}
			if (dir == 0)
				sendto(back, buf, (size_t)n, 0, (struct sockaddr *)&server, sizeof(server));
			else if (have_client)
				sendto(front, buf, (size_t)n, 0, (struct sockaddr *)&client, sizeof(client));
			fwd[dir]++;
		}
	}
	printf("tern-relay: to the server %lu forwarded, %lu dropped; to the client %lu forwarded, %lu dropped\n",
	       fwd[0], dropped[0], fwd[1], dropped[1]);
	return 0;
bad:
	fprintf(stderr, "tern-relay: bad value '%s'\n", optarg);
	return 2;
}
