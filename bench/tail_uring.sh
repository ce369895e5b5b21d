#!/bin/bash
# The tail of a 64-byte call over io_uring when the path loses packets:
# tern-echo server and client as two processes, with tern-relay between
# them, once without loss and once with it, in the same run. Prints both
# latency lines and the ratio of the lossy p99 to the lossless p50. Both
# ends poll adaptively (spin, then sleep): three busy threads on a 2-core
# machine would measure the scheduler, not the protocol.
# Usage: bench/tail_uring.sh [BUILD_DIR] [LOSS] [COUNT]
set -euo pipefail
build=${1:-build} loss=${2:-0.01} count=${3:-20000}
echo_bin=$build/tools/tern-echo relay_bin=$build/bench/tern-relay
srv_port=$((20000 + RANDOM % 20000)) relay_port=$((srv_port + 1))
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
"$echo_bin" server --port "$srv_port" --bind 127.0.0.1 --poll adaptive >/dev/null &
pids+=($!)
sleep 0.3
p50() { awk '/^round trip/ {print $3}'; }
p99() { awk '/^round trip/ {print $5}'; }
run() { # loss
	"$relay_bin" --listen "$relay_port" --to "$srv_port" --loss "$1" --seed 7 >/dev/null &
	local r=$!
	sleep 0.2
	"$echo_bin" client 127.0.0.1 --port "$relay_port" --count "$count" --poll adaptive | tee /tmp/tern-tail.$$ | sed "s/^/loss $1: /" >&2
	kill "$r"; wait "$r" 2>/dev/null || true
	cat /tmp/tern-tail.$$
	rm -f /tmp/tern-tail.$$
}
clean=$(run 0)
lossy=$(run "$loss")
echo "lossless:  $(grep '^round trip' <<<"$clean")"
echo "loss $loss: $(grep '^round trip' <<<"$lossy")"
awk -v a="$(p50 <<<"$clean")" -v b="$(p99 <<<"$lossy")" \
	'BEGIN { printf "p99 at loss / lossless p50 = %.2f (%s us / %s us)\n", b / a, b, a }'
