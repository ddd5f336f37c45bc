# shellcheck shell=bash
# bench/lib-sshd.sh - private sshds on 127.0.0.1 for the benchmarks (bench/ssh.sh).
#
# A standalone, smaller equivalent of tests/lib-sshd.sh (which needs tests/lib.sh).
# Source it after bench/lib.sh (it uses $BENCH_ROOT, bench_log and bench_die).
#
#   bsshd_start NAME     keys made for the run (host + client ed25519), a
#                        config under $BENCH_ROOT/sshd-NAME, sshd -D on a free
#                        port of 127.0.0.1; waits until it accepts connections.
#                        Sets BSSHD_PORT and BSSHD_HOST_PUB ("ssh-ed25519 AAAA...").
#                        Config as in tests/lib-sshd.sh / baseline.md §3: root
#                        login, StrictModes no, UsePAM no, MaxSessions 64,
#                        MaxStartups 100:30:200, SetEnv HOME=<empty dir> (root's
#                        ~/.bashrc would otherwise add ~0.5 s to every command).
#   bsshd_ssh_config NAME FILE
#                        append a "Host NAME" block to the ssh client config FILE:
#                        127.0.0.1, the port, the client key, the pinned host key,
#                        batch mode, ControlPath $BENCH_ROOT/sshd-NAME/cm.
#   bsshd_master_start NAME FILE
#                        start a ControlMaster (ControlPersist=yes) to NAME with
#                        config FILE; waits until it answers -O check.
#   bsshd_stop_all       stop every master (-O exit) and every sshd of this root
#                        with its sessions and the commands they run (by pid).
#
# The pids of one sshd: its listener, every process holding a socket on its port
# (per-connection sshd processes), every process whose environment has its HOME
# (commands run by its sessions), and their descendants.

# shellcheck source=/dev/null
. "$(dirname "${BASH_SOURCE[0]}")/../tests/sshd-config.sh"

SSHD_BIN=${SSHD_BIN:-/usr/sbin/sshd}
BSSHD_NAMES=()

# bsshd_free_port: a port of 127.0.0.1 that can be bound now, below the
# ephemeral range (the tests' own picker).
bsshd_free_port () {
	python3 "$(dirname "${BASH_SOURCE[0]}")/../tests/tools/free_port.py"
}

# bsshd_wait_ready PID PORT: wait up to 10 s until PORT accepts connections and
# PID is alive.
bsshd_wait_ready () {
	local i
	for ((i = 0; i < 200; i++)); do
		kill -0 "$1" 2>/dev/null || return 2
		if python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1).close()' "$2" 2>/dev/null; then
			return 0
		fi
		sleep 0.05
	done
	return 3
}

bsshd_start () {
	local n=$1 d=$BENCH_ROOT/sshd-$1 port pid try rc=1
	[ -x "$SSHD_BIN" ] || bench_die "$SSHD_BIN not found (install openssh-server)"
	{ mkdir -p "$d/home" && chmod 0700 "$d"; } || bench_die "cannot create $d"
	if [ ! -d /run/sshd ]; then
		{ mkdir -p /run/sshd && chmod 0755 /run/sshd; } || bench_die 'cannot create /run/sshd'
	fi
	{ ssh-keygen -q -t ed25519 -N '' -C "flame-bench-host-$n" -f "$d/ssh_host_ed25519_key" </dev/null &&
		ssh-keygen -q -t ed25519 -N '' -C "flame-bench-client-$n" -f "$d/client_ed25519" </dev/null; } ||
		bench_die 'ssh-keygen failed'
	cp "$d/client_ed25519.pub" "$d/authorized_keys" || bench_die 'cp failed'
	cut -d' ' -f1,2 "$d/ssh_host_ed25519_key.pub" >"$d/host_pub" || bench_die 'cut failed'
	for try in 1 2 3 4 5; do
		port=$(bsshd_free_port) || bench_die 'no free port'
		sshd_write_config "$d" "$port" || return 1
		: >"$d/sshd.log"
		"$SSHD_BIN" -t -f "$d/sshd_config" >>"$d/sshd.log" 2>&1 </dev/null ||
			bench_die "sshd -t rejected $d/sshd_config: $(cat "$d/sshd.log")"
		# From a subshell, so that it is not a job of this shell.
		# shellcheck disable=SC2094 # sshd appends to its log (-E and >>); nothing reads it meanwhile
		pid=$("$SSHD_BIN" -D -f "$d/sshd_config" -E "$d/sshd.log" </dev/null >>"$d/sshd.log" 2>&1 & echo $!)
		echo "$pid" >"$d/listener.pid"
		echo "$port" >"$d/port"
		BSSHD_NAMES+=("$n")
		rc=0
		bsshd_wait_ready "$pid" "$port" || rc=$?
		[ "$rc" -eq 0 ] && break
		kill -KILL "$pid" 2>/dev/null
		if [ "$rc" -eq 2 ] && grep -qiE 'bind|address already in use' "$d/sshd.log"; then
			continue
		fi
		bench_die "sshd '$n' did not start on 127.0.0.1:$port: $(cat "$d/sshd.log")"
	done
	[ "$rc" -eq 0 ] || bench_die "sshd '$n': no port could be bound after $try tries"
	printf '[127.0.0.1]:%s %s\n' "$port" "$(cat "$d/host_pub")" >"$d/known_hosts"
	# shellcheck disable=SC2034 # for the caller (see the header)
	BSSHD_PORT=$port
	# shellcheck disable=SC2034 # for the caller (see the header)
	BSSHD_HOST_PUB=$(cat "$d/host_pub")
}

bsshd_ssh_config () {
	local d=$BENCH_ROOT/sshd-$1
	cat >>"$2" <<-EOF
		Host $1
		  HostName 127.0.0.1
		  Port $(cat "$d/port")
		  User root
		  IdentityFile $d/client_ed25519
		  IdentitiesOnly yes
		  IdentityAgent none
		  UserKnownHostsFile $d/known_hosts
		  GlobalKnownHostsFile /dev/null
		  StrictHostKeyChecking yes
		  UpdateHostKeys no
		  CheckHostIP no
		  BatchMode yes
		  LogLevel ERROR
		  ConnectTimeout 10
		  ControlMaster no
		  ControlPath $d/cm
	EOF
}

bsshd_master_start () {
	local d=$BENCH_ROOT/sshd-$1 out mpid
	ssh -F "$2" -M -o ControlPersist=yes -f -N "$1" </dev/null >"$d/master.log" 2>&1 ||
		bench_die "ssh -M to '$1' failed: $(cat "$d/master.log")"
	out=$(ssh -F "$2" -O check "$1" 2>&1) || bench_die "ControlMaster to '$1' does not answer: $out"
	mpid=$(printf '%s\n' "$out" | sed -n 's/.*pid=\([0-9][0-9]*\).*/\1/p')
	[ -z "$mpid" ] || echo "$mpid" >"$d/master.pid"
	printf '%s\n' "$2" >"$d/master.cfg"
}

# _bsshd_pids NAME: pids of sshd NAME (see the top of this file).
_bsshd_pids () {
	local d=$BENCH_ROOT/sshd-$1
	[ -s "$d/port" ] || return 0
	python3 "$(dirname "${BASH_SOURCE[0]}")/../tests/tools/sshd_pids.py" "$(cat "$d/port")" "$d/home" "$(cat "$d/listener.pid" 2>/dev/null)"
}

bsshd_stop_all () {
	local n d pids i mpid
	for n in ${BSSHD_NAMES[@]+"${BSSHD_NAMES[@]}"}; do
		d=$BENCH_ROOT/sshd-$n
		if [ -S "$d/cm" ] && [ -s "$d/master.cfg" ]; then
			ssh -F "$(cat "$d/master.cfg")" -O exit "$n" >/dev/null 2>&1
		fi
		if [ -s "$d/master.pid" ]; then
			mpid=$(cat "$d/master.pid")
			for ((i = 0; i < 50; i++)); do kill -0 "$mpid" 2>/dev/null || break; sleep 0.1; done
			kill -KILL "$mpid" 2>/dev/null
		fi
		rm -f "$d/master.pid" "$d/cm"
	done
	for n in ${BSSHD_NAMES[@]+"${BSSHD_NAMES[@]}"}; do
		pids=$(_bsshd_pids "$n")
		[ -n "$pids" ] || continue
		# shellcheck disable=SC2086 # a list of pids, split on purpose
		kill -TERM $pids 2>/dev/null
		for ((i = 0; i < 50; i++)); do
			pids=$(_bsshd_pids "$n")
			[ -n "$pids" ] || break
			sleep 0.1
		done
		# shellcheck disable=SC2086 # a list of pids, split on purpose
		[ -z "$pids" ] || kill -KILL $pids 2>/dev/null
	done
	BSSHD_NAMES=()
}
