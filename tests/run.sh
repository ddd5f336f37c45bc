#!/bin/bash
# tests/run.sh - run flame's whole test suite (what `make check` calls).
#
#   tests/run.sh --flame ABS_PATH --san-flame ABS_PATH [options] [UNIT_BIN...]
#
# 1. every UNIT_BIN (a cmocka test program) is run; its "[  PASSED  ] N test(s)."
#    and "[  FAILED  ] N test(s)" lines are counted (a crash or a nonzero exit with
#    no counts is 1 failure);
# 2. every tests/t/t*.sh runs with FLAME=<--flame>, then again with
#    FLAME=<--san-flame> and ASAN_OPTIONS/UBSAN_OPTIONS set; "ok" and "not ok" lines
#    are counted (a file that exits nonzero without a "not ok" line is 1 failure);
# 3. the run-semantics files (t00*, file transfers included) run again with
#    FLAME_TEST_BACKEND=ssh, then =fly: the same tests over the ssh backend and
#    over the fly backend against the fake Machines API (tests/lib.sh).
#
# Options:
#   --only GLOB   run only the test files whose name matches GLOB (e.g. 't00*')
#   --no-san      skip the sanitizer pass
#   -j N          run up to N test files at a time (default 1; at most 2 is sane)
#   -v            print the whole output of every test file, not just failures
#
# Everything the tests make lives under one temporary directory (TMPDIR for them
# all); at the end, a process still running with that directory in its command
# line, working directory or environment was left behind by a test: it is listed,
# killed, and counted as 1 failure.
#
# The last line printed is always "N passed, M failed"; the exit status is 0 iff M is 0.

set -u

flame='' san_flame='' only='t*' jobs=1 verbose='' no_san=''
units=()
while [ $# -gt 0 ]; do
	case $1 in
	--flame) flame=${2-}; shift 2 || exit 2 ;;
	--san-flame) san_flame=${2-}; shift 2 || exit 2 ;;
	--only) only=${2-}; shift 2 || exit 2 ;;
	--no-san) no_san=1; shift ;;
	-j) jobs=${2-}; shift 2 || exit 2 ;;
	-v) verbose=1; shift ;;
	-h | --help) sed -n '2,20s/^# \{0,1\}//p' "$0"; exit 0 ;;
	--) shift; units+=("$@"); break ;;
	-*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
	*) units+=("$1"); shift ;;
	esac
done
case $jobs in '' | *[!0-9]* | 0) echo "run.sh: -j needs a number >= 1" >&2; exit 2 ;; esac

here=$(cd "$(dirname "$0")" && pwd)
outdir=$(mktemp -d "${TMPDIR:-/tmp}/flame-run.XXXXXX") || exit 2
outdir=$(cd "$outdir" && pwd -P) || exit 2
trap 'rm -rf "$outdir"' EXIT
# the test files' roots (tests/lib.sh) and anything else they make go here
mkdir "$outdir/tmp" || exit 2
export TMPDIR="$outdir/tmp"
trap 'exit 130' INT
trap 'exit 143' TERM

passed=0
failed=0

# ---------------------------------------------------------------- unit tests ----
for bin in ${units[@]+"${units[@]}"}; do
	name=unit/$(basename "$bin")
	out=$outdir/unit.out
	rc=0
	if [ -x "$bin" ]; then
		timeout -k 5 300 "$bin" >"$out" 2>&1 </dev/null || rc=$?
	else
		echo "not executable: $bin" >"$out"
		rc=127
	fi
	p=$(sed -n 's/^\[  PASSED  \] \([0-9][0-9]*\) test.*/\1/p' "$out" | tail -n 1)
	f=$(sed -n 's/^\[  FAILED  \] \([0-9][0-9]*\) test.*/\1/p' "$out" | tail -n 1)
	p=${p:-0}
	f=${f:-0}
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	if [ "$f" -ne 0 ] || [ -n "$verbose" ]; then
		sed 's/^/    /' "$out"
	fi
	echo "# $name: $p passed, $f failed$([ "$rc" -ne 0 ] && echo " (exit $rc)")"
done

# --------------------------------------------------------- integration tests ----
tests=()
for t in "$here"/t/$only; do
	case $t in *.sh) ;; *) continue ;; esac
	[ -f "$t" ] && tests+=("$t")
done

# run_one LABEL FLAME TESTFILE OUTFILE [san] [backend]
run_one () {
	local label=$1 bin=$2 t=$3 out=$4 san=${5-} backend=${6-} rc=0
	(
		export FLAME="$bin"
		if [ -n "$backend" ]; then
			export FLAME_TEST_BACKEND="$backend"
		else
			unset FLAME_TEST_BACKEND
		fi
		if [ -n "$san" ]; then
			export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=86
			export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:exitcode=87
		else
			unset ASAN_OPTIONS UBSAN_OPTIONS
		fi
		# a background job of a non-interactive shell starts with SIGINT and SIGQUIT
		# ignored; give the test files (and the warmers they start) the defaults
		exec python3 -c 'import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
signal.signal(signal.SIGQUIT, signal.SIG_DFL)
os.execvp(sys.argv[1], sys.argv[1:])' timeout -k 10 900 bash "$t"
	) >"$out" 2>&1 </dev/null || rc=$?
	echo "$rc" >"$out.rc"
	: "$label"
}

# report LABEL OUTFILE: add a finished file's counts to the totals and print it.
report () {
	local label=$1 out=$2 rc p f
	rc=$(cat "$out.rc" 2>/dev/null || echo 1)
	p=$(grep -c '^ok ' "$out")
	f=$(grep -c '^not ok ' "$out")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	if [ -n "$verbose" ]; then
		sed 's/^/    /' "$out"
	elif [ "$f" -ne 0 ]; then
		# the failing tests with their diagnostics, and anything that is not TAP
		awk '/^not ok /{show=1; print "    " $0; next}
		     /^ok /{show=0; next}
		     /^#/{if (show) print "    " $0; next}
		     {show=0; print "    " $0}' "$out" | grep -v '^    # t[0-9].*: [0-9]* passed, [0-9]* failed$'
	fi
	echo "# $label: $p passed, $f failed$([ "$rc" -ne 0 ] && echo " (exit $rc)")"
}

passes=()
passes+=("plain|$flame||")
[ -n "$no_san" ] || passes+=("san|$san_flame|1|")
# The run-semantics tests (t00*), --put and --get included, once more over
# the ssh backend, against a private sshd.
passes+=("ssh|$flame||ssh")
# ... and over the fly backend, against the fake Machines API (tests/fakes/),
# each runner a local `flame agent` with its own sshd.
passes+=("fly|$flame||fly")

for pass in "${passes[@]}"; do
	IFS='|' read -r pname pbin psan pbackend <<<"$pass"
	if [ -z "$pbin" ] || [ ! -x "$pbin" ]; then
		echo "# $pname: flame binary '$pbin' is missing or not executable"
		failed=$((failed + 1))
		continue
	fi
	if [ ${#tests[@]} -eq 0 ]; then
		echo "# no test files match tests/t/$only"
		failed=$((failed + 1))
		continue
	fi
	labels=()
	i=0
	for t in "${tests[@]}"; do
		if [ -n "$pbackend" ]; then
			case $(basename "$t") in t00*) ;; *) continue ;; esac
		fi
		i=$((i + 1))
		label="$pname/$(basename "$t")"
		out="$outdir/$pname.$i.out"
		if [ "$jobs" -eq 1 ]; then
			run_one "$label" "$pbin" "$t" "$out" "$psan" "$pbackend"
			report "$label" "$out"
			continue
		fi
		run_one "$label" "$pbin" "$t" "$out" "$psan" "$pbackend" &
		labels+=("$label|$out")
		while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do
			wait -n 2>/dev/null || :
		done
	done
	wait
	for lo in ${labels[@]+"${labels[@]}"}; do
		report "${lo%%|*}" "${lo#*|}"
	done
done

# ---------------------------------------------------------------- leftovers ----
# left_behind: "PID CMDLINE" of every process (but this one's ancestors) whose
# command line, working directory or environment names $TMPDIR, for up to 5 s
# until there are none (a process may be on its way out).
left_behind () {
	python3 "$here/tools/root_procs.py" "$TMPDIR" left 5
}

left=$(left_behind)
if [ -n "$left" ]; then
	printf '%s\n' "$left" | sed 's/^/    /'
	echo "# processes left behind by the tests: $(printf '%s\n' "$left" | wc -l)"
	failed=$((failed + 1))
	# shellcheck disable=SC2046
	kill -KILL $(printf '%s\n' "$left" | cut -d' ' -f1) 2>/dev/null
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
