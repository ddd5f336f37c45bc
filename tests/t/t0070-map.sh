#!/bin/bash
# shellcheck disable=SC2016,SC2034 # test bodies are single-quoted, run later by tests/lib.sh: what they expand or use looks unused here
# flame map on every backend (make check runs the t00* files over local, ssh
# and fly): the batch's jobs run on the pool's runners with their output kept
# whole, per-job files travel, the exit status counts failures, the joblog
# names each job's runner, and Ctrl-C reaches the running jobs.
. "$(dirname "$0")/../lib.sh"

test_expect_success 'a hundred inputs, -k: every job ran once, output in input order' '
	seq 100 | "$FLAME" map -k --sh "echo {}; echo err{} >&2" >out 2>err
	seq 100 >want
	cmp want out
	seq 100 | sed "s/^/err/" >want
	cmp want err
'

test_expect_success 'arguments reach each job byte for byte' '
	printf "%s\n" "a b" "it'\''s" "\$(id)" "" "*" >in
	"$FLAME" map -k printf "[%s]\n" <in >out
	printf "[a b]\n[it'\''s]\n[\$(id)]\n[]\n[*]\n" >want
	cmp want out
'

test_expect_success '--put {} and --get {/.}.up: each job gets its file and sends one back' '
	mkdir -p src up
	for i in 1 2 3 4 5 6; do echo "text $i" >src/f$i.txt; done
	ls src/*.txt | "$FLAME" map --put {} --get {/.}.up --get-dir up --sh "tr a-z A-Z <{/} >{/.}.up"
	for i in 1 2 3 4 5 6; do equals "TEXT $i" "$(cat up/f$i.up)"; done
'

test_expect_success 'exit status: the number of failed jobs' '
	test_status 2 "$FLAME" map --sh "exit {}" ::: 0 3 0 1
'

test_expect_success '--joblog: a line per job, Host the runner it ran on' '
	"$FLAME" map --joblog log true ::: 1 2 3 4
	test "$(wc -l <log)" = 5
	awk -F"\t" "NR > 1 && \$2 !~ /^default-/ { print; bad = 1 } END { exit bad }" log
'

test_expect_success '--line-buffer: a line comes before its job ends' '
	"$FLAME" map --line-buffer --sh "echo first; sleep 3; echo second" ::: 1 >out &
	pid=$!
	wait_for "grep -q first out" 2.5
	not grep -q second out
	wait_exit "$pid" 15
'

test_expect_success 'Ctrl-C reaches the running jobs; flame map exits 130' '
	"${SIGDFL[@]}" "$FLAME" map -j2 --line-buffer --sh "trap \"echo int; exit 130\" INT; echo up; sleep 20 & wait; : {}" ::: 1 2 >out &
	pid=$!
	wait_for "test \"\$(grep -c up out)\" = 2" 15
	kill -INT "$pid"
	rc=0; wait_exit "$pid" 15 || rc=$?
	equals 130 "$rc"
	equals 2 "$(grep -c int out)"
'

test_done
