#!/bin/bash
# shellcheck disable=SC2016,SC2034 # test bodies are single-quoted, run later by tests/lib.sh: what they expand or use looks unused here
# Basic CLI entry points: version, help, warmer status without a warmer.
. "$(dirname "$0")/../lib.sh"

test_expect_success 'flame --version and flame version print the VERSION file and exit 0' '
	v=$(cat "$SRC_ROOT/VERSION")
	"$FLAME" --version >out1 2>err1
	"$FLAME" version >out2 2>err2
	grep -qF -- "$v" out1
	grep -qF -- "$v" out2
	test ! -s err1
	test ! -s err2
'

test_expect_success 'flame help, --help and -h exit 0 and describe run' '
	for h in help --help -h; do
		"$FLAME" $h >out 2>err
		grep -q "run" out
	done
'

test_expect_success 'flame run --help and -h print the help, exit 0 and start no warmer' '
	for h in --help -h; do
		"$FLAME" run $h >out 2>err
		grep -q "usage: flame run" out
		test ! -s err
		test_status 3 "$FLAME" warmer status
	done
	test ! -e "$XDG_RUNTIME_DIR/flame/warmer.sock"
'

test_expect_success 'flame with no arguments prints usage on stderr only and exits 125' '
	test_status 125 "$FLAME" >out 2>err
	test ! -s out
	grep -q "usage: flame" err
'

test_expect_success 'flame pool with no arguments prints usage on stderr only and exits 125' '
	test_status 125 "$FLAME" pool >out 2>err
	test ! -s out
	grep -q "usage: flame pool" err
'

test_expect_success 'flame pool --help and flame warmer --help print usage on stdout and exit 0' '
	"$FLAME" pool --help >out 2>err
	grep -q "usage: flame pool" out
	test ! -s err
	"$FLAME" warmer --help >out 2>err
	grep -q "usage: flame warmer" out
	test ! -s err
'

test_expect_success 'flame warmer status exits 3 when no warmer runs' '
	test_status 3 "$FLAME" warmer status
'

test_expect_success 'flame run starts a warmer on demand; warmer status then exits 0' '
	out=$("$FLAME" run -- echo hello)
	equals hello "$out"
	test_status 0 "$FLAME" warmer status
	test -S "$XDG_RUNTIME_DIR/flame/warmer.sock"
'

test_expect_success 'flame warmer run while a warmer runs says so in one line and exits 0' '
	test_status 0 "$FLAME" warmer status
	test_status 0 "$FLAME" warmer run >out 2>err
	test ! -s out
	one_flame_line err "already running"
'

test_expect_success 'flame warmer stop stops the warmer; status exits 3 again' '
	test_status 0 "$FLAME" warmer stop
	wait_for "test_status 3 \"\$FLAME\" warmer status" 10
'

test_done
