#!/bin/bash
# shellcheck disable=SC2016,SC2034 # test bodies are single-quoted, run later by tests/lib.sh: what they expand or use looks unused here
# flame map under faults and bad input: --retries only when a runner is
# lost, Ctrl-C with a complete joblog, per-job files, and one line with
# exit 125 (no job started) for each wrong option.
. "$(dirname "$0")/../lib.sh"

write_config '{ "pools": { "default": { "max": 3, "max_concurrency": 2 } } }'

# expect_refused 'DESCRIPTION' MENTION -- ARGS...: flame map ARGS exits 125
# with one flame: line that mentions MENTION, and starts no job.
expect_refused () {
	ref_desc=$1 ref_mention=$2
	shift 3
	ref_args=("$@")
	test_expect_success "$ref_desc: exit 125, one line, no job" '
		test_status 125 "$FLAME" map "${ref_args[@]}" --sh "touch ran-{}" ::: 1 >out 2>err
		one_flame_line err "$ref_mention"
		test ! -s out
		test ! -e ran-1
	'
}

test_expect_success 'an unreadable :::: file: exit 125, one line, no job' '
	test_status 125 "$FLAME" map touch ran :::: no-such-file 2>err
	one_flame_line err no-such-file
	test ! -e ran
'
expect_refused 'a joblog that cannot be written' '/no/such/dir/log' -- --joblog /no/such/dir/log
expect_refused '--resume without --joblog' '--joblog' -- --resume
expect_refused '--resume-failed without --joblog' '--joblog' -- --resume-failed
expect_refused '-j 0' '-j' -- -j 0
expect_refused '-j -1' '-j' -- -j -1
expect_refused '-j x' '-j' -- -j x
expect_refused '--halt with a bad spec' 'now,fail=1' -- --halt sometimes
expect_refused '--halt with a bad count' '--halt' -- --halt now,fail=0
expect_refused '--retries 0' '--retries' -- --retries 0
expect_refused '--timeout 0' '--timeout' -- --timeout 0
expect_refused 'an unknown pool' 'nosuchpool' -- --pool nosuchpool

test_expect_success 'set-up: a file that is not a joblog' '
	printf "hello\tworld\n" >notalog
'
expect_refused 'a joblog that is not one (after set-up)' 'notalog' -- --joblog notalog --resume

test_expect_success '--put {} and --get {/.}.out travel per job, --get-dir collects them' '
	mkdir -p src outdir
	printf "alpha\n" >src/a.txt
	printf "beta\n" >src/b.txt
	ls src/*.txt | "$FLAME" map --put {} --get "{/.}.out" --get-dir outdir \
		--sh "tr a-z A-Z <{/} >{/.}.out"
	equals "ALPHA" "$(cat outdir/a.out)"
	equals "BETA" "$(cat outdir/b.out)"
'

test_expect_success 'a --put file one input lacks fails that job in one line; the others run' '
	printf "%s\n" src/a.txt src/none.txt >in
	test_status 1 "$FLAME" map -k --put {} cat {/} <in >got 2>err
	equals "alpha" "$(cat got)"
	one_flame_line err "src/none.txt"
'

test_expect_success '--retries: a job whose runner is lost runs again elsewhere' '
	# job 1 records its runner (the local agent, its parent) and waits
	"$FLAME" map -k -j3 --retries 3 --joblog log \
		--sh "test -e $PWD/seen-{} || { echo \$PPID >$PWD/agent-{}; touch $PWD/seen-{}; sleep 30; }; echo done-{}" ::: 1 2 3 >got 2>err &
	pid=$!
	wait_for "test -s agent-1" 15
	kill -KILL "$(cat agent-1)"
	rc=0; wait_exit "$pid" 30 || rc=$?
	equals 0 "$rc"
	equals "done-1
done-2
done-3" "$(cat got)"
	test "$(wc -l <log)" = 4
'

test_expect_success '--retries never re-runs a command that failed by itself' '
	test_status 1 "$FLAME" map --retries 3 --sh "echo x >>$PWD/tries; exit 1" ::: 1
	test "$(wc -l <tries)" = 1
'

test_expect_success '--retry-failed-commands: a failed command is tried again, up to --retries' '
	rm -f tries
	test_status 1 "$FLAME" map --retries 3 --retry-failed-commands --sh "echo x >>$PWD/tries; exit 1" ::: 1
	test "$(wc -l <tries)" = 3
'

test_expect_success 'without --retries a lost runner fails its job: exit 255, one line naming the runner' '
	rm -f agent-1 seen-1
	"$FLAME" map -j2 --sh "test -e $PWD/seen-{} || { echo \$PPID >$PWD/agent-{}; touch $PWD/seen-{}; sleep 30; }" ::: 1 >got 2>err &
	pid=$!
	wait_for "test -s agent-1" 15
	kill -KILL "$(cat agent-1)"
	rc=0; wait_exit "$pid" 30 || rc=$?
	equals 255 "$rc"
	one_flame_line err "was lost"
'

test_expect_success 'Ctrl-C: no new job, running jobs get SIGINT, the joblog is complete, exit 130' '
	"${SIGDFL[@]}" "$FLAME" map -j2 --joblog log \
		--sh "trap \"echo int-{}; exit 130\" INT; touch $PWD/started-{}; sleep 20 & wait" ::: 1 2 3 4 >got &
	pid=$!
	wait_for "test -e started-1 && test -e started-2" 15
	kill -INT "$pid"
	rc=0; wait_exit "$pid" 15 || rc=$?
	equals 130 "$rc"
	equals "int-1 int-2" "$(echo $(sort got))"
	test ! -e started-3
	test "$(wc -l <log)" = 3
	awk -F"\t" "NR > 1 && \$7 != 130 { exit 1 }" log
'

test_expect_success 'a second Ctrl-C kills jobs that ignore the first' '
	rm -f started-*
	"${SIGDFL[@]}" "$FLAME" map -j2 --sh "trap \"\" INT; touch $PWD/started-{}; sleep 30" ::: 1 2 &
	pid=$!
	wait_for "test -e started-1 && test -e started-2" 15
	kill -INT "$pid"
	sleep 0.5
	proc_alive "$pid"
	kill -INT "$pid"
	rc=0; wait_exit "$pid" 10 || rc=$?
	equals 130 "$rc"
'

test_expect_success '--bar: nothing on a pipe' '
	"$FLAME" map --bar true ::: 1 2 3 2>err
	test ! -s err
'

test_expect_success '--bar on a terminal: done/total, failed, running, then erased' '
	command -v script >/dev/null || exit 0
	script -qfec "$FLAME map -j2 --bar --sh \"sleep 0.4; exit {}\" ::: 0 0 1 0 0 0" /dev/null >tty.out || true
	grep -q "/6 done, [01] failed, [0-9] running" tty.out
	# the last thing written is the erase
	test "$(tail -c 4 tty.out | od -An -c | tr -d " ")" = "\r033[K"
'

test_done
