/* Writes the fuzz_xdr seed corpus (tests/fuzz/corpus/xdr/everything-*):
 * twelve samples of tests/xdr/alltypes.x's `everything`, encoded by
 * terngen's code. Not built by meson; from the source root after a build:
 *   gcc -std=gnu11 -Iinclude -Itests/xdr -Ibuild/tests tests/xdr/make_corpus.c \
 *     tests/xdr/tg_side.c build/tests/alltypes.c -Lbuild -ltern -o /tmp/mkseed
 *   LD_LIBRARY_PATH=build /tmp/mkseed tests/fuzz/corpus/xdr
 * (result-short and node-chain are written by hand.) */
#include <stdio.h>
#include "spec.h"
int main(int argc, char **argv)
{
	static uint8_t b[65536];
	for (uint64_t s = 0; s < 12; s++) {
		size_t n = tg_encode(s * 37 + 5, b, sizeof(b));
		char path[512];
		snprintf(path, sizeof(path), "%s/everything-%02llu", argv[1], (unsigned long long)s);
		FILE *f = fopen(path, "wb");
		fwrite(b, 1, n, f);
		fclose(f);
	}
	(void)argc;
	return 0;
}
