#!/bin/bash
# Build tern twice (gcc, and clang with ASan + UBSan + libFuzzer) and run
# every test in both. Exits non-zero if anything fails.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup-deps.sh
fuzz_seconds=${TERN_FUZZ_SECONDS:-60}

[ -d build ] || meson setup build -Ddpdk=enabled -Dliburing=enabled -Dtests=enabled >/dev/null
built() { echo "tests: 0 passed, 1 failed (the $1 build does not compile)"; exit 1; }
meson compile -C build >/dev/null || built gcc
status=0
echo "== tests: gcc build"
meson test -C build --print-errorlogs || status=1

[ -d build-asan ] || CC=clang meson setup build-asan -Db_sanitize=address,undefined -Db_lundef=false -Db_lto=false \
	-Ddpdk=enabled -Dliburing=enabled -Dtests=enabled -Dfuzz=enabled >/dev/null
meson configure build-asan -Dfuzz_seconds="$fuzz_seconds"
meson compile -C build-asan >/dev/null || built sanitizer
echo "== tests: clang, ASan + UBSan, fuzzing ${fuzz_seconds}s"
LSAN_OPTIONS=suppressions=$PWD/tools/lsan.supp ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	meson test -C build-asan --print-errorlogs || status=1

echo "== summary (Criterion cases counted one by one)"
python3 tools/test-summary.py build/meson-logs/testlog.json build-asan/meson-logs/testlog.json || status=1
exit $status
