#!/bin/bash
# The main job: build tern and run a client and a server talking to each
# other, printing latency figures. Extra arguments go to tern-bench.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup-deps.sh
[ -d build ] || meson setup build >/dev/null
meson compile -C build >/dev/null
if [ $# -eq 0 ]; then
	set -- sim --count 100000 --size 64
fi
exec ./build/bench/tern-bench "$@"
