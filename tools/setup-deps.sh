#!/bin/bash
# Install the Debian packages tern builds and tests with. Idempotent: does
# nothing when all are present.
set -euo pipefail
pkgs=(gcc clang libclang-rt-14-dev meson ninja-build pkg-config python3 iproute2
      libcriterion-dev liburing-dev libdpdk-dev rpcsvc-proto libtirpc-dev)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "tern: installing ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
