#!/bin/bash
# shellcheck disable=SC2016,SC2034,SC2317 # test bodies are single-quoted, run later by tests/lib.sh: what they expand or use looks unused here
# The fly backend's stopped tier: an idle runner's machine is stopped and
# kept, not destroyed; the next cold call starts it (the fake's records show
# a start, no create) and reaches it with the same pinned host key.
# stopped_max and stopped_ttl are honoured, a kept machine of outdated
# settings is destroyed and never started, a restarted warmer takes kept
# machines back, `pool drain` and `warmer stop` destroy them, and a warmer
# gone for good leaves nothing running.
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/lib-fly.sh
. "$TEST_DIRECTORY/lib-fly.sh"

# fly_config [EXTRA_JSON]: the pool "f" on the fake, idle after 1 s
fly_config () {
	write_config "{ \"pools\": { $(fly_pool_conf f "\"max\": 2, \"idle_shutdown_after\": \"1s\", \"boot_timeout\": \"20s\"${1:+, $1}") } }"
}
settle () {
	fly_fake_reset
	fly_config ''
	"$FLAME" warmer stop >/dev/null 2>&1 || :
	fly_no_machines 30
	wait_for "test \$(count_procs flame-link) = 0" 30
}
# in_state STATE: how many of the fake's machines are in STATE now
in_state () {
	fly_machines_json | "$PYTHON" -c 'import json, sys
print(sum(1 for m in json.load(sys.stdin) if m["state"] == sys.argv[1]))' "$1"
}
# mark: from here on calls counts (each test marks first)
mark () {
	wc -l <"$TEST_ROOT/fake/requests.jsonl" >"$TEST_ROOT/mark"
}
# calls METHOD SUFFIX: how many requests since the mark were METHOD on a
# path ending in SUFFIX, and answered 200
calls () {
	"$PYTHON" - "$1" "$2" "$TEST_ROOT/fake/requests.jsonl" "$(cat "$TEST_ROOT/mark")" <<-\EOF
	import json, sys
	lines = open(sys.argv[3]).readlines()[int(sys.argv[4]):]
	print(sum(1 for r in map(json.loads, lines) if r["status"] == 200 and
	          r["method"] == sys.argv[1] and r["path"].split("?")[0].endswith(sys.argv[2])))
	EOF
}
creates () { calls POST /machines; }
starts () { calls POST /start; }
# kept: how many stopped machines the warmer's pool f keeps
kept () {
	pool_json | "$PYTHON" -c 'import json, sys
print(sum(len(p.get("stopped", [])) for p in json.load(sys.stdin)["pools"] if p["name"] == "f"))'
}

fly_fake_start || _bail 'cannot start the fake Machines API'

test_expect_success 'an idle runner is stopped and kept; the next cold call starts it, no create' '
	fly_config && mark &&
	equals one "$("$FLAME" run -p f -- echo one)" &&
	equals 1 "$(creates)" &&
	wait_for "test \"\$(in_state stopped)\" = 1" 20 &&
	wait_for "test \"\$(kept)\" = 1" 10 &&
	equals 1 "$(fly_live)" &&
	equals two "$("$FLAME" run -p f -- echo two)" &&
	equals 1 "$(creates)" &&
	equals 1 "$(starts)" &&
	equals 0 "$(kept)" &&
	equals 1 "$(in_state started)" &&
	settle
'

# machine_of RUNNER: the fake's machine of runner (launch id) RUNNER
starts_of_launch () {
	fly_machines_json | "$PYTHON" -c 'import json, sys
print(sum(m.get("starts", 0) for m in json.load(sys.stdin) if m["metadata"].get("flame_launch") == sys.argv[1]))' "$1"
}
kept_id () {
	pool_json | "$PYTHON" -c 'import json, sys
print([m["id"] for p in json.load(sys.stdin)["pools"] if p["name"] == "f" for m in p["stopped"]][0])'
}
# two jobs at once: two runners (in a pool of one slot each)
two_runners () {
	"$FLAME" run -p f -- sleep 1 &
	"$FLAME" run -p f -- sleep 1 &
	wait
}

test_expect_success 'stopped_max: of two idle runners one is kept, the other destroyed' '
	fly_config "\"stopped_max\": 1, \"max_concurrency\": 1" && mark &&
	two_runners &&
	equals 2 "$(creates)" &&
	wait_for "test \"\$(kept)\" = 1" 20 &&
	wait_for "test \"\$(fly_live)\" = 1" 20 &&
	equals 1 "$(in_state stopped)" &&
	"$FLAME" pool ls >ls.out &&
	grep -q "1 stopped (kept: 1 for 10m)" ls.out &&
	grep -q "^  stopped f-" ls.out &&
	settle
'

test_expect_success 'stopped_ttl: a kept machine is destroyed once it has been stopped that long' '
	fly_config "\"stopped_ttl\": \"2s\"" &&
	equals ok "$("$FLAME" run -p f -- echo ok)" &&
	wait_for "test \"\$(kept)\" = 1" 20 &&
	wait_for "test \"\$(fly_live)\" = 0" 15 &&
	equals 0 "$(kept)" &&
	grep -q "stopped_ttl passed" "$XDG_STATE_HOME/flame/warmer.log" &&
	settle
'

test_expect_success 'a kept machine of outdated settings is destroyed, never started; a new one is created' '
	fly_config && mark &&
	equals ok "$("$FLAME" run -p f -- echo ok)" &&
	wait_for "test \"\$(kept)\" = 1" 20 &&
	old=$(kept_id) &&
	fly_config "\"env\": {\"RELEASE\": \"2\"}" &&
	equals ok "$("$FLAME" run -p f -- echo ok)" &&
	equals 0 "$(starts)" &&
	equals 2 "$(creates)" &&
	equals 0 "$(starts_of_launch "$old")" &&
	wait_for "test \"\$(fly_live)\" = 1" 15 &&
	grep -q "destroying stopped runner $old (its settings are outdated)" "$XDG_STATE_HOME/flame/warmer.log" &&
	settle
'

test_expect_success 'a warmer SIGKILLed with a kept machine: the next one takes it back and starts it, none leaked' '
	fly_config &&
	equals ok "$("$FLAME" run -p f -- echo ok)" &&
	wait_for "test \"\$(kept)\" = 1" 20 &&
	mark &&
	kill -KILL "$(warmer_pid)" &&
	wait_for "! warmer_running" 10 &&
	equals again "$("$FLAME" run -p f -- echo again)" &&
	equals 0 "$(creates)" &&
	equals 1 "$(starts)" &&
	equals 1 "$(fly_live)" &&
	settle
'

test_expect_success 'pool drain destroys the kept machines now; pool scale --stopped-max 0 too' '
	fly_config "\"max_concurrency\": 1" &&
	two_runners &&
	wait_for "test \"\$(kept)\" = 2" 20 &&
	"$FLAME" pool drain f >out &&
	equals "pool '"'"'f'"'"': 2 stopped machines destroyed" "$(cat out)" &&
	wait_for "test \"\$(fly_live)\" = 0" 15 &&
	equals ok "$("$FLAME" run -p f -- echo ok)" &&
	wait_for "test \"\$(kept)\" = 1" 20 &&
	"$FLAME" pool scale f --stopped-max 0 >out &&
	grep -q "stopped_max 0" out &&
	wait_for "test \"\$(fly_live)\" = 0" 15 &&
	"$FLAME" pool scale f --stopped-max 2 >/dev/null &&
	settle
'

test_expect_success 'pool drain while a runner is being stopped: its machine is destroyed, not kept' '
	fly_config "\"idle_shutdown_after\": \"1s\"" &&
	equals ok "$("$FLAME" run -p f -- echo ok)" &&
	# the stop is answered 503 twice: the runner is being stopped a while
	fly_fake_set "{\"fail_next\": [{\"action\": \"stop\", \"status\": 503, \"count\": 2}]}" &&
	n0=$(grep -c "idle; stopping it and keeping its machine" "$XDG_STATE_HOME/flame/warmer.log") &&
	wait_for "test \$(grep -c \"idle; stopping it and keeping its machine\" \"\$XDG_STATE_HOME/flame/warmer.log\") -gt $n0" 20 &&
	"$FLAME" pool drain f >out &&
	equals "pool '"'"'f'"'"': 1 stopped machine destroyed" "$(cat out)" &&
	wait_for "test \"\$(fly_live)\" = 0" 20 &&
	equals 0 "$(kept)" &&
	grep -q "is stopping; destroying its machine (drained by flame pool drain)" "$XDG_STATE_HOME/flame/warmer.log" &&
	settle
'

test_expect_success 'warmer stop destroys the kept machines: nothing outlives it' '
	fly_config &&
	equals ok "$("$FLAME" run -p f -- echo ok)" &&
	wait_for "test \"\$(kept)\" = 1" 20 &&
	"$FLAME" warmer stop >/dev/null &&
	fly_no_machines 20
'

test_done
