#!/bin/bash
# Run a libFuzzer target for a bounded time from its checked-in seed
# corpus. New inputs go to a scratch folder, never into the source tree.
# Usage: run_fuzz.sh TARGET SEED_DIR SECONDS
set -euo pipefail
target=$1 seeds=$2 seconds=$3
scratch=$(mktemp -d /tmp/tern-fuzz.XXXXXX)
trap 'rm -rf "$scratch"' EXIT
"$target" "$scratch" "$seeds" -max_total_time="$seconds" -seed=1 -rss_limit_mb=2048 -print_final_stats=1
