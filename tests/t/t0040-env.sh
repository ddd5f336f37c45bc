#!/bin/bash
# shellcheck disable=SC2016,SC2034 # test bodies are single-quoted, run later by tests/lib.sh: what they expand or use looks unused here
# Run semantics: the job environment is clean; --env passes chosen variables.
. "$(dirname "$0")/../lib.sh"

test_expect_success 'the job does not inherit the caller environment (FOO=bar run -- env lacks FOO)' '
	FOO=bar "$FLAME" run -- env >out
	not grep -q "^FOO=" out
'

test_expect_success '--env FOO passes the caller value of FOO' '
	FOO=bar "$FLAME" run --env FOO -- env >out
	grep -qx "FOO=bar" out
'

test_expect_success '--env FOO=baz sets FOO to baz even when the caller has FOO=bar' '
	FOO=bar "$FLAME" run --env FOO=baz -- env >out
	grep -qx "FOO=baz" out
	not grep -qx "FOO=bar" out
'

test_expect_success '-e is the short form of --env and is repeatable' '
	A=1 "$FLAME" run -e A -e B=2 -e C=x=y -- env >out
	grep -qx "A=1" out
	grep -qx "B=2" out
	grep -qx "C=x=y" out
'

hostile_value=$'a b\n$(id) `x` \'q\' "d" \\ \xff end'
test_expect_success 'an --env value arrives byte for byte (spaces, newline, quotes, $(...), non-UTF-8)' '
	v=$hostile_value
	"$FLAME" run --env "V=$v" --sh "printf %s \"\$V\"" >got
	printf %s "$v" >want
	cmp want got
'

test_expect_success 'an empty --env value is set (V= gives an empty but set variable)' '
	"$FLAME" run --env V= --sh "echo \${V+set}:\${V}:" >out
	equals "set::" "$(cat out)"
'

test_expect_success 'the job sees only the documented variables plus --env ones' '
	FOO=bar SECRET=s3 "$FLAME" run -e EXTRA=1 -- env -0 >out
	tr "\0" "\n" <out | sed -n "s/=.*//p" | sort -u >names
	bad=$(grep -vxE "PATH|HOME|LANG|LC_ALL|TZ|USER|LOGNAME|SHELL|FLAME_POOL|FLAME_RUNNER|FLAME_JOB|EXTRA" names || :)
	equals "" "$bad"
'

test_expect_success 'the caller XDG_*, TMPDIR, FLAME_* and sanitizer variables do not leak into the job' '
	"$FLAME" run -- env >out
	not grep -qE "^(XDG_RUNTIME_DIR|XDG_STATE_HOME|XDG_CONFIG_HOME|TMPDIR|FLAME_WARMER_GRACE|ASAN_OPTIONS|UBSAN_OPTIONS)=" out
'

test_expect_success 'the job sees FLAME_POOL=default, FLAME_RUNNER and FLAME_JOB' '
	"$FLAME" run -- env >out
	grep -qx "FLAME_POOL=default" out
	grep -qE "^FLAME_RUNNER=.+" out
	grep -qE "^FLAME_JOB=.+" out
'

test_expect_success 'two jobs get different FLAME_JOB values' '
	a=$("$FLAME" run --sh "echo \$FLAME_JOB")
	b=$("$FLAME" run --sh "echo \$FLAME_JOB")
	test -n "$a"
	not test "$a" = "$b"
'

test_expect_success 'the job has a PATH that finds ordinary commands' '
	"$FLAME" run --sh "command -v cat && command -v sh" >out
	equals 2 "$(wc -l <out)"
'

test_done
