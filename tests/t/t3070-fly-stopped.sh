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
# calls METHOD SUFFIX: how many requests were METHOD on a path ending in SUFFIX
calls () {
	"$PYTHON" - "$1" "$2" "$TEST_ROOT/fake/requests.jsonl" <<-\EOF
	import json, sys
	print(sum(1 for r in map(json.loads, open(sys.argv[3]))
	          if r["method"] == sys.argv[1] and r["path"].split("?")[0].endswith(sys.argv[2])))
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
	fly_config &&
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

test_done
