#!/bin/bash
# shellcheck disable=SC2016,SC2034,SC2317 # test bodies are single-quoted, run later by tests/lib.sh: what they expand or use looks unused here
# A pool's budget: machine-seconds per rolling hour, counted from the
# warmer's record of each runner (its boot to its end).  Once booting one
# more runner would overrun it, none boots: callers wait for the runners
# there are, and a call no runner can serve gets exit 75 and one line naming
# the pool, the budget and when it frees up.  The count survives a warmer
# restart (the journal), and `pool ls` shows it.  On the local backend: the
# rule is the warmer's, the same for every backend.
. "$(dirname "$0")/../lib.sh"

budget_config () {
	write_config '{ "pools": { "b": { "max": 1, "idle_shutdown_after": "1s", "budget": { "machine_seconds_per_hour": '"$1"' } } } }'
}
used () {
	pool_json | json_q '[p for p in d["pools"] if p["name"] == "b"][0].get("machine_seconds_last_hour", -1)'
}
runners () {
	pool_json | json_q 'len([p for p in d["pools"] if p["name"] == "b"][0]["runners"])'
}

test_expect_success 'within the budget a runner boots; pool ls counts its seconds once it ends' '
	budget_config 3 &&
	equals ok "$("$FLAME" run -p b -- sh -c "sleep 2; echo ok")" &&
	wait_for "test \$(runners) = 0" 15 &&
	"$PYTHON" -c "import sys; assert 2.5 <= float(sys.argv[1]) < 60, sys.argv[1]" "$(used)" &&
	"$FLAME" pool ls >ls.out &&
	grep -q "machine-seconds in the last hour" ls.out
'

test_expect_success 'past the budget no runner boots: exit 75, one line naming the pool, the budget and when it frees up' '
	test_status 75 "$FLAME" run -p b -- echo no >out 2>err &&
	equals "" "$(cat out)" &&
	one_flame_line err "pool '"'"'b'"'"' has used its budget of 3 machine-seconds per hour" "it frees up in " &&
	equals 0 "$(runners)"
'

test_expect_success 'the count survives a warmer restart' '
	stop_warmer &&
	test_status 75 "$FLAME" run -p b -- echo no 2>err &&
	one_flame_line err "has used its budget"
'

test_expect_success 'callers queue on a runner that exists while the budget forbids a second' '
	stop_warmer &&
	rm -f "$XDG_STATE_HOME/flame/state.json" &&
	write_config '"'"'{ "pools": { "b": { "max": 2, "max_concurrency": 1, "idle_shutdown_after": "5s", "budget": { "machine_seconds_per_hour": 6 } } } }'"'"' &&
	equals 1 "$("$FLAME" run -p b -- sh -c "sleep 2; echo 1")" || return 1
	"$FLAME" run -p b -- sh -c "sleep 2; echo a" >a.out 2>a.err &
	"$FLAME" run -p b -- sh -c "sleep 2; echo b" >b.out 2>b.err &
	wait &&
	equals a "$(cat a.out)" &&
	equals b "$(cat b.out)" &&
	equals 1 "$(runners)" &&
	grep -q "has used its budget" "$XDG_STATE_HOME/flame/warmer.log"
'

test_expect_success 'a budget that is not an object of machine_seconds_per_hour is refused in one line' '
	write_config '"'"'{ "pools": { "b": { "budget": 60 } } }'"'"' &&
	test_status 125 "$FLAME" run -p b -- true 2>err &&
	one_flame_line err "machine_seconds_per_hour"
'

test_done
