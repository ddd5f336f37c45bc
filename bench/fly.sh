#!/usr/bin/env bash
# bench/fly.sh - the fly backend against the fake Machines API
# (tests/fakes/fly_api.py): cold start, API requests per warm job, and
# machine-seconds over job-seconds for a bursty workload.
#
# The fake runs in this script's private root (started with tests/lib-fly.sh's
# fly_fake_start, its state under $BENCH_ROOT/fake); every "machine" is a local
# `flame agent` (the copy of flame measured, with flame-link next to it)
# whose sshd listens on its own 127.0.0.N at a random port. HOME and the XDG
# directories are private too, so the user's warmer is never touched. The fake
# runs with its rate limits on (FLY_RATE_LIMIT) and in its own session; pools:
# default (max 4 x max_concurrency 4, idle 10m), one (1 x 1, idle 10m), burst
# (4 x 4, idle 3s); FLY_API_TOKEN is the fake's token. At exit, also on Ctrl-C:
# `flame warmer stop`, a wait (10 s at most) until no machine and no link is
# left, SIGTERM to the fake (it kills whatever machine remains), then lib.sh's
# cleanup (the root's processes, by pid, and the root).
#
# 1. cold start: the fake's boot_delay is set to D s (FLY_BOOT_DELAY, 2); COLD
#    rounds of: no warmer and no machine, then
#      first_byte $FLAME run -p default -- echo x
#    (a Python helper spawns it and takes the time of the first byte of its
#    stdout), then `flame warmer stop` and a wait until the fake holds no
#    machine (every machine "destroyed") and the warmer is gone.
#    Overhead = first byte - D; median over the rounds (pool default:
#    max_concurrency 4), and its parts from the fake's timestamps and the
#    machine's files: start -> machine created, created -> started (minus D),
#    started -> the agent's sshd listens (its pid file), sshd -> first byte.
#    Then COLD1 rounds the same in pool `one` (max_concurrency 1), and COLDW
#    rounds in pool `idle` (4 x 4, idle_shutdown_after 1s) with the warmer
#    already up, as after any call in the last minute: each round waits until
#    the runner of the round before has idled out and its machine is gone.
#    The floor, first_byte sh -c 'echo x', is measured the same way (FLOOR_RUNS
#    times); so is a warm `flame run -- echo x` (WARM_RUNS times, a runner up).
# 2. requests per warm job: one job boots a runner, then the lines of the
#    fake's requests.jsonl are counted before and after
#      seq JOBS | xargs -P 4 -I{} $FLAME run -- true
#    requests / job, with the requests seen listed by method and path; then
#    again after IDLE_WATCH s with the runner idle.
# 3. bursty workload: pool `burst` (max 4, max_concurrency 4,
#    idle_shutdown_after 3s), no warmer at first; BURSTS bursts, starting
#    BURST_GAP s apart, of
#      seq BURST_JOBS | xargs -P BURST_JOBS -I{} $FLAME run -p burst -- sleep 1
#    then a wait until the fake holds no machine. Machine-seconds = the sum of
#    run_seconds (time with a running main process) over the pool's machines;
#    job-seconds = jobs x 1 s. The floor is 1 / max_concurrency (every slot of
#    every machine busy for all of its life).
#
# The fake's boot_delay stays D for parts 2 and 3.
#
# Environment: FLY_BOOT_DELAY (2), FLY_COLD_ROUNDS (7), FLY_COLD1_ROUNDS (3), FLY_COLDW_ROUNDS (5),
# FLY_FLOOR_RUNS (20),
# FLY_WARM_RUNS (20), FLY_STEADY_JOBS (200), FLY_IDLE_WATCH (10), FLY_BURSTS (3),
# FLY_BURST_JOBS (16), FLY_BURST_GAP (5), FLY_RATE_LIMIT (1: the fake's rate
# limits on, as on Fly; 0: off).

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

need jq curl xargs

# Resolve python3 before HOME changes (pyenv shims depend on it), as tests/lib.sh does.
if [ -x /usr/bin/python3 ]; then PYTHON=/usr/bin/python3; else PYTHON=$(command -v python3) || need python3; fi

D=${FLY_BOOT_DELAY:-2}
COLD=${FLY_COLD_ROUNDS:-7}
COLD1=${FLY_COLD1_ROUNDS:-3}
COLDW=${FLY_COLDW_ROUNDS:-5}
FLOOR_RUNS=${FLY_FLOOR_RUNS:-20}
WARM_RUNS=${FLY_WARM_RUNS:-20}
JOBS=${FLY_STEADY_JOBS:-200}
BURSTS=${FLY_BURSTS:-3}
BURST_JOBS=${FLY_BURST_JOBS:-16}
BURST_GAP=${FLY_BURST_GAP:-5}
IDLE_WATCH=${FLY_IDLE_WATCH:-10}
case ${FLY_RATE_LIMIT:-1} in 1) RATE_LIMIT=true ;; 0) RATE_LIMIT=false ;; *) bench_die 'FLY_RATE_LIMIT is 1 or 0' ;; esac

# ------------------------------------------------------------ binaries -----------
# The fly backend's runner link (flame-link) must sit next to the flame that runs.
mkdir -p "$BENCH_ROOT/flybin" || bench_die 'mkdir failed'
cp "$FLAME" "$BENCH_ROOT/flybin/flame" || bench_die "cannot copy $FLAME"
for l in "$(dirname "$FLAME")/flame-link" "$SRC_ROOT/flame-link" ''; do
	[ -n "$l" ] || bench_die 'flame-link is missing (make flame-link)'
	[ -x "$l" ] && cp "$l" "$BENCH_ROOT/flybin/" && break
done
FLAME=$BENCH_ROOT/flybin/flame

# ------------------------------------------------------------ the fake -----------
export HOME=$BENCH_ROOT/home
TEST_ROOT=$BENCH_ROOT
TEST_DIRECTORY=$SRC_ROOT/tests
FAKE=$BENCH_ROOT/fake
WARMER_LOG=$XDG_STATE_HOME/flame/warmer.log

# wait_for COND SECONDS: poll the shell condition COND every 50 ms (tests/lib-fly.sh uses it).
wait_for () {
	local end=$((SECONDS + ${2:-10} + 1))
	until eval "$1" >/dev/null 2>&1; do
		[ "$SECONDS" -lt "$end" ] || return 1
		sleep 0.05
	done
}
# shellcheck source-path=SCRIPTDIR source=../tests/lib-fly.sh
. "$SRC_ROOT/tests/lib-fly.sh"

_fly_cleanup () {
	local pid i
	pid=$(cat "$FAKE/pid" 2>/dev/null)
	if [ -n "$FLAME" ]; then
		"$FLAME" warmer stop >/dev/null 2>&1
		# (a Ctrl-C reaches the fake too: it then destroys every machine itself)
		if [ -n "$pid" ] && ! wait_for "! kill -0 $pid || settled" 10; then
			bench_log "cleanup: machines or links still there 10 s after 'flame warmer stop'"
		fi
	fi
	if [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null; then
		for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -0 "$pid" 2>/dev/null && { bench_log "cleanup: the fake ($pid) ignored SIGTERM; killing it"; kill -KILL "$pid"; }
	fi
	_bench_cleanup
}
trap _fly_cleanup EXIT

# The fake gets its own session, so that a Ctrl-C does not stop it before the
# warmer has destroyed its machines through it.
{ printf '#!/bin/sh\nexec setsid %s "$@"\n' "$PYTHON" >"$BENCH_ROOT/python-setsid" &&
	chmod +x "$BENCH_ROOT/python-setsid"; } || bench_die 'cannot write python-setsid'
PYTHON=$BENCH_ROOT/python-setsid fly_fake_start || bench_die "the fake Machines API did not start (see $FAKE/stdout.log)"
bench_log "fake Machines API on $FLY_FAKE_URL, runners' sshd port $FLY_AGENT_PORT, boot_delay $D s, rate_limit $RATE_LIMIT"
fly_fake_set "{\"boot_delay\": $D, \"rate_limit\": $RATE_LIMIT}" || bench_die 'POST /_fake/config failed'

printf '{"pools": {%s, %s, %s, %s}}\n' \
	"$(fly_pool_conf one '"max": 1, "max_concurrency": 1, "idle_shutdown_after": "10m"')" \
	"$(fly_pool_conf idle '"max": 4, "max_concurrency": 4, "idle_shutdown_after": "1s"')" \
	"$(fly_pool_conf default '"max": 4, "max_concurrency": 4, "idle_shutdown_after": "10m"')" \
	"$(fly_pool_conf burst '"max": 4, "max_concurrency": 4, "idle_shutdown_after": "3s"')" >"$WORK/flame.json"
jq -e . "$WORK/flame.json" >/dev/null || bench_die 'the pool config is not JSON'

# first_byte CMD...: runs CMD (stdout into a pipe, stderr to $OUT/stderr) and prints
# "T0 T1 RC FIRST": unix times (s) of the spawn and of the first stdout byte, the
# exit status, and the first line of stdout.
cat >"$BENCH_ROOT/first_byte.py" <<'EOF'
import signal
signal.signal(signal.SIGINT, signal.SIG_DFL)  # a Ctrl-C ends it quietly
import subprocess, sys, time
err = open(sys.argv[1], "ab")
t0 = time.time()
p = subprocess.Popen(sys.argv[2:], stdout=subprocess.PIPE, stderr=err)
b = p.stdout.read(1)
t1 = time.time()
rest = p.stdout.read()
rc = p.wait()
line = (b + rest).split(b"\n")[0].decode(errors="replace") or "-"
print("%.6f %.6f %d %s" % (t0, t1 if b else float("nan"), rc, line))
EOF
first_byte () {
	"$PYTHON" "$BENCH_ROOT/first_byte.py" "$OUT/stderr" "$@"
}

# first_byte_ms N CMD...: N runs of first_byte CMD (each must print x), ms each on stdout.
first_byte_ms () {
	local n=$1 i t0 t1 rc x
	shift
	for ((i = 0; i < n; i++)); do
		read -r t0 t1 rc x < <(first_byte "$@")
		[ "$rc" = 130 ] && exit 130 # Ctrl-C
		{ [ "$rc" = 0 ] && [ "$x" = x ]; } || bench_die "$* failed (exit $rc, output '$x'): $(tail -n 3 "$OUT/stderr")"
		calc "($t1 - $t0) * 1000"
	done
}

# diag: what to look at when the backend misbehaves.
diag () {
	bench_log "fake.log (last 15 lines):"; tail -n 15 "$FAKE/fake.log" >&2
	bench_log "warmer.log (last 15 lines):"; tail -n 15 "$WARMER_LOG" >&2 2>/dev/null
	bench_log "machines: $(fly_machines_json | jq -c '[.[] | {id, state, destroyed, pool: .metadata.flame_pool}]')"
}

# req_kinds N: the fake's requests after the first N, counted by method, path and status.
req_kinds () {
	tail -n +"$(($1 + 1))" "$FAKE/requests.jsonl" |
		jq -rs 'map("\(.method) \(.path | sub("machines/[0-9a-f]+"; "machines/ID") | sub("^/v1/apps/[^/]+"; "")) \(.status)") |
			group_by(.) | map("\(length) x \(.[0])") | join(", ")'
}

# settled: the fake holds no machine and no flame-link of this root runs (a
# runner's link, or the warmer's one-shot destroy or sweep, may still be talking
# to the API after the machine is gone).
settled () {
	[ "$(fly_live)" = 0 ] && [ -z "$(find /proc -mindepth 2 -maxdepth 2 -name exe \
		-lname "$BENCH_ROOT/flybin/flame-link" 2>/dev/null)" ]
}

# no_runner: stop the warmer, wait until it is gone and all has settled.
no_runner () {
	"$FLAME" warmer stop >/dev/null 2>&1
	# shellcheck disable=SC2016 # wait_for evaluates its condition each time
	wait_for 'test -z "$(warmer_pid)"' 15 || { diag; bench_die "the warmer is still running 15 s after 'flame warmer stop'"; }
	wait_for settled 30 || { diag; bench_die "machines or links still there 30 s after 'flame warmer stop'"; }
}

# ------------------------------------------------------------ floor --------------
first_byte_ms "$FLOOR_RUNS" sh -c 'echo x' >"$OUT/floor"
floor=$(median <"$OUT/floor")
bench_log "floor: first byte of sh -c 'echo x', median of $FLOOR_RUNS: $(fmt "$floor" 2) ms"

# ------------------------------------------------------------ 1. cold start ------
# cold_rounds POOL N: N cold rounds of `flame run -p POOL -- echo x`.  Per round, in
# ms, into $OUT/POOL.KIND: cold (first byte - D) and its parts create (start ->
# the machine created), boot (created -> started, minus D), sshd (started -> the
# agent's sshd wrote its pid file, i.e. listens) and link (-> the first byte: the
# runner's SSH sessions and slots, the job, the output).
cold_rounds () {
	local pool=$1 n=$2 r t0 t1 rc x m tc ts root tp k
	for k in cold create boot sshd link; do : >"$OUT/$pool.$k"; done
	if [ "$pool" = idle ]; then
		bench_log "$n cold rounds of 'flame run -p $pool -- echo x' (the warmer up, no machine; boot_delay $D s)"
	else
		bench_log "$n cold rounds of 'flame run -p $pool -- echo x' (no warmer, no machine; boot_delay $D s)"
	fi
	for ((r = 1; r <= n; r++)); do
		if [ "$pool" = idle ]; then
			wait_for settled 30 || { diag; bench_die "machines or links still there 30 s after an idle stop"; }
		else
			{ [ -z "$(warmer_pid)" ] && [ "$(fly_live)" = 0 ]; } || no_runner
		fi
		read -r t0 t1 rc x < <(first_byte "$FLAME" run -p "$pool" -- echo x)
		[ "$rc" = 130 ] && exit 130 # Ctrl-C
		if [ "$rc" != 0 ] || [ "$x" != x ]; then
			diag; bench_die "cold round $r: flame run -p $pool -- echo x failed (exit $rc, output '$x'): $(tail -n 3 "$OUT/stderr")"
		fi
		# The machine this round booted: the one created after t0.
		m=$(fly_machines_json | jq -c --argjson t0 "$t0" '[.[] | select(.t_created >= $t0)]')
		[ "$(jq length <<<"$m")" = 1 ] || bench_log "cold round $r: $(jq length <<<"$m") machines were created (expected 1)"
		read -r tc ts root < <(jq -r '.[0] | "\(.t_created) \(.t_started) \(.root)"' <<<"$m")
		tp=$(stat -c %.6Y "$root/run/flame-agent/sshd.pid" 2>/dev/null) || tp=$ts
		calc "($t1 - $t0 - $D) * 1000" >>"$OUT/$pool.cold"
		calc "($tc - $t0) * 1000" >>"$OUT/$pool.create"
		calc "($ts - $tc - $D) * 1000" >>"$OUT/$pool.boot"
		calc "($tp - $ts) * 1000" >>"$OUT/$pool.sshd"
		calc "($t1 - $tp) * 1000" >>"$OUT/$pool.link"
		x="round $r: first byte after $(fmt "$(calc "($t1 - $t0) * 1000")" 0) ms = D +"
		for k in cold create boot sshd link; do x="$x $k $(fmt "$(tail -n 1 "$OUT/$pool.$k")" 0)"; done
		bench_log "$x"
		if [ "$pool" = idle ]; then
			wait_for settled 30 || { diag; bench_die "the idle runner was not stopped within 30 s"; }
		else
			no_runner
		fi
	done
}
# parts POOL: the medians of the parts of a cold start, as text.
parts () {
	local k x=
	for k in create boot sshd link; do x="$x, $k $(fmt "$(median <"$OUT/$1.$k")" 0)"; done
	printf '%s\n' "${x#, }"
}
cold_rounds default "$COLD"
cold_rounds one "$COLD1"
# the warmer already up, as after any earlier call: one job starts it, and its
# runner idles out (1 s) before the rounds
first_byte "$FLAME" run -p idle -- echo x >/dev/null
cold_rounds idle "$COLDW"
coldw=$(median <"$OUT/idle.cold")
cold=$(median <"$OUT/default.cold")
read -r cold_lo cold_hi < <(minmax <"$OUT/default.cold")
cold1=$(median <"$OUT/one.cold")

# ------------------------------------------------------------ 2. requests/job ----
"$FLAME" run -- true || { diag; bench_die "warm-up flame run -- true failed"; }
first_byte_ms "$WARM_RUNS" "$FLAME" run -- echo x >"$OUT/warm"
warm=$(median <"$OUT/warm")
bench_log "warm flame run -- echo x, first byte, median of $WARM_RUNS: $(fmt "$warm" 2) ms"
before=$(wc -l <"$FAKE/requests.jsonl")
t0=$(now_us)
seq "$JOBS" | xargs -P 4 -I{} "$FLAME" run -- true || { diag; bench_die "xargs flame run -- true failed"; }
t1=$(now_us)
after=$(wc -l <"$FAKE/requests.jsonl")
nreq=$((after - before))
rpj=$(calc "$nreq / $JOBS")
kinds=$(req_kinds "$before")
bench_log "$JOBS jobs (xargs -P 4) in $(fmt "$(calc "($t1 - $t0) / 1e6")" 2) s: $nreq API requests${kinds:+ ($kinds)}"
live_after_steady=$(fly_live)
# Anything the warmer asks the API while its runner idles (polling would show here).
sleep "$IDLE_WATCH"
idle_req=$(($(wc -l <"$FAKE/requests.jsonl") - after))
bench_log "then $idle_req API requests while the runner idled for $IDLE_WATCH s"
no_runner

# ------------------------------------------------------------ 3. bursts ----------
bench_log "$BURSTS bursts of $BURST_JOBS x 'sleep 1' (xargs -P $BURST_JOBS), starting $BURST_GAP s apart, pool burst (max 4 x 4, idle 3s)"
rb=$(wc -l <"$FAKE/requests.jsonl")
for ((b = 1; b <= BURSTS; b++)); do
	t0=$(now_us)
	seq "$BURST_JOBS" | xargs -P "$BURST_JOBS" -I{} "$FLAME" run -p burst -- sleep 1 ||
		{ diag; bench_die "burst $b: xargs flame run -p burst -- sleep 1 failed"; }
	t1=$(now_us)
	bench_log "burst $b: $(fmt "$(calc "($t1 - $t0) / 1e6")" 2) s, machines live: $(fly_live), created so far: $(fly_machines_json | jq '[.[] | select(.metadata.flame_pool == "burst")] | length')"
	left=$((BURST_GAP * 1000000 - (t1 - t0)))
	((b < BURSTS && left > 0)) && sleep "$(calc "$left / 1e6")"
done
wait_for settled 60 || { diag; bench_die "machines or links still there 60 s after the last burst"; }
burst_kinds=$(req_kinds "$rb")
read -r nm ms ms_created last < <(fly_machines_json | jq -r '[.[] | select(.metadata.flame_pool == "burst")] |
	"\(length) \(map(.run_seconds) | add) \(map(.t_destroyed - .t_created) | add) \(map(.t_destroyed) | max)"')
drain=$(calc "$last - $t1 / 1e6")
job_s=$((BURSTS * BURST_JOBS))
ratio_ms=$(calc "$ms / $job_s")
ratio_mc=$(calc "$ms_created / $job_s")

# ------------------------------------------------------------ report -------------
echo "fly: floor, sh -c 'echo x' first byte            median $(fmt "$floor" 2) ms ($FLOOR_RUNS runs)"
echo "fly: cold flame run -- echo x, first byte - D    median $(fmt "$cold" 0) ms (min $(fmt "$cold_lo" 0), max $(fmt "$cold_hi" 0); $COLD rounds, D = $D s, max_concurrency 4)"
echo "fly:   parts (medians, ms): $(parts default)"
echo "fly: the same, pool with max_concurrency 1         median $(fmt "$cold1" 0) ms ($COLD1 rounds; parts: $(parts one))"
echo "fly: the same with the warmer already up          median $(fmt "$coldw" 0) ms ($COLDW rounds; parts: $(parts idle))"
echo "fly: warm flame run -- echo x, first byte         median $(fmt "$warm" 2) ms ($WARM_RUNS runs); cold overhead is $(fmt "$(calc "$cold / $warm")" 1)x warm"
echo "fly: API requests per warm job                   $nreq requests / $JOBS jobs = $(fmt "$rpj" 3) (${kinds:-none}); machines live after: $live_after_steady; $idle_req requests in the next $IDLE_WATCH s of idling"
echo "fly: bursts, machine-s / job-s                   $(fmt "$ms" 1) / $job_s = $(fmt "$ratio_ms" 2) (created -> destroyed: $(fmt "$ms_created" 1) s = $(fmt "$ratio_mc" 2)); $nm machines; floor 1/4 = 0.25; the last destroyed $(fmt "$drain" 1) s after the last burst ended"
echo "fly:   API requests of the bursts: $burst_kinds"
result "fly: cold run -- echo x, 1st byte - D" "$(fmt "$cold" 0)" ms \
	"sh -c 'echo x' 1st byte" "$(fmt "$floor" 2)" "$(fmt "$(calc "$cold / $floor")" 0)x" \
	'<= 150 ms' "$(met "$cold <= 150")"
result "fly: same, warmer already up" "$(fmt "$coldw" 0)" ms \
	"sh -c 'echo x' 1st byte" "$(fmt "$floor" 2)" "$(fmt "$(calc "$coldw / $floor")" 0)x" \
	'<= 150 ms' "$(met "$coldw <= 150")"
result 'fly: warm run -- echo x, 1st byte' "$(fmt "$warm" 2)" ms \
	"sh -c 'echo x' 1st byte" "$(fmt "$floor" 2)" "$(fmt "$(calc "$warm / $floor")" 2)x" \
	'none (reported)' '-'
result "fly: API requests per warm job ($JOBS)" "$(fmt "$rpj" 3)" req \
	'-' '-' '-' '<= 0.05' "$(met "$rpj <= 0.05")"
result "fly: machine-s/job-s, $BURSTS x $BURST_JOBS x sleep 1" "$(fmt "$ratio_ms" 2)" ratio \
	'1/max_concurrency' 0.25 "$(fmt "$(calc "$ratio_ms / 0.25")" 2)x" \
	'none (reported)' '-'
