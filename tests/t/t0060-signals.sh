#!/bin/bash
# shellcheck disable=SC2016,SC2034,SC2317 # test bodies are single-quoted, run later by tests/lib.sh: what they expand or use looks unused here
# Run semantics: signals sent to `flame run` reach the job; a killed caller takes
# its job with it.
. "$(dirname "$0")/../lib.sh"

# The warmer (and so the runners) of this file start from a process with the
# default signal dispositions.
test_expect_success 'set-up: a warmer started with default signal dispositions' '
	run_sigdfl "$FLAME" run -- true
'

test_expect_success 'SIGINT to flame run reaches the job (its INT trap runs) and run exits 130' '
	"${SIGDFL[@]}" "$FLAME" run --sh "trap '\''echo got-int; exit 130'\'' INT; touch \"$WORK/started1\"; while :; do sleep 0.1; done" >out 2>err &
	pid=$!
	wait_for "test -e started1" 20
	kill -INT "$pid"
	rc=0
	wait_exit "$pid" 10 || rc=$?
	grep -qx got-int out
	equals 130 "$rc"
'

test_expect_success 'SIGTERM to flame run kills a job without a trap and run exits 143' '
	"${SIGDFL[@]}" "$FLAME" run --sh "touch \"$WORK/started2\"; sleep 41.41" >out 2>err &
	pid=$!
	wait_for "test -e started2" 20
	wait_for "test \$(count_procs \"^sleep 41\\.41\$\") = 1" 5
	kill -TERM "$pid"
	rc=0
	wait_exit "$pid" 10 || rc=$?
	equals 143 "$rc"
	wait_for "test \$(count_procs \"^sleep 41\\.41\$\") = 0" 2
'

test_expect_success 'SIGUSR1 to flame run is passed on to the job' '
	"${SIGDFL[@]}" "$FLAME" run --sh "trap '\''echo got-usr1; exit 5'\'' USR1; touch \"$WORK/started3\"; while :; do sleep 0.1; done" >out 2>err &
	pid=$!
	wait_for "test -e started3" 20
	kill -USR1 "$pid"
	rc=0
	wait_exit "$pid" 10 || rc=$?
	grep -qx got-usr1 out
	equals 5 "$rc"
'

test_expect_success 'SIGKILL to flame run mid-job leaves no job process after 2 s' '
	"${SIGDFL[@]}" "$FLAME" run --sh "touch \"$WORK/started4\"; sleep 77.7" >out 2>err &
	pid=$!
	wait_for "test -e started4" 20
	wait_for "test \$(count_procs \"^sleep 77\\.7\$\") = 1" 5
	kill -KILL "$pid"
	wait "$pid" || :
	sleep 2
	equals 0 "$(count_procs "^sleep 77\\.7\$")"
	equals 0 "$(count_procs "^(/bin/)?sh -c touch .*started4")"
'

test_expect_success 'after a caller was SIGKILLed its slot is freed: the pool goes back to 0 busy and runs jobs' '
	wait_for "test \"\$(pool_field default \"p[\\\"busy\\\"]\")\" = 0" 5
	equals ok "$("$FLAME" run -- echo ok)"
'

test_expect_success 'SIGINT reaches the job even when the warmer was started by a process ignoring SIGINT' '
	stop_warmer
	run_sigign "$FLAME" run -- true
	"${SIGDFL[@]}" "$FLAME" run --sh "trap '\''echo got-int; exit 130'\'' INT; touch \"$WORK/started5\"; while :; do sleep 0.1; done" >out 2>err &
	pid=$!
	wait_for "test -e started5" 20
	kill -INT "$pid"
	rc=0
	wait_exit "$pid" 10 || rc=$?
	grep -qx got-int out
	equals 130 "$rc"
'

test_done
