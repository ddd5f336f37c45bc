#!/bin/bash
# shellcheck disable=SC2016,SC2034,SC2317 # test bodies are single-quoted, run later by tests/lib.sh: what they expand or use looks unused here
# The fly backend when the Machines API or a machine misbehaves: rate
# limits, server errors, an ambiguous create, a boot that never finishes, a
# machine that dies, a warmer that dies, a fresh deploy.  Every test ends
# with the fake holding no machine.
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/lib-fly.sh
. "$TEST_DIRECTORY/lib-fly.sh"

# fly_config 'EXTRA_JSON': the pool "f" on the fake, with extra settings.
fly_config () {
	write_config "{ \"pools\": { $(fly_pool_conf f "\"boot_timeout\": \"20s\"${1:+, $1}") } }"
}

# ends a test: the warmer stops its runners and the fake holds no machine;
# the switches are reset for the next (also after a test that failed)
fresh () {
	fly_fake_reset
	fly_config ''
}
settle () {
	fresh
	"$FLAME" warmer stop >/dev/null 2>&1 || :
	fly_no_machines 30
}

created () { # how many machines the fake ever created
	fly_machines_json | "$PYTHON" -c 'import json, sys; print(len(json.load(sys.stdin)))'
}

# requests ACTION STATUS: how many requests of an action got STATUS
requests () {
	"$PYTHON" - "$1" "$2" "$TEST_ROOT/fake/requests.jsonl" <<-'EOF'
	import json, sys
	action, status, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
	n = 0
	for line in open(path):
	    r = json.loads(line)
	    is_create = r["method"] == "POST" and r["path"].rstrip("/").endswith("/machines")
	    if (action == "create") == is_create and r["status"] == status:
	        n += 1
	print(n)
	EOF
}

ready_runners () {
	pool_json | "$PYTHON" -c 'import json, sys
d = json.load(sys.stdin)
print(sum(1 for p in d["pools"] if p["name"] == "f" for r in p["runners"] if r["state"] == "ready"))'
}

fly_fake_start || _bail 'cannot start the fake Machines API'

test_expect_success 'set-up: a fly pool on the fake Machines API' '
	fly_config
	equals ok "$("$FLAME" run -p f -- echo ok)"
	settle
'

test_expect_success 'a storm of 429s is paced and retried: the job still succeeds' '
	fresh
	fly_fake_set "{\"rate_limit\": true, \"fail_next\": [{\"action\": \"create\", \"status\": 429, \"count\": 4}]}"
	equals ok "$("$FLAME" run -p f -- echo ok)"
	equals 4 "$(requests create 429)"
	settle
'

test_expect_success 'a 500 on create is retried' '
	fresh
	fly_fake_set "{\"fail_next\": [{\"action\": \"create\", \"status\": 500, \"count\": 2}]}"
	equals ok "$("$FLAME" run -p f -- echo ok)"
	equals 2 "$(requests create 500)"
	settle
'

test_expect_success 'after an ambiguous 408 on create exactly one machine exists' '
	fresh
	before=$(created)
	fly_fake_set "{\"ambiguous_create\": 1}"
	equals ok "$("$FLAME" run -p f -- echo ok)"
	equals 1 "$(requests create 408)"
	equals $((before + 1)) "$(created)"
	equals 1 "$(fly_live)"
	settle
'

test_expect_success 'a boot that never reaches started is destroyed after boot_timeout; the caller is told' '
	fresh
	fly_config "\"boot_timeout\": \"3s\""
	fly_fake_set "{\"boot_never_starts\": true}"
	rc=0
	"$FLAME" run -p f -- echo ok >out 2>err || rc=$?
	equals 255 "$rc"
	one_flame_line err
	grep -q "pool .f.: runner f-.* could not start" err
	grep -q "not started within 3s (boot_timeout)" err
	fly_no_machines 20
	settle
'

test_expect_success 'a machine that dies mid-job: 255 naming the runner, and the pool replaces it' '
	fresh
	"$FLAME" run -p f -- sh -c "touch \"$WORK/m1\"; sleep 63.63" >out 2>err &
	pid=$!
	wait_for "test -e m1" 30
	fly_die 1
	rc=0
	wait_exit "$pid" 10 || rc=$?
	equals 255 "$rc"
	one_flame_line err
	grep -q "runner f-" err
	equals ok "$("$FLAME" run -p f -- echo ok)"
	settle
'

test_expect_success 'a warmer killed with SIGKILL is restarted and adopts its three runners, no duplicates' '
	fresh
	fly_config "\"min\": 3, \"max_concurrency\": 1"
	equals ok "$("$FLAME" run -p f -- echo ok)"
	wait_for "test \$(ready_runners) = 3" 30
	before=$(created)
	equals 3 "$(fly_live)"
	wpid=$(warmer_pid)
	kill -KILL "$wpid" $(root_pgrep "flame-link")
	# a caller that reached the dying warmer would lose its job: wait until it is gone
	wait_for "! proc_alive $wpid" 10
	equals ok "$("$FLAME" run -p f -- echo ok)"
	wait_for "test \$(ready_runners) = 3" 30
	equals "$before" "$(created)"
	equals 3 "$(fly_live)"
	grep -q "3 runners of the previous warmer adopted" "$XDG_STATE_HOME/flame/warmer.log"
	settle
'

test_expect_success 'when the warmer never comes back every agent exits within its failsafe period' '
	fresh
	fly_config "\"min\": 2, \"max_concurrency\": 1, \"failsafe\": \"3s\""
	equals ok "$("$FLAME" run -p f -- echo ok)"
	wait_for "test \$(ready_runners) = 2" 30
	kill -KILL "$(warmer_pid)" $(root_pgrep "flame-link")
	# nothing runs: the machines, which the pool may keep, end stopped
	wait_for "test \$(fly_running) = 0" 15
	equals 2 "$(fly_live)"
	# and the next warmer sweeps them: its first call is served by a new one
	fly_config
	equals ok "$("$FLAME" run -p f -- echo ok)"
	wait_for "test \$(fly_live) = 1" 20
'

test_expect_success 'a pool that keeps no stopped machine: when the warmer never comes back Fly destroys them' '
	fresh
	fly_config "\"min\": 2, \"max_concurrency\": 1, \"failsafe\": \"3s\", \"stopped_max\": 0"
	equals ok "$("$FLAME" run -p f -- echo ok)"
	wait_for "test \$(ready_runners) = 2" 30
	kill -KILL "$(warmer_pid)" $(root_pgrep "flame-link")
	fly_no_machines 15
	fly_config
'

test_expect_success 'a runner of a stale image finishes its job, takes no new one and is replaced' '
	fresh
	"$FLAME" run -p f -- sh -c "touch \"$WORK/s1\"; sleep 3; echo done" >old.out 2>old.err &
	pid=$!
	wait_for "test -e s1" 30
	FLY_IMAGE=registry.fly.io/flame-test:deployment-2
	fly_config
	equals ok "$("$FLAME" run -p f -- echo ok)"
	rc=0
	wait_exit "$pid" 20 || rc=$?
	equals 0 "$rc"
	equals done "$(cat old.out)"
	wait_for "test \$(fly_live) = 1" 20
	# the one left is the new image'"'"'s: the last machine created
	tail -n 1 "$TEST_ROOT/fake/requests.jsonl" >/dev/null
	"$PYTHON" - "$TEST_ROOT/fake/requests.jsonl" <<-\EOF
	import json, sys
	creates = [r for r in map(json.loads, open(sys.argv[1]))
	           if r["method"] == "POST" and r["path"].endswith("/machines") and r["status"] == 200]
	assert creates[-1]["body"]["config"]["image"].endswith(":deployment-2"), creates[-1]["body"]
	assert creates[-2]["body"]["config"]["image"].endswith(":deployment-1"), creates[-2]["body"]
	EOF
	grep -q "has outdated settings; replacing it" "$XDG_STATE_HOME/flame/warmer.log"
	settle
'

test_done
