#!/bin/bash
# shellcheck disable=SC2016,SC2034,SC2317 # test bodies are single-quoted, run later by tests/lib.sh: what they expand or use looks unused here
# Pools keep their promises under change: lowering max drains without killing
# a running job, min is refilled after a runner is lost, and concurrent first
# callers start exactly one warmer.
. "$(dirname "$0")/../lib.sh"

write_config <<'JSON'
{
  "pools": {
    "drain":  { "max": 2, "max_concurrency": 1, "idle_shutdown_after": "60s" },
    "refill": { "min": 1, "max": 2, "idle_shutdown_after": "60s" }
  }
}
JSON

runners () {
	pool_field "$1" 'len(p["runners"])'
}

test_expect_success 'concurrent first callers start exactly one warmer' '
	for i in 1 2 3 4 5 6 7 8; do "$FLAME" run -- true & done
	wait
	equals 1 "$(count_procs "flame warmer run")"
'

test_expect_success 'lowering max below what is busy drains a runner and kills no running job' '
	"$FLAME" run -p drain --sh "touch \"$WORK/d1\"; sleep 2; echo one-done" >out1 &
	a=$!
	"$FLAME" run -p drain --sh "touch \"$WORK/d2\"; sleep 2; echo two-done" >out2 &
	b=$!
	wait_for "test -e d1 && test -e d2" 20
	equals 2 "$(runners drain)"
	"$FLAME" pool scale drain --max 1 >/dev/null
	equals 1 "$(pool_field drain "sum(r[\"state\"] == \"draining\" for r in p[\"runners\"])")"
	wait_exit "$a" 20
	wait_exit "$b" 20
	grep -qx one-done out1
	grep -qx two-done out2
	wait_for "test \"\$(runners drain)\" = 1" 15
'

test_expect_success 'after draining, the pool runs new jobs within its new max' '
	equals ok "$("$FLAME" run -p drain -- echo ok)"
	equals 1 "$(runners drain)"
'

test_expect_success 'min 1 is refilled after its runner is lost' '
	"$FLAME" pool scale refill --min 1 >/dev/null
	wait_for "test \"\$(pool_field refill \"sum(r[\\\"state\\\"] == \\\"ready\\\" for r in p[\\\"runners\\\"])\")\" = 1" 10
	first=$(pool_field refill "p[\"runners\"][0][\"id\"]")
	pid=$(pool_field refill "p[\"runners\"][0][\"pid\"]")
	kill -KILL "$pid"
	wait_for "test \"\$(pool_field refill \"[r[\\\"id\\\"] for r in p[\\\"runners\\\"] if r[\\\"state\\\"] == \\\"ready\\\"]\")\" != \"[]\" && test \"\$(pool_field refill \"p[\\\"runners\\\"][0][\\\"id\\\"]\")\" != \"$first\"" 10
	equals 1 "$(runners refill)"
'

test_done
