#!/bin/bash
# The example service (examples/kv): kv-server and kv-client as two
# processes, over io_uring on loopback and over DPDK memif between the two.
# Every process started here is stopped by its PID; the memif socket and
# the EAL's run directories are removed.
set -u
server=$1 client=$2 have_dpdk=$3
fail=0
pids=()
tag="kv-test-$$"
sock="/tmp/$tag.sock"
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
	rm -f "$sock"
	rm -rf "/var/run/dpdk/$tag-s" "/var/run/dpdk/$tag-c"
}
trap cleanup EXIT

run() { # label, server args, client args
	local label=$1 sargs=$2 cargs=$3 log
	log=$(mktemp)
	eval "exec \"$server\" $sargs" > "$log" 2>&1 &
	local spid=$!
	pids+=("$spid")
	for _ in $(seq 100); do grep -q "^kv-server: KV_PROG" "$log" && break; sleep 0.05; done
	local out
	if ! out=$(eval "timeout 60 \"$client\" $cargs" 2>&1); then
		echo "FAIL $label: $out"; echo "server: $(cat "$log")"; fail=1
	else
		echo "$label: $out"
	fi
	kill "$spid"; wait "$spid" 2>/dev/null
	local status=$?
	if [ "$status" != 0 ] || ! grep -q "0 bad arguments" "$log"; then
		echo "FAIL $label: server (exit status $status) said $(cat "$log")"; fail=1
	fi
	rm -f "$log"
}

port=$((20000 + $$ % 20000))
run "io_uring" "--driver uring --port $port" "--driver uring --server 127.0.0.1:$port"
run "sockets" "--driver sockets --port $((port + 1))" "--driver sockets --server 127.0.0.1:$((port + 1)) --keys 50"
if [ "$have_dpdk" = "true" ]; then
	eal="--no-huge -m 512 --single-file-segments --no-pci --no-telemetry --log-level=lib.eal:warning --log-level=pmd.net.memif:warning"
	run "DPDK memif" \
		"--driver dpdk --dpdk-ip 10.217.1.1 --port 7900 --eal '$eal --file-prefix=$tag-s --vdev=net_memif0,role=server,socket=$sock'" \
		"--driver dpdk --dpdk-ip 10.217.1.2 --server 10.217.1.1:7900 --eal '$eal --file-prefix=$tag-c --vdev=net_memif0,role=client,socket=$sock'"
fi
"$server" --help | grep -q "^usage: kv-server" || { echo "FAIL kv-server --help"; fail=1; }
"$client" --help | grep -q "^usage: kv-client" || { echo "FAIL kv-client --help"; fail=1; }
exit $fail
