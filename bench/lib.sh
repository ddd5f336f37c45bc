# shellcheck shell=bash disable=SC2034 # variables are for the benchmarks that source it
# bench/lib.sh - shared set-up and helpers for flame's benchmarks (bench/*.sh).
#
# Sourced by each benchmark:   . "$(dirname "$0")/lib.sh"
#
# Benchmarks are not tests: nothing here fails because of a time.  A script fails
# only when it cannot measure (flame missing and not buildable, a command that
# exits non-zero, a tool missing).
#
# What sourcing does:
#   - finds the repository ($SRC_ROOT), runs `make` if ./flame is missing, and
#     sets $FLAME to a copy of it (FLAME_BENCH_BIN if set, else a copy in the
#     root), so that a rebuild during the run does not break or change it;
#   - creates a private root ($BENCH_ROOT, mktemp -d) holding XDG_RUNTIME_DIR,
#     XDG_STATE_HOME, XDG_CONFIG_HOME, TMPDIR and a work directory ($WORK) with a
#     flame.json, and cd's there, so the warmer, its socket, state and runners are
#     private to the script;
#   - installs an EXIT trap that stops the warmer, waits for it (and its runners)
#     to exit and removes the root (kept when BENCH_KEEP=1).
#
# Environment:
#   BENCH_RESULTS  if set, result rows are appended there (tab-separated) for
#                  bench/run-all.sh's summary table.
#   BENCH_KEEP=1   keep $BENCH_ROOT at exit.
#   FLAME_BENCH_BIN  the flame binary to measure (run-all.sh sets it to a copy).

set -u
set -o pipefail

export LC_ALL=C

BENCH_NAME=$(basename "$0" .sh)
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P) || exit 1
SRC_ROOT=$(cd "$BENCH_DIR/.." && pwd -P) || exit 1

bench_die () {
	printf '%s: error: %s\n' "$BENCH_NAME" "$*" >&2
	exit 1
}

bench_log () {
	printf '[%s] %s\n' "$BENCH_NAME" "$*" >&2
}

# ------------------------------------------------------------ build check --------

if [ -z "${FLAME_BENCH_BIN:-}" ] && [ ! -x "$SRC_ROOT/flame" ]; then
	bench_log "$SRC_ROOT/flame is missing; running make"
	make -C "$SRC_ROOT" flame >&2 || bench_die 'make failed'
fi

# need CMD...: die unless every CMD is on PATH.
need () {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || bench_die "'$c' is needed (make deps installs it)"
	done
}

# ------------------------------------------------------------ isolated root ------

BENCH_ROOT=$(mktemp -d "${TMPDIR:-/tmp}/flame-bench.XXXXXX") || bench_die 'mktemp -d failed'
BENCH_ROOT=$(cd "$BENCH_ROOT" && pwd -P)
FLAME=

# root_pids: pids of the processes of this root - the warmer and runners started
# here (their environment has our XDG_RUNTIME_DIR, or their command line names
# the root) - except this shell.
root_pids () {
	local d p
	for d in /proc/[0-9]*; do
		p=${d#/proc/}
		[ "$p" = "$$" ] || [ "$p" = "$BASHPID" ] && continue
		if grep -qzxF "XDG_RUNTIME_DIR=$BENCH_ROOT/run" "$d/environ" 2>/dev/null ||
			grep -qzF "$BENCH_ROOT/" "$d/cmdline" 2>/dev/null; then
			printf '%s\n' "$p"
		fi
	done
}

_bench_cleanup () {
	local i pids
	[ -n "$FLAME" ] && "$FLAME" warmer stop >/dev/null 2>&1
	# Wait (up to 10 s) for the warmer and its runners to exit, then kill what is
	# left of this root, by pid.
	for ((i = 0; i < 100; i++)); do
		pids=$(root_pids)
		[ -z "$pids" ] && break
		sleep 0.1
	done
	if [ -n "$pids" ]; then
		bench_log "still alive 10 s after 'flame warmer stop': $(echo "$pids" | tr '\n' ' ')- killing them"
		# shellcheck disable=SC2086 # a list of pids, split on purpose
		kill -TERM $pids 2>/dev/null
		sleep 1
		pids=$(root_pids)
		# shellcheck disable=SC2086 # a list of pids, split on purpose
		[ -z "$pids" ] || kill -KILL $pids 2>/dev/null
	fi
	if [ "${BENCH_KEEP:-0}" = 1 ]; then
		bench_log "kept $BENCH_ROOT"
	else
		cd / && rm -rf "$BENCH_ROOT"
	fi
}
trap _bench_cleanup EXIT
trap 'exit 130' INT TERM

WORK=$BENCH_ROOT/work
mkdir -p "$WORK" "$BENCH_ROOT/home" "$BENCH_ROOT/state" "$BENCH_ROOT/config" \
	"$BENCH_ROOT/tmp" "$BENCH_ROOT/out" || bench_die 'cannot create the bench root'
mkdir -m 0700 "$BENCH_ROOT/run" || bench_die 'cannot create XDG_RUNTIME_DIR'

# The binary measured is a snapshot: others may rebuild ./flame while a benchmark
# runs (a half-written binary fails with "Permission denied" / ETXTBSY).
# bench/run-all.sh makes one snapshot for all the scripts (FLAME_BENCH_BIN).
if [ -n "${FLAME_BENCH_BIN:-}" ]; then
	FLAME=$FLAME_BENCH_BIN
else
	mkdir -p "$BENCH_ROOT/bin" || bench_die 'mkdir failed'
	cp "$SRC_ROOT/flame" "$BENCH_ROOT/bin/flame" || bench_die "cannot copy $SRC_ROOT/flame"
	FLAME=$BENCH_ROOT/bin/flame
fi
"$FLAME" --version >/dev/null 2>&1 || bench_die "$FLAME does not run"

# A flame.json above the root would be merged in (project files are found by
# walking up from the working directory).
_d=$(dirname "$BENCH_ROOT")
while :; do
	[ -e "$_d/flame.json" ] && bench_die "$_d/flame.json exists and would be picked up; remove it or set TMPDIR"
	[ "$_d" = / ] && break
	_d=$(dirname "$_d")
done
unset _d

# HOME stays the caller's (hyperfine, parallel and make do not care); only flame's
# directories move.
export XDG_RUNTIME_DIR=$BENCH_ROOT/run
export XDG_STATE_HOME=$BENCH_ROOT/state
export XDG_CONFIG_HOME=$BENCH_ROOT/config
export TMPDIR=$BENCH_ROOT/tmp
unset FLAME_CONFIG FLAME_POOL FLAME_RUNNER FLAME_JOB FLAME_WARMER_GRACE CDPATH
OUT=$BENCH_ROOT/out

# The default pool keeps its built-in limits (max 4 runners x max_concurrency 4 =
# 16 slots); only idle_shutdown_after is raised from 30s so that a runner does not
# shut down (and have to boot again) while a peer command is being measured.
cat >"$WORK/flame.json" <<'EOF'
{"pools": {"default": {"max": 4, "max_concurrency": 4, "idle_shutdown_after": "10m"}}}
EOF
cd "$WORK" || bench_die "cannot cd to $WORK"

# ------------------------------------------------------------ warmer -------------

# warmer_pid: the running warmer's pid (from `flame warmer status`), or nothing.
warmer_pid () {
	"$FLAME" warmer status 2>/dev/null | sed -n '1s/^warmer: running, pid \([0-9][0-9]*\).*/\1/p'
}

# agent_pids: pids of the runners' main processes ("flame agent local ..." whose
# parent is the warmer; a fork of an agent on its way to exec'ing a job is skipped).
agent_pids () {
	local w p
	w=$(warmer_pid)
	[ -n "$w" ] || return 0
	for p in $(pgrep -P "$w" 2>/dev/null); do
		if tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -q '^[^ ]*flame agent local '; then
			printf '%s\n' "$p"
		fi
	done
}

# proc_kib PID FIELD: a /proc/PID/status field in KiB (VmHWM, VmRSS), or nothing.
proc_kib () {
	awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status" 2>/dev/null
}

# warm_pool: run one job so the default pool has a ready runner (and the warmer is up).
warm_pool () {
	"$FLAME" run -- true || bench_die "flame run -- true failed (exit $?)"
}


# ------------------------------------------------------------ numbers ------------

# now_us: microseconds since the epoch (bash 5's EPOCHREALTIME; no fork).
now_us () {
	local t=${EPOCHREALTIME/[.,]/}
	printf '%s\n' "$t"
}

# median: the median of the numbers on stdin, one a line.
median () {
	sort -g | awk '{ v[NR] = $1 } END {
		if (NR == 0) { print "nan"; exit }
		if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# minmax: "MIN MAX" of the numbers on stdin.
minmax () {
	sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { print lo, hi }'
}

# calc EXPR: evaluate an awk expression, print with up to 6 significant digits.
calc () {
	awk "BEGIN { printf \"%.6g\n\", $1 }"
}

# fmt N DECIMALS
fmt () {
	awk -v n="$1" -v d="$2" 'BEGIN { printf "%.*f\n", d, n }'
}

# ------------------------------------------------------------ results ------------

# result NAME VALUE UNIT PEER_NAME PEER_VALUE RATIO GOAL MET
#   One row of the summary: the flame figure, the figure it is compared with (or
#   "-"), their ratio (or "-"), the goal as text, and "met" / "NOT met" / "-".
#   Printed on stdout and appended to $BENCH_RESULTS when that is set.
result () {
	printf '%-36s %10s %-6s | %-20s %10s | ratio %-18s | goal: %-24s %s\n' \
		"$1" "$2" "$3" "$4" "$5" "$6" "$7" "$8"
	if [ -n "${BENCH_RESULTS:-}" ]; then
		printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$BENCH_RESULTS"
	fi
}

# met COND: "met" if the awk condition COND holds, else "NOT met".
met () {
	if awk "BEGIN { exit !($1) }"; then echo met; else echo 'NOT met'; fi
}

# interleave ROUNDS: runs the caller's run_a and run_b (each prints the
# microseconds it took) ROUNDS times, the order flipped every round so the
# VM's drift falls on both; keeps the times in $OUT/a and $OUT/b and each
# round's b/a in $OUT/ratios, and calls the caller's round_log R A B.
interleave () {
	local r a b
	: >"$OUT/a" && : >"$OUT/b" && : >"$OUT/ratios"
	for ((r = 1; r <= $1; r++)); do
		if ((r % 2)); then
			a=$(run_a) && b=$(run_b)
		else
			b=$(run_b) && a=$(run_a)
		fi
		if [ -z "$a" ] || [ -z "$b" ]; then bench_die "round $r failed"; fi
		echo "$a" >>"$OUT/a"
		echo "$b" >>"$OUT/b"
		calc "$b / $a" >>"$OUT/ratios"
		round_log "$r" "$a" "$b"
	done
}
