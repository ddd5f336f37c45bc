#!/usr/bin/env bash
# bench/fly.sh - the fly backend against the fake Machines API
# (tests/fakes/fly_api.py): cold start (from nothing, and from a stopped
# machine), API requests per warm job, and machines created and
# machine-seconds over job-seconds for a bursty workload, with idle runners'
# machines destroyed (the old behaviour) and with the stopped tier.
#
# The fake runs in this script's private root (started with tests/lib-fly.sh's
# fly_fake_start, its state under $BENCH_ROOT/fake); every "machine" is a local
# `flame agent` (the copy of flame measured, with flame-link next to it)
# whose sshd listens on its own 127.0.0.N at a random port. HOME and the XDG
# directories are private too, so the user's warmer is never touched. The fake
# runs with its rate limits on (FLY_RATE_LIMIT) and in its own session; pools:
# default (max 4 x max_concurrency 4, idle 10m), one (1 x 1, idle 10m), idle
# (4 x 4, idle 1s), burst (4 x 2, idle 3s), and with the stopped tier bursts
# (4 x 2, idle 3s) and stopped (1 x 4, idle 1s); FLY_API_TOKEN is the fake's
# token. At exit, also on Ctrl-C: `flame warmer stop`, a wait (10 s at most)
# until no machine and no link is left, SIGTERM to the fake (it kills whatever
# machine remains), then lib.sh's cleanup (the root's processes, by pid, and
# the root).
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
# 3. bursty workload, the old behaviour: pool `burst` (max 4, max_concurrency
#    2, idle_shutdown_after 3s, stopped_max 0: an idle runner's machine is
#    destroyed), no warmer at first; BURSTS bursts, starting BURST_GAP s apart,
#    of
#      seq BURST_JOBS | xargs -P BURST_JOBS -I{} $FLAME run -p burst -- sleep 1
#    then a wait until the fake holds no machine. Machines created = POSTs to
#    /v1/apps/APP/machines answered 200 (requests.jsonl, during the part); API
#    starts = POSTs to .../machines/ID/start answered 200; machine-seconds =
#    the sum of run_seconds (time with a running main process: what Fly bills
#    as CPU and RAM) over the pool's machines, their stopped_seconds (billed
#    as storage only) apart; job-seconds = jobs x 1 s. The floor is
#    1 / max_concurrency (every slot of every machine busy all its life).
# 4. the same with the stopped tier: pool `bursts` (the same, but stopped_max
#    left at its default, the pool's max, and stopped_ttl 10m: an idle
#    runner's machine is stopped and a later cold call starts it). After the
#    last burst, a wait until each of its machines is stopped or destroyed,
#    then `flame pool drain bursts` (destroys the pool's stopped machines now;
#    when this flame has no such command, `flame warmer stop` and a wait until
#    no machine is left). Reported: the same figures, and the ratio of its
#    machine-seconds to part 3's (goal: <= 1.2, with <= 4 machines created).
#    If /_fake/billing exists, its deltas over each part are shown too.
# 5. cold from stopped: pool `stopped` (1 x 4, idle_shutdown_after 1s,
#    stopped_max 1, stopped_ttl 10m) and the fake's start_delay S s
#    (FLY_START_DELAY, 1: a started machine's process is spawned S s after
#    POST start). One job boots its machine; then COLDS rounds of: a wait until
#    the fake shows that machine `stopped` (the runner idled out and the warmer
#    stopped it), then first_byte $FLAME run -p stopped -- echo x. Overhead =
#    first byte - S, median (goal <= 100 ms); its parts: ask (spawn -> the
#    POST start reaches the fake) and rest (the start's S excepted, -> first
#    byte). Each round must make one POST .../start and no create (printed).
#    Then `flame pool drain stopped` (or the fallback of part 4).
#
# The flame measured may predate the stopped tier: it then refuses the pool
# settings stopped_max and stopped_ttl ("unknown setting 'stopped_max'", seen
# by `flame pool ls` on a probe config), parts 4 and 5 are skipped with a
# "skipped: this flame has no stopped tier" line, and the other pools are
# written without stopped_max (that flame always destroys). With the tier, the
# pools of parts 1 to 3 get "stopped_max": 0, so that they still measure a
# cold start from nothing and the old destroying behaviour. A fake without
# start_delay (GET /_fake/config lacks the key) starts a machine after its
# boot_delay: S is then D.
#
# The fake's boot_delay stays D for parts 2 to 5.
#
# Environment: FLY_BOOT_DELAY (2), FLY_START_DELAY (1), FLY_COLD_ROUNDS (7),
# FLY_COLD1_ROUNDS (3), FLY_COLDW_ROUNDS (5), FLY_COLDS_ROUNDS (7),
# FLY_FLOOR_RUNS (20), FLY_WARM_RUNS (20), FLY_STEADY_JOBS (200),
# FLY_IDLE_WATCH (10), FLY_BURSTS (3), FLY_BURST_JOBS (8), FLY_BURST_GAP (5),
# FLY_RATE_LIMIT (1: the fake's rate limits on, as on Fly; 0: off).

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

need jq curl xargs

# Resolve python3 before HOME changes (pyenv shims depend on it), as tests/lib.sh does.
if [ -x /usr/bin/python3 ]; then PYTHON=/usr/bin/python3; else PYTHON=$(command -v python3) || need python3; fi

D=${FLY_BOOT_DELAY:-2}
S=${FLY_START_DELAY:-1}
COLD=${FLY_COLD_ROUNDS:-7}
COLD1=${FLY_COLD1_ROUNDS:-3}
COLDW=${FLY_COLDW_ROUNDS:-5}
COLDS=${FLY_COLDS_ROUNDS:-7}
FLOOR_RUNS=${FLY_FLOOR_RUNS:-20}
WARM_RUNS=${FLY_WARM_RUNS:-20}
JOBS=${FLY_STEADY_JOBS:-200}
BURSTS=${FLY_BURSTS:-3}
BURST_JOBS=${FLY_BURST_JOBS:-8}
BURST_GAP=${FLY_BURST_GAP:-5}
IDLE_WATCH=${FLY_IDLE_WATCH:-10}
# the bursts' pools (the issue's workload: 2 jobs per runner)
BURST_MAX=4
BURST_MC=2
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
# A fake without start_delay starts a stopped machine after its boot_delay.
if curl -fsS "$FLY_FAKE_URL/_fake/config" | jq -e 'has("start_delay")' >/dev/null; then
	fly_fake_set "{\"start_delay\": $S}" || bench_die 'POST /_fake/config failed'
else
	S=$D
	bench_log "this fake has no start_delay: a start takes its boot_delay, S = D = $D s"
fi
if curl -fsS "$FLY_FAKE_URL/_fake/billing" >/dev/null 2>&1; then BILLING=true; else BILLING=false; fi

# The stopped tier: a flame without it refuses its settings (the whole config).
mkdir -p "$BENCH_ROOT/probe" || bench_die 'mkdir failed'
printf '{"pools": {%s}}\n' "$(fly_pool_conf probe '"max": 1, "stopped_max": 1, "stopped_ttl": "10m"')" \
	>"$BENCH_ROOT/probe/flame.json" || bench_die 'cannot write the probe config'
if probe=$(cd "$BENCH_ROOT/probe" && "$FLAME" pool ls 2>&1 >/dev/null); then
	TIER=true
elif grep -qF "unknown setting 'stopped_max'" <<<"$probe"; then
	TIER=false
	bench_log "this flame has no stopped tier (it refuses stopped_max): parts 4 and 5 are skipped"
else
	bench_die "flame pool ls on a config with stopped_max failed: $probe"
fi

# The pools of parts 1 to 3 destroy an idle runner's machine, as before the tier.
old=
$TIER && old=', "stopped_max": 0'
pools=(
	"$(fly_pool_conf one '"max": 1, "max_concurrency": 1, "idle_shutdown_after": "10m"'"$old")"
	"$(fly_pool_conf idle '"max": 4, "max_concurrency": 4, "idle_shutdown_after": "1s"'"$old")"
	"$(fly_pool_conf default '"max": 4, "max_concurrency": 4, "idle_shutdown_after": "10m"'"$old")"
	"$(fly_pool_conf burst "\"max\": $BURST_MAX, \"max_concurrency\": $BURST_MC, \"idle_shutdown_after\": \"3s\"$old")"
)
if $TIER; then
	pools+=(
		"$(fly_pool_conf bursts "\"max\": $BURST_MAX, \"max_concurrency\": $BURST_MC, \"idle_shutdown_after\": \"3s\", \"stopped_ttl\": \"10m\"")"
		"$(fly_pool_conf stopped '"max": 1, "max_concurrency": 4, "idle_shutdown_after": "1s", "stopped_max": 1, "stopped_ttl": "10m"')"
	)
fi
(IFS=,; printf '{"pools": {%s}}\n' "${pools[*]}") >"$WORK/flame.json"
jq -e . "$WORK/flame.json" >/dev/null || bench_die 'the pool config is not JSON'
"$FLAME" pool ls >/dev/null || bench_die "flame refuses the pool config ($WORK/flame.json)"

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
	[ "$(fly_live)" = 0 ] && no_link
}

# no_link: no flame-link of this root runs.
no_link () {
	[ -z "$(find /proc -mindepth 2 -maxdepth 2 -name exe \
		-lname "$BENCH_ROOT/flybin/flame-link" 2>/dev/null)" ]
}

# pool_json POOL: every machine the fake ever had for POOL, as a JSON array.
pool_json () {
	fly_machines_json | jq -c --arg p "$1" '[.[] | select(.metadata.flame_pool == $p)]'
}

# pool_quiet POOL [N]: each of POOL's machines is stopped or destroyed (none
# runs or is on its way), at least N (0) are stopped, and no flame-link runs.
pool_quiet () {
	pool_json "$1" | jq -e --argjson n "${2:-0}" 'all(.[]; .destroyed or .state == "stopped") and
		([.[] | select(.state == "stopped")] | length) >= $n' >/dev/null && no_link
}

# pool_gone POOL: every machine of POOL is destroyed and no flame-link runs.
pool_gone () {
	[ "$(pool_json "$1" | jq 'all(.[]; .destroyed)')" = true ] && no_link
}

# req_count N: "CREATES STARTS", the fake's requests after the first N that
# created a machine or started one (answered 200; a 429 is retried).
req_count () {
	tail -n +"$(($1 + 1))" "$FAKE/requests.jsonl" | jq -rs 'map(select(.method == "POST" and .status == 200)) |
		"\(map(select(.path | test("^/v1/apps/[^/]+/machines$"))) | length) \(map(select(.path | test("/machines/[^/]+/start$"))) | length)"'
}

# billing: GET /_fake/billing, or {} when the fake has none.
billing () {
	if $BILLING; then curl -fsS "$FLY_FAKE_URL/_fake/billing" || echo '{}'; else echo '{}'; fi
}

# billing_delta B0 B1: what /_fake/billing counted between two of its answers, as text.
billing_delta () {
	jq -rn --argjson a "$1" --argjson b "$2" '["machines_created", "api_starts", "run_seconds", "stopped_seconds"] |
		map("\(.) \((($b[.] // 0) - ($a[.] // 0)) * 10 | round / 10)") | join(", ")'
}

# drain_pool POOL: destroy POOL's stopped machines now (`flame pool drain`); a
# flame without that command: `flame warmer stop` and a wait until no machine
# is left (a warning, not an error, if stopped machines outlive the warmer).
drain_pool () {
	local err
	if err=$("$FLAME" pool drain "$1" 2>&1); then
		wait_for "pool_gone $1" 30 ||
			{ diag; bench_die "pool $1: machines still there 30 s after 'flame pool drain $1'"; }
		return 0
	fi
	bench_log "flame pool drain $1 failed (${err:-no message}): 'flame warmer stop' instead"
	"$FLAME" warmer stop >/dev/null 2>&1
	# shellcheck disable=SC2016 # wait_for evaluates its condition each time
	wait_for 'test -z "$(warmer_pid)"' 15 || { diag; bench_die "the warmer is still running 15 s after 'flame warmer stop'"; }
	wait_for settled 30 || bench_log "warning: $(fly_live) machines left 30 s after 'flame warmer stop' (the fake destroys them at exit)"
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

# ------------------------------------------------------------ 3., 4. bursts -----
job_s=$((BURSTS * BURST_JOBS))
declare -A F # the figures of the parts: F[POOL.NAME]

# burst_part POOL WHAT: the bursty workload in POOL (WHAT says how its idle
# runners end), from no warmer and no machine; its figures into F[POOL.*].
burst_part () {
	local pool=$1 rb b t0 t1 left b0 creates starts nm ms st mc last
	no_runner
	bench_log "$BURSTS bursts of $BURST_JOBS x 'sleep 1' (xargs -P $BURST_JOBS), starting $BURST_GAP s apart, pool $pool (max $BURST_MAX x $BURST_MC, idle 3s, $2)"
	rb=$(wc -l <"$FAKE/requests.jsonl")
	b0=$(billing)
	for ((b = 1; b <= BURSTS; b++)); do
		t0=$(now_us)
		seq "$BURST_JOBS" | xargs -P "$BURST_JOBS" -I{} "$FLAME" run -p "$pool" -- sleep 1 ||
			{ diag; bench_die "burst $b: xargs flame run -p $pool -- sleep 1 failed"; }
		t1=$(now_us)
		read -r creates starts < <(req_count "$rb")
		bench_log "burst $b: $(fmt "$(calc "($t1 - $t0) / 1e6")" 2) s; so far $creates machines created, $starts started; live: $(fly_live)"
		left=$((BURST_GAP * 1000000 - (t1 - t0)))
		((b < BURSTS && left > 0)) && sleep "$(calc "$left / 1e6")"
	done
	if [ "$pool" = burst ]; then
		wait_for settled 60 || { diag; bench_die "machines or links still there 60 s after the last burst"; }
		F[$pool.kinds]=$(req_kinds "$rb")
	else
		wait_for "pool_quiet $pool" 60 || { diag; bench_die "pool $pool: machines still up 60 s after the last burst"; }
		# the workload's requests; the drain's destroys are the bench's
		F[$pool.kinds]=$(req_kinds "$rb")
		drain_pool "$pool"
	fi
	read -r creates starts < <(req_count "$rb")
	read -r nm ms st mc last < <(pool_json "$pool" | jq -r '"\(length) \(map(.run_seconds) | add // 0) \(
		if any(.[]; has("stopped_seconds")) then map(.stopped_seconds // 0) | add else "-" end) \(
		map((.t_destroyed // now) - .t_created) | add // 0) \(map(.t_destroyed // 0) | max // 0)"')
	[ "$nm" = "$creates" ] || bench_log "pool $pool: the fake holds $nm machines of it, but $creates creates were answered 200"
	F[$pool.created]=$creates F[$pool.starts]=$starts F[$pool.ms]=$ms F[$pool.stopped]=$st
	F[$pool.ratio]=$(calc "$ms / $job_s")
	F[$pool.mc]=$mc F[$pool.mc_ratio]=$(calc "$mc / $job_s")
	F[$pool.drain]=$(calc "$last - $t1 / 1e6")
	F[$pool.billing]=
	$BILLING && F[$pool.billing]=$(billing_delta "$b0" "$(billing)")
	bench_log "pool $pool: $creates machines created, $starts started, machine-s $(fmt "$ms" 1) / job-s $job_s = $(fmt "${F[$pool.ratio]}" 2)"
}

if $TIER; then burst_part burst 'stopped_max 0: destroyed'; else burst_part burst 'destroyed: no stopped tier'; fi
if $TIER; then
	burst_part bursts "stopped tier: stopped_max $BURST_MAX, stopped_ttl 10m"
else
	bench_log 'bursts with the stopped tier: skipped: this flame has no stopped tier'
fi

# ------------------------------------------------------------ 5. cold from stopped
# stopped_rounds N: N cold rounds of `flame run -p stopped -- echo x`, each from
# the pool's one machine stopped. Per round, in ms, into $OUT/stopped.KIND:
# cold (first byte - S), ask (spawn -> the POST start reached the fake) and
# rest (-> the first byte, S excepted); "STARTS/CREATES" into $OUT/stopped.req.
stopped_rounds () {
	local n=$1 r t0 t1 rc x rs creates starts ta k
	for k in cold ask rest req; do : >"$OUT/stopped.$k"; done
	bench_log "$n cold rounds of 'flame run -p stopped -- echo x' from a stopped machine (start_delay $S s)"
	first_byte "$FLAME" run -p stopped -- echo x >/dev/null # boots its machine
	for ((r = 1; r <= n; r++)); do
		wait_for 'pool_quiet stopped 1' 30 || { diag; bench_die "pool stopped: no machine stopped 30 s after its runner idled"; }
		rs=$(wc -l <"$FAKE/requests.jsonl")
		read -r t0 t1 rc x < <(first_byte "$FLAME" run -p stopped -- echo x)
		[ "$rc" = 130 ] && exit 130 # Ctrl-C
		if [ "$rc" != 0 ] || [ "$x" != x ]; then
			diag; bench_die "stopped round $r: flame run -p stopped -- echo x failed (exit $rc, output '$x'): $(tail -n 3 "$OUT/stderr")"
		fi
		read -r creates starts < <(req_count "$rs")
		ta=$(tail -n +"$((rs + 1))" "$FAKE/requests.jsonl" |
			jq -rs --argjson t0 "$t0" 'map(select(.method == "POST" and (.path | test("/start$")))) | first.t // $t0')
		echo "$starts/$creates" >>"$OUT/stopped.req"
		calc "($t1 - $t0 - $S) * 1000" >>"$OUT/stopped.cold"
		calc "($ta - $t0) * 1000" >>"$OUT/stopped.ask"
		calc "($t1 - $ta - $S) * 1000" >>"$OUT/stopped.rest"
		bench_log "round $r: first byte after $(fmt "$(calc "($t1 - $t0) * 1000")" 0) ms = S + cold $(fmt "$(tail -n 1 "$OUT/stopped.cold")" 0) (ask $(fmt "$(tail -n 1 "$OUT/stopped.ask")" 0), rest $(fmt "$(tail -n 1 "$OUT/stopped.rest")" 0)); $starts POST start, $creates POST create"
	done
}
if $TIER; then
	stopped_rounds "$COLDS"
	colds=$(median <"$OUT/stopped.cold")
	read -r colds_lo colds_hi < <(minmax <"$OUT/stopped.cold")
	# every round: one start, no create
	colds_ok=$(awk '$0 != "1/0" { bad++ } END { print bad ? "NO" : "yes" }' "$OUT/stopped.req")
	drain_pool stopped
else
	bench_log 'cold from stopped: skipped: this flame has no stopped tier'
fi

# ------------------------------------------------------------ report -------------
echo "fly: floor, sh -c 'echo x' first byte            median $(fmt "$floor" 2) ms ($FLOOR_RUNS runs)"
echo "fly: cold flame run -- echo x, first byte - D    median $(fmt "$cold" 0) ms (min $(fmt "$cold_lo" 0), max $(fmt "$cold_hi" 0); $COLD rounds, D = $D s, max_concurrency 4)"
echo "fly:   parts (medians, ms): $(parts default)"
echo "fly: the same, pool with max_concurrency 1         median $(fmt "$cold1" 0) ms ($COLD1 rounds; parts: $(parts one))"
echo "fly: the same with the warmer already up          median $(fmt "$coldw" 0) ms ($COLDW rounds; parts: $(parts idle))"
if $TIER; then
	echo "fly: cold from a stopped machine, first byte - S median $(fmt "$colds" 0) ms (min $(fmt "$colds_lo" 0), max $(fmt "$colds_hi" 0); $COLDS rounds, S = $S s; ask $(fmt "$(median <"$OUT/stopped.ask")" 0), rest $(fmt "$(median <"$OUT/stopped.rest")" 0))"
	echo "fly:   POST start / POST create per round: $(tr '\n' ' ' <"$OUT/stopped.req")(one start and no create in each: $colds_ok)"
else
	echo "fly: cold from a stopped machine                 skipped: this flame has no stopped tier"
fi
echo "fly: warm flame run -- echo x, first byte         median $(fmt "$warm" 2) ms ($WARM_RUNS runs); cold overhead is $(fmt "$(calc "$cold / $warm")" 1)x warm"
echo "fly: API requests per warm job                   $nreq requests / $JOBS jobs = $(fmt "$rpj" 3) (${kinds:-none}); machines live after: $live_after_steady; $idle_req requests in the next $IDLE_WATCH s of idling"

# burst_report POOL WHAT: part 3's or 4's figures.
burst_report () {
	local p=$1
	echo "fly: bursts, $2: machine-s / job-s $(fmt "${F[$p.ms]}" 1) / $job_s = $(fmt "${F[$p.ratio]}" 2) (floor 1/$BURST_MC); ${F[$p.created]} machines created, ${F[$p.starts]} API starts; stopped machines' seconds (storage only): ${F[$p.stopped]}"
	[ "$p" = burst ] && echo "fly:   created -> destroyed: $(fmt "${F[$p.mc]}" 1) s = $(fmt "${F[$p.mc_ratio]}" 2); the last destroyed $(fmt "${F[$p.drain]}" 1) s after the last burst ended"
	echo "fly:   API requests of the bursts: ${F[$p.kinds]:-none}"
	[ -n "${F[$p.billing]}" ] && echo "fly:   /_fake/billing over the part: ${F[$p.billing]}"
	return 0
}
burst_report burst "pool burst ($BURSTS x $BURST_JOBS x sleep 1, idle runners destroyed)"
if $TIER; then
	burst_report bursts "pool bursts (the same, with the stopped tier)"
	tier_ratio=$(calc "${F[bursts.ms]} / ${F[burst.ms]}")
	echo "fly:   machine-s with the stopped tier / destroyed: $(fmt "$tier_ratio" 2) (goal <= 1.2); machines created: ${F[bursts.created]} vs ${F[burst.created]} (goal <= 4)"
else
	echo "fly: bursts with the stopped tier                skipped: this flame has no stopped tier"
fi

result "fly: cold run -- echo x, 1st byte - D" "$(fmt "$cold" 0)" ms \
	"sh -c 'echo x' 1st byte" "$(fmt "$floor" 2)" "$(fmt "$(calc "$cold / $floor")" 0)x" \
	'<= 150 ms' "$(met "$cold <= 150")"
result "fly: same, warmer already up" "$(fmt "$coldw" 0)" ms \
	"sh -c 'echo x' 1st byte" "$(fmt "$floor" 2)" "$(fmt "$(calc "$coldw / $floor")" 0)x" \
	'<= 150 ms' "$(met "$coldw <= 150")"
if $TIER; then
	result "fly: cold run from stopped, 1st byte - S" "$(fmt "$colds" 0)" ms \
		'cold from nothing' "$(fmt "$cold" 0)" "$(fmt "$(calc "$colds / $cold")" 2)x" \
		'<= 100 ms, 1 start 0 create' "$(met "$colds <= 100 && \"$colds_ok\" == \"yes\"")"
fi
result 'fly: warm run -- echo x, 1st byte' "$(fmt "$warm" 2)" ms \
	"sh -c 'echo x' 1st byte" "$(fmt "$floor" 2)" "$(fmt "$(calc "$warm / $floor")" 2)x" \
	'none (reported)' '-'
result "fly: API requests per warm job ($JOBS)" "$(fmt "$rpj" 3)" req \
	'-' '-' '-' '<= 0.05' "$(met "$rpj <= 0.05")"
result "fly: machine-s/job-s, $BURSTS x $BURST_JOBS x sleep 1" "$(fmt "${F[burst.ratio]}" 2)" ratio \
	"1/max_concurrency" "$(fmt "$(calc "1 / $BURST_MC")" 2)" "$(fmt "$(calc "${F[burst.ratio]} * $BURST_MC")" 2)x" \
	'none (reported)' '-'
result "fly: machines created, same" "${F[burst.created]}" mach \
	'-' '-' '-' 'none (reported)' '-'
if $TIER; then
	result "fly: same, stopped tier: machine-s/job-s" "$(fmt "${F[bursts.ratio]}" 2)" ratio \
		'idle runners destroyed' "$(fmt "${F[burst.ratio]}" 2)" "$(fmt "$tier_ratio" 2)x" \
		'<= 1.2x destroyed' "$(met "$tier_ratio <= 1.2")"
	result "fly: same, stopped tier: machines created" "${F[bursts.created]}" mach \
		'idle runners destroyed' "${F[burst.created]}" "$(fmt "$(calc "${F[bursts.created]} / ${F[burst.created]}")" 2)x" \
		'<= 4' "$(met "${F[bursts.created]} <= 4")"
else
	result 'fly: stopped tier (bursts, cold from stopped)' skipped - \
		'-' '-' '-' 'this flame has none' '-'
fi
