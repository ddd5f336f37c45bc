#!/bin/bash
# shellcheck disable=SC2016,SC2034,SC2317 # test bodies are single-quoted, run later by tests/lib.sh: what they expand or use looks unused here
# Version skew: every connection opens with a versioned hello (lib/wire.h),
# so a flame of another protocol is refused in one line that names both
# versions and what to do, exit 255, with nothing run.  The other flame is
# the previous release, 0.1.0 (protocol 1, before the hello), built from git
# by `make build/prev-release/flame` (make check builds it): on an ssh host
# as the pool's "command", as the flame of a Fly image, as the warmer, as the
# caller and as the link.
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/lib-sshd.sh
. "$TEST_DIRECTORY/lib-sshd.sh"
# shellcheck source=tests/lib-fly.sh
. "$TEST_DIRECTORY/lib-fly.sh"

OLD=$SRC_ROOT/build/prev-release/flame
NEW_VERSION=$(cat "$SRC_ROOT/VERSION")

ssh_pool () { # NAME COMMAND
	printf '"%s": { "backend": "ssh", "command": "%s", "boot_timeout": "20s",
	  "hosts": [ { "login": "root@127.0.0.1:%s", "host_key": "%s" } ] }' \
		"$1" "$2" "$SSHD_A_PORT" "$SSHD_A_HOST_PUB"
}

# refused_line FILE WHERE: FILE is one flame line refusing WHERE's flame 0.1.0
refused_line () {
	one_flame_line "$1" &&
	grep -q "$2 runs flame 0.1.0 (protocol 1)" "$1" &&
	grep -qF "this flame $NEW_VERSION speaks protocol 3" "$1"
}

test_expect_success 'set-up: the previous release is built (make build/prev-release/flame), an sshd, a fake Fly API' '
	test -x "$OLD"
	equals "flame 0.1.0" "$("$OLD" version)"
	equals "flame $NEW_VERSION (protocol 3)" "$("$FLAME" version)"
	sshd_start a
	sshd_load a
	FLAME=$OLD fly_fake_start
	echo "$FLY_FAKE_URL $FLY_AGENT_PORT $FLY_API_TOKEN" >"$TEST_ROOT/fly-env"
	write_config "{ \"pools\": { $(ssh_pool old "$OLD"), $(ssh_pool new "$FLAME"),
	  $(fly_pool_conf oldfly "\"command\": \"$OLD\"" | sed "s|\"command\": \"$FLAME\", ||") } }"
	for p in old new; do "$FLAME" pool key $p >>"$SSHD_A_DIR/authorized_keys"; done
	equals ok "$("$FLAME" run -p new -- echo ok)"
'

fly_env () {
	read -r FLY_FAKE_URL FLY_AGENT_PORT FLY_API_TOKEN <"$TEST_ROOT/fly-env"
	export FLY_FAKE_URL FLY_AGENT_PORT FLY_API_TOKEN
}

test_expect_success 'an ssh host whose flame is the previous release: one line, 255, nothing run' '
	rc=0
	"$FLAME" run -p old -- touch "$WORK/ran-ssh" 2>err || rc=$?
	equals 255 "$rc"
	refused_line err "runner host 127.0.0.1"
	grep -q "upgrade flame there" err
	not test -e "$WORK/ran-ssh"
'

test_expect_success 'a Fly image whose flame is the previous release: one line, 255, nothing run, no machine left' '
	fly_env
	stop_warmer
	rc=0
	"$FLAME" run -p oldfly -- touch "$WORK/ran-fly" 2>err || rc=$?
	equals 255 "$rc"
	refused_line err "Fly Machine [0-9a-f]*"
	grep -q "deploy an image with this flame" err
	not test -e "$WORK/ran-fly"
	fly_no_machines 30
'

test_expect_success 'the previous release calling this warmer is refused in a line it can print, nothing run' '
	"$FLAME" run -p new -- true
	rc=0
	"$OLD" run -p new -- touch "$WORK/ran-old-cli" 2>err || rc=$?
	equals 255 "$rc"
	one_flame_line err
	grep -qF "runs flame $NEW_VERSION (protocol 3) and this flame speaks protocol 1" err
	not test -e "$WORK/ran-old-cli"
'

test_expect_success 'a warmer of the previous release: this flame refuses it in one line; flame warmer stop stops it' '
	stop_warmer
	# (the last warmer gone for good, not only its socket)
	wait_for "test -z \"\$(root_pgrep \"flame warmer run\")\"" 20
	# it starts its own warmer, as it starts one on demand; a long grace keeps
	# that warmer up, with nothing running, for the checks below
	FLAME_WARMER_GRACE=120s "$OLD" run -- true
	old_pid=$(root_pgrep "flame warmer run")

	test -n "$old_pid"
	rc=0
	"$FLAME" run -p new -- touch "$WORK/ran-old-warmer" 2>err || rc=$?
	equals 255 "$rc"
	one_flame_line err
	grep -qF "the warmer (pid $old_pid) runs an older flame (protocol 1" err
	grep -qF "this flame $NEW_VERSION speaks protocol 3: stop it with '"'"'flame warmer stop'"'"'" err
	not test -e "$WORK/ran-old-warmer"
	test_status 255 "$FLAME" warmer status 2>err
	one_flame_line err
	"$FLAME" warmer stop >out
	grep -q "stopping the warmer (pid $old_pid)" out
	not kill -0 "$old_pid" 2>/dev/null
	equals ok "$("$FLAME" run -p new -- echo ok)"
'

test_expect_success 'a flame-link of the previous release beside this flame: the runner is refused in one line' '
	stop_warmer
	mkdir -p "$WORK/mixed"
	cp "$FLAME" "$WORK/mixed/flame"
	cp "$SRC_ROOT/build/prev-release/flame-ssh-link" "$WORK/mixed/flame-link"
	rc=0
	"$WORK/mixed/flame" run -p new -- touch "$WORK/ran-old-link" 2>err || rc=$?
	equals 255 "$rc"
	one_flame_line err
	grep -q "its process runs an older flame (protocol 1" err
	grep -q "flame and flame-link come from one build" err
	not test -e "$WORK/ran-old-link"
	"$WORK/mixed/flame" warmer stop >/dev/null
'

test_done
