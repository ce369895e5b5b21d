#!/bin/bash
# The library builds warning-free (the project builds with -Werror) at the
# optimisation levels a user may pick besides the default: -Os
# (buildtype=minsize) and -O3 (release). Each inlines differently, and
# GCC's maybe-uninitialized warnings differ with it.
set -euo pipefail
src=$1
dir=$(mktemp -d /tmp/tern-buildtypes.XXXXXX)
trap 'rm -rf "$dir"' EXIT
for bt in minsize release; do
	if ! meson setup "$dir/$bt" "$src" --buildtype="$bt" -Dtests=disabled >"$dir/$bt.log" 2>&1 ||
		! ninja -C "$dir/$bt" libtern.a >>"$dir/$bt.log" 2>&1; then
		echo "FAIL: buildtype=$bt"
		grep -E "error|warning" "$dir/$bt.log" | head -20
		exit 1
	fi
	echo "buildtype=$bt: libtern.a built"
done
