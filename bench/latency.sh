#!/usr/bin/env bash
# bench/latency.sh - the time a warm `flame run -- true` adds to `sh -c true`.
#
# Goal (issue): at most 2 ms added, median.
#
# How: one `flame run -- true` first so the default pool has a ready runner (and the
# warmer is up), then
#   hyperfine -N --warmup 20 --runs 300 --export-json OUT \
#       "$FLAME run -- true" "sh -c true"
# and the medians of the two commands are compared.  hyperfine runs the two
# commands one after the other (all runs of the first, then of the second); each
# takes a second or two, so the VM's drift over minutes does not matter here.
#
# Environment: LATENCY_RUNS (default 300), LATENCY_WARMUP (default 20).

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

need hyperfine jq

RUNS=${LATENCY_RUNS:-300}
WARMUP=${LATENCY_WARMUP:-20}

warm_pool

bench_log "hyperfine -N --warmup $WARMUP --runs $RUNS: flame run -- true vs sh -c true"
hyperfine -N --style basic --warmup "$WARMUP" --runs "$RUNS" \
	--export-json "$OUT/latency.json" \
	"$FLAME run -- true" "sh -c true" >&2 || bench_die 'hyperfine failed'

# Medians in ms (hyperfine reports seconds).
flame_ms=$(jq '.results[0].median * 1000' "$OUT/latency.json")
sh_ms=$(jq '.results[1].median * 1000' "$OUT/latency.json")
flame_mean=$(jq '.results[0].mean * 1000' "$OUT/latency.json")
sh_mean=$(jq '.results[1].mean * 1000' "$OUT/latency.json")
added=$(calc "$flame_ms - $sh_ms")
ratio=$(calc "$flame_ms / $sh_ms")

echo "latency: flame run -- true  median $(fmt "$flame_ms" 3) ms (mean $(fmt "$flame_mean" 3) ms)"
echo "latency: sh -c true         median $(fmt "$sh_ms" 3) ms (mean $(fmt "$sh_mean" 3) ms)"
echo "latency: added by flame     $(fmt "$added" 3) ms (median), ${RUNS} runs each"
result 'latency: run -- true, median' "$(fmt "$flame_ms" 3)" ms \
	'sh -c true, median' "$(fmt "$sh_ms" 3)" "$(fmt "$ratio" 2)x (+$(fmt "$added" 2) ms)" \
	'<= 2 ms added' "$(met "$added <= 2")"
