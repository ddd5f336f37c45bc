#!/bin/bash
# shellcheck disable=SC2016,SC2034 # test bodies are single-quoted, run later by tests/lib.sh: what they expand or use looks unused here
# Run semantics: the exit status of the job is relayed; signals, --timeout,
# exec failures and leftover processes of the job's group.
. "$(dirname "$0")/../lib.sh"

for s in 0 1 7 255; do
	test_expect_success "run relays exit status $s of the command" "
		test_status $s \"\$FLAME\" run -- sh -c 'exit $s'
	"
done

test_expect_success 'run --sh relays the exit status of the shell string' '
	test_status 7 "$FLAME" run --sh "exit 7"
	test_status 0 "$FLAME" run --sh "true"
'

test_expect_success 'a job killed by SIGKILL makes run exit 137' '
	test_status 137 "$FLAME" run --sh "kill -KILL \$\$"
'

test_expect_success 'a job killed by SIGTERM makes run exit 143' '
	test_status 143 "$FLAME" run --sh "kill -TERM \$\$"
'

test_expect_success 'flame prints nothing of its own on stdout or stderr for a normal job' '
	"$FLAME" run -- echo hi >out 2>err
	equals hi "$(cat out)"
	test ! -s err
'

test_expect_success '--timeout 1 -- sleep 30.123 exits 124 within 2 s and leaves no sleep process' '
	start=$(now)
	test_status 124 "$FLAME" run --timeout 1 -- sleep 30.123
	t=$(elapsed "$start")
	less_than "$t" 2
	equals 0 "$(count_procs "^sleep 30\.123\$")"
'

test_expect_success '-t 500ms is accepted as a duration and fires' '
	test_status 124 "$FLAME" run -t 500ms -- sleep 30.124
	equals 0 "$(count_procs "^sleep 30\.124\$")"
'

test_expect_success '--timeout kills a job that ignores SIGTERM (KILL follows) and exits 124' '
	test_status 124 "$FLAME" run --timeout 1 --sh "trap \"\" TERM; sleep 30.125; echo survived"  >out
	not grep -q survived out
	equals 0 "$(count_procs "^sleep 30\.125\$")"
'

test_expect_success 'a job that finishes before --timeout keeps its own status' '
	test_status 3 "$FLAME" run --timeout 10 --sh "exit 3"
'

test_expect_success 'processes the job leaves running in its group are killed when it exits' '
	"$FLAME" run --sh "sleep 31.5 >/dev/null 2>&1 & echo started" >out
	equals started "$(cat out)"
	wait_for "test \$(count_procs \"^sleep 31\\.5\$\") = 0" 2
'

test_expect_success 'a command that does not exist exits 127 with one flame: line' '
	test_status 127 "$FLAME" run -- no-such-command-xyzzy 2>err >out
	one_flame_line err no-such-command-xyzzy
	test ! -s out
'

test_expect_success 'a command that exists but cannot be executed exits 126 with one flame: line' '
	test_status 126 "$FLAME" run -- /etc/passwd 2>err >out
	one_flame_line err /etc/passwd
	test ! -s out
'

test_expect_success 'a directory as the command exits 126' '
	test_status 126 "$FLAME" run -- /tmp 2>err
	one_flame_line err
'

test_done
