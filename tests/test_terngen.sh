#!/bin/bash
# terngen's command line and its errors: each names the file, line and
# column, and nothing is written for a file that does not parse.
set -u
terngen=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail=0
expect_error() { # name, .x text, the message expected on stderr
	printf '%s' "$2" > "$dir/$1.x"
	if "$terngen" -o "$dir/out" "$dir/$1.x" 2> "$dir/err"; then
		echo "FAIL $1: accepted"; fail=1; return
	fi
	if ! grep -qF -- "$3" "$dir/err"; then
		echo "FAIL $1: wanted '$3', got: $(cat "$dir/err")"; fail=1; return
	fi
	[ -e "$dir/out/$1.h" ] && { echo "FAIL $1: wrote output"; fail=1; }
	return 0
}
expect_error unknown_type $'struct a {\n\tint x;\n\tfoo y;\n};\n' "unknown_type.x:3:2: error: unknown type 'foo'"
expect_error missing_semi $'const A = 1\nconst B = 2;\n' "missing_semi.x:2:1: error: expected ';', found 'const'"
expect_error bad_char $'const A = 1;\n  $\n' "bad_char.x:2:3: error: unexpected character '\$'"
expect_error twice $'const A = 1;\nconst A = 2;\n' "twice.x:2:7: error: 'A' is defined twice"
expect_error no_const $'typedef opaque x[N];\n' "no_const.x:1:18: error: 'N' is not a constant"
expect_error case_twice $'union u switch (int d) {\ncase 1: int a;\ncase 1: int b;\n};\n' "case_twice.x:3:6: error: case 1 twice"
expect_error self $'struct s {\n\ts inner;\n};\n' "self.x:2:4: error: s contains itself"
expect_error two_args $'program P { version V { int F(int, int) = 1; } = 1; } = 1;\n' "two_args.x:1:34: error: one argument per procedure"
expect_error unterminated $'/* never closed\n' "unterminated.x:1:1: error: unterminated comment"
expect_error bad_disc $'union u switch (hyper d) {\ncase 1: int a;\n};\n' "bad_disc.x:1:17: error: a union's discriminant"
# The help tells the truth, and a missing file is a clear error.
"$terngen" --help | grep -q "usage: terngen \[-o DIR\] FILE.x" || { echo "FAIL --help"; fail=1; }
"$terngen" "$dir/none.x" 2> "$dir/err" && { echo "FAIL missing file accepted"; fail=1; }
grep -q "none.x" "$dir/err" || { echo "FAIL missing file: $(cat "$dir/err")"; fail=1; }
[ $fail -eq 0 ] && echo "terngen errors: all as expected"
exit $fail
