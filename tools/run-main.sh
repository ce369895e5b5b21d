#!/bin/bash
# The main job: build tern, run an RPC echo server and a client on this host
# over the default kernel-UDP path (for busy polling, the sockets driver),
# print latency percentiles, then run tern-bench's default: tern's round
# trip to a second process (tern-bench serve) beside a raw io_uring, a busy
# and a blocking UDP ping-pong that process reflects, in the same run, and
# the LogP parameters over message sizes.
# With arguments, runs tern-bench with them instead (e.g. "lat --help").
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup-deps.sh
[ -d build ] || meson setup build >/dev/null
meson compile -C build >/dev/null
if [ $# -gt 0 ]; then
	exec ./build/bench/tern-bench "$@"
fi

out=$(mktemp)
./build/tools/tern-echo server --bind 127.0.0.1 --port 0 >"$out" &
server=$!
# Keep the job's own exit status: the server is usually gone by now.
trap 'rc=$?; kill $server 2>/dev/null || true; wait $server 2>/dev/null || true; rm -f "$out"; exit $rc' EXIT
for _ in $(seq 100); do
	grep -q "serving on" "$out" && break
	sleep 0.05
done
port=$(sed -n 's/.*serving on .*:\([0-9]*\),.*/\1/p' "$out")
[ -n "$port" ] || { echo "tern-echo server did not start" >&2; cat "$out" >&2; exit 1; }
echo "== tern-echo: client and server processes, RPC over kernel UDP on 127.0.0.1"
sed -n 1p "$out"
./build/tools/tern-echo client 127.0.0.1 --port "$port" --count 100000
kill $server
wait $server 2>/dev/null || true
tail -n +2 "$out"
echo
echo "== tern-bench: latency beside raw io_uring, busy and blocking UDP, then LogP"
./build/bench/tern-bench
