#!/usr/bin/env bash
# bench/throughput.sh - 1 GiB through `flame run -- cat` against plain `cat`.
#
# Goal (issue): flame at least 0.9x the throughput of plain cat.
#
# How: after one `flame run -- true` (so a runner is ready), ROUNDS rounds of
#   A:  head -c 1073741824 /dev/zero | "$FLAME" run -- cat > /dev/null
#   B:  head -c 1073741824 /dev/zero | cat > /dev/null
# each pipeline timed by bash (EPOCHREALTIME around it).  The two are interleaved,
# and the order flips every round (A B, B A, A B, ...) so that the VM's slow drift
# (+-15-30 % over minutes) hits both alike; the figure is the median over the
# rounds of each, as MB/s (10^6 bytes per second), and the ratio is of the medians.
# The median of the per-round ratios (each round's two runs are seconds apart)
# is printed too, as a cross-check that is less sensitive to drift.
# With flame, cat runs on the runner but reads the caller's pipe and writes the
# caller's /dev/null directly (the descriptors are passed), so the data does not
# go through flame.
#
# Environment: THROUGHPUT_ROUNDS (default 30), THROUGHPUT_BYTES (default 1 GiB).

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

ROUNDS=${THROUGHPUT_ROUNDS:-30}
BYTES=${THROUGHPUT_BYTES:-1073741824}

warm_pool

# run_a / run_b: one pipeline each; print the elapsed microseconds.
run_a () {
	local t0 t1
	t0=$(now_us)
	head -c "$BYTES" /dev/zero | "$FLAME" run -- cat >/dev/null || bench_die "flame pipeline failed: ${PIPESTATUS[*]}"
	t1=$(now_us)
	echo $((t1 - t0))
}
run_b () {
	local t0 t1
	t0=$(now_us)
	head -c "$BYTES" /dev/zero | cat >/dev/null || bench_die "cat pipeline failed: ${PIPESTATUS[*]}"
	t1=$(now_us)
	echo $((t1 - t0))
}

round_log () {
	bench_log "round $1: flame $(calc "$BYTES / $2") MB/s, cat $(calc "$BYTES / $3") MB/s"
}
bench_log "$ROUNDS rounds of $BYTES bytes, flame run -- cat and cat interleaved"
interleave "$ROUNDS"

a_us=$(median <"$OUT/a")
b_us=$(median <"$OUT/b")
a_mbs=$(calc "$BYTES / $a_us")
b_mbs=$(calc "$BYTES / $b_us")
paired=$(median <"$OUT/ratios")
ratio=$(calc "$a_mbs / $b_mbs")
read -r a_lo a_hi < <(minmax <"$OUT/a")
read -r b_lo b_hi < <(minmax <"$OUT/b")

echo "throughput: flame run -- cat  median $(fmt "$a_mbs" 0) MB/s (range $(fmt "$(calc "$BYTES / $a_hi")" 0)-$(fmt "$(calc "$BYTES / $a_lo")" 0)), $ROUNDS runs"
echo "throughput: cat               median $(fmt "$b_mbs" 0) MB/s (range $(fmt "$(calc "$BYTES / $b_hi")" 0)-$(fmt "$(calc "$BYTES / $b_lo")" 0)), $ROUNDS runs"
echo "throughput: ratio flame/cat   $(fmt "$ratio" 3) (median of per-round ratios: $(fmt "$paired" 3))"
result 'throughput: run -- cat, 1 GiB' "$(fmt "$a_mbs" 0)" MB/s \
	'cat' "$(fmt "$b_mbs" 0)" "$(fmt "$ratio" 3)x" \
	'>= 0.9x cat' "$(met "$ratio >= 0.9")"
