#!/bin/bash
# tern-bench against a peer process: lat, tput, logp and bw start their
# own serve and stop it; over DPDK memif they join it by a memif socket.
# Then, in two network namespaces over a veth pair, a DPDK (af_packet)
# serve in one and lat, tput, logp and bw --peer over io_uring in the
# other; then the reverse: an io_uring serve, and the DPDK client on
# af_packet. lat's raw baseline is reflected by the peer each time.
# Cleans up by PID and by name.
set -u
bench=$1
fail() { echo "FAIL: $*"; exit 1; }
id=$$
ns_a=tern-bp-$id-a ns_b=tern-bp-$id-b
srv=
cleanup() {
	[ -n "$srv" ] && kill "$srv" 2>/dev/null && wait "$srv" 2>/dev/null
	ip netns del "$ns_a" 2>/dev/null
	ip netns del "$ns_b" 2>/dev/null
	rm -rf "/var/run/dpdk/tbp$id"
}
trap cleanup EXIT

# 1. No --peer: a second process, gone when lat (or tput) ends.
# The peer inherits this mark: a process that still has it outlived lat.
mark="TERN_BENCH_PEER_TEST=$id"
out=$(env "$mark" "$bench" lat --count 2000 --rounds 2) || fail "lat: $out"
echo "$out"
grep -q "a tern-bench serve started here" <<<"$out" || fail "lat did not start its peer"
for m in "tern RPC" "raw io_uring UDP" "kernel UDP, blocking"; do
	grep -q "^$m " <<<"$out" || fail "no '$m' line"
done
env "$mark" "$bench" tput --seconds 0.2 >/dev/null || fail "tput with its own peer"
out=$(env "$mark" "$bench" logp --sizes 64,1024 --phase-seconds 0.3) || fail "logp: $out"
echo "$out"
grep -q "a tern-bench serve started here" <<<"$out" || fail "logp did not start its peer"
grep -Eq "^ +1024 " <<<"$out" || fail "logp gave no row for 1024 B"
out=$(env "$mark" "$bench" bw --sizes 65536,1048576 --seconds 0.3 --json) || fail "bw: $out"
echo "$out"
python3 -c 'import json,sys; rs=[json.loads(l) for l in sys.stdin]; assert len(rs) == 2 and all(r["mb_per_s"] > 0 for r in rs), rs' \
	<<<"$out" || fail "bw with its own peer moved no bytes"

# A serve outlives clients that end their TCP baseline with answers unread
# (it died of SIGPIPE once, and the next client waited for it).
slog=$(mktemp)
"$bench" serve --driver sockets --port 0 --bind 127.0.0.1 >"$slog" 2>&1 &
srv=$!
for _ in $(seq 100); do grep -q "tern RPC on" "$slog" && break; sleep 0.1; done
sp=$(sed -n 's/.*tern RPC on 127.0.0.1:\([0-9]*\),.*/\1/p' "$slog")
[ -n "$sp" ] || fail "local serve said: $(cat "$slog")"
for k in 1 2; do
	"$bench" bw --peer "127.0.0.1:$sp" --driver sockets --sizes 65536 --seconds 0.2 >/dev/null ||
		fail "bw --peer, run $k"
	kill -0 "$srv" 2>/dev/null || fail "the serve died after bw run $k: $(cat "$slog")"
done
kill "$srv"
wait "$srv"
srv=
rm -f "$slog"

# 1b. DPDK between two processes: memif, the peer started here.
if "$bench" --help | grep -q "memif"; then
	out=$(env "$mark" "$bench" lat --driver dpdk --count 2000 --rounds 2 2>&1) || fail "lat over memif: $out"
	echo "$out"
	grep -q "driver dpdk there), driver dpdk here" <<<"$out" || fail "lat over memif: not dpdk on both ends"
	for m in "tern RPC" "raw DPDK UDP frames"; do
		grep -q "^$m " <<<"$out" || fail "no '$m' line over memif"
	done
	out=$(env "$mark" "$bench" tput --driver dpdk --engines 2 --sessions 2 --seconds 0.3 --json 2>/dev/null) ||
		fail "tput over memif: $out"
	echo "$out"
	python3 -c 'import json,sys; r=json.loads(sys.stdin.read()); assert r["calls_per_s"] > 0 and r["errors_per_s"] == 0 and len(r["engine_calls_per_s"]) == 2 and min(r["engine_calls_per_s"]) > 0 and len(r["engine_handoffs"]) == 2, r' \
		<<<"$out" || fail "tput over memif: an engine made no calls"
	out=$(env "$mark" "$bench" logp --driver dpdk --sizes 64,1024 --phase-seconds 0.3 2>&1) || fail "logp over memif: $out"
	echo "$out"
	grep -Eq "^ +1024 " <<<"$out" || fail "logp over memif gave no row for 1024 B"
fi
for p in /proc/[0-9]*; do
	{ tr '\0' '\n' <"$p/environ"; } 2>/dev/null | grep -qx "$mark" && fail "the peer outlived lat: ${p#/proc/}"
done

# 2. Across namespaces: DPDK serve in a, io_uring lat in b.
if [ "$(id -u)" != 0 ] || ! command -v ip >/dev/null; then
	echo "SKIP: network namespaces need root and iproute2"
	exit 0
fi
net=10.214.$((id % 250))
ip netns add "$ns_a" && ip netns add "$ns_b" &&
	ip link add "tp${id}a" netns "$ns_a" type veth peer name "tp${id}b" netns "$ns_b" &&
	ip -n "$ns_a" link set "tp${id}a" up && ip -n "$ns_a" link set lo up &&
	ip -n "$ns_b" addr add "$net.2/24" dev "tp${id}b" && ip -n "$ns_b" link set "tp${id}b" up &&
	ip -n "$ns_b" link set lo up &&
	ip -n "$ns_b" link set dev "tp${id}b" gso_max_segs 1 || fail "cannot set up the namespaces"
log=$(mktemp)
ip netns exec "$ns_a" "$bench" serve --driver dpdk --port 7700 --dpdk-ip "$net.3" \
	--eal "--no-huge -m 512 --no-pci --file-prefix=tbp$id --vdev=net_af_packet0,iface=tp${id}a" >"$log" 2>&1 &
srv=$!
for _ in $(seq 100); do grep -q "listening\|tern RPC on" "$log" && break; sleep 0.1; done
grep -q "tern RPC on $net.3:7700, raw reflector on $net.3:7701" "$log" || fail "serve said: $(cat "$log")"
out=$(ip netns exec "$ns_b" "$bench" lat --peer "$net.3" --driver uring --count 2000 --rounds 2) ||
	fail "lat --peer: $out"
echo "$out"
grep -q "driver dpdk there" <<<"$out" || fail "the peer is not the DPDK serve"
for m in "tern RPC" "raw io_uring UDP" "kernel UDP, blocking"; do
	grep -q "^$m " <<<"$out" || fail "no '$m' line across namespaces"
done
out=$(ip netns exec "$ns_b" "$bench" tput --peer "$net.3" --driver uring --seconds 0.5 --json) ||
	fail "tput --peer: $out"
echo "$out"
python3 -c 'import json,sys; r=json.loads(sys.stdin.read()); assert r["calls_per_s"] > 0 and r["errors_per_s"] == 0, r' \
	<<<"$out" || fail "tput --peer made no calls"
out=$(ip netns exec "$ns_b" "$bench" logp --peer "$net.3" --driver uring --sizes 64,1024 --phase-seconds 0.3) ||
	fail "logp --peer: $out"
echo "$out"
grep -q "driver dpdk there" <<<"$out" || fail "logp: the peer is not the DPDK serve"
grep -Eq "^ +1024 " <<<"$out" || fail "logp --peer gave no row for 1024 B"
out=$(ip netns exec "$ns_b" "$bench" bw --peer "$net.3" --driver uring --sizes 65536 --seconds 0.3) ||
	fail "bw --peer: $out"
echo "$out"
kill "$srv"
wait "$srv"
rc=$?
srv=
[ $rc = 0 ] || fail "serve exited $rc on SIGTERM: $(cat "$log")"

# 3. The reverse: io_uring serve in b, the DPDK client (af_packet) in a.
ip netns exec "$ns_b" "$bench" serve --driver uring --port 7700 --bind "$net.2" >"$log" 2>&1 &
srv=$!
for _ in $(seq 100); do grep -q "tern RPC on" "$log" && break; sleep 0.1; done
grep -q "tern RPC on $net.2:7700, raw reflector on $net.2:7701" "$log" || fail "serve said: $(cat "$log")"
eal="--no-huge -m 512 --no-pci --no-telemetry --file-prefix=tbp$id --log-level=lib.eal:warning --vdev=net_af_packet0,iface=tp${id}a"
client() { ip netns exec "$ns_a" "$bench" "$@" --peer "$net.2" --driver dpdk --eal "$eal" --dpdk-ip "$net.3"; }
out=$(client lat --count 2000 --rounds 2) || fail "dpdk lat --peer: $out"
echo "$out"
grep -q "driver uring there), driver dpdk here" <<<"$out" || fail "lat: not dpdk here and uring there"
for m in "tern RPC" "raw DPDK UDP frames"; do
	grep -q "^$m " <<<"$out" || fail "no '$m' line from the DPDK client"
done
out=$(client tput --seconds 0.5 --json) || fail "dpdk tput --peer: $out"
echo "$out"
python3 -c 'import json,sys; r=json.loads(sys.stdin.read()); assert r["calls_per_s"] > 0 and r["errors_per_s"] == 0, r' \
	<<<"$out" || fail "dpdk tput --peer made no calls"
out=$(client logp --sizes 64,1024 --phase-seconds 0.3) || fail "dpdk logp --peer: $out"
echo "$out"
grep -Eq "^ +1024 " <<<"$out" || fail "dpdk logp --peer gave no row for 1024 B"
kill "$srv"
wait "$srv"
rc=$?
srv=
[ $rc = 0 ] || fail "serve exited $rc on SIGTERM: $(cat "$log")"
rm -f "$log"
echo "ok"
