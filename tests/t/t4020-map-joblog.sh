#!/bin/bash
# shellcheck disable=SC2016,SC2034,SC2317 # test bodies are single-quoted, run later by tests/lib.sh: what they expand or use looks unused here
# flame map --joblog in GNU parallel's format, read back by --resume and
# --resume-failed; --halt; --timeout.
. "$(dirname "$0")/../lib.sh"

have_parallel () { command -v parallel >/dev/null 2>&1; }

test_expect_success '--joblog: the header and one line per job, GNU parallel'\''s columns' '
	"$FLAME" map -k --joblog log --sh "echo {}; exit {}" ::: 0 1 2 >out || true
	printf "Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\tCommand\n" >want
	head -n 1 log | cmp want -
	test "$(wc -l <log)" = 4
	# Seq, Receive (stdout bytes), Exitval, Signal, Command
	awk -F"\t" "NR > 1 { print \$1, \$6, \$7, \$8, \$9 }" log | sort >got
	printf "%s\n" "1 2 0 0 echo 0; exit 0" "2 2 1 0 echo 1; exit 1" "3 2 2 0 echo 2; exit 2" >want
	cmp want got
	# Host is the runner; times are numbers
	awk -F"\t" "NR > 1 && (\$2 !~ /^[a-z]/ || \$3 !~ /^[0-9]+\\.[0-9][0-9][0-9]\$/ || \$4 !~ /^ *[0-9]+\\.[0-9][0-9][0-9]\$/) { exit 1 }" log
'

test_expect_success '--joblog: a job killed by a signal is Exitval 0, Signal N; --timeout is -1 and 15' '
	test_status 2 "$FLAME" map --joblog log --timeout 1s sh -c {} ::: "kill -9 \$\$" "sleep 10" 2>err
	awk -F"\t" "NR > 1 { print \$7, \$8 }" log | sort >got
	printf "%s\n" "-1 15" "0 9" >want
	cmp want got
	grep -q "timed out" err
'

test_expect_success '--joblog-extra adds pool and waits before Command' '
	"$FLAME" map --joblog log --joblog-extra true ::: 1
	head -n 1 log | grep -q "	Signal	Pool	SlotWait	BootWait	Command$"
	tail -n 1 log | awk -F"\t" "{ exit !(\$9 == \"default\" && \$12 == \"true 1\") }"
'

test_expect_success '--resume skips the jobs the joblog has, runs the rest, the log grows' '
	printf "%s\n" a b c >in
	"$FLAME" map --joblog log echo <in >/dev/null
	printf "%s\n" a b c d e >in
	"$FLAME" map --joblog log --resume echo <in >got
	equals "d e" "$(echo $(sort got))"
	test "$(wc -l <log)" = 6
'

test_expect_success '--resume-failed runs again only the failed jobs (and the new ones)' '
	"$FLAME" map --joblog log --sh "test -e $PWD/ok-{} && echo {}" ::: 1 2 3 >/dev/null || true
	touch ok-2 ok-3
	"$FLAME" map --joblog log --resume-failed --sh "test -e $PWD/ok-{} && echo {}" ::: 1 2 3 4 >got || true
	equals "2 3" "$(echo $(sort got))"
'

test_expect_success '--resume keeps the columns the log has, with or without --joblog-extra' '
	"$FLAME" map --joblog xlog --joblog-extra true ::: a
	"$FLAME" map --joblog xlog --resume true ::: a b
	test "$(awk -F"\t" "{ print NF }" xlog | sort -u)" = 12
'

test_expect_success '--resume reads a joblog GNU parallel wrote' '
	have_parallel || exit 0
	parallel --joblog plog echo ::: a b >/dev/null
	"$FLAME" map --joblog plog --resume echo ::: a b c >got
	equals "c" "$(cat got)"
'

test_expect_success 'GNU parallel --resume reads a joblog flame map wrote' '
	have_parallel || exit 0
	"$FLAME" map --joblog flog echo ::: a b >/dev/null
	parallel --joblog flog --resume echo ::: a b c >got
	equals "c" "$(cat got)"
'

test_expect_success 'a joblog cut by a crash (a torn last line): that job runs again' '
	"$FLAME" map -j1 --joblog log echo ::: a b >/dev/null
	head -c -3 log >cut && mv cut log
	"$FLAME" map --joblog log --resume echo ::: a b >got
	equals "b" "$(cat got)"
	test "$(wc -l <log)" = 3
'

test_expect_success '--halt now,fail=1: the first failure ends the batch with its status' '
	start=$(now)
	test_status 3 "$FLAME" map -j2 --halt now,fail=1 --sh "sleep {}; exit 3" ::: 0.2 5 5 5 2>err
	less_than "$(elapsed "$start")" 4
'

test_expect_success '--halt soon,fail=1: running jobs finish, no new one starts' '
	test_status 1 "$FLAME" map -j2 --halt soon,fail=1 --joblog log --sh "sleep {}; test {} != 0.1" ::: 0.1 1 2 3
	test "$(wc -l <log)" = 3
'

test_expect_success '--halt now,success=1: the first success ends it, exit 0' '
	"$FLAME" map -j2 --halt now,success=1 --sh "sleep {}" ::: 0.1 8
'

test_done
