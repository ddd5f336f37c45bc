#!/bin/bash
# shellcheck disable=SC2016,SC2034,SC2317 # test bodies are single-quoted, run later by tests/lib.sh: what they expand or use looks unused here
# flame map's output and exit status, as GNU parallel's: each job's stdout
# and stderr kept whole and shown when it ends, -k in input order, --tag,
# --line-buffer; 0, the number of failed jobs, 101 beyond 100.
. "$(dirname "$0")/../lib.sh"

write_config '{ "pools": { "default": { "max": 2, "max_concurrency": 4 } } }'

have_parallel () { command -v parallel >/dev/null 2>&1; }

test_expect_success 'a job'\''s output is never mixed with another'\''s (jobs that write in bursts)' '
	"$FLAME" map -j8 --sh "for i in 1 2 3 4 5; do echo {}-\$i; sleep 0.0\$((RANDOM % 5)); done" ::: a b c d e f g h >got
	test "$(wc -l <got)" = 40
	# each job'\''s five lines come together
	awk -F- "{ if (\$1 != prev) { if (seen[\$1]++) bad = 1; prev = \$1 } } END { exit bad }" got
'

test_expect_success 'stdout and stderr stay apart and whole per job' '
	"$FLAME" map -k --sh "echo out{}; echo err{} >&2" ::: 1 2 3 >out 2>err
	equals "out1
out2
out3" "$(cat out)"
	equals "err1
err2
err3" "$(cat err)"
'

test_expect_success 'without -k the jobs show as they end; with -k in input order' '
	"$FLAME" map -j3 --sh "sleep {}; echo {}" ::: 0.6 0.3 0 >got
	equals "0
0.3
0.6" "$(cat got)"
	"$FLAME" map -k -j3 --sh "sleep {}; echo {}" ::: 0.6 0.3 0 >got
	equals "0.6
0.3
0" "$(cat got)"
'

test_expect_success '-k holds later jobs behind an early slow one and still runs them meanwhile' '
	start=$(now)
	"$FLAME" map -k -j4 --sh "sleep {}; echo {}" ::: 1 0.2 0.2 0.2 0.2 0.2 0.2 0.2 >got
	less_than "$(elapsed "$start")" 2.5
	equals "1 0.2 0.2 0.2 0.2 0.2 0.2 0.2" "$(echo $(cat got))"
'

test_expect_success '--tag puts the input and a tab before each line, on both streams' '
	"$FLAME" map -k --tag --sh "echo x; echo y; echo e >&2; : {}" ::: a "b c" >out 2>err
	printf "a\tx\na\ty\nb c\tx\nb c\ty\n" >want
	cmp want out
	printf "a\te\nb c\te\n" >want
	cmp want err
	if have_parallel; then parallel -k --tag "echo x; echo y; : {}" ::: a "b c" >want; cmp want out; fi
'

test_expect_success '--tag leaves a last line without a newline as it is' '
	"$FLAME" map --tag printf "x\ny" ::: a >got
	printf "a\tx\na\ty" >want
	cmp want got
'

test_expect_success '--line-buffer passes a line on before its job ends' '
	"$FLAME" map --line-buffer --sh "echo first-{}; sleep 3; echo second-{}" ::: a >got &
	pid=$!
	wait_for "grep -q first-a got" 2.5
	not grep -q second-a got
	wait_exit "$pid" 10
	equals "first-a
second-a" "$(cat got)"
'

test_expect_success '--line-buffer --tag: whole lines only, each tagged' '
	"$FLAME" map --line-buffer --tag -j4 --sh "for i in 1 2 3; do printf \"%s-\" {}; sleep 0.05; echo \$i; done" ::: a b c d >got
	test "$(wc -l <got)" = 12
	not grep -vE "^([a-d])	\1-[123]\$" got
'

test_expect_success 'a reader that goes away (| head) ends the batch quietly, as SIGPIPE would: exit 141' '
	{ rc=0; seq 1000 | "$FLAME" map -k -j2 --joblog log echo 2>err || rc=$?; echo "rc=$rc" >rc; } | head -n 1 >got
	equals 1 "$(cat got)"
	equals rc=141 "$(cat rc)"
	test ! -s err
	test "$(wc -l <log)" -lt 500
'

test_expect_success 'exit status 0 when every job succeeded' '
	"$FLAME" map true ::: 1 2 3
'

test_expect_success 'exit status is the number of failed jobs, as GNU parallel' '
	test_status 3 "$FLAME" map --sh "exit {}" ::: 0 1 2 3 0 >/dev/null
	if have_parallel; then test_status 3 parallel "exit {}" ::: 0 1 2 3 0; fi
'

test_expect_success 'more than 100 failed jobs: exit status 101' '
	test_status 100 "$FLAME" map -j8 false ::: $(seq 100)
	test_status 101 "$FLAME" map -j8 false ::: $(seq 101)
'

test_expect_success 'a job killed by a signal fails (counted once)' '
	test_status 1 "$FLAME" map --sh "kill -9 \$\$" ::: 1
'

test_expect_success 'a missing command fails its job with its own message; the others run' '
	test_status 2 "$FLAME" map -k {} ok ::: echo no-such-cmd-xyz false >got 2>err
	equals "ok" "$(cat got)"
	grep -q no-such-cmd-xyz err
'

test_expect_success 'one process does the batch: no flame process per job' '
	"$FLAME" map -j4 --sh "sleep 1" ::: 1 2 3 4 5 6 7 8 &
	pid=$!
	sleep 0.5
	n=$(pgrep -c -f "^$FLAME map" || true)
	wait_exit "$pid" 20
	equals 1 "$n"
'

test_done
