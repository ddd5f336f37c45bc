#!/usr/bin/env bash
# bench/run-all.sh - run every benchmark once and print a summary table
# (`make bench` runs this).
#
# Runs latency.sh, throughput.sh, fanout.sh, memory.sh, ssh.sh, fly.sh and map.sh in turn, each in its own
# private root (see lib.sh), then prints one row per figure: the flame figure, the
# figure it is compared with, the ratio, the goal, and whether the goal is met.
# A goal not met does not make this fail (benchmarks are not tests); it exits
# non-zero only when a benchmark could not measure.
#
# Rounds are set for a total of a few minutes on a 2-core VM; override them with
# the variables each script documents (LATENCY_RUNS, THROUGHPUT_ROUNDS,
# FANOUT_ROUNDS, CLI_RUNS, ...).

set -u
export LC_ALL=C

here=$(cd "$(dirname "$0")" && pwd -P) || exit 1
root=$(cd "$here/.." && pwd -P) || exit 1

if [ ! -x "$root/flame" ]; then
	echo "run-all: $root/flame is missing; running make" >&2
	make -C "$root" flame >&2 || exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/flame-bench-all.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
BENCH_RESULTS=$tmp/results
: >"$BENCH_RESULTS"
# One snapshot of the binary for every script: others may rebuild ./flame meanwhile.
cp "$root/flame" "$tmp/flame" || exit 1
# ssh.sh and fly.sh need flame-link next to the flame they run.
if [ ! -x "$root/flame-link" ]; then
	echo "run-all: $root/flame-link is missing; running make" >&2
	make -C "$root" flame-link >&2 || exit 1
fi
cp "$root/flame-link" "$tmp/flame-link" || exit 1
FLAME_BENCH_BIN=$tmp/flame
export BENCH_RESULTS FLAME_BENCH_BIN

echo "flame benchmarks, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "flame: copy of $root/flame ($("$FLAME_BENCH_BIN" --version 2>/dev/null | head -n 1), sha256 $(sha256sum <"$FLAME_BENCH_BIN" | cut -c1-12), git $(git -C "$root" describe --always --dirty 2>/dev/null || echo '?'))"
echo "machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1), kernel $(uname -r)"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo

failed=()
start=$SECONDS
for b in latency throughput fanout memory ssh fly map; do
	echo "== $b"
	t0=$SECONDS
	if ! "$here/$b.sh"; then
		failed+=("$b")
		echo "run-all: $b.sh FAILED (exit status above)" >&2
	fi
	echo "   ($b took $((SECONDS - t0)) s)"
	echo
done

echo "== summary (total $((SECONDS - start)) s; load average after: $(cut -d' ' -f1-3 /proc/loadavg))"
echo
{
	printf 'figure\tflame\tunit\tpeer\tpeer value\tratio\tgoal\tgoal met?\n'
	cat "$BENCH_RESULTS"
} | awk -F'\t' '
	{ for (i = 1; i <= NF; i++) { c[NR, i] = $i; if (length($i) > w[i]) w[i] = length($i) } n = NR; nf = (NF > nf ? NF : nf) }
	END {
		for (r = 1; r <= n; r++) {
			line = ""
			for (i = 1; i <= nf; i++) {
				f = (i == 2 || i == 5) ? "%" w[i] "s" : "%-" w[i] "s"
				line = line sprintf(f, c[r, i]) (i < nf ? "  " : "")
			}
			sub(/ +$/, "", line); print line
			if (r == 1) { s = ""; for (i = 1; i <= nf; i++) { for (k = 0; k < w[i]; k++) s = s "-"; s = s (i < nf ? "  " : "") } print s }
		}
	}'

if [ ${#failed[@]} -gt 0 ]; then
	echo
	echo "run-all: could not measure: ${failed[*]}" >&2
	exit 1
fi
