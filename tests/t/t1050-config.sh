#!/bin/bash
# shellcheck disable=SC2016,SC2034,SC2317,SC2119 # test bodies are single-quoted, run later by tests/lib.sh: what they expand or use looks unused here
# Config files: project file found walking up, user file, precedence, FLAME_CONFIG.
. "$(dirname "$0")/../lib.sh"

mkdir -p "$XDG_CONFIG_HOME/flame"
cat >"$XDG_CONFIG_HOME/flame/config.json" <<'JSON'
{ "pools": {
    "useronly": { "max": 3 },
    "shared":   { "max": 2, "max_concurrency": 2 }
} }
JSON
write_config <<'JSON'
{ "pools": {
    "projonly": { "max": 5, "idle_shutdown_after": 12, "slot_timeout": "1.5m" },
    "shared":   { "max": 6 }
} }
JSON

test_expect_success 'a pool from the user config file is known' '
	equals 3 "$(pool_field useronly "p[\"max\"]")"
'

test_expect_success 'a pool from the project flame.json is known; durations may be numbers or strings' '
	equals 5 "$(pool_field projonly "p[\"max\"]")"
	equals 12 "$(pool_field projonly "int(p[\"idle_shutdown_after\"])")"
	equals 90 "$(pool_field projonly "int(p[\"slot_timeout\"])")"
'

test_expect_success 'the project file overrides the same pool name in the user file' '
	equals 6 "$(pool_field shared "p[\"max\"]")"
'

test_expect_success 'flame.json is found by walking up from a subdirectory' '
	mkdir -p a/b/c
	cd a/b/c
	equals 5 "$(pool_field projonly "p[\"max\"]")"
	out=$("$FLAME" run -p projonly -- echo from-subdir)
	equals from-subdir "$out"
'

test_expect_success 'FLAME_CONFIG replaces the project-file search' '
	printf "{ \"pools\": { \"envpool\": { \"max\": 2 } } }\n" >"$TEST_ROOT/env-config.json"
	FLAME_CONFIG=$TEST_ROOT/env-config.json pool_field envpool "p[\"max\"]" >out
	equals 2 "$(cat out)"
	FLAME_CONFIG=$TEST_ROOT/env-config.json test_status 125 "$FLAME" run -p projonly -- true 2>err
	one_flame_line err projonly
'

test_expect_success 'jobs run in a configured pool see FLAME_POOL set to its name' '
	out=$("$FLAME" run -p useronly --sh "echo \$FLAME_POOL")
	equals useronly "$out"
'

test_expect_success 'an empty project file ({}) is valid and leaves the default pool' '
	mkdir -p "$WORK/emptyproj"
	echo "{}" >"$WORK/emptyproj/flame.json"
	cd "$WORK/emptyproj"
	out=$("$FLAME" run -- echo fine)
	equals fine "$out"
'

test_done
