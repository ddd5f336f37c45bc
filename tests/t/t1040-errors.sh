#!/bin/bash
# shellcheck disable=SC2016,SC2034,SC2317,SC2119 # test bodies are single-quoted, run later by tests/lib.sh: what they expand or use looks unused here
# Bad input: every error is exactly one "flame: " line on stderr, nothing on
# stdout, and the documented exit status.
. "$(dirname "$0")/../lib.sh"

write_config <<'JSON'
{ "pools": { "ffmpeg": { "max": 2 } } }
JSON

test_expect_success 'flame warmer status exits 3 when no warmer runs' '
	test_status 3 "$FLAME" warmer status
'

# expect_error STATUS 'DESCRIPTION' [MUST_MENTION] -- CMD...
# One test: CMD exits STATUS, stderr is one "flame: " line (mentioning
# MUST_MENTION if given), stdout is empty and no job ran.
expect_error () {
	local status=$1 desc=$2 mention=
	shift 2
	if [ "$1" != -- ]; then
		mention=$1
		shift
	fi
	shift
	err_cmd=("$@")
	err_mention=$mention
	test_expect_success "$desc: exit $status and one flame: line" '
		test_status '"$status"' "${err_cmd[@]}" >out 2>err
		IFS=, read -ra ms <<<"$err_mention"
		one_flame_line err ${ms[@]+"${ms[@]}"}
		test ! -s out
	'
}

expect_error 125 'unknown option to run' -- "$FLAME" run --bogus -- true
expect_error 125 'unknown short option to run' -- "$FLAME" run -Z -- true
expect_error 125 'unknown subcommand' -- "$FLAME" frobnicate
expect_error 125 'unknown pool subcommand' -- "$FLAME" pool frobnicate
expect_error 125 'unknown warmer subcommand' -- "$FLAME" warmer frobnicate
expect_error 125 'missing command: flame run alone' -- "$FLAME" run
expect_error 125 'missing command: flame run --' -- "$FLAME" run --
expect_error 125 'missing command after options' -- "$FLAME" run -p default --timeout 5
expect_error 125 'option missing its value at the end (--pool)' -- "$FLAME" run --pool
expect_error 125 'bad duration --timeout 1x' -- "$FLAME" run --timeout 1x -- true
expect_error 125 'bad duration --timeout abc' -- "$FLAME" run --timeout abc -- true
expect_error 125 'negative duration --timeout -1' -- "$FLAME" run --timeout -1 -- true
expect_error 125 'empty duration --timeout ""' -- "$FLAME" run --timeout '' -- true
expect_error 125 'bad duration --slot-timeout 5parsecs' -- "$FLAME" run --slot-timeout 5parsecs -- true
expect_error 125 'unknown pool for run (message lists the known pools)' "nope,default,ffmpeg" -- "$FLAME" run -p nope -- true
expect_error 125 'unknown pool for run names the pool' "nope" -- "$FLAME" run --pool nope -- true
expect_error 125 'unknown pool for pool scale' "nope" -- "$FLAME" pool scale nope --max 3
expect_error 125 'bad number: pool scale default --max abc' -- "$FLAME" pool scale default --max abc
expect_error 125 'bad number: pool scale default --max 2x' -- "$FLAME" pool scale default --max 2x
expect_error 125 'bad number: pool scale default --max 1.5' -- "$FLAME" pool scale default --max 1.5
expect_error 125 'zero limit: pool scale default --max 0' -- "$FLAME" pool scale default --max 0
expect_error 125 'negative limit: pool scale default --max -1' -- "$FLAME" pool scale default --max -1
expect_error 125 'zero limit: pool scale default --max-concurrency 0' -- "$FLAME" pool scale default --max-concurrency 0
expect_error 125 'negative limit: pool scale default --min -1' -- "$FLAME" pool scale default --min -1
expect_error 125 'min above max: pool scale default --min 5 --max 2' -- "$FLAME" pool scale default --min 5 --max 2
expect_error 125 'huge number: pool scale default --max 99999999999999999999' -- "$FLAME" pool scale default --max 99999999999999999999
expect_error 125 'pool scale without any limit' -- "$FLAME" pool scale default
expect_error 125 'pool scale without a pool name' -- "$FLAME" pool scale
expect_error 125 'unreadable --put file' no-such-file -- "$FLAME" run --put no-such-file -- true
expect_error 125 '--get ../x' -- "$FLAME" run --get ../x -- true
expect_error 125 '--get of an absolute path' -- "$FLAME" run --get /etc/passwd -- true
expect_error 125 '--get-dir that does not exist' -- "$FLAME" run --get x --get-dir /no/such/dir -- true
expect_error 125 '--sh together with a command' -- "$FLAME" run --sh true -- true
expect_error 127 'command not found' no-such-command-xyzzy -- "$FLAME" run -- no-such-command-xyzzy
expect_error 126 'command not executable' -- "$FLAME" run -- /etc/passwd

# Config errors: each case gets its own directory with its own flame.json.
# bad_config NAME 'DESCRIPTION' MUST_MENTION JSON
bad_config () {
	mkdir -p "$WORK/cfg/$1"
	printf '%s\n' "$4" >"$WORK/cfg/$1/flame.json"
	cfg_dir=$WORK/cfg/$1
	cfg_mention=$3
	test_expect_success "config with $2: run exits 125 with one flame: line naming the problem" '
		cd "$cfg_dir"
		rm -f "$WORK/ran"
		test_status 125 "$FLAME" run --sh "touch \"$WORK/ran\"" >out 2>err
		one_flame_line err "$cfg_mention"
		test ! -s out
		test ! -e "$WORK/ran"
	'
}

bad_config json 'malformed JSON on line 3 (message has flame.json:3)' 'flame.json:3' '{
  "pools": {
    "x": { "max": 2,, }
  }
}'
bad_config trunc 'truncated JSON' 'flame.json' '{ "pools": { "x": { "max": 2'
bad_config mc0 'max_concurrency 0' 'max_concurrency' '{ "pools": { "x": { "max_concurrency": 0 } } }'
bad_config max0 'max 0' 'max' '{ "pools": { "x": { "max": 0 } } }'
bad_config maxneg 'max -1' 'max' '{ "pools": { "x": { "max": -1 } } }'
bad_config minneg 'min -1' 'min' '{ "pools": { "x": { "min": -1 } } }'
bad_config minmax 'min above max' 'min' '{ "pools": { "x": { "min": 3, "max": 2 } } }'
bad_config maxstr 'max given as a word' 'max' '{ "pools": { "x": { "max": "lots" } } }'
bad_config maxfrac 'max given as a fraction' 'max' '{ "pools": { "x": { "max": 1.5 } } }'
bad_config unknownkey 'an unknown key' 'colour' '{ "pools": { "x": { "colour": "red" } } }'
bad_config unknowntop 'an unknown top-level key' 'poolz' '{ "poolz": {} }'
bad_config baddur 'a bad duration' 'idle_shutdown_after' '{ "pools": { "x": { "idle_shutdown_after": "soon" } } }'
bad_config zerodur 'a zero duration' 'idle_shutdown_after' '{ "pools": { "x": { "idle_shutdown_after": "0" } } }'
bad_config negdur 'a negative duration' 'slot_timeout' '{ "pools": { "x": { "slot_timeout": -5 } } }'
bad_config badname 'a pool name with a slash' 'a/b' '{ "pools": { "a/b": { "max": 1 } } }'
bad_config badbackend 'an unknown backend' 'backend' '{ "pools": { "x": { "backend": "teleport" } } }'
bad_config notobj 'pools that is not an object' 'pools' '{ "pools": [1, 2] }'

test_expect_success 'a config error is found from a subdirectory too (flame.json is found walking up)' '
	mkdir -p "$WORK/cfg/mc0/sub/dir"
	cd "$WORK/cfg/mc0/sub/dir"
	test_status 125 "$FLAME" run -- true 2>err
	one_flame_line err "$WORK/cfg/mc0/flame.json"
'

test_expect_success 'a malformed user config ($XDG_CONFIG_HOME/flame/config.json) is reported with its path (125)' '
	mkdir -p "$WORK/cfg/empty" "$XDG_CONFIG_HOME/flame"
	printf "{ \"pools\": \n" >"$XDG_CONFIG_HOME/flame/config.json"
	cd "$WORK/cfg/empty"
	rc=0
	test_status 125 "$FLAME" run -- true 2>err || rc=$?
	rm -f "$XDG_CONFIG_HOME/flame/config.json"
	equals 0 "$rc"
	one_flame_line err "$XDG_CONFIG_HOME/flame/config.json"
'

test_expect_success 'a malformed FLAME_CONFIG file is reported with its path (125)' '
	printf "not json\n" >"$TEST_ROOT/bad-config.json"
	FLAME_CONFIG=$TEST_ROOT/bad-config.json test_status 125 "$FLAME" run -- true 2>err
	one_flame_line err "$TEST_ROOT/bad-config.json"
'

test_expect_success 'pool ls with a malformed config exits 125 with one flame: line' '
	cd "$WORK/cfg/json"
	test_status 125 "$FLAME" pool ls 2>err
	one_flame_line err "flame.json:3"
'

test_done
