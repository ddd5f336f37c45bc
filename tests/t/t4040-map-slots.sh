#!/bin/bash
# shellcheck disable=SC2016,SC2034,SC2317 # test bodies are single-quoted, run later by tests/lib.sh: what they expand or use looks unused here
# flame map's slots: -j caps the jobs at once, the default is every slot
# the pool can grow to, a job that finds no slot in --slot-timeout fails
# with 75, --env reaches every job, -v says each command.
. "$(dirname "$0")/../lib.sh"

write_config '{ "pools": { "default": { "max": 2, "max_concurrency": 2 },
                          "one": { "max": 1, "max_concurrency": 1 } } }'

# Each job marks itself running, notes how many are, and unmarks itself.
concurrency_job () {
	printf '%s' "touch $PWD/run/{}; ls $PWD/run | wc -l >>$PWD/counts; sleep 0.4; rm $PWD/run/{}"
}

test_expect_success '-j 3: never more than three jobs at once, and three do run at once' '
	mkdir -p run && : >counts
	"$FLAME" map -j3 --sh "$(concurrency_job)" ::: 1 2 3 4 5 6 7 8 9
	equals 3 "$(sort -n counts | tail -n 1)"
'

test_expect_success 'without -j: every slot the pool can grow to (2 runners x 2 = 4)' '
	: >counts
	"$FLAME" map --sh "$(concurrency_job)" ::: 1 2 3 4 5 6 7 8 9 10 11 12
	equals 4 "$(sort -n counts | tail -n 1)"
'

test_expect_success '-p: the jobs run in the pool named, with its slots (1)' '
	: >counts
	"$FLAME" map -p one --sh "$(concurrency_job)" ::: 1 2 3
	equals 1 "$(sort -n counts | tail -n 1)"
	"$FLAME" map -p one --joblog log true ::: 1
	tail -n 1 log | grep -q "^1	one-"
'

test_expect_success '--slot-timeout: a job that finds no slot in time fails with 75; the others run' '
	test_status 1 "$FLAME" map -p one -j2 --slot-timeout 300ms --joblog log --sh "sleep 2" ::: 1 2 2>err
	awk -F"\t" "NR > 1 { print \$7 }" log | sort >got
	printf "0\n75\n" >want
	cmp want got
	grep -q "no free slot" err
'

test_expect_success '--env NAME=VALUE and NAME reach every job, nothing else of ours does' '
	export MAP_SECRET=s3 MAP_OTHER=no
	"$FLAME" map -k -e MAP_SECRET -e X=1 --sh "echo \$MAP_SECRET \$X \${MAP_OTHER:-unset} {}" ::: a b >got
	equals "s3 1 unset a
s3 1 unset b" "$(cat got)"
'

test_expect_success '-v says each job'\''s command on stderr' '
	"$FLAME" map -v echo ::: "a b" c >out 2>err
	grep -qF "map: job 1: echo '\''a b'\''" err
	grep -qF "map: job 2: echo c" err
'

test_expect_success '--joblog-extra: SlotWait and BootWait are seconds; a cold pool shows its boot' '
	"$FLAME" warmer stop >/dev/null 2>&1 || true
	wait_for "! \"\$FLAME\" warmer status" 10
	"$FLAME" map -p one --joblog log --joblog-extra true ::: 1
	awk -F"\t" "NR == 2 { exit !(\$10 ~ /^[0-9]+\\.[0-9][0-9][0-9]\$/ && \$11 ~ /^[0-9]+\\.[0-9][0-9][0-9]\$/ && \$11 <= \$10) }" log
'

test_done
