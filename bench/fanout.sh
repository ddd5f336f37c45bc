#!/usr/bin/env bash
# bench/fanout.sh - 1000 `true` jobs through `xargs -P 8 flame run` against
# GNU parallel -j8.
#
# Goal (issue): flame at least 5x GNU parallel's jobs per second.
#
# How: after one `flame run -- true` (so the default pool, max 4 runners x
# max_concurrency 4 = 16 slots, has a ready runner), ROUNDS rounds of
#   A:  seq 1000 | xargs -P 8 -I{} "$FLAME" run -- true
#   B:  seq 1000 | parallel --will-cite -j8 true
# each timed by bash (EPOCHREALTIME around the pipeline), interleaved with the
# order flipped every round (A B, B A, ...); the figure is 1000 / median time
# in jobs per second, and the ratio is of the two medians.  The median of the
# per-round ratios is printed too, as a cross-check less sensitive to drift.
#
# For scale it also times, once each, the floor any tool pays when xargs
# starts one client process per job that then starts the command:
#   C:  seq 1000 | xargs -P 8 -I{} env true      (two process starts per job)
#   D:  seq 1000 | xargs -P 8 -I{} true          (one process start per job)
#
# Environment: FANOUT_ROUNDS (default 10), FANOUT_JOBS (default 1000),
# FANOUT_P (default 8).

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

need parallel xargs

ROUNDS=${FANOUT_ROUNDS:-10}
JOBS=${FANOUT_JOBS:-1000}
P=${FANOUT_P:-8}

warm_pool

run_a () {
	local t0 t1
	t0=$(now_us)
	seq "$JOBS" | xargs -P "$P" -I{} "$FLAME" run -- true || bench_die "xargs flame run failed: ${PIPESTATUS[*]}"
	t1=$(now_us)
	echo $((t1 - t0))
}
run_b () {
	local t0 t1
	t0=$(now_us)
	seq "$JOBS" | parallel --will-cite -j"$P" true || bench_die "parallel failed: ${PIPESTATUS[*]}"
	t1=$(now_us)
	echo $((t1 - t0))
}

round_log () {
	bench_log "round $1: flame $(calc "$JOBS * 1e6 / $2") jobs/s, parallel $(calc "$JOBS * 1e6 / $3") jobs/s"
}
bench_log "$ROUNDS rounds of $JOBS jobs, xargs -P $P flame run and parallel -j$P interleaved"
interleave "$ROUNDS"

run_floor () {
	local t0 t1
	t0=$(now_us)
	seq "$JOBS" | xargs -P "$P" -I{} "$@" || bench_die "xargs $* failed"
	t1=$(now_us)
	echo $((t1 - t0))
}
c_us=$(run_floor env true)
d_us=$(run_floor true)

a_us=$(median <"$OUT/a")
b_us=$(median <"$OUT/b")
a_jps=$(calc "$JOBS * 1e6 / $a_us")
b_jps=$(calc "$JOBS * 1e6 / $b_us")
paired=$(median <"$OUT/ratios")
ratio=$(calc "$a_jps / $b_jps")
read -r a_lo a_hi < <(minmax <"$OUT/a")
read -r b_lo b_hi < <(minmax <"$OUT/b")

echo "fanout: xargs -P $P flame run  median $(fmt "$a_jps" 0) jobs/s (range $(fmt "$(calc "$JOBS * 1e6 / $a_hi")" 0)-$(fmt "$(calc "$JOBS * 1e6 / $a_lo")" 0)), $ROUNDS runs of $JOBS jobs"
echo "fanout: parallel -j$P           median $(fmt "$b_jps" 0) jobs/s (range $(fmt "$(calc "$JOBS * 1e6 / $b_hi")" 0)-$(fmt "$(calc "$JOBS * 1e6 / $b_lo")" 0)), $ROUNDS runs of $JOBS jobs"
echo "fanout: floor, xargs -P $P env true  $(fmt "$(calc "$JOBS * 1e6 / $c_us")" 0) jobs/s (two process starts per job, nothing else)"
echo "fanout: floor, xargs -P $P true      $(fmt "$(calc "$JOBS * 1e6 / $d_us")" 0) jobs/s (one process start per job)"
echo "fanout: ratio flame/parallel   $(fmt "$ratio" 2) (median of per-round ratios: $(fmt "$paired" 2))"
result "fanout: $JOBS x true, -P $P" "$(fmt "$a_jps" 0)" jobs/s \
	"parallel -j$P" "$(fmt "$b_jps" 0)" "$(fmt "$ratio" 2)x" \
	'>= 5x parallel' "$(met "$ratio >= 5")"
result "fanout: floor (xargs env true)" "$(fmt "$(calc "$JOBS * 1e6 / $c_us")" 0)" jobs/s \
	"flame/floor" "-" "$(fmt "$(calc "$a_jps * $c_us / ($JOBS * 1e6)")" 2)x" \
	'none (reported)' "-"
