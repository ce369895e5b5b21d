#!/bin/bash
# Install tern into a temporary prefix, then build and run a program against
# it with pkg-config, as a user would.
set -euo pipefail
src=$1 build=$2
prefix=$(mktemp -d /tmp/tern-install.XXXXXX)
trap 'rm -rf "$prefix"' EXIT
meson install -C "$build" --destdir "$prefix" --quiet >/dev/null
root=$prefix$(meson introspect "$build" --buildoptions | python3 -c 'import json,sys; print([o["value"] for o in json.load(sys.stdin) if o["name"]=="prefix"][0])')
pcdir=$(dirname "$(find "$root" -name tern.pc | head -1)")
# The .pc file names the real prefix; point it at the staging copy.
sed -i "s|^prefix=.*|prefix=$root|" "$pcdir/tern.pc"
export PKG_CONFIG_PATH=$pcdir
cat > "$prefix/hello.c" <<'C'
#include <stdio.h>
#include <tern/sim.h>
#include <tern/tern.h>
int main(void)
{
	struct tern_sim_config sc;
	struct tern_sim_net *net;
	tern_sim_config_init(&sc);
	if (tern_sim_create(&sc, &net)) return 1;
	struct tern_engine_config ec;
	struct tern_engine *e;
	tern_engine_config_init(&ec);
	int rc = tern_sim_driver_open(net, 7, &ec.driver);
	if (!rc) rc = tern_engine_create(&ec, &e);
	if (rc) { printf("%s\n", tern_strerror(rc)); return 1; }
	tern_engine_poll(e);
	tern_engine_destroy(e);
	tern_sim_destroy(net);
	printf("tern %s via pkg-config: ok\n", TERN_VERSION_STRING);
	return 0;
}
C
cc -Wall -Werror -o "$prefix/hello" "$prefix/hello.c" $(pkg-config --cflags --libs tern) -Wl,-rpath,"$(pkg-config --variable=libdir tern)"
"$prefix/hello"
# The installed library exports only what the installed headers declare.
bash "$src/tests/test_symbols.sh" "$(pkg-config --variable=libdir tern)/libtern.so" "$(pkg-config --variable=includedir tern)/tern"
# The static library links without LTO and with another compiler: its
# objects carry machine code beside gcc's LTO bytecode (-ffat-lto-objects).
if command -v clang >/dev/null; then
	libdir=$(pkg-config --variable=libdir tern)
	deps=$(pkg-config --print-requires-private tern)
	clang -Wall -Werror -o "$prefix/hello-static" "$prefix/hello.c" $(pkg-config --cflags tern) "$libdir/libtern.a" \
		${deps:+$(pkg-config --libs $deps)} -lpthread -lm
	"$prefix/hello-static" | sed 's/$/ (static, clang)/'
fi
# terngen is installed beside the library, and its output builds against
# the installed headers as a user's make build would (docs/idl.md).
terngen="$root/bin/terngen"
[ -x "$terngen" ] || { echo "terngen not installed in $root/bin"; exit 1; }
mkdir -p "$prefix/kv"
"$terngen" -o "$prefix/kv" "$src/examples/kv/kv.x"
cat > "$prefix/kv/main.c" <<'C'
#include <stdio.h>
#include "kv.h"
int main(void)
{
	kv_key k = { (const unsigned char *)"k", 1 };
	unsigned char b[64];
	struct tern_xdr_enc x;
	tern_xdr_enc_init(&x, b, sizeof(b));
	if (kv_key_encode(&x, &k) || kv_key_size(&k) != 8) return 1;
	printf("terngen output built against the installed tern: ok\n");
	return 0;
}
C
cc -Wall -Wextra -Werror -std=gnu11 -o "$prefix/kv/main" "$prefix/kv/main.c" "$prefix/kv/kv.c" \
	$(pkg-config --cflags --libs tern) -Wl,-rpath,"$(pkg-config --variable=libdir tern)"
"$prefix/kv/main"
