#!/bin/bash
# shellcheck disable=SC2016,SC2034 # test bodies are single-quoted, run later by tests/lib.sh: what they expand or use looks unused here
# Run semantics: stdin, stdout and stderr of the job are relayed faithfully.
. "$(dirname "$0")/../lib.sh"

TEST_TIMEOUT=300 test_expect_success '200 MB of random bytes through run -- cat come out unchanged (sha256)' '
	head -c 200000000 /dev/urandom >in
	"$FLAME" run -- cat <in >out
	equals 200000000 "$(wc -c <out)"
	equals "$(sha256sum <in)" "$(sha256sum <out)"
	rm -f in out
'

test_expect_success 'binary bytes on stdin reach the job and its stdout unchanged (all 256 byte values)' '
	"$PYTHON" -c "import sys; sys.stdout.buffer.write(bytes(range(256)) * 64)" >in
	"$FLAME" run -- cat <in >out
	cmp in out
'

test_expect_success 'stdin EOF reaches the job: printf abc | run -- wc -c prints 3' '
	out=$(printf abc | "$FLAME" run -- wc -c)
	equals 3 "$(echo $out)"
'

test_expect_success 'an empty stdin (/dev/null) gives the job EOF at once' '
	out=$("$FLAME" run -- wc -c </dev/null)
	equals 0 "$(echo $out)"
'

test_expect_success 'stdout and stderr of the job stay separate' '
	"$FLAME" run --sh "echo to-out; echo to-err >&2" >out 2>err
	equals to-out "$(cat out)"
	equals to-err "$(cat err)"
'

test_expect_success '2>/dev/null hides only the job stderr, stdout is intact' '
	"$FLAME" run --sh "echo to-out; echo to-err >&2; echo more-out" 2>/dev/null >out
	equals "to-out
more-out" "$(cat out)"
'

test_expect_success '>/dev/null hides only the job stdout, stderr is intact' '
	"$FLAME" run --sh "echo to-out; echo to-err >&2" >/dev/null 2>err
	equals to-err "$(cat err)"
'

test_expect_success 'a large stderr stream is relayed while stdout is also written' '
	"$FLAME" run --sh "seq 1 200000 >&2; seq 1 100000" >out 2>err
	equals 200000 "$(wc -l <err)"
	equals 100000 "$(wc -l <out)"
	equals 200000 "$(tail -n 1 err)"
'

test_expect_success 'output is streamed: the first line of a slow job arrives while the job still runs' '
	mkfifo fifo
	"$FLAME" run --sh "for i in 1 2 3 4 5; do echo line\$i; sleep 1; done" >fifo 2>err &
	pid=$!
	exec 8<fifo
	first=
	read -r -t 20 first <&8 || :
	jobs_running=$(count_procs "^(/bin/)?sh -c for i in 1 2 3 4 5")
	rest=$(cat <&8)
	exec 8<&-
	rc=0
	wait "$pid" || rc=$?
	equals line1 "$first"
	test "$jobs_running" -ge 1 || { echo "the job was no longer running when its first line arrived" >&9; false; }
	equals "line2
line3
line4
line5" "$rest"
	equals 0 "$rc"
'

test_expect_success 'a job reading stdin interactively gets lines as they are written' '
	mkfifo infifo
	"$FLAME" run --sh "read a; echo got-\$a; read b; echo got-\$b" <infifo >out &
	pid=$!
	exec 7>infifo
	echo one >&7
	wait_for "grep -qx got-one out" 20
	not grep -q got-two out
	echo two >&7
	exec 7>&-
	wait "$pid"
	equals "got-one
got-two" "$(cat out)"
'

test_done
