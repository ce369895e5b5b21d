#!/bin/bash
# The layers are real: data flows up on receive and down on send, and each
# layer reaches another only through the one header that layer offers.
#   util/      nothing of tern's but the public headers
#   drivers/   its own files, util/, the public headers
#   transport/ its own files, drivers/driver.h (the ops table), util/
#   rpc/       its own files, transport/transport.h, util/
# Every "..." include in the library is checked against that list.
# Usage: test_layers.sh SOURCE_ROOT
set -euo pipefail
cd "$1"
status=0
allowed() { # layer, file, included path (resolved against the file's folder)
	local layer=$1 inc=$3
	case $inc in
	include/tern/*|tern_config.h) return 0 ;;
	esac
	case $layer in
	util) [[ $inc == util/* ]] ;;
	drivers) [[ $inc == drivers/* || $inc == util/* ]] ;;
	transport) [[ $inc == transport/* || $inc == drivers/driver.h || $inc == util/* ]] ;;
	rpc) [[ $inc == rpc/* || $inc == transport/transport.h || $inc == util/* ]] ;;
	*) return 1 ;;
	esac
}
n=0
for f in $(find util drivers transport rpc -name '*.[ch]' | sort); do
	layer=${f%%/*}
	dir=$(dirname "$f")
	while read -r inc; do
		n=$((n + 1))
		if [[ $inc == tern/* ]]; then
			path=include/$inc
		elif [[ $inc == tern_config.h ]]; then
			path=$inc
		else
			path=$(realpath -m --relative-to=. "$dir/$inc")
		fi
		if ! allowed "$layer" "$f" "$path"; then
			echo "$f includes \"$inc\" ($path): not allowed from $layer/"
			status=1
		elif [[ $path != include/* && $path != tern_config.h && ! -f $path ]]; then
			echo "$f includes \"$inc\": no such file"
			status=1
		fi
	done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f")
done
echo "$n includes checked"
exit $status
