#!/bin/bash
# shellcheck disable=SC2016,SC2034 # test bodies are single-quoted, run later by tests/lib.sh: what they expand or use looks unused here
# The ssh test harness itself (tests/lib-sshd.sh): private sshds on 127.0.0.1,
# ssh_to, pinned host keys, ControlMaster, signals and stop.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
# lib.sh has changed to $WORK, so a relative $0 no longer leads to tests/.
# shellcheck source=tests/lib-sshd.sh
. "$TEST_DIRECTORY/lib-sshd.sh" || _bail 'cannot source tests/lib-sshd.sh'

# sshd processes (listener "sshd: /usr/sbin/sshd -D -f ...", sessions "sshd: root@...")
# of this test root; ssh clients ("ssh -F /dev/null ... sshd-a/...") do not match.
SSHD_RE='^(/usr/sbin/)?sshd( |:|$)'

test_expect_success 'sshd_start a: listens on 127.0.0.1, exports its variables, keeps all under TEST_ROOT' '
	sshd_start a
	case $SSHD_A_PORT in ""|*[!0-9]*) false ;; esac
	equals "$TEST_ROOT/sshd-a" "$SSHD_A_DIR"
	test -s "$SSHD_A_CLIENT_KEY"
	test -d "$SSHD_A_HOME"
	test -z "$(ls -A "$SSHD_A_HOME")"
	case $SSHD_A_HOST_PUB in "ssh-ed25519 "?*) ;; *) false ;; esac
	equals "[127.0.0.1]:$SSHD_A_PORT $SSHD_A_HOST_PUB" "$(cat "$SSHD_A_KNOWN_HOSTS")"
	proc_alive "$SSHD_A_PID"
	tr "\0" " " <"/proc/$SSHD_A_PID/cmdline" | grep -qF -- "$TEST_ROOT/sshd-a/sshd_config"
	grep -qx "ListenAddress 127.0.0.1" "$SSHD_A_DIR/sshd_config"
	grep -qx "Port $SSHD_A_PORT" "$SSHD_A_DIR/sshd_config"
	equals 1 "$(count_procs "$SSHD_RE")"
	# cleanup of lib.sh finds it as a process of this root
	root_pids | grep -qx "$SSHD_A_PID"
'

test_expect_success 'ssh_to runs true and relays exit status 7' '
	ssh_to a true
	test_status 7 ssh_to a "exit 7"
	test_status 0 ssh_to a "exit 0"
'

test_expect_success 'ssh_to: output, stdin and arguments pass through' '
	equals "hello world" "$(ssh_to a echo hello world)"
	equals "piped" "$(echo piped | ssh_to a cat)"
	ssh_to a "echo out; echo err >&2" >o 2>e
	equals out "$(cat o)"
	equals err "$(cat e)"
'

test_expect_success 'the remote HOME is the empty dir; the session runs on loopback' '
	sshd_load a
	equals "$SSHD_A_HOME" "$(ssh_to a "echo \$HOME")"
	equals "" "$(ssh_to a "ls -A \"\$HOME\"")"
	client=$(ssh_to a "echo \$SSH_CONNECTION")
	case $client in "127.0.0.1 "*" 127.0.0.1 $SSHD_A_PORT") ;; *) echo "SSH_CONNECTION=$client"; false ;; esac
	equals root "$(ssh_to a id -un)"
'

test_expect_success 'a wrong pinned host key is refused with 255; an unknown host too' '
	sshd_load a
	ssh-keygen -q -t ed25519 -N "" -f other_key </dev/null
	printf "[127.0.0.1]:%s %s\n" "$SSHD_A_PORT" "$(cut -d" " -f1,2 other_key.pub)" >wrong_kh
	SSH_EXTRA_OPTS=(-o UserKnownHostsFile="$PWD/wrong_kh")
	test_status 255 ssh_to a true 2>err
	grep -q "Host key verification failed" err
	: >empty_kh
	SSH_EXTRA_OPTS=(-o UserKnownHostsFile="$PWD/empty_kh")
	test_status 255 ssh_to a true 2>err
	grep -q "Host key verification failed" err
	SSH_EXTRA_OPTS=()
	ssh_to a true
'

test_expect_success 'a client key that is not authorized is refused with 255' '
	sshd_load a
	ssh-keygen -q -t ed25519 -N "" -f stranger </dev/null
	sshd_ssh_args a
	for ((i = 0; i < ${#SSH_ARGS[@]}; i++)); do
		[ "${SSH_ARGS[i]}" != "$SSHD_A_CLIENT_KEY" ] || SSH_ARGS[i]=$PWD/stranger
	done
	test_status 255 ssh "${SSH_ARGS[@]}" root@127.0.0.1 true 2>err
	grep -q "Permission denied" err
'

test_expect_success 'two sshds run at once on different ports with different host keys' '
	sshd_start b
	sshd_load a
	test "$SSHD_A_PORT" != "$SSHD_B_PORT"
	test "$SSHD_A_HOST_PUB" != "$SSHD_B_HOST_PUB"
	test "$SSHD_A_PID" != "$SSHD_B_PID"
	equals 2 "$(count_procs "$SSHD_RE")"
	ssh_to a true
	ssh_to b true
	equals "$SSHD_B_HOME" "$(ssh_to b "echo \$HOME")"
	ssh_to a "sleep 0.3; echo a" >oa &
	ssh_to b "sleep 0.3; echo b" >ob &
	wait
	equals a "$(cat oa)"
	equals b "$(cat ob)"
	# the host key of a is not accepted for b
	SSH_EXTRA_OPTS=(-o UserKnownHostsFile="$SSHD_A_KNOWN_HOSTS")
	test_status 255 ssh_to b true 2>err
	grep -q "Host key verification failed" err
'

test_expect_success 'ControlMaster: ssh_via_master runs commands over one connection' '
	ssh_master_start a
	test -S "$SSHD_A_DIR/cm"
	mpid=$(cat "$SSHD_A_DIR/master.pid")
	proc_alive "$mpid"
	root_pids | grep -qx "$mpid"
	sshd_load a
	equals "$SSHD_A_HOME" "$(ssh_via_master a "echo \$HOME")"
	test_status 3 ssh_via_master a "exit 3"
	equals "via" "$(echo via | ssh_via_master a cat)"
	# several sessions at once, all on the master connection
	for i in 1 2 3 4 5 6 7 8; do
		ssh_via_master a "echo \$SSH_CONNECTION" >"conn$i" &
	done
	wait
	cat conn? | sort -u >conns
	equals 1 "$(wc -l <conns)"
	# ... which is the connection of the master (one sshd session process, not 9)
	equals "$(ssh_via_master a "echo \$SSH_CONNECTION")" "$(cat conns)"
	test_status 1 ssh_master_start a 2>err
	grep -q "already running" err
'

test_expect_success 'ssh_master_stop ends the master; ssh_via_master then fails with 255' '
	mpid=$(cat "$TEST_ROOT/sshd-a/master.pid")
	ssh_master_stop a
	not proc_alive "$mpid"
	test ! -e "$TEST_ROOT/sshd-a/cm"
	test_status 255 ssh_via_master a true 2>err
	grep -q "no ControlMaster" err
	# a new master can be started again
	ssh_master_start a
	ssh_via_master a true
	ssh_master_stop a
'

test_expect_success 'sshd_signal STOP makes new connections hang; CONT revives it' '
	sshd_signal a STOP
	SSH_EXTRA_OPTS=(-o ConnectTimeout=1)
	start=$(now)
	test_status 255 ssh_to a true 2>err
	less_than "$(elapsed "$start")" 5
	sshd_signal a CONT
	SSH_EXTRA_OPTS=()
	ssh_to a true
	sshd_running a
'

test_expect_success 'sshd_pids lists the listener, connection processes and remote commands' '
	sshd_load a
	ssh_to a "exec sleep 123.456" >/dev/null 2>&1 &
	wait_for "[ \$(count_procs \"^sleep 123\\.456\$\") = 1 ]"
	spid=$(root_pgrep "^sleep 123\\.456\$")
	sshd_pids a >pids
	grep -qx "$SSHD_A_PID" pids
	grep -qx "$spid" pids
	# the listener, the sshd of the connection, the sleep
	test "$(wc -l <pids)" -ge 3
	for p in $(cat pids); do
		case $p in "$spid") continue ;; esac
		tr "\0" " " <"/proc/$p/cmdline" | grep -qE "$SSHD_RE"
	done
	# none of b
	sshd_load b
	not grep -qx "$SSHD_B_PID" pids
	sshd_pids b | grep -qx "$SSHD_B_PID"
'

test_expect_success 'sshd_stop leaves no sshd process (nor remote command) of this root' '
	sshd_load a
	ssh_master_start b
	ssh_via_master b "exec sleep 124.5" >/dev/null 2>&1 &
	bpid=$!
	wait_for "[ \$(count_procs \"^sleep 124\\.5\$\") = 1 ]"
	equals 1 "$(count_procs "^sleep 123\\.456\$")"
	sshd_stop a
	not sshd_running a
	equals "" "$(sshd_pids a)"
	equals 0 "$(count_procs "^sleep 123\\.456\$")"
	test_status 255 ssh_to a true 2>/dev/null
	# b is untouched
	equals 1 "$(count_procs "^sleep 124\\.5\$")"
	ssh_to b true
	sshd_stop b
	equals "" "$(sshd_pids b)"
	equals 0 "$(count_procs "$SSHD_RE")"
	equals 0 "$(count_procs "^sleep 12")"
	not pgrep -f "^sshd: root" >/dev/null || {
		# sessions of other users of this machine may exist; none may be ours
		for p in $(pgrep -f "^sshd: root"); do
			for d in a b; do
				not grep -qx "$p" <(sshd_pids $d)
			done
		done
	}
	# the client through the master sees its session end; the master exits
	rc=0; wait_exit "$bpid" 10 || rc=$?
	equals 255 "$rc"
	wait_for "[ -z \"\$(root_pgrep \"^ssh .* -M \")\" ]" 5
	# stopping again is harmless
	sshd_stop a
	sshd_stop b
'

test_done
