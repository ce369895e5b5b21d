#!/bin/bash
# User-space instructions of one tern RPC call, both ends together (the
# client's call, both engines' polls, the server's handler and answer),
# counted by callgrind: two runs of tern-insn-pingpong, 2,000 and 22,000
# calls, and the difference over 20,000. Idle polls while a datagram is
# in the kernel are counted too (about two per end per call). System
# calls are not: callgrind counts what runs in user space.
# usage: bench/insns.sh [BUILD_DIR] [sockets|uring]
set -eu
build=${1:-build}
driver=${2:-sockets}
bin="$build/bench/tern-insn-pingpong"
[ -x "$bin" ] || { echo "insns.sh: no $bin (build first)" >&2; exit 2; }
command -v valgrind >/dev/null || { echo "insns.sh: valgrind is not installed" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
count() {
	valgrind --tool=callgrind --callgrind-out-file="$tmp/out.$1" "$bin" "$driver" "$1" 2>"$tmp/err.$1" ||
		{ cat "$tmp/err.$1" >&2; exit 1; }
	sed -n 's/^==[0-9]*== Collected : //p' "$tmp/err.$1"
}
a=$(count 2000)
b=$(count 22000)
echo "tern RPC, 32 B echo over $driver: $(( (b - a) / 20000 )) user instructions a call (both ends; bench/insns.sh)"
