# shellcheck shell=bash disable=SC2016 # conditions are single-quoted, run later
# tests/lib-fly.sh - the fake Fly Machines API (tests/fakes/fly_api.py) for
# flame's tests.  Source it after tests/lib.sh.
#
#   fly_fake_start             start the fake under $TEST_ROOT/fake; sets FLY_FAKE_URL
#                              and exports FLY_API_TOKEN (the token it accepts)
#   fly_pool_conf NAME [JSON]  print a fly pool's config entry ("NAME": {...}), extra
#                              settings JSON appended inside the object
#   fly_fake_set JSON          POST /_fake/config (switches: rate_limit, fail_next...)
#   fly_fake_reset             every fault switch back off
#   fly_live                   how many machines the fake holds (not destroyed)
#   fly_running                how many of them run (starting, started, stopping)
#   fly_machines_json          every machine the fake ever had (GET /_fake/machines)
#   fly_no_machines [SECONDS]  wait (default 30 s) until the fake holds no machine
#   fly_die N                  make the N-th live machine die (its process tree killed)
#
# Each machine is a local `flame agent` (the binary under test) whose sshd
# listens on its own 127.0.0.N at this file's $FLY_AGENT_PORT.

FLY_APP=flame-test
FLY_IMAGE=registry.fly.io/flame-test:deployment-1

fly_fake_start () {
	local d=$TEST_ROOT/fake
	mkdir -p "$d" || return 1
	export FLY_API_TOKEN=fake-token-$RANDOM$RANDOM
	FAKE_FLY_FLAME=$FLAME "$PYTHON" "$TEST_DIRECTORY/fakes/fly_api.py" --state "$d" --port 0 \
		--token "$FLY_API_TOKEN" </dev/null >>"$d/stdout.log" 2>&1 &
	echo $! >"$d/pid"
	wait_for "test -s \"$d/port\"" 15 || return 1
	FLY_FAKE_URL=http://127.0.0.1:$(cat "$d/port")
	FLY_AGENT_PORT=$("$PYTHON" -c 'import random; print(random.randint(20000, 30000))')
	export FLY_FAKE_URL FLY_AGENT_PORT
}

fly_pool_conf () {
	printf '"%s": { "backend": "fly", "app": "%s", "image": "%s", "api_url": "%s", "command": "%s", "port": %s%s }' \
		"$1" "$FLY_APP" "$FLY_IMAGE" "$FLY_FAKE_URL" "$FLAME" "$FLY_AGENT_PORT" "${2:+, $2}"
}

fly_fake_set () {
	curl -fsS -X POST -d "$1" "$FLY_FAKE_URL/_fake/config" >/dev/null
}

# fly_fake_reset: every fault switch of the fake back off (ends a fault test)
fly_fake_reset () {
	fly_fake_set '{"rate_limit": false, "fail_next": [], "boot_never_starts": false, "boot_delay": 0,
		"start_delay": null, "migrate_on_start": 0}'
}

fly_machines_json () {
	curl -fsS "$FLY_FAKE_URL/_fake/machines"
}

fly_live () {
	fly_machines_json | "$PYTHON" -c 'import json, sys
print(sum(1 for m in json.load(sys.stdin) if not m["destroyed"]))'
}

fly_running () {
	fly_machines_json | "$PYTHON" -c 'import json, sys
print(sum(1 for m in json.load(sys.stdin) if m["state"] in ("starting", "started", "stopping")))'
}

fly_no_machines () {
	wait_for 'test "$(fly_live)" = 0' "${1:-30}"
}

fly_die () {
	local id
	id=$(fly_machines_json | "$PYTHON" -c 'import json, sys
live = [m for m in json.load(sys.stdin) if m["state"] == "started"]
print(live[int(sys.argv[1]) - 1]["id"])' "$1") || return 1
	curl -fsS -X POST "$FLY_FAKE_URL/_fake/machines/$id/die" >/dev/null
}
