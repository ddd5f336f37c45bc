#!/usr/bin/env bash
# bench/map.sh - flame map against GNU parallel and against `xargs -P flame run`.
#
# Goals (issue 11):
#   1. 10,000 `true` jobs: `flame map -j8 true` at least 10x the jobs/s of
#      `parallel -j8 true` (both fed by `seq 10000`);
#   2. `seq 1000000 | flame map -j16 true`: the client's peak RSS <= 8 MiB, the
#      warmer's <= 16 MiB;
#   3. 100 ffmpeg thumbnail jobs as the README's example (each video sent, one
#      PNG fetched back): `flame map` no slower than `xargs -P 8 flame run`.
#   (Over ssh hosts, flame map is measured by bench/ssh.sh.)
#
# How:
#   1. one `flame map` of 16 jobs first (runners ready), then MAP_ROUNDS rounds of
#        A:  seq N | $FLAME map -j8 true
#        B:  seq N | parallel --will-cite -j8 true
#      interleaved (the order flips every round); jobs/s = N / median time.
#      For scale, once: seq N | xargs -P 8 -n 1 true (one process start per job
#      and nothing else: the floor of any tool that starts the command).
#   2. seq M | /usr/bin/time -f %M $FLAME map -j16 true (max RSS in KiB), then
#      VmHWM of the warmer from /proc before it is stopped.
#   3. a 2 s 320x240 test video made by ffmpeg, copied to 100 names; MAP_FF_ROUNDS
#      rounds (interleaved) of
#        A:  ls *.mp4 | $FLAME map -p ffmpeg --put {} --get {}.png -- ffmpeg ... -i {} -frames:v 1 {}.png
#        B:  ls *.mp4 | xargs -P 8 -I{} $FLAME run -p ffmpeg --put {} --get {}.png -- ffmpeg ... (the same)
#      in a pool of 2 runners x 4 slots; the PNGs are checked after each round.
#
# Environment: MAP_ROUNDS (3), MAP_JOBS (10000), MAP_MEM_JOBS (1000000: about
# 11 minutes at 1500 jobs/s), MAP_FF_ROUNDS (7), MAP_FF_JOBS (100).

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

need parallel xargs ffmpeg /usr/bin/time

ROUNDS=${MAP_ROUNDS:-3}
JOBS=${MAP_JOBS:-10000}
MEM_JOBS=${MAP_MEM_JOBS:-1000000}
FF_ROUNDS=${MAP_FF_ROUNDS:-7}
FF_JOBS=${MAP_FF_JOBS:-100}

cat >"$WORK/flame.json" <<'JSON'
{"pools": {"default": {"max": 4, "max_concurrency": 4, "idle_shutdown_after": "10m"},
           "ffmpeg": {"max": 2, "max_concurrency": 4, "idle_shutdown_after": "10m"}}}
JSON

# ------------------------------------------------------------ 1. 10,000 true ----
seq 16 | "$FLAME" map -j16 true || bench_die "flame map failed (exit $?)"
run_a () {
	local t0 t1
	t0=$(now_us)
	seq "$JOBS" | "$FLAME" map -j8 true || bench_die "flame map failed: ${PIPESTATUS[*]}"
	t1=$(now_us)
	echo $((t1 - t0))
}
run_b () {
	local t0 t1
	t0=$(now_us)
	seq "$JOBS" | parallel --will-cite -j8 true || bench_die "parallel failed: ${PIPESTATUS[*]}"
	t1=$(now_us)
	echo $((t1 - t0))
}
round_log () {
	bench_log "round $1: flame map $(calc "$JOBS * 1e6 / $2") jobs/s, parallel $(calc "$JOBS * 1e6 / $3") jobs/s"
}
bench_log "$ROUNDS rounds of $JOBS true jobs, flame map -j8 and parallel -j8 interleaved"
interleave "$ROUNDS"
cp "$OUT/ratios" "$OUT/ratios_true"
t0=$(now_us)
seq "$JOBS" | xargs -P 8 -n 1 true || bench_die "xargs true failed"
floor=$(calc "$JOBS * 1e6 / ($(now_us) - $t0)")
map_jps=$(calc "$JOBS * 1e6 / $(median <"$OUT/a")")
par_jps=$(calc "$JOBS * 1e6 / $(median <"$OUT/b")")
ratio=$(calc "$map_jps / $par_jps")

# ------------------------------------------------------------ 2. memory ---------
bench_log "seq $MEM_JOBS | flame map -j16 true under /usr/bin/time"
t0=$(now_us)
seq "$MEM_JOBS" | /usr/bin/time -f %M -o "$OUT/map_rss" "$FLAME" map -j16 true ||
	bench_die "flame map of $MEM_JOBS jobs failed: ${PIPESTATUS[*]}"
mem_s=$(calc "($(now_us) - $t0) / 1e6")
client_kib=$(tail -n 1 "$OUT/map_rss")
w=$(warmer_pid)
[ -n "$w" ] || bench_die "no warmer after the batch"
warmer_kib=$(proc_kib "$w" VmHWM)
bench_log "$MEM_JOBS jobs in $(fmt "$mem_s" 1) s; client max RSS $client_kib KiB, warmer VmHWM $warmer_kib KiB"

# ------------------------------------------------------------ 3. ffmpeg ---------
mkdir -p "$WORK/ff" || bench_die "cannot make $WORK/ff"
cd "$WORK/ff" || bench_die "cannot cd to $WORK/ff"
ffmpeg -loglevel error -f lavfi -i testsrc=duration=2:size=320x240:rate=10 -pix_fmt yuv420p src.mp4 ||
	bench_die "ffmpeg could not make the test video"
for ((i = 1; i <= FF_JOBS; i++)); do cp src.mp4 "$(printf 'v%03d.mp4' "$i")"; done
rm -f src.mp4
"$FLAME" map -p ffmpeg -j8 true ::: 1 2 3 4 5 6 7 8 || bench_die "warming the ffmpeg pool failed"
check_pngs () {
	local n
	n=$(find . -name '*.png' -size +0 | wc -l)
	[ "$n" -eq "$FF_JOBS" ] || bench_die "$1: $n PNGs of $FF_JOBS"
	rm -f ./*.png
}
run_a () {
	local t0 t1
	t0=$(now_us)
	# shellcheck disable=SC2012 # the names are v001.mp4 ...: ls is what the README does
	ls ./*.mp4 | "$FLAME" map -p ffmpeg --put '{}' --get '{/}.png' \
		-- ffmpeg -loglevel error -i '{/}' -frames:v 1 '{/}.png' || bench_die "flame map ffmpeg failed"
	t1=$(now_us)
	check_pngs "flame map"
	echo $((t1 - t0))
}
run_b () {
	local t0 t1
	t0=$(now_us)
	# shellcheck disable=SC2012,SC2011 # as above
	ls -- *.mp4 | xargs -P 8 -I{} "$FLAME" run -p ffmpeg --put {} --get {}.png \
		-- ffmpeg -loglevel error -i {} -frames:v 1 {}.png || bench_die "xargs flame run ffmpeg failed"
	t1=$(now_us)
	check_pngs "xargs flame run"
	echo $((t1 - t0))
}
round_log () {
	bench_log "round $1: flame map $(fmt "$(calc "$2 / 1e6")" 2) s, xargs -P 8 flame run $(fmt "$(calc "$3 / 1e6")" 2) s"
}
bench_log "$FF_ROUNDS rounds of $FF_JOBS ffmpeg thumbnails, flame map and xargs -P 8 flame run interleaved"
interleave "$FF_ROUNDS"
ff_map=$(calc "$(median <"$OUT/a") / 1e6")
ff_xargs=$(calc "$(median <"$OUT/b") / 1e6")
cd "$WORK" || bench_die "cannot cd to $WORK"

# ------------------------------------------------------------ report -------------
echo "map: $JOBS x true, flame map -j8 $(fmt "$map_jps" 0) jobs/s, parallel -j8 $(fmt "$par_jps" 0) jobs/s: $(fmt "$ratio" 2)x (per-round median $(fmt "$(median <"$OUT/ratios_true")" 2)x); floor xargs -P8 true $(fmt "$floor" 0) jobs/s"
echo "map: seq $MEM_JOBS | flame map -j16 true: $(fmt "$mem_s" 0) s, client max RSS $client_kib KiB, warmer VmHWM $warmer_kib KiB"
echo "map: $FF_JOBS ffmpeg thumbnails: flame map $(fmt "$ff_map" 2) s, xargs -P 8 flame run $(fmt "$ff_xargs" 2) s"
result "map: $JOBS x true, -j8" "$(fmt "$map_jps" 0)" jobs/s \
	'parallel -j8' "$(fmt "$par_jps" 0)" "$(fmt "$ratio" 2)x" \
	'>= 10x parallel' "$(met "$ratio >= 10")"
result "map: floor (xargs -P8 true)" "$(fmt "$floor" 0)" jobs/s \
	'flame map/floor' '-' "$(fmt "$(calc "$map_jps / $floor")" 2)x" \
	'none (reported)' '-'
result "map: client RSS, $MEM_JOBS jobs" "$(fmt "$(calc "$client_kib / 1024")" 2)" MiB \
	'-' '-' '-' '<= 8 MiB' "$(met "$client_kib <= 8192")"
result "map: warmer VmHWM, $MEM_JOBS jobs" "$(fmt "$(calc "$warmer_kib / 1024")" 2)" MiB \
	'-' '-' '-' '<= 16 MiB' "$(met "$warmer_kib <= 16384")"
result "map: $FF_JOBS ffmpeg thumbnails" "$(fmt "$ff_map" 2)" s \
	'xargs -P8 flame run' "$(fmt "$ff_xargs" 2)" "$(fmt "$(calc "$ff_map / $ff_xargs")" 3)x" \
	'<= 1x (no slower)' "$(met "$ff_map <= $ff_xargs")"
