#!/bin/bash
# shellcheck disable=SC2016,SC2034,SC2317 # test bodies are single-quoted, run later by tests/lib.sh: what they expand or use looks unused here
# The ssh backend when things go wrong: a host key that does not match, a
# host without flame, a runner that dies mid-job, an sshd that stops
# answering.  Callers get 255 and a message naming the runner; the pool
# replaces lost runners.
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/lib-sshd.sh
. "$TEST_DIRECTORY/lib-sshd.sh"

pool_conf () { # NAME HOST_KEY [COMMAND]
	printf '"%s": { "backend": "ssh", "max_concurrency": 2, "command": "%s", "boot_timeout": "20s",
	  "hosts": [ { "login": "root@127.0.0.1:%s", "host_key": "%s" } ] }' \
		"$1" "${3:-$FLAME}" "$SSHD_A_PORT" "$2"
}

test_expect_success 'set-up: an sshd, pools over it, the pool keys authorized' '
	sshd_start a
	sshd_load a
	ssh-keygen -q -t ed25519 -N "" -f "$TEST_ROOT/other"
	write_config "{ \"pools\": { $(pool_conf good "$SSHD_A_HOST_PUB"),
	  $(pool_conf bad "$(cut -d" " -f1,2 "$TEST_ROOT/other.pub")"),
	  $(pool_conf noflame "$SSHD_A_HOST_PUB" /nonexistent/flame) } }"
	for p in good bad noflame; do "$FLAME" pool key $p >>"$SSHD_A_DIR/authorized_keys"; done
	equals ok "$("$FLAME" run -p good -- echo ok)"
'

test_expect_success 'a host key mismatch is refused: 255, one line with both fingerprints, nothing runs' '
	rc=0
	"$FLAME" run -p bad -- touch "$WORK/ran" 2>err || rc=$?
	equals 255 "$rc"
	one_flame_line err
	grep -q "host key mismatch" err
	grep -q "expected SHA256:" err
	grep -q "got SHA256:" err
	not test -e ran
'

test_expect_success 'a host without flame is named in a clear error' '
	rc=0
	"$FLAME" run -p noflame -- true 2>err || rc=$?
	equals 255 "$rc"
	one_flame_line err
	grep -q "127.0.0.1:$SSHD_A_PORT" err
	grep -q "not installed" err
'

test_expect_success 'the runner side killed mid-job: 255 within 10 s naming the runner, then the pool replaces it' '
	"$FLAME" run -p good --sh "touch \"$WORK/m1\"; sleep 61.61" >out 2>err &
	pid=$!
	wait_for "test -e m1" 20
	# shellcheck disable=SC2046 # the pids, one a word
	kill -KILL $(root_pgrep "flame agent slot in")
	rc=0
	start=$(now)
	wait_exit "$pid" 10 || rc=$?
	equals 255 "$rc"
	one_flame_line err
	grep -q "runner good-" err
	grep -q "127.0.0.1:$SSHD_A_PORT" err
	wait_for "test \$(count_procs \"^sleep 61\\.61\$\") = 0" 5
	equals again "$("$FLAME" run -p good -- echo again)"
'

# The orphan: with both slot processes stopped first, neither can see the
# other die; the keeper each `slot in` leaves behind must end the job.
test_expect_success 'slot in and slot out stopped, then both killed mid-job: 255, the job group and its scratch dir are gone' '
	slot_orphan_check good 63.63
'

test_expect_success 'an sshd stopped with SIGSTOP mid-job gives an error, not a hang' '
	"$FLAME" run -p good --sh "touch \"$WORK/m2\"; sleep 62.62" >out 2>err &
	pid=$!
	wait_for "test -e m2" 20
	sshd_signal_all a STOP
	rc=0
	wait_exit "$pid" 40 || rc=$?
	sshd_signal_all a CONT
	equals 255 "$rc"
	one_flame_line err
	grep -q "runner good-" err
'

test_done
