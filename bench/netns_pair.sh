#!/bin/bash
# Every tern-bench command against a peer in another network namespace,
# both ways, then over DPDK memif between two processes: the figures of
# docs/benchmarks.md ("Across two hosts, on this one"). Two namespaces
# joined by a veth pair stand in for two hosts; the DPDK end runs on
# af_packet. Needs root. Usage: bench/netns_pair.sh [TERN_BENCH] [SCALE]
# (SCALE multiplies the counts and times; default 1).
set -u
bench=${1:-build/bench/tern-bench}
k=${2:-1}
id=$$
a=tern-np-$id-a b=tern-np-$id-b net=10.213.$((id % 250))
srv=
cleanup() {
	[ -n "$srv" ] && kill "$srv" 2>/dev/null && wait "$srv" 2>/dev/null
	ip netns del "$a" 2>/dev/null
	ip netns del "$b" 2>/dev/null
	rm -rf "/var/run/dpdk/tnp$id"
}
trap cleanup EXIT
ip netns add "$a" && ip netns add "$b" &&
	ip link add "np${id}a" netns "$a" type veth peer name "np${id}b" netns "$b" &&
	ip -n "$a" link set "np${id}a" up && ip -n "$a" link set lo up &&
	ip -n "$b" addr add "$net.2/24" dev "np${id}b" && ip -n "$b" link set "np${id}b" up &&
	ip -n "$b" link set lo up && ip -n "$b" link set dev "np${id}b" gso_max_segs 1 || exit 1
eal="--no-huge -m 512 --no-pci --no-telemetry --file-prefix=tnp$id --log-level=lib.eal:warning --vdev=net_af_packet0,iface=np${id}a"
n=$((20000 * k)) t=$(echo "1 * $k" | bc)
run() { echo "\$ $*"; "$@" 2>&1 | grep -v '^EAL\|^TELEMETRY'; echo; }
serve_up() { # NS ARGS...: start serve, wait for its line
	local ns=$1 log
	shift
	log=$(mktemp)
	ip netns exec "$ns" "$bench" serve --port 7700 "$@" >"$log" 2>&1 &
	srv=$!
	for _ in $(seq 100); do grep -q "tern RPC on" "$log" && break; sleep 0.1; done
	head -1 "$log"
	echo
}
serve_down() { kill "$srv"; wait "$srv"; srv=; }

echo "== 1. serve --driver dpdk (af_packet) in one namespace, the commands over io_uring in the other"
serve_up "$a" --driver dpdk --dpdk-ip "$net.3" --eal "$eal"
for cmd in "lat --count $n --rounds 10" "tput --seconds $t" "logp --sizes 64,1024,16384" "bw --sizes 65536,1048576 --seconds $t"; do
	# shellcheck disable=SC2086
	run ip netns exec "$b" "$bench" $cmd --peer "$net.3" --driver uring
done
serve_down

echo "== 2. the reverse: serve --driver uring, the commands over DPDK (af_packet)"
serve_up "$b" --driver uring --bind "$net.2"
for cmd in "lat --count $n --rounds 10" "tput --seconds $t" "logp --sizes 64,1024,16384" "bw --sizes 65536,1048576 --seconds $t"; do
	# shellcheck disable=SC2086
	run ip netns exec "$a" "$bench" $cmd --peer "$net.2" --driver dpdk --eal "$eal" --dpdk-ip "$net.3"
done
serve_down

echo "== 3. DPDK memif between two processes (each command starts its peer)"
for cmd in "lat --count $n --rounds 10" "tput --seconds $t" "tput --engines 2 --sessions 2 --seconds $t" \
	"logp --sizes 64,1024,16384" "bw --sizes 65536,1048576 --seconds $t"; do
	# shellcheck disable=SC2086
	run "$bench" $cmd --driver dpdk
done
