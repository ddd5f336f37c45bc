#!/bin/bash
# shellcheck disable=SC2016,SC2034,SC2317 # test bodies are single-quoted, run later by tests/lib.sh: what they expand or use looks unused here
# No job outlives its slot on a Fly runner either: with both processes of a
# busy slot stopped and then killed, the keeper `slot in` left behind kills
# the job's process group and removes its scratch directory (t2040 does the
# same on an ssh host).
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/lib-fly.sh
. "$TEST_DIRECTORY/lib-fly.sh"

fly_fake_start || _bail 'cannot start the fake Machines API'

test_expect_success 'set-up: a fly pool on the fake Machines API' '
	write_config "{ \"pools\": { $(fly_pool_conf f "\"max_concurrency\": 2") } }"
	equals ok "$("$FLAME" run -p f -- echo ok)"
'

test_expect_success 'slot in and slot out stopped, then both killed mid-job: 255, the job group and its scratch dir are gone' '
	"$FLAME" run -p f --sh "pwd >\"$WORK/d\"; echo \$\$ >\"$WORK/pg\"; sleep 64.64" >out 2>err &
	pid=$!
	wait_for "test -s pg" 20
	pg=$(cat pg)
	dir=$(cat d)
	test -d "$dir"
	in=$(ps -o ppid= -p "$pg" | tr -d " ")
	tr "\0" " " <"/proc/$in/cmdline" | grep -q "flame agent slot in "
	tok=$(tr "\0" " " <"/proc/$in/cmdline" | sed -n "s/.*flame agent slot in \([0-9a-f]*\).*/\1/p")
	out=$(root_pgrep "flame agent slot out $tok\$")
	equals 1 "$(echo "$out" | wc -w)"
	kill -STOP "$in" "$out"
	kill -KILL "$in" "$out"
	rc=0
	wait_exit "$pid" 15 || rc=$?
	equals 255 "$rc"
	one_flame_line err "runner f-"
	wait_for "! kill -0 -- -$pg" 5
	wait_for "test ! -e \"$dir\"" 5
	equals 0 "$(count_procs "^sleep 64\.64\$")"
	equals again "$("$FLAME" run -p f -- echo again)"
'

test_done
