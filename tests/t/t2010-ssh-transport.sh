#!/bin/bash
# shellcheck disable=SC2016,SC2034,SC2317 # test bodies are single-quoted, run later by tests/lib.sh: what they expand or use looks unused here
# The ssh transport (lib/ssh/transport.c, driven by build/tools/ssh-probe):
# pinned host keys, ed25519 auth, exit statuses, deadlines, IPv4 and IPv6.
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/lib-sshd.sh
. "$TEST_DIRECTORY/lib-sshd.sh"

PROBE=$(cd "$TEST_DIRECTORY/.." && pwd)/build/tools/ssh-probe

probe () { # TIMEOUT_MS COMMAND [HOSTKEY]
	sshd_load a
	"$PROBE" "root@127.0.0.1:$SSHD_A_PORT" "$SSHD_A_CLIENT_KEY" "${3:-$SSHD_A_HOST_PUB}" "$1" "$2"
}

test_expect_success 'set-up: a private sshd and the probe' '
	test -x "$PROBE"
	sshd_start a
'

test_expect_success 'a command runs over a pinned, authenticated session; stdout, stderr and status come back' '
	rc=0
	probe 5000 "echo out; echo err >&2; exit 7" >out 2>err || rc=$?
	equals 7 "$rc"
	equals out "$(cat out)"
	equals err "$(cat err)"
'

test_expect_success 'a command killed by a signal gives 128+N' '
	rc=0
	probe 5000 "kill -TERM \$\$" || rc=$?
	equals 143 "$rc"
'

test_expect_success 'a host key mismatch is refused with both fingerprints, and nothing runs' '
	ssh-keygen -q -t ed25519 -N "" -f other
	rc=0
	probe 5000 "touch \"$WORK/ran\"" "$(cat other.pub)" 2>err || rc=$?
	equals 255 "$rc"
	one_flame_line err
	grep -q "host key mismatch" err
	want=$(ssh-keygen -lf other.pub | cut -d" " -f2)
	got=$(ssh-keygen -lf "$SSHD_A_DIR"/*host*key*.pub 2>/dev/null | head -n1 | cut -d" " -f2)
	grep -qF "expected $want" err
	test -z "$got" || grep -qF "got $got" err
	not test -e ran
'

test_expect_success 'a key that is not authorized is refused with a clear message' '
	ssh-keygen -q -t ed25519 -N "" -f stranger
	sshd_load a
	rc=0
	"$PROBE" "root@127.0.0.1:$SSHD_A_PORT" "$WORK/stranger" "$SSHD_A_HOST_PUB" 5000 true 2>err || rc=$?
	equals 255 "$rc"
	one_flame_line err
	grep -q "refused key" err
'

test_expect_success 'an sshd stopped with SIGSTOP gives a timeout error, not a hang' '
	sshd_signal a STOP
	start=$(now)
	rc=0
	probe 1500 true 2>err || rc=$?
	sshd_signal a CONT
	equals 255 "$rc"
	one_flame_line err
	less_than "$(elapsed "$start")" 5
'

test_expect_success 'a closed port and an IPv6 address that nobody serves fail at once with a message' '
	sshd_load a
	rc=0
	"$PROBE" "root@127.0.0.1:1" "$SSHD_A_CLIENT_KEY" "$SSHD_A_HOST_PUB" 2000 true 2>err || rc=$?
	equals 255 "$rc"
	grep -q "cannot connect" err
	rc=0
	"$PROBE" "root@[::1]:1" "$SSHD_A_CLIENT_KEY" "$SSHD_A_HOST_PUB" 2000 true 2>err || rc=$?
	equals 255 "$rc"
	one_flame_line err
'

test_done
