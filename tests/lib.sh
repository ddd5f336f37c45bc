# shellcheck shell=bash disable=SC2016,SC2034 # conditions are single-quoted, run later; variables are for the test files
# tests/lib.sh - shared library for flame's integration tests (tests/t/t*.sh).
#
# Sourced by each test file:   . "$(dirname "$0")/../lib.sh"
#
#   test_expect_success 'what the behaviour is' '
#       shell commands (run in a subshell with set -e; chain with && or one per line)
#   '
#   test_done
#
# Output is TAP-like: "ok N - description" / "not ok N - description", the failing
# test's output follows indented with "#".  test_done prints
# "# FILE: X passed, Y failed" and exits 1 if anything failed.
#
# Every test FILE gets its own temporary root ($TEST_ROOT) holding HOME, TMPDIR and
# the XDG directories, so the warmer, its socket, journal, log and scratch dirs are
# private to the file.  At exit the warmer is stopped, every leftover process that
# belongs to the root is killed, the warmer log is checked for sanitizer reports and
# the root is removed (kept when FLAME_TEST_KEEP=1).
#
# Environment: FLAME (required, absolute path of the binary under test),
# FLAME_TEST_VERBOSE=1 (show the output of passing tests too),
# TEST_TIMEOUT (seconds one test may take before it is killed; default 120; may be
# set per test:  TEST_TIMEOUT=300 test_expect_success ...).

# ---------------------------------------------------------------- set-up --------

TEST_FILE=$(basename "$0")
TEST_NAME=${TEST_FILE%.sh}

_bail () {
	printf 'Bail out! %s: %s\n' "$TEST_NAME" "$*"
	exit 1
}

if [ -z "${FLAME:-}" ]; then
	_bail 'FLAME is not set (it must be the absolute path of the flame binary under test)'
fi
case $FLAME in
/*) ;;
*) _bail "FLAME must be an absolute path (got '$FLAME')" ;;
esac
if [ ! -f "$FLAME" ] || [ ! -x "$FLAME" ]; then
	_bail "FLAME=$FLAME is not an executable file"
fi
export FLAME

TEST_DIRECTORY=$(cd "$(dirname "$0")/.." && pwd) || _bail 'cannot find tests/'
SRC_ROOT=$(cd "$TEST_DIRECTORY/.." && pwd)

# Resolve python3 before HOME changes (pyenv shims depend on it); prefer the system one.
if [ -x /usr/bin/python3 ]; then
	PYTHON=/usr/bin/python3
else
	PYTHON=$(command -v python3) || _bail 'python3 is needed by the tests'
fi

: "${TEST_TIMEOUT:=120}"

TEST_ROOT=$(mktemp -d "${TMPDIR:-/tmp}/flame-test.XXXXXX") || _bail 'mktemp -d failed'
TEST_ROOT=$(cd "$TEST_ROOT" && pwd -P)

# A flame.json above the temp root would leak into every test (project files are
# found by walking up from the working directory).
_d=$(dirname "$TEST_ROOT")
while :; do
	if [ -e "$_d/flame.json" ]; then
		rm -rf "$TEST_ROOT"
		_bail "$_d/flame.json exists and would be picked up by the tests; remove it or set TMPDIR"
	fi
	[ "$_d" = / ] && break
	_d=$(dirname "$_d")
done
unset _d

WORK=$TEST_ROOT/work
mkdir -p "$WORK" "$TEST_ROOT/home" "$TEST_ROOT/state" "$TEST_ROOT/config" \
	"$TEST_ROOT/tmp" "$TEST_ROOT/out" || _bail 'cannot create the test root'
mkdir -m 0700 "$TEST_ROOT/run" || _bail 'cannot create XDG_RUNTIME_DIR'

export HOME="$TEST_ROOT/home"
export XDG_RUNTIME_DIR="$TEST_ROOT/run"
export XDG_STATE_HOME="$TEST_ROOT/state"
export XDG_CONFIG_HOME="$TEST_ROOT/config"
export TMPDIR="$TEST_ROOT/tmp"
export FLAME_WARMER_GRACE=3s
unset FLAME_CONFIG FLAME_POOL FLAME_RUNNER FLAME_JOB CDPATH

WARMER_LOG=$XDG_STATE_HOME/flame/warmer.log
STATE_FILE=$XDG_STATE_HOME/flame/state.json

cd "$WORK" || _bail "cannot cd to $WORK"
exec 9>&2

test_count=0
test_passed=0
test_failed=0
_cleaned=
_done=

# ------------------------------------------------------- process bookkeeping ----

# tests/tools/root_procs.py lists the processes that belong to this test root
# (their working directory, command line or environment names $TEST_ROOT).
_ROOT_PROCS=$TEST_DIRECTORY/tools/root_procs.py

# root_pids: pids of every process that belongs to this test root.
root_pids () {
	"$PYTHON" "$_ROOT_PROCS" "$TEST_ROOT" all
}

# root_pgrep ERE: pids whose full command line matches ERE (pgrep -f) and that
# belong to this test root.
root_pgrep () {
	# shellcheck disable=SC2046 # pgrep prints one pid a word
	"$PYTHON" "$_ROOT_PROCS" "$TEST_ROOT" filter $(pgrep -f -- "$1")
	return 0
}

# count_procs ERE: how many processes of this test root match ERE (pgrep -f).
#   count_procs '^sleep 30\.123$'
count_procs () {
	root_pgrep "$1" | wc -l
}

# RUNNER_RE: the command line of a local runner's main process (flame agent ...).
RUNNER_RE='^[^ ]*flame agent( |$)'

# count_runners: runner processes of this test root (a "flame agent" process whose
# parent is itself a "flame agent" - a fork on the way to exec'ing a job - is not
# counted separately).
count_runners () {
	# shellcheck disable=SC2046 # pgrep prints one pid a word
	"$PYTHON" "$_ROOT_PROCS" "$TEST_ROOT" top $(pgrep -f -- "$RUNNER_RE") | wc -l
}

# ------------------------------------------------------------------ helpers -----

# open_root_for_other_users: tests that act as a throw-away user need "/" to
# be searchable by others. It always is on a real system, but not in a root
# made with mktemp -d (mode 0700), as a chroot for a fresh-system check may
# be; there it gets o+x for the file's duration and its mode back at exit.
open_root_for_other_users () {
	local m
	m=$(stat -c %a /) || return 1
	case $m in *[1357]) return 0 ;; esac
	chmod o+x / && printf '%s\n' "$m" >"$TEST_ROOT/root-mode"
}
_close_root_again () {
	if [ -n "${TEST_ROOT:-}" ] && [ -s "$TEST_ROOT/root-mode" ]; then
		chmod "$(cat "$TEST_ROOT/root-mode")" / || :
	fi
}

# slot_orphan_check POOL SECS: run `sleep SECS` (a unique number) as a job of
# POOL, stop both processes of its slot on the host (`flame agent slot in`
# and `slot out`), then kill both; the caller must get 255 naming the runner,
# the keeper must kill the job's group and remove its scratch dir, and the
# pool must serve the next job. (t2040 over ssh, t3060 over fly.)
slot_orphan_check () {
	local pool=$1 secs=$2 pid pg dir in tok out rc=0
	"$FLAME" run -p "$pool" --sh "pwd >\"$WORK/orphan-d\"; echo \$\$ >\"$WORK/orphan-pg\"; sleep $secs" \
		>orphan.out 2>orphan.err &
	pid=$!
	wait_for "test -s \"$WORK/orphan-pg\"" 20
	pg=$(cat "$WORK/orphan-pg")
	dir=$(cat "$WORK/orphan-d")
	test -d "$dir"
	in=$(ps -o ppid= -p "$pg" | tr -d " ")
	tr "\0" " " <"/proc/$in/cmdline" | grep -q "flame agent slot in "
	tok=$(tr "\0" " " <"/proc/$in/cmdline" | sed -n "s/.*flame agent slot in \([0-9a-f]*\).*/\1/p")
	out=$(root_pgrep "flame agent slot out $tok\$")
	equals 1 "$(echo "$out" | wc -w)"
	kill -STOP "$in" "$out"
	kill -KILL "$in" "$out"
	wait_exit "$pid" 15 || rc=$?
	equals 255 "$rc"
	one_flame_line orphan.err "runner $pool-"
	wait_for "! kill -0 -- -$pg" 5
	wait_for "test ! -e \"$dir\"" 5
	equals 0 "$(count_procs "^sleep ${secs//./\\.}\$")"
	equals again "$("$FLAME" run -p "$pool" -- echo again)"
}

# write_config [JSON]: write $WORK/flame.json from the argument or from stdin.
write_config () {
	if [ $# -gt 0 ]; then
		printf '%s\n' "$1" >"$WORK/flame.json"
	else
		cat >"$WORK/flame.json"
	fi
}

# now: seconds since the epoch with fractions.
now () {
	date +%s.%N
}

# elapsed START: seconds (fractional) since START (a value printed by now).
elapsed () {
	awk -v s="$1" -v e="$(now)" 'BEGIN { printf "%.3f\n", e - s }'
}

# less_than A B: succeeds if the number A < B.
less_than () {
	awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }' && return 0
	echo "expected $1 < $2" >&9
	return 1
}

# wait_for 'COND' [SECONDS]: evaluate COND every 0.05 s until it succeeds (0) or
# SECONDS (default 10) have passed (1).
wait_for () {
	local cond=$1 secs=${2:-10} deadline
	# bash arithmetic is 64-bit; (mawk's printf %d is not)
	deadline=$(( ${EPOCHREALTIME/./} + $(awk -v s="$secs" 'BEGIN { printf "%.0f\n", s * 1000000 }') ))
	while :; do
		if eval "$cond" >/dev/null 2>&1 9>&1; then
			return 0
		fi
		if [ "${EPOCHREALTIME/./}" -ge "$deadline" ]; then
			echo "wait_for: gave up after ${secs}s waiting for: $cond" >&9
			return 1
		fi
		sleep 0.05
	done
}

# test_status WANT CMD [ARGS...]: run CMD, succeed iff it exits WANT.
test_status () {
	local want=$1 rc=0
	shift
	"$@" || rc=$?
	if [ "$rc" != "$want" ]; then
		echo "expected exit status $want, got $rc from: $*" >&9
		return 1
	fi
}

# not CMD [ARGS...]: succeed iff CMD fails (use instead of "!" which set -e ignores).
not () {
	if "$@"; then
		echo "unexpected success: $*" >&9
		return 1
	fi
	return 0
}

# equals WANT GOT: string comparison with a readable diagnostic.
equals () {
	if [ "$1" != "$2" ]; then
		printf 'expected: %q\n     got: %q\n' "$1" "$2" >&9
		return 1
	fi
}

# one_flame_line FILE [SUBSTRING...]: FILE (a captured stderr) is exactly one line
# starting with "flame: " and containing every SUBSTRING.
one_flame_line () {
	local f=$1 n s
	shift
	n=$(wc -l <"$f")
	if [ "$n" -ne 1 ] || [ "$(tail -c 1 "$f" | od -An -c | tr -d ' ')" != '\n' ]; then
		echo "expected exactly one line on stderr, got $n line(s):" >&9
		sed 's/^/| /' "$f" >&9
		return 1
	fi
	case $(cat "$f") in
	'flame: '?*) ;;
	*)
		echo "stderr line does not start with 'flame: ':" >&9
		sed 's/^/| /' "$f" >&9
		return 1
		;;
	esac
	for s in "$@"; do
		if ! grep -qF -- "$s" "$f"; then
			echo "stderr line does not mention '$s':" >&9
			sed 's/^/| /' "$f" >&9
			return 1
		fi
	done
}

# proc_alive PID: PID exists and is not a zombie.
proc_alive () {
	local st
	st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "${st%% *}" != Z ]
}

# wait_exit PID [SECONDS]: wait (default 10 s) for the background child PID to end
# and return its exit status; if it does not end in time, SIGKILL it, say so and
# return 254.   rc=0; wait_exit "$pid" 10 || rc=$?
wait_exit () {
	local pid=$1 secs=${2:-10} rc=0
	if ! wait_for "! proc_alive $pid" "$secs"; then
		echo "process $pid ($(tr "\0" " " <"/proc/$pid/cmdline" 2>/dev/null)) still running after ${secs}s; killing it" >&9
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		return 254
	fi
	wait "$pid" || rc=$?
	return "$rc"
}

# pool_json: flame pool ls --json
pool_json () {
	"$FLAME" pool ls --json
}

# json_q EXPR: evaluate the python expression EXPR with d = the JSON document on
# stdin; strings print raw, anything else as JSON.
#   pool_json | json_q 'd["warmer"]["pid"]'
json_q () {
	"$PYTHON" -c '
import json, sys
d = json.load(sys.stdin)
r = eval(sys.argv[1])
print(r if isinstance(r, str) else json.dumps(r))
' "$1"
}

# pool_field POOL EXPR: EXPR evaluated with p = that pool's object in pool ls --json.
#   pool_field default 'p["max"]'      pool_field idle 'len(p["runners"])'
pool_field () {
	pool_json | "$PYTHON" -c '
import json, sys
d = json.load(sys.stdin)
ps = [p for p in d["pools"] if p["name"] == sys.argv[1]]
if not ps:
    sys.exit("pool %s not in pool ls --json" % sys.argv[1])
p = ps[0]
r = eval(sys.argv[2])
print(r if isinstance(r, str) else json.dumps(r))
' "$1" "$2"
}

# warmer_pid: pid of the running warmer according to pool ls --json (empty if none).
warmer_pid () {
	pool_json | json_q 'd["warmer"]["pid"] if d["warmer"].get("running") else ""'
}

# warmer_running: flame warmer status exits 0.
warmer_running () {
	"$FLAME" warmer status >/dev/null 2>&1
}

# stop_warmer: flame warmer stop, then wait until no warmer runs.
stop_warmer () {
	timeout 20 "$FLAME" warmer stop >/dev/null 2>&1 || :
	wait_for 'test_status 3 "$FLAME" warmer status' 15
}

# run_sigdfl CMD [ARGS...]: exec CMD with SIGINT and SIGQUIT reset to their default
# action (background jobs of a non-interactive shell start with them ignored).
run_sigdfl () {
	"$PYTHON" -c '
import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
signal.signal(signal.SIGQUIT, signal.SIG_DFL)
os.execvp(sys.argv[1], sys.argv[1:])
' "$@"
}

# For background use, where $! must be the pid of CMD itself (a function run with &
# is a subshell):   "${SIGDFL[@]}" "$FLAME" run ... &   pid=$!
SIGDFL=("$PYTHON" -c '
import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
signal.signal(signal.SIGQUIT, signal.SIG_DFL)
os.execvp(sys.argv[1], sys.argv[1:])
')

# run_sigign CMD [ARGS...]: exec CMD with SIGINT and SIGQUIT ignored.
run_sigign () {
	"$PYTHON" -c '
import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_IGN)
signal.signal(signal.SIGQUIT, signal.SIG_IGN)
os.execvp(sys.argv[1], sys.argv[1:])
' "$@"
}

# ------------------------------------------------------------ test running ------

_kill_tree () { # PID SIG: PID and all its descendants, except the caller
	local pid=$1 sig=$2 all=() queue=("$1") p kids
	while [ ${#queue[@]} -gt 0 ]; do
		p=${queue[0]}
		queue=("${queue[@]:1}")
		all+=("$p")
		kids=$(pgrep -P "$p" 2>/dev/null) || kids=
		for k in $kids; do
			[ "$k" = "$BASHPID" ] || queue+=("$k")
		done
	done
	kill -"$sig" "${all[@]}" 2>/dev/null
	: "$pid"
}

_watchdog () { # PID SECONDS MARKER
	local pid=$1 n=$2
	while kill -0 "$pid" 2>/dev/null; do
		sleep 1
		n=$((n - 1))
		if [ "$n" -le 0 ]; then
			: >"$3"
			_kill_tree "$pid" KILL
			return 0
		fi
	done
}

_report () { # RC DESCRIPTION OUTFILE
	if [ "$1" -eq 0 ]; then
		test_passed=$((test_passed + 1))
		echo "ok $test_count - $2"
		if [ -n "${FLAME_TEST_VERBOSE:-}" ] && [ -s "$3" ]; then
			sed 's/^/#	/' "$3"
		fi
	else
		test_failed=$((test_failed + 1))
		echo "not ok $test_count - $2"
		if [ -s "$3" ]; then
			tail -n 60 "$3" | cut -c1-400 | sed 's/^/#	/'
		fi
	fi
}

# test_expect_success DESCRIPTION BODY
test_expect_success () {
	if [ $# -ne 2 ]; then
		_bail "test_expect_success needs 2 arguments (got $#): $*"
	fi
	test_count=$((test_count + 1))
	local out="$TEST_ROOT/out/$test_count" marker="$TEST_ROOT/out/$test_count.timeout" rc
	# Not in an if/||/&& context: set -e would be ignored inside the subshell.
	{
		(
			exec 9>&2
			# double fork: the watchdog must not be a child "wait" would wait for
			_test_pid=$BASHPID
			(_watchdog "$_test_pid" "$TEST_TIMEOUT" "$marker" &)
			cd "$WORK"
			set -e
			eval "$2"
		) >"$out" 2>&1 </dev/null
	} 2>/dev/null
	rc=$?
	if [ -e "$marker" ]; then
		echo "(killed: the test took longer than ${TEST_TIMEOUT}s)" >>"$out"
		[ "$rc" -ne 0 ] || rc=1
	elif [ "$rc" -ne 0 ]; then
		echo "(test body exited with status $rc)" >>"$out"
	fi
	_report "$rc" "$1" "$out"
	return 0
}

_sanitizer_check () {
	local files f hits="$TEST_ROOT/out/sanitizer"
	: >"$hits"
	[ -d "$XDG_STATE_HOME" ] || return 0
	files=$(find "$XDG_STATE_HOME" -type f 2>/dev/null)
	for f in $files; do
		if grep -aqE 'AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:' "$f"; then
			echo "== $f" >>"$hits"
			grep -aE -A 12 'AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:' "$f" |
				head -n 80 >>"$hits"
		fi
	done
	if [ -s "$hits" ]; then
		test_count=$((test_count + 1))
		_report 1 'no sanitizer reports in warmer log' "$hits"
	fi
}

_cleanup () {
	[ -z "$_cleaned" ] || return 0
	_cleaned=1
	cd / || :
	_close_root_again
	# Whatever a test left in the background (callers, fifos' writers...).
	local pids
	if [ -n "${TEST_ROOT:-}" ] && [ -d "$TEST_ROOT" ]; then
		timeout 20 "$FLAME" warmer stop >/dev/null 2>&1 </dev/null || :
		exec 9>/dev/null
		wait_for '[ -z "$(root_pids)" ]' 5 || :
		pids=$(root_pids)
		if [ -n "$pids" ]; then
			# shellcheck disable=SC2086 # a list of pids, split on purpose
			kill -TERM $pids 2>/dev/null
			wait_for '[ -z "$(root_pids)" ]' 2 || :
			pids=$(root_pids)
			# shellcheck disable=SC2086 # a list of pids, split on purpose
			[ -z "$pids" ] || kill -KILL $pids 2>/dev/null
		fi
		_sanitizer_check
		if [ -n "${FLAME_TEST_KEEP:-}" ]; then
			echo "# kept $TEST_ROOT"
		else
			rm -rf "$TEST_ROOT"
		fi
	fi
}

_on_exit () {
	local rc=$?
	if [ -z "$_done" ]; then
		_cleanup
		echo "# $TEST_FILE: the script stopped before test_done (status $rc)"
		echo "# $TEST_FILE: $test_passed passed, $((test_failed + 1)) failed"
		exit 1
	fi
}
trap _on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# test_done: clean up, print the summary, exit 1 if a test failed.
test_done () {
	if [ -n "${FLY_FAKE_URL:-}" ]; then
		test_expect_success 'the fake holds no machine once the warmer has stopped' '
			"$FLAME" warmer stop >/dev/null 2>&1 || :
			fly_no_machines 30
		'
	fi
	_cleanup
	_done=1
	echo "# $TEST_FILE: $test_passed passed, $test_failed failed"
	[ "$test_failed" -eq 0 ] || exit 1
	exit 0
}

# FLAME_TEST_BACKEND=ssh: the run-semantics tests run unchanged over the ssh
# backend: the default pool becomes an ssh pool on a private sshd of this
# file's own, whose runner-side flame is the binary under test.
# FLAME_TEST_BACKEND=fly: the default pool is a fly pool on the fake Machines
# API (tests/fakes/), each runner a local `flame agent` with its own sshd.
if [ "${FLAME_TEST_BACKEND:-local}" = fly ]; then
	. "$TEST_DIRECTORY/lib-fly.sh"
	fly_fake_start || _bail 'cannot start the fake Machines API'
	write_config "{ \"pools\": { $(fly_pool_conf default '"max_concurrency": 4') } }"
fi
if [ "${FLAME_TEST_BACKEND:-local}" = ssh ]; then
	. "$TEST_DIRECTORY/lib-sshd.sh"
	sshd_start a >/dev/null || _bail 'cannot start a private sshd for the ssh backend'
	sshd_load a
	"$FLAME" pool key default >>"$SSHD_A_DIR/authorized_keys" || _bail 'flame pool key failed'
	write_config "{ \"pools\": { \"default\": { \"backend\": \"ssh\", \"max_concurrency\": 4,
	  \"command\": \"$FLAME\",
	  \"hosts\": [ { \"login\": \"root@127.0.0.1:$SSHD_A_PORT\", \"host_key\": \"$SSHD_A_HOST_PUB\" } ] } } }"
fi
