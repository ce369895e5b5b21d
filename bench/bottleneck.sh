#!/bin/bash
# A real bottleneck: several tern-echo senders in one network namespace, one
# receiver in another, a veth pair between them whose sending end is shaped
# by a tc tbf qdisc. Runs once per congestion-control algorithm and prints
# goodput, loss and latency. Needs root and iproute2; cleans up by name.
set -euo pipefail
usage() {
	cat <<'U'
usage: bench/bottleneck.sh [options]
  --senders N      sender processes (default 8)
  --rate R         tbf rate, as tc writes it (default 500mbit)
  --seconds S      per algorithm (default 4)
  --cc "LIST"      algorithms (default "off aimd timely swift")
  --target-us N    Swift's target (default 300: a veth path's idle RTT is tens of us)
  --echo PATH      the tern-echo binary (default build/tools/tern-echo)
U
}
senders=8 rate=500mbit seconds=4 ccs="off aimd timely swift" target=300 echo=build/tools/tern-echo
while [ $# -gt 0 ]; do
	case $1 in
	--senders) senders=$2; shift 2 ;;
	--rate) rate=$2; shift 2 ;;
	--seconds) seconds=$2; shift 2 ;;
	--cc) ccs=$2; shift 2 ;;
	--target-us) target=$2; shift 2 ;;
	--echo) echo=$2; shift 2 ;;
	-h|--help) usage; exit 0 ;;
	*) echo "bottleneck.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
	esac
done
[ "$(id -u)" -eq 0 ] || { echo "bottleneck.sh: needs root (network namespaces, tc)" >&2; exit 2; }
a=tern-bn-$$-a b=tern-bn-$$-b net=10.215.$(( $$ % 250 ))
tmp=$(mktemp -d)
cleanup() { ip netns del $a 2>/dev/null || true; ip netns del $b 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
ip netns add $a
ip netns add $b
ip link add vb$$ netns $b type veth peer name va$$ netns $a
ip -n $a addr add $net.1/24 dev va$$; ip -n $a link set va$$ up; ip -n $a link set lo up
ip -n $b addr add $net.2/24 dev vb$$; ip -n $b link set vb$$ up; ip -n $b link set lo up
# The bottleneck: the senders' side of the wire, with a 1 MB queue.
ip netns exec $b tc qdisc add dev vb$$ root tbf rate "$rate" burst 64kb limit 1mb

printf "tern over a %s tbf bottleneck (veth, namespaces), %d senders x 4 x 64 KiB calls in flight, %s s each\n" \
	"$rate" "$senders" "$seconds"
printf "%-7s %10s %9s %9s %12s %16s %16s\n" cc "MB/s" "Jain" "loss" "tbf drops" "probe p50 (us)" "probe p99 (us)"
for cc in $ccs; do
	ip netns exec $a "$echo" server --bind $net.1 --port 0 --reply 8 --cc "$cc" --cc-target-us "$target" --poll adaptive \
		>"$tmp/server" 2>&1 &
	server=$!
	for _ in $(seq 100); do grep -q "serving on" "$tmp/server" && break; sleep 0.05; done
	port=$(sed -n 's/.*serving on .*:\([0-9]*\),.*/\1/p' "$tmp/server")
	drops0=$(ip netns exec $b tc -s qdisc show dev vb$$ | sed -n 's/.*dropped \([0-9]*\).*/\1/p' | head -1)
	pids=()
	for i in $(seq "$senders"); do
		timeout -s INT "$seconds" ip netns exec $b "$echo" client $net.1 --port "$port" --size 65536 \
			--depth 4 --count 100000000 --timeout 5000 --reply 8 --cc "$cc" --cc-target-us "$target" --poll adaptive \
			--quiet >"$tmp/client$i" 2>&1 &
		pids+=($!)
	done
	# A probe: small calls, one at a time, beside the bulk traffic. Its
	# latency is what the bottleneck's queue costs everyone else.
	timeout -s INT "$seconds" ip netns exec $b "$echo" client $net.1 --port "$port" --size 64 --count 100000000 \
		--timeout 5000 --reply 8 --cc "$cc" --cc-target-us "$target" --poll adaptive --quiet >"$tmp/probe" 2>&1 &
	pids+=($!)
	for p in "${pids[@]}"; do wait "$p" || true; done
	kill -INT $server 2>/dev/null || true
	wait $server 2>/dev/null || true
	drops1=$(ip netns exec $b tc -s qdisc show dev vb$$ | sed -n 's/.*dropped \([0-9]*\).*/\1/p' | head -1)
	{ cat "$tmp"/client*; sed 's/^ok /probe /' "$tmp/probe"; } | python3 -c '
import re, sys
cc, drops = sys.argv[1], int(sys.argv[2])
lines = sys.stdin.readlines()
rows = [l for l in lines if l.startswith("ok ")]
probe = [l for l in lines if l.startswith("probe ")]
gp = [float(re.search(r"goodput ([0-9.]+)", l).group(1)) for l in rows]
p50 = [float(re.search(r"p50 ([0-9.]+)", l).group(1)) for l in probe]
p99 = [float(re.search(r"p99 ([0-9.]+)", l).group(1)) for l in probe]
rtx = sum(int(re.search(r"retransmits ([0-9]+)", l).group(1)) for l in rows)
data = sum(int(re.search(r"data ([0-9]+)", l).group(1)) for l in rows)
jain = sum(gp) ** 2 / (len(gp) * sum(g * g for g in gp)) if gp and sum(gp) else 0
print(f"{cc:7s} {sum(gp):10.1f} {jain:9.3f} {100.0 * rtx / max(data, 1):8.2f}% {drops:12d} "
      f"{p50[0] if p50 else 0:16.0f} {p99[0] if p99 else 0:16.0f}")
' "$cc" $(( drops1 - drops0 ))
	rm -f "$tmp"/client* "$tmp/probe"
done
