#!/usr/bin/env bash
# bench/memory.sh - peak memory (max RSS) of the flame CLI, the warmer and the
# runners' agents.
#
# Goals (issue): CLI <= 4 MiB, warmer <= 8 MiB (peak resident set size).
# The agent (a runner's main process) has no goal; it is reported.
#
# How:
#   CLI:    /usr/bin/time -f %M "$FLAME" run -- true, CLI_RUNS times (default 30)
#           after one warm-up run, and once as
#           head -c 1073741824 /dev/zero | /usr/bin/time -f %M "$FLAME" run -- cat >/dev/null;
#           the figure is the largest %M (GNU time's max RSS in KiB) of all these.
#           Peer, for scale: /usr/bin/time -f %M sh -c true (largest of CLI_RUNS).
#   warmer: after the 1000-job fan-out (seq 1000 | xargs -P 8 -I{} flame run -- true)
#           and the 1 GiB pipe (head -c 1073741824 /dev/zero | flame run -- cat)
#           have run through it, VmHWM from /proc/PID/status, PID from the first
#           line of `flame warmer status`; read before the warmer is stopped.
#   agents: VmHWM of every "flame agent local ..." process whose parent is the
#           warmer (the runners' main processes), read at the same moment; the
#           figure is the largest.
#
# Environment: CLI_RUNS (default 30), MEMORY_JOBS (default 1000),
# MEMORY_BYTES (default 1 GiB).

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

[ -x /usr/bin/time ] || bench_die '/usr/bin/time (GNU time) is needed'
need xargs

CLI_RUNS=${CLI_RUNS:-30}
JOBS=${MEMORY_JOBS:-1000}
BYTES=${MEMORY_BYTES:-1073741824}

warm_pool

# ---- CLI
: >"$OUT/cli" && : >"$OUT/sh"
for ((i = 1; i <= CLI_RUNS; i++)); do
	/usr/bin/time -f %M -o "$OUT/t" "$FLAME" run -- true || bench_die 'flame run -- true failed'
	cat "$OUT/t" >>"$OUT/cli"
	/usr/bin/time -f %M -o "$OUT/t" sh -c true || bench_die 'sh -c true failed'
	cat "$OUT/t" >>"$OUT/sh"
done
head -c "$BYTES" /dev/zero | /usr/bin/time -f %M -o "$OUT/t" "$FLAME" run -- cat >/dev/null ||
	bench_die "flame run -- cat failed: ${PIPESTATUS[*]}"
cli_cat=$(cat "$OUT/t")
cli_true_med=$(median <"$OUT/cli")
echo "$cli_cat" >>"$OUT/cli"
read -r _ cli_max < <(minmax <"$OUT/cli")
read -r _ sh_max < <(minmax <"$OUT/sh")

echo "memory: CLI flame run -- true   max RSS median $cli_true_med KiB over $CLI_RUNS runs"
echo "memory: CLI flame run -- cat    max RSS $cli_cat KiB (1 GiB through it)"
echo "memory: CLI largest             $cli_max KiB ($(fmt "$(calc "$cli_max / 1024")" 2) MiB)"
echo "memory: sh -c true              max RSS largest $sh_max KiB"

# ---- warmer and agents, after the two workloads
bench_log "fan-out: $JOBS x flame run -- true via xargs -P 8"
seq "$JOBS" | xargs -P 8 -I{} "$FLAME" run -- true || bench_die "fan-out failed: ${PIPESTATUS[*]}"
bench_log "pipe: $BYTES bytes through flame run -- cat"
head -c "$BYTES" /dev/zero | "$FLAME" run -- cat >/dev/null || bench_die "pipe failed: ${PIPESTATUS[*]}"

wpid=$(warmer_pid)
[ -n "$wpid" ] || bench_die 'no warmer is running after the workloads'
w_hwm=$(proc_kib "$wpid" VmHWM)
w_rss=$(proc_kib "$wpid" VmRSS)
[ -n "$w_hwm" ] || bench_die "cannot read VmHWM of the warmer (pid $wpid)"
echo "memory: warmer pid $wpid        VmHWM $w_hwm KiB ($(fmt "$(calc "$w_hwm / 1024")" 2) MiB), VmRSS now $w_rss KiB"

a_max=0
n_agents=0
for p in $(agent_pids); do
	h=$(proc_kib "$p" VmHWM)
	[ -n "$h" ] || continue
	n_agents=$((n_agents + 1))
	echo "memory: agent pid $p          VmHWM $h KiB, VmRSS now $(proc_kib "$p" VmRSS) KiB"
	((h > a_max)) && a_max=$h
done
[ "$n_agents" -gt 0 ] || bench_die 'no runner (flame agent local) found under the warmer'

result 'memory: CLI peak RSS' "$(fmt "$(calc "$cli_max / 1024")" 2)" MiB \
	'sh -c true' "$(fmt "$(calc "$sh_max / 1024")" 2)" "$(fmt "$(calc "$cli_max / $sh_max")" 2)x" \
	'<= 4 MiB' "$(met "$cli_max <= 4096")"
result 'memory: warmer VmHWM' "$(fmt "$(calc "$w_hwm / 1024")" 2)" MiB \
	'-' '-' '-' '<= 8 MiB' "$(met "$w_hwm <= 8192")"
result "memory: agent VmHWM (max of $n_agents)" "$(fmt "$(calc "$a_max / 1024")" 2)" MiB \
	'-' '-' '-' 'none (reported)' '-'
