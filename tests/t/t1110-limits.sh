#!/bin/bash
# shellcheck disable=SC2016,SC2034,SC2317 # test bodies are single-quoted, run later by tests/lib.sh: what they expand or use looks unused here
# One set of limits (lib/flame_limits.h): what the config and `pool scale`
# accept, every part can do; numbers and strings beyond them are refused with
# one line, and out-of-range journal values print sanely.
. "$(dirname "$0")/../lib.sh"

DRIVER=$TEST_DIRECTORY/tools/slot_driver.py

test_expect_success 'max above 512 runners, max_concurrency above 256, min above 512: one line each' '
	for kv in "\"max\": 513" "\"max_concurrency\": 257" "\"min\": 513, \"max\": 512" "\"max\": 100000"; do
		write_config "{\"pools\": {\"big\": {$kv}}}"
		rc=0
		"$FLAME" run -p big -- true 2>err || rc=$?
		equals 125 "$rc"
		one_flame_line err "pool '"'"'big'"'"'" "whole number from"
	done
	write_config "{\"pools\": {\"big\": {\"max\": 512, \"max_concurrency\": 256}}}"
	"$FLAME" pool ls >out
	grep -q "^big .* 512 *256 " out
'

test_expect_success 'pool scale keeps the same limits' '
	write_config "{\"pools\": {\"p\": {\"max\": 2}}}"
	for opt in "--max 513" "--max-concurrency 257" "--min 513"; do
		rc=0
		# shellcheck disable=SC2086 # two words on purpose
		"$FLAME" pool scale p $opt 2>err || rc=$?
		equals 125 "$rc"
		one_flame_line err "whole number from"
	done
	"$FLAME" pool scale p --max 512 --max-concurrency 256 >out
	grep -q "max 512, max_concurrency 256" out
'

test_expect_success 'more than 1000 pools in one file are refused with one line; 1000 are fine' '
	"$PYTHON" -c "
import json, sys
json.dump({\"pools\": {\"p%d\" % i: {} for i in range(int(sys.argv[1]))}}, sys.stdout)
" 1001 >"$WORK/flame.json"
	rc=0
	"$FLAME" pool ls >out 2>err || rc=$?
	equals 125 "$rc"
	one_flame_line err "1001 pools" "at most 1000"
	"$PYTHON" -c "
import json, sys
json.dump({\"pools\": {\"p%d\" % i: {} for i in range(int(sys.argv[1]))}}, sys.stdout)
" 1000 >"$WORK/flame.json"
	"$FLAME" pool ls >out
	grep -q "^p999 " out
'

test_expect_success 'a \u0000 inside a key or a value is refused, not cut short' '
	# json.dumps writes the NUL as \u0000 and a backslash as two
	"$PYTHON" -c "import json; print(json.dumps({\"pools\": {\"a\\0b\": {\"max\": 1}}}))" >"$WORK/flame.json"
	grep -qF "u0000" "$WORK/flame.json"
	rc=0
	"$FLAME" run -p a -- true 2>err || rc=$?
	equals 125 "$rc"
	one_flame_line err "flame.json:1:" "u0000"
	"$PYTHON" -c "import json; print(json.dumps({\"pools\": {\"s\": {\"backend\": \"ssh\", \"hosts\": [\"u@h:22\"], \"command\": \"fl\\0ame\"}}}))" >"$WORK/flame.json"
	rc=0
	"$FLAME" pool ls >out 2>err || rc=$?
	equals 125 "$rc"
	one_flame_line err "u0000"
	# an escaped backslash before u0000 is no NUL
	"$PYTHON" -c "import json; print(json.dumps({\"pools\": {\"s\": {\"backend\": \"ssh\", \"hosts\": [\"u@h:22\"], \"command\": \"a\\\\u0000\"}}}))" >"$WORK/flame.json"
	cat "$WORK/flame.json" >&9
	"$FLAME" pool ls >out
	grep -q "^s " out
'

test_expect_success 'pool ls from the journal: 1e300 and -5 seconds do not print as negative durations' '
	rm -f "$WORK/flame.json"
	"$FLAME" run -- true
	stop_warmer
	j=$XDG_STATE_HOME/flame/state.json
	"$PYTHON" -c "
import json, sys
d = json.load(open(sys.argv[1]))
d[\"pools\"][0][\"idle_shutdown_after\"] = 1e300
d[\"pools\"][0][\"runners\"] = [{\"id\": \"default-x-1\", \"state\": \"ready\", \"busy\": 0,
    \"created_ms\": -1e300, \"idle_since_ms\": 1e300, \"age_seconds\": 1e300, \"idle_seconds\": -5}]
json.dump(d, open(sys.argv[1], \"w\"))
" "$j"
	"$FLAME" pool ls >out
	cat out >&9
	grep -q "^default " out
	not grep -q -- " -[0-9]" out
'

test_expect_success 'a wire timeout of INT64_MAX ms is no timeout, not one that fired (agent slot)' '
	rc=0
	"$PYTHON" "$DRIVER" "$FLAME" --timeout 9223372036854775807 -- sh -c "exit 3" || rc=$?
	equals 3 "$rc"
'

test_done
