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

test_expect_success 'flame warmer status exits 3 when no warmer runs' '
	test_status 3 "$FLAME" warmer status
'

test_expect_success 'flame run starts a warmer on demand; warmer status then exits 0' '
	out=$("$FLAME" run -- echo hello)
	equals hello "$out"
	test_status 0 "$FLAME" warmer status
	test -S "$XDG_RUNTIME_DIR/flame/warmer.sock"
'

test_expect_success 'flame warmer stop stops the warmer; status exits 3 again' '
	test_status 0 "$FLAME" warmer stop
	wait_for "test_status 3 \"\$FLAME\" warmer status" 10
'

test_done
