#!/bin/bash
# The shared library's ABI is exactly the public API: every dynamic symbol
# libtern.so defines is a function a header in include/tern/ declares with
# TERN_API, and every such function is exported.
# Usage: test_symbols.sh LIBTERN_SO INCLUDE_TERN_DIR
set -euo pipefail
so=$1 inc=$2
[ -f "$so" ] || { echo "no $so"; exit 1; }
exported=$(nm -D --defined-only "$so" | awk '$2 ~ /^[TtWwDdBbRrVviu]$/ {print $3}' | sort -u)
declared=$(cat "$inc"/*.h | tr '\n' ' ' | grep -o 'TERN_API [^;{(]*(' | grep -o '\btern_[a-z0-9_]*($' | tr -d '(' | sort -u)
[ -n "$declared" ] || { echo "no TERN_API declarations under $inc"; exit 1; }
status=0
extra=$(comm -23 <(echo "$exported") <(echo "$declared"))
missing=$(comm -13 <(echo "$exported") <(echo "$declared"))
if [ -n "$extra" ]; then
	echo "exported but declared in no public header ($(wc -l <<<"$extra")):"
	sed 's/^/  /' <<<"$extra"
	status=1
fi
if [ -n "$missing" ]; then
	echo "declared TERN_API but not exported ($(wc -l <<<"$missing")):"
	sed 's/^/  /' <<<"$missing"
	status=1
fi
echo "$(wc -l <<<"$exported") symbols exported, $(wc -l <<<"$declared") declared"
exit $status
