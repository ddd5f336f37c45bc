# shellcheck shell=bash disable=SC2016 # conditions are single-quoted, run later
# tests/lib-sshd.sh - private OpenSSH servers on 127.0.0.1 for flame's tests.
#
# Source it AFTER tests/lib.sh:
#
#   . "$(dirname "$0")/../lib.sh"
#   . "$TEST_DIRECTORY/lib-sshd.sh"
#
# (lib.sh has changed to $WORK by then, so "$(dirname "$0")/../lib-sshd.sh" only
# works when $0 is absolute, as under tests/run.sh.)
#
#   sshd_start [NAME]          start sshd NAME (default "a"; [A-Za-z0-9_]+)
#   sshd_stop [NAME]           stop it, its sessions and the commands they run
#   sshd_signal NAME SIG       send SIG (STOP, CONT, HUP, KILL...) to the listener only
#   sshd_signal_all NAME SIG   send SIG to all of sshd_pids NAME
#   sshd_running NAME          the listener of NAME is alive (and not a zombie)
#   sshd_pids NAME             pids of NAME: listener, connection processes, commands
#   ssh_to NAME CMD...         run CMD on NAME with a fresh ssh connection
#   ssh_master_start NAME      start an OpenSSH ControlMaster to NAME
#   ssh_via_master NAME CMD... run CMD through that master (fails, 255, without one)
#   ssh_master_stop NAME       stop the master
#   sshd_load NAME             (re)set the SSHD_<NAME>_* variables from the state files
#   sshd_ssh_args NAME         fill the array SSH_ARGS with the client options for NAME
#                              (everything ssh_to passes but the destination and command)
#
# sshd_start exports, with <NAME> upper-cased:
#   SSHD_<NAME>_PORT         the TCP port on 127.0.0.1
#   SSHD_<NAME>_DIR          $TEST_ROOT/sshd-NAME (config, keys, log, state)
#   SSHD_<NAME>_CLIENT_KEY   private key of root@127.0.0.1 (its .pub is authorized)
#   SSHD_<NAME>_HOST_PUB     the host public key line ("ssh-ed25519 AAAA...")
#   SSHD_<NAME>_KNOWN_HOSTS  a known_hosts file pinning that key for [127.0.0.1]:PORT
#   SSHD_<NAME>_PID          pid of the listening sshd
#   SSHD_<NAME>_LOG          sshd's log (-E, LogLevel ERROR)
#   SSHD_<NAME>_HOME         the empty directory that is $HOME of every session
# The same values are kept in files under SSHD_<NAME>_DIR, so an sshd started inside
# one test_expect_success body (a subshell) is usable from later tests: every function
# here reads the state files (sshd_load NAME sets the variables in the caller).
#
# Everything lives under $TEST_ROOT: lib.sh's cleanup finds the sshd by its command
# line (the config path), ControlMasters by theirs (-S $TEST_ROOT/...) and remote
# commands by their environment (HOME); the per-connection sshd processes carry no
# trace of the root, so this file hooks lib.sh's _cleanup to sshd_stop every sshd
# first.  Nothing reads or writes /etc/ssh (ssh runs with -F /dev/null, sshd with
# -f CONFIG); only /run/sshd (sshd's compiled-in privilege separation directory) is
# created if missing.  The remote user is root, its $HOME an empty directory (so bash sources no
# ~/.bashrc), its TMPDIR and XDG_RUNTIME_DIR this file's own (tests/sshd-config.sh), PATH is
# sshd's default.
#
# Extra ssh client options: set the array SSH_EXTRA_OPTS (e.g. (-o ConnectTimeout=2));
# they come first, so they override the defaults (ssh keeps the first value given).

# shellcheck source=/dev/null
. "$(dirname "${BASH_SOURCE[0]}")/sshd-config.sh"

: "${SSHD_BIN:=/usr/sbin/sshd}"
SSH_EXTRA_OPTS=(${SSH_EXTRA_OPTS[@]+"${SSH_EXTRA_OPTS[@]}"})

_sshd_err () {
	printf 'lib-sshd: %s\n' "$*" >&2
}

# _sshd_name NAME: check NAME, set _n (name) and _N (upper-cased) and _d (its dir).
_sshd_name () {
	_n=${1:-a}
	case $_n in
	'' | *[!A-Za-z0-9_]*)
		_sshd_err "bad sshd name '$_n' (letters, digits and _ only)"
		return 1
		;;
	esac
	_N=$(printf '%s' "$_n" | tr '[:lower:]' '[:upper:]')
	_d=$TEST_ROOT/sshd-$_n
}

# _sshd_free_port: a port of 127.0.0.1 that can be bound now (tests/tools/free_port.py).
_sshd_free_port () {
	"$PYTHON" "$TEST_DIRECTORY/tools/free_port.py"
}

# Python helper: wait until PID listens on 127.0.0.1:PORT (a LISTEN socket of that
# very process, then a successful connect).  argv: PID PORT SECONDS
# exit 0 ready, 2 the process ended, 3 timeout.
_SSHD_PY_READY='
import os, socket, sys, time
pid, port, secs = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
want = "0100007F:%04X" % port
deadline = time.time() + secs
def alive():
    try:
        with open("/proc/%s/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except Exception:
        return False
def listening():
    inodes = set()
    try:
        with open("/proc/%s/net/tcp" % pid) as f:
            for line in f.readlines()[1:]:
                x = line.split()
                if x[1] == want and x[3] == "0A":
                    inodes.add("socket:[%s]" % x[9])
        for fd in os.listdir("/proc/%s/fd" % pid):
            try:
                if os.readlink("/proc/%s/fd/%s" % (pid, fd)) in inodes:
                    return True
            except OSError:
                pass
    except Exception:
        pass
    return False
while True:
    if not alive():
        sys.exit(2)
    if listening():
        try:
            socket.create_connection(("127.0.0.1", port), 1).close()
            sys.exit(0)
        except OSError:
            pass
    if time.time() > deadline:
        sys.exit(3)
    time.sleep(0.02)
'


# _sshd_alive PID: PID exists and is not a zombie.
_sshd_alive () {
	local st
	st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "${st%% *}" != Z ]
}

# sshd_load NAME: set (and export) SSHD_<NAME>_* from the state files of NAME.
sshd_load () {
	local _n _N _d port pid
	_sshd_name "${1:-a}" || return 1
	if [ ! -s "$_d/port" ] || [ ! -s "$_d/listener.pid" ]; then
		_sshd_err "sshd '$_n' was not started (no $_d/port)"
		return 1
	fi
	port=$(cat "$_d/port") && pid=$(cat "$_d/listener.pid") || return 1
	export "SSHD_${_N}_PORT=$port" \
		"SSHD_${_N}_DIR=$_d" \
		"SSHD_${_N}_CLIENT_KEY=$_d/client_ed25519" \
		"SSHD_${_N}_HOST_PUB=$(cat "$_d/host_pub")" \
		"SSHD_${_N}_KNOWN_HOSTS=$_d/known_hosts" \
		"SSHD_${_N}_PID=$pid" \
		"SSHD_${_N}_LOG=$_d/sshd.log" \
		"SSHD_${_N}_HOME=$_d/home"
}

# sshd_start [NAME]: create keys and config under $TEST_ROOT/sshd-NAME, start sshd on
# a free port of 127.0.0.1, wait (up to 10 s) until it accepts connections.
sshd_start () {
	local _n _N _d port pid rc try
	_sshd_name "${1:-a}" || return 1
	if [ -s "$_d/listener.pid" ] && _sshd_alive "$(cat "$_d/listener.pid")"; then
		_sshd_err "sshd '$_n' is already running (pid $(cat "$_d/listener.pid"))"
		return 1
	fi
	if [ ! -x "$SSHD_BIN" ]; then
		_sshd_err "$SSHD_BIN not found (install openssh-server)"
		return 1
	fi
	case $SSHD_BIN in
	/*) ;;
	*) _sshd_err "SSHD_BIN must be an absolute path (sshd re-execs itself)"; return 1 ;;
	esac
	rm -rf "$_d" && mkdir -p "$_d/home" || return 1
	chmod 0700 "$_d" || return 1
	# sshd's privilege separation directory is compiled in; it must be root-owned
	# and not group/world-writable.
	if [ ! -d /run/sshd ]; then
		mkdir -p /run/sshd && chmod 0755 /run/sshd || return 1
	fi
	if ! ssh-keygen -q -t ed25519 -N '' -C "flame-test-host-$_n" -f "$_d/ssh_host_ed25519_key" </dev/null ||
		! ssh-keygen -q -t ed25519 -N '' -C "flame-test-client-$_n" -f "$_d/client_ed25519" </dev/null; then
		_sshd_err "ssh-keygen failed"
		return 1
	fi
	cp "$_d/client_ed25519.pub" "$_d/authorized_keys" || return 1
	cut -d' ' -f1,2 "$_d/ssh_host_ed25519_key.pub" >"$_d/host_pub" || return 1

	for try in 1 2 3 4 5; do
		port=$(_sshd_free_port) || { _sshd_err "no free port"; return 1; }
		sshd_write_config "$_d" "$port" || return 1
		: >"$_d/sshd.log"
		if ! "$SSHD_BIN" -t -f "$_d/sshd_config" >>"$_d/sshd.log" 2>&1 </dev/null; then
			_sshd_err "sshd -t rejected $_d/sshd_config:"
			sed 's/^/lib-sshd:   /' "$_d/sshd.log" >&2
			return 1
		fi
		# Started from a subshell, so it is not a child (a job) of the caller: a
		# plain "wait" in a test must not wait for the sshd.
		# shellcheck disable=SC2094 # sshd appends to its log (-E and >>); nothing reads it meanwhile
		pid=$("$SSHD_BIN" -D -f "$_d/sshd_config" -E "$_d/sshd.log" \
			</dev/null >>"$_d/sshd.log" 2>&1 & echo $!)
		rc=0
		"$PYTHON" -c "$_SSHD_PY_READY" "$pid" "$port" 10 || rc=$?
		if [ "$rc" -eq 0 ]; then
			break
		fi
		kill -KILL "$pid" 2>/dev/null
		# Lost a race for the port: try another one.  Anything else is fatal.
		if [ "$rc" -eq 2 ] && grep -qiE 'bind|address already in use' "$_d/sshd.log"; then
			continue
		fi
		_sshd_err "sshd '$_n' did not start on 127.0.0.1:$port ($([ "$rc" -eq 2 ] && echo exited || echo 'timed out')); log:"
		sed 's/^/lib-sshd:   /' "$_d/sshd.log" >&2
		return 1
	done
	if [ "$rc" -ne 0 ]; then
		_sshd_err "sshd '$_n': no port could be bound after $try tries"
		return 1
	fi
	printf '[127.0.0.1]:%s %s\n' "$port" "$(cat "$_d/host_pub")" >"$_d/known_hosts" || return 1
	echo "$port" >"$_d/port"
	echo "$pid" >"$_d/listener.pid"
	sshd_load "$_n"
}

# sshd_running NAME: the listener of NAME is alive.
sshd_running () {
	local _n _N _d
	_sshd_name "${1:-a}" || return 1
	[ -s "$_d/listener.pid" ] && _sshd_alive "$(cat "$_d/listener.pid")"
}

# sshd_signal NAME SIG: send SIG to the listening sshd of NAME (not its sessions).
sshd_signal () {
	local _n _N _d
	if [ $# -ne 2 ]; then
		_sshd_err "usage: sshd_signal NAME SIG"
		return 2
	fi
	_sshd_name "$1" || return 1
	[ -s "$_d/listener.pid" ] || { _sshd_err "sshd '$_n' was not started"; return 1; }
	kill -"$2" "$(cat "$_d/listener.pid")"
}

# sshd_pids [NAME]: pids (one a line) of sshd NAME: its listener, the sshd processes
# of its connections and the commands they run, with all their descendants.
sshd_pids () {
	local _n _N _d pid=
	_sshd_name "${1:-a}" || return 1
	[ -s "$_d/port" ] || { _sshd_err "sshd '$_n' was not started"; return 1; }
	[ -s "$_d/listener.pid" ] && pid=$(cat "$_d/listener.pid")
	"$PYTHON" "$(dirname "${BASH_SOURCE[0]}")/tools/sshd_pids.py" "$(cat "$_d/port")" "$_d/home" ${pid:+"$pid"}
}

# sshd_signal_all NAME SIG: send SIG to every process of sshd NAME (see sshd_pids).
sshd_signal_all () {
	local _n _N _d pids
	if [ $# -ne 2 ]; then
		_sshd_err "usage: sshd_signal_all NAME SIG"
		return 2
	fi
	_sshd_name "$1" || return 1
	pids=$(sshd_pids "$_n") || return 1
	[ -n "$pids" ] || return 0
	# shellcheck disable=SC2086 # a list of pids, split on purpose
	kill -"$2" $pids
}

# sshd_stop [NAME]: stop sshd NAME with its sessions and the commands they run
# (sshd_pids): SIGTERM (and SIGCONT, should they be stopped), SIGKILL after 5 s.
# Succeeds if nothing of it is left.  Stopping a stopped sshd is fine.
sshd_stop () {
	local _n _N _d pids p left="" i
	_sshd_name "${1:-a}" || return 1
	pids=$(sshd_pids "$_n") || return 1
	if [ -n "$pids" ]; then
		# shellcheck disable=SC2086 # a list of pids, split on purpose
		kill -TERM $pids 2>/dev/null
		# shellcheck disable=SC2086 # a list of pids, split on purpose
		kill -CONT $pids 2>/dev/null
		for i in $(seq 100); do
			left=
			for p in $pids; do
				_sshd_alive "$p" && left="$left $p"
			done
			[ -n "$left" ] || break
			sleep 0.05
		done
		: "$i"
		if [ -n "$left" ]; then
			# shellcheck disable=SC2086 # a list of pids, split on purpose
			kill -KILL $left 2>/dev/null
			sleep 0.1
		fi
	fi
	rm -f "$_d/listener.pid"
	# Anything new (a session accepted just before the listener went) or left over.
	pids=$(sshd_pids "$_n") || return 1
	if [ -n "$pids" ]; then
		# shellcheck disable=SC2086 # a list of pids, split on purpose
		kill -KILL $pids 2>/dev/null
		sleep 0.1
		pids=$(sshd_pids "$_n")
		if [ -n "$pids" ]; then
			_sshd_err "sshd '$_n': processes left after SIGKILL: ${pids//$'\n'/ }"
			return 1
		fi
	fi
	return 0
}

# sshd_ssh_args NAME: set the array SSH_ARGS to the ssh client options for NAME
# (port, key, pinned known_hosts, batch mode, no system or user config).
sshd_ssh_args () {
	local _n _N _d
	_sshd_name "${1:-a}" || return 1
	if [ ! -s "$_d/port" ]; then
		_sshd_err "sshd '$_n' was not started (no $_d/port)"
		return 1
	fi
	SSH_ARGS=(
		${SSH_EXTRA_OPTS[@]+"${SSH_EXTRA_OPTS[@]}"}
		-F /dev/null
		-p "$(cat "$_d/port")"
		-i "$_d/client_ed25519"
		-o IdentitiesOnly=yes
		-o IdentityAgent=none
		-o UserKnownHostsFile="$_d/known_hosts"
		-o GlobalKnownHostsFile=/dev/null
		-o StrictHostKeyChecking=yes
		-o UpdateHostKeys=no
		-o CheckHostIP=no
		-o BatchMode=yes
		-o LogLevel=ERROR
		-o ConnectTimeout=10
	)
}

# ssh_to NAME CMD...: run CMD as root@127.0.0.1 on sshd NAME over a new connection;
# stdin is passed through, the exit status is CMD's (255: ssh itself failed).
ssh_to () {
	local SSH_ARGS
	if [ $# -lt 2 ]; then
		_sshd_err "usage: ssh_to NAME CMD..."
		return 2
	fi
	sshd_ssh_args "$1" || return 255
	shift
	ssh "${SSH_ARGS[@]}" -o ControlMaster=no -o ControlPath=none root@127.0.0.1 "$@"
}

# ssh_master_start NAME: start a ControlMaster (ControlPersist=yes) to sshd NAME,
# socket $SSHD_<NAME>_DIR/cm; waits until it answers -O check.
ssh_master_start () {
	local _n _N _d SSH_ARGS rc=0 out mpid
	_sshd_name "${1:-a}" || return 1
	sshd_load "$_n" || return 1
	sshd_ssh_args "$_n" || return 1
	if [ -S "$_d/cm" ] && ssh "${SSH_ARGS[@]}" -S "$_d/cm" -O check root@127.0.0.1 >/dev/null 2>&1; then
		_sshd_err "a ControlMaster to '$_n' is already running"
		return 1
	fi
	rm -f "$_d/cm" "$_d/master.pid"
	# -f: ssh forks once authenticated; its stdio must not keep the caller's pipes.
	ssh "${SSH_ARGS[@]}" -M -S "$_d/cm" -o ControlPersist=yes -f -N root@127.0.0.1 \
		</dev/null >"$_d/master.log" 2>&1 || rc=$?
	if [ "$rc" -ne 0 ]; then
		_sshd_err "ssh -M to '$_n' failed (status $rc):"
		sed 's/^/lib-sshd:   /' "$_d/master.log" >&2
		return 1
	fi
	out=$(ssh "${SSH_ARGS[@]}" -S "$_d/cm" -O check root@127.0.0.1 2>&1) || {
		_sshd_err "ControlMaster to '$_n' does not answer: $out"
		return 1
	}
	mpid=$(printf '%s\n' "$out" | sed -n 's/.*pid=\([0-9][0-9]*\).*/\1/p')
	[ -z "$mpid" ] || echo "$mpid" >"$_d/master.pid"
}

# ssh_via_master NAME CMD...: run CMD through the ControlMaster of NAME.  Never falls
# back to a new connection: without a master it fails with 255.
ssh_via_master () {
	local _n _N _d SSH_ARGS
	if [ $# -lt 2 ]; then
		_sshd_err "usage: ssh_via_master NAME CMD..."
		return 2
	fi
	_sshd_name "$1" || return 255
	shift
	if [ ! -S "$_d/cm" ]; then
		_sshd_err "no ControlMaster to '$_n' (ssh_master_start $_n)"
		return 255
	fi
	sshd_ssh_args "$_n" || return 255
	# ProxyCommand=false: should the mux socket not answer, ssh would otherwise
	# silently open a connection of its own.
	ssh "${SSH_ARGS[@]}" -S "$_d/cm" -o ProxyCommand=false root@127.0.0.1 "$@"
}

# ssh_master_stop NAME: ask the master of NAME to exit and wait (5 s) until it has.
ssh_master_stop () {
	local _n _N _d SSH_ARGS mpid=
	_sshd_name "${1:-a}" || return 1
	sshd_ssh_args "$_n" || return 1
	[ -s "$_d/master.pid" ] && mpid=$(cat "$_d/master.pid")
	if [ -S "$_d/cm" ]; then
		ssh "${SSH_ARGS[@]}" -S "$_d/cm" -O exit root@127.0.0.1 >/dev/null 2>&1 || :
	fi
	if [ -n "$mpid" ] && ! wait_for "! _sshd_alive $mpid" 5; then
		kill -KILL "$mpid" 2>/dev/null
		sleep 0.1
	fi
	rm -f "$_d/cm" "$_d/master.pid"
	[ -z "$mpid" ] || ! _sshd_alive "$mpid"
}

# At exit, before lib.sh's own cleanup: stop every sshd of this file with its
# sessions.  (lib.sh finds the listener by its command line and the remote commands
# by HOME, but the per-connection sshd processes carry no trace of $TEST_ROOT.)
_sshd_cleanup_all () {
	local f n
	[ -n "${TEST_ROOT:-}" ] && [ -d "$TEST_ROOT" ] || return 0
	for f in "$TEST_ROOT"/sshd-*/port; do
		[ -f "$f" ] || continue
		n=${f%/port}
		n=${n##*/sshd-}
		ssh_master_stop "$n" >/dev/null 2>&1 || :
		sshd_stop "$n" >/dev/null 2>&1 || :
	done
}
if declare -F _cleanup >/dev/null && ! declare -F _sshd_lib_cleanup >/dev/null; then
	eval "$(declare -f _cleanup | sed '1s/^_cleanup /_sshd_lib_cleanup /')"
	_cleanup () {
		[ -n "$_cleaned" ] || _sshd_cleanup_all
		_sshd_lib_cleanup
	}
fi
