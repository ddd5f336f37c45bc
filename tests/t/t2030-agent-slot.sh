#!/bin/bash
# shellcheck disable=SC2016,SC2034,SC2317 # test bodies are single-quoted, run later by tests/lib.sh: what they expand or use looks unused here
# `flame agent slot`: the runner side of the ssh backend, driven over local
# pipes by tests/tools/slot_driver.py exactly as the warmer's side will over
# two SSH channels.  Run semantics must match the local backend's.
. "$(dirname "$0")/../lib.sh"

DRIVER=$TEST_DIRECTORY/tools/slot_driver.py
slot () {
	"$PYTHON" "$DRIVER" "$FLAME" "$@"
}

test_expect_success 'exit statuses 0, 1, 7 and 255 are relayed, and SIGKILL gives 137' '
	for c in 0 1 7 255; do
		rc=0
		slot -- sh -c "exit $c" || rc=$?
		equals "$c" "$rc"
	done
	rc=0
	slot -- sh -c "kill -KILL \$\$" || rc=$?
	equals 137 "$rc"
'

test_expect_success 'stdout and stderr come back separately' '
	slot -- sh -c "echo out; echo err >&2" >out 2>err
	equals out "$(cat out)"
	equals err "$(cat err)"
'

test_expect_success 'stdin is streamed binary-safe and EOF reaches the job' '
	head -c 30000000 /dev/urandom >in
	slot -- cat <in >got
	cmp in got
	equals 3 "$(printf abc | slot -- wc -c)"
'

test_expect_success 'hostile arguments arrive byte for byte' '
	args=("" " " "a b" "\$(id)" "\`id\`" ";" "|" "&&" "$(printf "a\nb")" "$(printf "\t")" "-n" "--" "*" "?" "[a]" "~" "%s" "\\" "$(printf "\xff\xfe")" "x=y")
	printf "%s\0" "${args[@]}" >want
	slot -- printf "%s\0" "${args[@]}" >got
	cmp want got
'

test_expect_success 'the job does not inherit the caller environment; --env and FLAME_* reach it' '
	FOO=leak slot --env BAR=1 -- env >env
	not grep -q "^FOO=" env
	grep -qx "BAR=1" env
	grep -qx "FLAME_POOL=slotpool" env
	grep -qx "FLAME_RUNNER=slot-test" env
'

test_expect_success 'a timeout gives 124 and leaves no process behind' '
	rc=0
	slot --timeout 1000 -- sleep 31.2345 || rc=$?
	equals 124 "$rc"
	wait_for "test \$(count_procs \"^sleep 31\\.2345\$\") = 0" 3
'

test_expect_success 'a command that is missing gives 127 with one flame: line' '
	rc=0
	slot -- no-such-command-here 2>err || rc=$?
	equals 127 "$rc"
	one_flame_line err
'

test_expect_success 'SIGINT reaches the job (its trap runs) and the status is its own' '
	"${SIGDFL[@]}" "$PYTHON" "$DRIVER" "$FLAME" -- sh -c "trap '\''echo got-int; exit 130'\'' INT; touch \"$WORK/s1\"; while :; do sleep 0.1; done" >out 2>err &
	pid=$!
	wait_for "test -e s1" 20
	kill -INT "$pid"
	rc=0
	wait_exit "$pid" 10 || rc=$?
	grep -qx got-int out
	equals 130 "$rc"
'

test_expect_success 'when the link goes away (SIGKILL) the job is killed' '
	"$PYTHON" "$DRIVER" "$FLAME" -- sh -c "touch \"$WORK/s2\"; sleep 47.47" &
	pid=$!
	wait_for "test -e s2" 20
	wait_for "test \$(count_procs \"^sleep 47\\.47\$\") = 1" 5
	kill -KILL "$pid"
	wait "$pid" || :
	wait_for "test \$(count_procs \"^sleep 47\\.47\$\") = 0" 3
'

test_expect_success 'a job sent to a busy slot is refused under its own id; the running job goes on' '
	rc=0
	printf "first\n" | slot --also 8 -- cat >out 2>err || rc=$?
	equals 0 "$rc"
	equals first "$(cat out)"
	grep -qx "slot_driver: job 8: status 0, flags 4" err
'

test_expect_success 'when the link goes away during a job, the slot says the job ended (agent state)' '
	mkdir -p beat/jobs
	FLAME_AGENT_STATE=$WORK/beat "$PYTHON" "$DRIVER" "$FLAME" -- sh -c "touch \"$WORK/s3\"; sleep 48.48" &
	pid=$!
	wait_for "test -e s3" 20
	wait_for "test -n \"\$(ls beat/jobs)\"" 5
	not test -e beat/last_job
	kill -KILL "$pid"
	wait "$pid" || :
	wait_for "test \$(count_procs \"^sleep 48\\.48\$\") = 0" 3
	wait_for "test -z \"\$(ls beat/jobs)\"" 10
	test -e beat/last_job
'

test_expect_success 'the scratch directory is the working directory and is removed afterwards' '
	dir=$(slot -- pwd)
	case $dir in */job-*) ;; *) false ;; esac
	not test -e "$dir"
'

test_done
