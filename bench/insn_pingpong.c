/* Two RPC engines on loopback in one thread (kernel UDP, busy polling),
 * N echo calls of 32 bytes, each polled to its answer. Run under
 * callgrind by bench/insns.sh, which takes the user-space instructions
 * of one call, both ends together, from two runs of different N: a
 * count that does not drift with the machine, for changes to the
 * per-call path. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "tern/rpc.h"
#include "tern/tern.h"
#include "tern/udp.h"

static void done(int status, const void *resp, size_t len, void *arg)
{
	(void)resp;
	(void)len;
	*(int *)arg = status == 0 ? 1 : -1;
}

static int open_rpc(enum tern_driver_kind kind, bool accept, struct tern_rpc **out)
{
	struct tern_udp_config uc;
	tern_udp_config_init(&uc);
	uc.kind = kind;
	uc.bind_host = "127.0.0.1";
	struct tern_engine_config ec;
	tern_engine_config_init(&ec);
	ec.accept = accept;
	int rc = tern_udp_open(&uc, &ec.driver);
	if (rc)
		return rc;
	struct tern_rpc_config rc_cfg;
	tern_rpc_config_init(&rc_cfg);
	rc_cfg.workers = 0;
	return tern_rpc_create(&rc_cfg, &ec, out);
}

int main(int argc, char **argv)
{
	char *end = NULL;
	long calls = argc == 3 ? strtol(argv[2], &end, 10) : 0;
	if (argc != 3 || (strcmp(argv[1], "sockets") && strcmp(argv[1], "uring")) || *end || calls <= 0) {
		fprintf(stderr, "usage: tern-insn-pingpong sockets|uring CALLS\n"
				"CALLS 32-byte echo calls between two engines in this thread (bench/insns.sh)\n");
		return 2;
	}
	enum tern_driver_kind kind = strcmp(argv[1], "uring") ? TERN_DRIVER_SOCKETS : TERN_DRIVER_URING;
	struct tern_rpc *srv, *cli;
	int rc = open_rpc(kind, true, &srv);
	if (!rc)
		rc = open_rpc(kind, false, &cli);
	if (!rc)
		rc = tern_rpc_register(srv, 1, bench_echo, srv, 0);
	struct tern_addr a;
	struct tern_session *s = NULL;
	if (!rc)
		rc = tern_engine_local_addr(tern_rpc_engine(srv), &a);
	if (!rc)
		rc = tern_session_connect(tern_rpc_engine(cli), &a, &s);
	char msg[32] = "0123456789abcdef0123456789abcde";
	for (long i = 0; !rc && i < calls; i++) {
		void *b = tern_rpc_alloc(cli, sizeof(msg));
		if (!b) {
			rc = TERN_ENOMEM;
			break;
		}
		memcpy(b, msg, sizeof(msg));
		int got = 0;
		rc = tern_rpc_call(cli, s, 1, b, sizeof(msg), 1000000000ull, done, &got, NULL);
		if (rc)
			tern_rpc_free(cli, b);
		while (!rc && !got) {
			tern_engine_poll(tern_rpc_engine(cli));
			tern_engine_poll(tern_rpc_engine(srv));
		}
		if (got < 0)
			rc = TERN_EPROTO;
	}
	if (rc)
		fprintf(stderr, "tern-insn-pingpong: %s\n", tern_strerror(rc));
	tern_rpc_destroy(cli);
	tern_rpc_destroy(srv);
	return rc ? 1 : 0;
}
