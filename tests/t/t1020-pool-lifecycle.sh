#!/bin/bash
# shellcheck disable=SC2016,SC2034,SC2317,SC2119 # test bodies are single-quoted, run later by tests/lib.sh: what they expand or use looks unused here
# Pools: min keeps runners warm, idle runners shut down, live scaling, pool ls.
. "$(dirname "$0")/../lib.sh"

write_config <<'JSON'
{
  "pools": {
    "warm": { "min": 1, "max": 2, "max_concurrency": 1, "idle_shutdown_after": "1s" },
    "idle": { "min": 0, "max": 2, "idle_shutdown_after": "2s" },
    "live": { "max": 3, "max_concurrency": 4, "idle_shutdown_after": 5, "boot_timeout": "45s", "slot_timeout": "2m" }
  }
}
JSON

# runners POOL: number of runners pool ls --json lists for POOL.
runners () {
	pool_field "$1" 'len(p["runners"])'
}

test_expect_success 'pool ls --json without a warmer shows warmer.running false and the configured pools' '
	pool_json >pj
	equals false "$(json_q "d[\"warmer\"][\"running\"]" <pj)"
	equals "default idle live warm" "$(json_q "\" \".join(sorted(p[\"name\"] for p in d[\"pools\"]))" <pj)"
	test_status 3 "$FLAME" warmer status
'

test_expect_success 'pool ls --json reports configured limits, with durations in seconds' '
	equals 3 "$(pool_field live "p[\"max\"]")"
	equals 0 "$(pool_field live "p[\"min\"]")"
	equals 4 "$(pool_field live "p[\"max_concurrency\"]")"
	equals 5 "$(pool_field live "int(p[\"idle_shutdown_after\"])")"
	equals 45 "$(pool_field live "int(p[\"boot_timeout\"])")"
	equals 120 "$(pool_field live "int(p[\"slot_timeout\"])")"
	equals local "$(pool_field live "p[\"backend\"]")"
	equals 2 "$(pool_field idle "int(p[\"idle_shutdown_after\"])")"
'

test_expect_success 'the default pool has the documented defaults' '
	equals "0 4 4 30 30 300 local" "$(pool_field default "\" \".join(str(int(p[k])) for k in (\"min\", \"max\", \"max_concurrency\", \"idle_shutdown_after\", \"boot_timeout\", \"slot_timeout\")) + \" \" + p[\"backend\"]")"
'

test_expect_success 'pool ls (text) exits 0 and names every pool' '
	"$FLAME" pool ls >out
	for p in default warm idle live; do grep -q "$p" out; done
'

test_expect_success 'min 1 keeps a runner warm: after idle_shutdown_after has passed one ready runner remains' '
	"$FLAME" run -p warm -- sleep 0.5 &
	a=$!
	"$FLAME" run -p warm -- sleep 0.5 &
	b=$!
	wait_exit "$a" 30
	wait_exit "$b" 30
	equals true "$(pool_json | json_q "d[\"warmer\"][\"running\"]")"
	wait_for "test \"\$(runners warm)\" = 1" 10
	sleep 3
	equals 1 "$(runners warm)"
	equals ready "$(pool_field warm "p[\"runners\"][0][\"state\"]")"
	equals 0 "$(pool_field warm "p[\"runners\"][0][\"busy\"]")"
	equals 0 "$(pool_field warm "p[\"busy\"]")"
'

test_expect_success 'idle_shutdown_after 2s brings an idle pool to zero runners (and their processes exit)' '
	before=$(count_runners)
	"$FLAME" run -p idle -- true
	test "$(runners idle)" -ge 1
	wait_for "test \"\$(runners idle)\" = 0" 8
	wait_for "test \"\$(count_runners)\" = \"$before\"" 5
'

test_expect_success 'pool scale live --max 5 --max-concurrency 2 --min 0 changes live limits shown by pool ls --json' '
	test_status 0 "$FLAME" pool scale live --max 5 --max-concurrency 2 --min 0 >out 2>err
	test ! -s err
	equals 5 "$(pool_field live "p[\"max\"]")"
	equals 2 "$(pool_field live "p[\"max_concurrency\"]")"
	equals 0 "$(pool_field live "p[\"min\"]")"
'

test_expect_success 'pool scale changes only the limits it is given' '
	"$FLAME" pool scale live --max 6
	equals 6 "$(pool_field live "p[\"max\"]")"
	equals 2 "$(pool_field live "p[\"max_concurrency\"]")"
'

test_expect_success 'pool scale --min 1 boots a runner without any job being run' '
	equals 0 "$(runners live)"
	"$FLAME" pool scale live --min 1
	wait_for "test \"\$(runners live)\" = 1" 10
	wait_for "test \"\$(pool_field live \"p[\\\"runners\\\"][0][\\\"state\\\"]\")\" = ready" 10
'

test_expect_success 'a scaled max_concurrency is obeyed: 4 jobs on a pool scaled to max 1, max-concurrency 2 never overlap more than 2' '
	"$FLAME" pool scale live --max 1 --max-concurrency 2 --min 0
	rm -f stamps
	pids=()
	for i in 1 2 3 4; do
		"$FLAME" run -p live --sh "echo start >>\"$WORK/stamps\"; sleep 1; echo end >>\"$WORK/stamps\"" &
		pids+=("$!")
	done
	for p in "${pids[@]}"; do wait_exit "$p" 60; done
	equals 4 "$(grep -c end stamps)"
	maxrun=$(awk "/start/ { n++; if (n > m) m = n } /end/ { n-- } END { print m }" stamps)
	test "$maxrun" -le 2
	test "$(runners live)" -le 1
'

test_expect_success 'the warmer exits by itself FLAME_WARMER_GRACE after its last runner and caller are gone' '
	"$FLAME" pool scale warm --min 0
	"$FLAME" pool scale live --min 0
	wait_for "test_status 3 \"\$FLAME\" warmer status" 75
	equals false "$(pool_json | json_q "d[\"warmer\"][\"running\"]")"
'

test_expect_success 'scaled limits survive the warmer exiting (read back from the journal)' '
	equals 1 "$(pool_field live "p[\"max\"]")"
	equals 2 "$(pool_field live "p[\"max_concurrency\"]")"
'

test_done
