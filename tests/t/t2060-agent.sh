#!/bin/bash
# shellcheck disable=SC2016,SC2034,SC2317 # test bodies are single-quoted, run later by tests/lib.sh: what they expand or use looks unused here
# `flame agent`, a runner's main process: it runs its own sshd from the keys
# and settings under its root, serves an ssh pool's jobs, and protects
# itself: it exits when idle, when the warmer's side has gone quiet for the
# failsafe period, and on SIGTERM after a grace period for running jobs;
# nothing it started outlives it.
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/lib-sshd.sh
. "$TEST_DIRECTORY/lib-sshd.sh"

# agent_start NAME 'EXTRA_JSON_FIELDS': keys and settings under
# $TEST_ROOT/agent-NAME/root, an ssh pool NAME pointing at it, the agent
# started in the background; waits until its sshd accepts connections.
agent_start () {
	local d=$TEST_ROOT/agent-$1 port
	rm -rf "$d" && mkdir -p "$d/root/etc/flame" || return 1
	ssh-keygen -q -t ed25519 -N "" -f "$d/root/etc/flame/ssh_host_ed25519_key" </dev/null || return 1
	port=$(_sshd_free_port) || return 1
	printf '{ "listen": "127.0.0.1", "port": %s %s }\n' "$port" "${2:+, $2}" >"$d/root/etc/flame/agent.json"
	echo "$port" >"$d/port"
	printf '"%s": { "backend": "ssh", "max_concurrency": 2, "command": "%s", "boot_timeout": "20s", %s }\n' \
		"$1" "$FLAME" "\"hosts\": [ { \"login\": \"root@127.0.0.1:$port\", \"host_key\": \"$(cut -d" " -f1,2 \
		"$d/root/etc/flame/ssh_host_ed25519_key.pub")\" } ]" >"$d/pool.json"
	write_config "{ \"pools\": { $(cat "$TEST_ROOT"/agent-*/pool.json | paste -sd,) } }"
	"$FLAME" pool key "$1" >"$d/root/etc/flame/authorized_keys" || return 1
	( FLAME_AGENT_ROOT=$d/root "$FLAME" agent >"$d/agent.log" 2>&1 </dev/null
	  echo $? >"$d/rc" ) &
	wait_for "(: </dev/tcp/127.0.0.1/$port) 2>/dev/null || test -e \"$d/rc\"" 10 &&
		test ! -e "$d/rc"
}

agent_pid () { # NAME: the agent's own pid
	root_pgrep '^[^ ]*flame agent$' | while read -r p; do
		tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -qx "FLAME_AGENT_ROOT=$TEST_ROOT/agent-$1/root" &&
			echo "$p"
	done
}

agent_exited () { # NAME: the agent has exited (its status is in agent-NAME/rc)
	test -e "$TEST_ROOT/agent-$1/rc"
}

# nothing of agent NAME is left: no process has its root in its environment
agent_gone () {
	local p n=0
	for p in $(root_pids); do
		tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null |
			grep -q "^FLAME_AGENT_\(ROOT\|STATE\)=$TEST_ROOT/agent-$1/" && n=$((n + 1))
	done
	test "$n" -eq 0
}

test_expect_success 'without its keys the agent refuses to start, in one line' '
	mkdir -p empty/etc/flame
	rc=0
	FLAME_AGENT_ROOT=$WORK/empty "$FLAME" agent 2>err || rc=$?
	equals 255 "$rc"
	one_flame_line err
	grep -q "no host key at $WORK/empty/etc/flame/ssh_host_ed25519_key" err
'

test_expect_success 'a bad setting in agent.json is named' '
	ssh-keygen -q -t ed25519 -N "" -f empty/etc/flame/ssh_host_ed25519_key </dev/null
	: >empty/etc/flame/authorized_keys
	echo "{\"failsafe\": \"soon\"}" >empty/etc/flame/agent.json
	rc=0
	FLAME_AGENT_ROOT=$WORK/empty "$FLAME" agent 2>err || rc=$?
	equals 255 "$rc"
	one_flame_line err
	grep -q "\"failsafe\" must be a positive duration" err
	echo "{\"colour\": 1}" >empty/etc/flame/agent.json
	FLAME_AGENT_ROOT=$WORK/empty "$FLAME" agent 2>err || :
	grep -q "unknown setting \"colour\"" err
'

test_expect_success 'jobs run through the agent'"'"'s own sshd: argv, streams, status' '
	agent_start a "\"failsafe\": \"5s\", \"idle_shutdown_after\": \"60s\""
	rc=0
	printf "in\n" | "$FLAME" run -p a -- sh -c "cat; echo \"\$1\" >&2; exit 7" sh "a b;\$(c)" >out 2>err || rc=$?
	equals 7 "$rc"
	equals in "$(cat out)"
	equals "a b;\$(c)" "$(cat err)"
'

test_expect_success 'the warmer'"'"'s heartbeat keeps an idle agent past its failsafe period' '
	sleep 9
	test -n "$(agent_pid a)"
	not agent_exited a
	equals ok "$("$FLAME" run -p a -- echo ok)"
'

test_expect_success 'an agent that hears nothing from the warmer exits within its failsafe period, leaving nothing' '
	wpid=$(warmer_pid)
	# the warmer and its link die at once, as in a crash
	kill -KILL "$wpid" $(root_pgrep "flame-link")
	wait_for "agent_exited a" 12
	equals 0 "$(cat "$TEST_ROOT/agent-a/rc")"
	grep -q "no word from the warmer for 5s" "$TEST_ROOT/agent-a/agent.log"
	wait_for "agent_gone a" 5
	not test -e "$TEST_ROOT/agent-a/root/run/flame-agent"
'

test_expect_success 'an idle agent exits after idle_shutdown_after, leaving nothing' '
	agent_start b "\"idle_shutdown_after\": \"2s\""
	equals ok "$("$FLAME" run -p b -- echo ok)"
	wait_for "agent_exited b" 10
	equals 0 "$(cat "$TEST_ROOT/agent-b/rc")"
	grep -q "idle for 2s" "$TEST_ROOT/agent-b/agent.log"
	wait_for "agent_gone b" 5
'

test_expect_success 'on SIGTERM a running job finishes within the grace period' '
	agent_start c "\"grace\": \"20s\""
	"$FLAME" run -p c -- sh -c "touch \"$WORK/c1\"; sleep 2; echo finished" >out 2>err &
	pid=$!
	wait_for "test -e c1" 20
	kill -TERM "$(agent_pid c)"
	rc=0
	wait_exit "$pid" 20 || rc=$?
	equals 0 "$rc"
	equals finished "$(cat out)"
	wait_for "agent_exited c" 10
	equals 0 "$(cat "$TEST_ROOT/agent-c/rc")"
	wait_for "agent_gone c" 5
'

test_expect_success 'past the grace period the job is killed and the caller gets 255 naming the runner' '
	agent_start d "\"grace\": \"1s\""
	"$FLAME" run -p d -- sh -c "touch \"$WORK/d1\"; sleep 62.62" >out 2>err &
	pid=$!
	wait_for "test -e d1" 20
	kill -TERM "$(agent_pid d)"
	rc=0
	wait_exit "$pid" 10 || rc=$?
	equals 255 "$rc"
	one_flame_line err
	grep -q "runner d-" err
	wait_for "agent_exited d" 10
	wait_for "agent_gone d" 5
	equals 0 "$(count_procs "^sleep 62\\.62\$")"
'

test_done
