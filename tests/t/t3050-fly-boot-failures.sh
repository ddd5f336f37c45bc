#!/bin/bash
# shellcheck disable=SC2016,SC2034,SC2317 # test bodies are single-quoted, run later by tests/lib.sh: what they expand or use looks unused here
# A fly runner whose boot fails is reported at once with the reason (the
# machine's state and its command's exit code), not after the whole
# boot_timeout; a boot that is merely slow gets the whole boot_timeout.  The
# waits pin the machine's version, a failed boot is destroyed once, and the
# messages name the machine and its port.  Times are asserted only as
# bounds far from the boot_timeout.
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/lib-fly.sh
. "$TEST_DIRECTORY/lib-fly.sh"

# fly_config [EXTRA_JSON [COMMAND]]: the pool "f" on the fake
fly_config () {
	write_config "{ \"pools\": { $(fly_pool_conf f "\"boot_timeout\": \"20s\"${1:+, $1}" |
		sed "s|\"command\": \"$FLAME\"|\"command\": \"${2:-$FLAME}\"|") } }"
}
fresh () {
	fly_fake_reset
	fly_config ''
}
settle () {
	fresh
	"$FLAME" warmer stop >/dev/null 2>&1 || :
	fly_no_machines 30
	wait_for "test \$(count_procs flame-link) = 0" 30
}
ms () { echo $(($(date +%s%N) / 1000000)); }

# last_machine: the id of the machine the fake created last
last_machine () {
	fly_machines_json | "$PYTHON" -c 'import json, sys; print(json.load(sys.stdin)[-1]["id"])'
}
# deletes ID: how many DELETE requests named machine ID
deletes () {
	"$PYTHON" - "$1" "$TEST_ROOT/fake/requests.jsonl" <<-\EOF
	import json, sys
	print(sum(1 for r in map(json.loads, open(sys.argv[2]))
	          if r["method"] == "DELETE" and r["path"].split("?")[0].endswith("/machines/" + sys.argv[1])))
	EOF
}

fly_fake_start || _bail 'cannot start the fake Machines API'

test_expect_success 'a machine whose command exits at once fails the run within seconds, with the exit code' '
	fresh
	fly_config "" /bin/false
	t0=$(ms)
	rc=0
	"$FLAME" run -p f -- echo ok >out 2>err || rc=$?
	t1=$(ms)
	cat err
	echo "took $((t1 - t0)) ms"
	equals 255 "$rc"
	one_flame_line err
	grep -q "exit code 1" err
	! grep -q "in time" err
	# far from the boot_timeout of 20 s
	test $((t1 - t0)) -lt 10000
	settle
'

test_expect_success 'a failed boot names its machine, not "(creating)", and is destroyed once' '
	fresh
	fly_config "" /bin/false
	rc=0
	"$FLAME" run -p f -- echo ok >out 2>err || rc=$?
	equals 255 "$rc"
	id=$(last_machine)
	grep -q "machine $id" err
	! grep -q "(creating)" err
	settle
	equals 1 "$(deletes "$id")"
'

test_expect_success 'the link log names the machine'"'"'s port, never root@?:22' '
	! grep -q "@?:" "$XDG_STATE_HOME/flame/warmer.log"
	grep -q "fly link f-.*machine" "$XDG_STATE_HOME/flame/warmer.log"
'

test_expect_success 'a command that cannot start fails the run within seconds, with the reason' '
	fresh
	fly_config "" /nonexistent/agent
	t0=$(ms)
	rc=0
	"$FLAME" run -p f -- echo ok >out 2>err || rc=$?
	t1=$(ms)
	cat err
	echo "took $((t1 - t0)) ms"
	equals 255 "$rc"
	one_flame_line err
	grep -q "exit code 1" err
	test $((t1 - t0)) -lt 10000
	settle
'

test_expect_success 'a slow boot gets the whole boot_timeout, and the message says it as configured' '
	fresh
	fly_config "\"boot_timeout\": \"2500ms\""
	fly_fake_set "{\"boot_never_starts\": true}"
	t0=$(ms)
	rc=0
	"$FLAME" run -p f -- echo ok >out 2>err || rc=$?
	t1=$(ms)
	cat err
	echo "took $((t1 - t0)) ms"
	equals 255 "$rc"
	one_flame_line err
	grep -q "not started within 2.5s" err
	test $((t1 - t0)) -ge 2500
	settle
'

test_expect_success 'a wait pins the machine with version, not the deprecated instance_id' '
	fresh
	equals ok "$("$FLAME" run -p f -- echo ok)"
	"$PYTHON" - "$TEST_ROOT/fake/requests.jsonl" <<-\EOF
	import json, sys
	waits = [r for r in map(json.loads, open(sys.argv[1])) if r["path"].split("?")[0].endswith("/wait")]
	assert waits, "no wait request"
	for w in waits:
	    q = w["query"]
	    assert "instance_id" not in q, w
	    assert q.get("version"), w
	EOF
	settle
'

# (the last try goes a moment before the deadline, and the link starts a
# moment after the run: 4.5 s tells "at the deadline" from the 3.8 s it was)
test_expect_success 'rate limited until the deadline: the boot gives up at boot_timeout, not before' '
	fresh
	fly_config "\"boot_timeout\": \"5s\""
	fly_fake_set "{\"fail_next\": [{\"action\": \"create\", \"status\": 429, \"count\": 1000}]}"
	t0=$(ms)
	rc=0
	"$FLAME" run -p f -- echo ok >out 2>err || rc=$?
	t1=$(ms)
	cat err
	echo "took $((t1 - t0)) ms"
	equals 255 "$rc"
	one_flame_line err
	grep -q "429" err
	test $((t1 - t0)) -ge 4500
	settle
'

test_done
