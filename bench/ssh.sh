#!/usr/bin/env bash
# bench/ssh.sh - the ssh backend against OpenSSH, on private sshds on 127.0.0.1.
#
# Goals (issue 3):
#   1. warm `flame run -p remote -- true`: median at most half of `ssh true`
#      through a ControlMaster;
#   2. 1 GiB stdin -> job ("push") and job -> stdout ("pull"): at least OpenSSH's
#      throughput (ssh -c aes128-ctr -m hmac-sha2-256, libssh2 1.10's choice),
#      both ways;
#   3. `true` jobs over two hosts (2 x 8 slots): at least 5x the jobs/s of GNU
#      parallel -S through pre-started ControlMasters and 2x the jobs/s of
#      `xargs -P 16 ssh` through the ControlMasters; `flame map` (issue 11) at
#      least 20x and 5x.
#
# Set-up (bench/lib-sshd.sh): two sshds, "a" and "b", on free ports of 127.0.0.1,
# run as root with keys made for the run, StrictModes no, UsePAM no and
# SetEnv HOME=<empty dir> (baseline.md §3).  flame and flame-link are copied
# side by side into the root ($FLAME is that copy; it is also the pool's "command",
# i.e. what runs `flame agent slot` on the "hosts").  flame.json:
#   remote: backend ssh, host a (host key pinned), max_concurrency 8
#   fan:    backend ssh, hosts a and b, max_concurrency 8, min 2
# (both idle_shutdown_after 10m); `flame pool key remote` and `flame pool key fan`
# are appended to both sshds' authorized_keys.  OpenSSH uses an ssh_config written
# for the run (Host a / Host b: port, client key, pinned known_hosts, BatchMode,
# ControlPath); the ControlMasters are `ssh -F CFG -M -o ControlPersist=yes -f -N a`
# (and b), and every command meant to go through a master adds
# -o ProxyCommand=false so that it can never silently open a new connection.
#
# 1. latency: after one `flame run -p remote -- true` (boots the runner),
#      hyperfine -N --warmup 10 --runs 100 \
#        "$FLAME run -p remote -- true" \
#        "ssh -F CFG -o ProxyCommand=false a true"      (ControlMaster)
#        "ssh -F CFG -o ControlPath=none a true"        (new connection)
#    compared by medians.
# 2. throughput: THROUGHPUT rounds, each of
#      push  head -c 1073741824 /dev/zero | $FLAME run -p remote -- sh -c 'cat >/dev/null'
#      push  head -c 1073741824 /dev/zero | ssh -F CFG -o ControlPath=none -c aes128-ctr -m hmac-sha2-256 a 'cat >/dev/null'
#      pull  $FLAME run -p remote -- head -c 1073741824 /dev/zero > /dev/null
#      pull  ssh -F CFG -o ControlPath=none -c aes128-ctr -m hmac-sha2-256 a 'head -c 1073741824 /dev/zero' > /dev/null
#    with flame/ssh order flipped every round; MB/s = bytes / median time (the
#    ssh figure includes its connection set-up, ~0.2 s); the median of per-round
#    ratios is printed too.
# 3. fan-out: FANOUT_ROUNDS rounds (order rotated) of JOBS jobs each:
#      flame     seq JOBS | xargs -P 16 -I{} $FLAME run -p fan -- true
#      map       seq JOBS | $FLAME map -p fan -j16 true
#      parallel  seq JOBS | parallel --will-cite -j8 -S 8/a,8/b --ssh 'ssh -F CFG -o ProxyCommand=false' true
#                (-j8 = 8 job slots per sshlogin: 16 in all, as flame and xargs)
#      xargs-cm  seq JOBS/2 | xargs -P 8 -I{} ssh -F CFG -o ProxyCommand=false a true &
#                seq JOBS/2 | xargs -P 8 -I{} ssh -F CFG -o ProxyCommand=false b true & wait
#    jobs/s = JOBS / median time.  The warm-up runs 16 jobs in the fan pool first.
#    With 1000 jobs a round takes ~40 s (GNU parallel ~30 s of it); lower
#    SSH_FANOUT_JOBS if parallel is slower on your machine (baseline.md §4.4 saw
#    ~9 jobs/s).
#
# Environment: SSH_LAT_RUNS (100), SSH_TP_ROUNDS (5), SSH_TP_BYTES (1073741824),
# SSH_FANOUT_ROUNDS (3), SSH_FANOUT_JOBS (1000).

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=lib-sshd.sh
. "$BENCH_DIR/lib-sshd.sh"

need hyperfine jq parallel xargs ssh ssh-keygen python3

LAT_RUNS=${SSH_LAT_RUNS:-100}
TP_ROUNDS=${SSH_TP_ROUNDS:-5}
BYTES=${SSH_TP_BYTES:-1073741824}
FO_ROUNDS=${SSH_FANOUT_ROUNDS:-3}
JOBS=${SSH_FANOUT_JOBS:-1000}
[ $((JOBS % 2)) -eq 0 ] || bench_die 'SSH_FANOUT_JOBS must be even'

# ------------------------------------------------------------ binaries -----------
# flame-link must sit next to the flame binary that runs.
link=
for l in "$(dirname "$FLAME")/flame-link" "$SRC_ROOT/flame-link"; do
	[ -x "$l" ] && { link=$l; break; }
done
if [ -z "$link" ]; then
	bench_log "flame-link is missing; running make"
	make -C "$SRC_ROOT" flame-link >&2 || bench_die 'make flame-link failed'
	link=$SRC_ROOT/flame-link
fi
mkdir -p "$BENCH_ROOT/sshbin" || bench_die 'mkdir failed'
{ cp "$FLAME" "$BENCH_ROOT/sshbin/flame" && cp "$link" "$BENCH_ROOT/sshbin/flame-link"; } ||
	bench_die 'cannot copy flame and flame-link'
FLAME=$BENCH_ROOT/sshbin/flame

# ------------------------------------------------------------ cleanup ------------
_ssh_cleanup () {
	[ -n "$FLAME" ] && "$FLAME" warmer stop >/dev/null 2>&1
	bsshd_stop_all
	_bench_cleanup
}
trap _ssh_cleanup EXIT

# ------------------------------------------------------------ set-up -------------
CFG=$BENCH_ROOT/ssh_config
: >"$CFG"
bsshd_start a; PORT_A=$BSSHD_PORT; KEY_A=$BSSHD_HOST_PUB
bsshd_start b; PORT_B=$BSSHD_PORT; KEY_B=$BSSHD_HOST_PUB
bsshd_ssh_config a "$CFG"
bsshd_ssh_config b "$CFG"
bench_log "sshd a on 127.0.0.1:$PORT_A, sshd b on 127.0.0.1:$PORT_B"

jq -n --arg cmd "$FLAME" --arg la "root@127.0.0.1:$PORT_A" --arg ka "$KEY_A" \
	--arg lb "root@127.0.0.1:$PORT_B" --arg kb "$KEY_B" '{pools: {
	remote: {backend: "ssh", max_concurrency: 8, idle_shutdown_after: "10m", command: $cmd,
		hosts: [{login: $la, host_key: $ka}]},
	fan: {backend: "ssh", min: 2, max_concurrency: 8, idle_shutdown_after: "10m", command: $cmd,
		hosts: [{login: $la, host_key: $ka}, {login: $lb, host_key: $kb}]}}}' >"$WORK/flame.json" ||
	bench_die 'cannot write flame.json'
for p in remote fan; do
	k=$("$FLAME" pool key "$p") || bench_die "flame pool key $p failed"
	printf '%s\n' "$k" >>"$BENCH_ROOT/sshd-a/authorized_keys"
	printf '%s\n' "$k" >>"$BENCH_ROOT/sshd-b/authorized_keys"
done

bsshd_master_start a "$CFG"
bsshd_master_start b "$CFG"
SSH_CM="ssh -F $CFG -o ProxyCommand=false"
SSH_NEW="ssh -F $CFG -o ControlPath=none"
SSH_CIPHER="$SSH_NEW -c aes128-ctr -m hmac-sha2-256"

t0=$(now_us)
"$FLAME" run -p remote -- true || bench_die "warm-up flame run -p remote -- true failed (exit $?)"
bench_log "runner of pool 'remote' booted in $(fmt "$(calc "($(now_us) - $t0) / 1000")" 0) ms (first job included)"
$SSH_CM a true || bench_die 'ssh through the ControlMaster to a failed'
$SSH_CM b true || bench_die 'ssh through the ControlMaster to b failed'
# Sanity: both directions carry the bytes.
n=$(head -c 1048576 /dev/zero | "$FLAME" run -p remote -- sh -c 'wc -c') || bench_die 'flame push check failed'
[ "$n" = 1048576 ] || bench_die "flame push check: $n bytes arrived, not 1048576"
n=$("$FLAME" run -p remote -- head -c 1048576 /dev/zero | wc -c) || bench_die 'flame pull check failed'
[ "$n" = 1048576 ] || bench_die "flame pull check: $n bytes arrived, not 1048576"

# ------------------------------------------------------------ 1. latency ---------
bench_log "hyperfine -N --warmup 10 --runs $LAT_RUNS: flame run -p remote -- true vs ssh (ControlMaster) vs ssh (new connection)"
hyperfine -N --style basic --warmup 10 --runs "$LAT_RUNS" --export-json "$OUT/lat.json" \
	"$FLAME run -p remote -- true" "$SSH_CM a true" "$SSH_NEW a true" >&2 || bench_die 'hyperfine failed'
lat_f=$(jq '.results[0].median * 1000' "$OUT/lat.json")
lat_cm=$(jq '.results[1].median * 1000' "$OUT/lat.json")
lat_new=$(jq '.results[2].median * 1000' "$OUT/lat.json")
lat_ratio=$(calc "$lat_f / $lat_cm")

# ------------------------------------------------------------ 2. throughput ------
tp_fpush () {
	local t0 t1
	t0=$(now_us)
	head -c "$BYTES" /dev/zero | "$FLAME" run -p remote -- sh -c 'cat >/dev/null' ||
		{ bench_log "flame push FAILED: ${PIPESTATUS[*]}"; echo FAIL; return; }
	t1=$(now_us); echo $((t1 - t0))
}
tp_spush () {
	local t0 t1
	t0=$(now_us)
	head -c "$BYTES" /dev/zero | $SSH_CIPHER a 'cat >/dev/null' || bench_die "ssh push failed: ${PIPESTATUS[*]}"
	t1=$(now_us); echo $((t1 - t0))
}
tp_fpull () {
	local t0 t1
	t0=$(now_us)
	"$FLAME" run -p remote -- head -c "$BYTES" /dev/zero >/dev/null ||
		{ bench_log "flame pull FAILED: exit $?"; echo FAIL; return; }
	t1=$(now_us); echo $((t1 - t0))
}
tp_spull () {
	local t0 t1
	t0=$(now_us)
	$SSH_CIPHER a "head -c $BYTES /dev/zero" >/dev/null || bench_die "ssh pull failed: $?"
	t1=$(now_us); echo $((t1 - t0))
}
for f in fpush spush fpull spull rpush rpull; do : >"$OUT/$f"; done
fail_push=0 fail_pull=0
rate () { if [ "$1" = FAIL ]; then echo FAILED; else fmt "$(calc "$BYTES / $1")" 0; fi; }
bench_log "$TP_ROUNDS rounds of $BYTES bytes push and pull, flame and ssh interleaved"
for ((r = 1; r <= TP_ROUNDS; r++)); do
	if ((r % 2)); then
		a=$(tp_fpush) && b=$(tp_spush) && c=$(tp_fpull) && d=$(tp_spull)
	else
		b=$(tp_spush) && a=$(tp_fpush) && d=$(tp_spull) && c=$(tp_fpull)
	fi
	if [ -z "$a" ] || [ -z "$b" ] || [ -z "$c" ] || [ -z "$d" ]; then bench_die "throughput round $r failed"; fi
	# A failed flame transfer is counted and left out of the medians (the
	# round's ssh figure is kept): the run goes on so the other figures exist.
	echo "$b" >>"$OUT/spush"; echo "$d" >>"$OUT/spull"
	if [ "$a" = FAIL ]; then fail_push=$((fail_push + 1)); else echo "$a" >>"$OUT/fpush"; calc "$b / $a" >>"$OUT/rpush"; fi
	if [ "$c" = FAIL ]; then fail_pull=$((fail_pull + 1)); else echo "$c" >>"$OUT/fpull"; calc "$d / $c" >>"$OUT/rpull"; fi
	bench_log "round $r: push flame $(rate "$a") MB/s, ssh $(rate "$b") MB/s; pull flame $(rate "$c") MB/s, ssh $(rate "$d") MB/s"
done
mbs () { if [ -s "$1" ]; then calc "$BYTES / $(median <"$1")"; else echo 0; fi; }
fpush=$(mbs "$OUT/fpush"); spush=$(mbs "$OUT/spush")
fpull=$(mbs "$OUT/fpull"); spull=$(mbs "$OUT/spull")
rpush=$(calc "$fpush / $spush"); rpull=$(calc "$fpull / $spull")
# A goal is not met when any flame transfer failed.
ok_push=$(met "$rpush >= 1 && $fail_push == 0"); ok_pull=$(met "$rpull >= 1 && $fail_pull == 0")

# ------------------------------------------------------------ 3. fan-out ---------
for ((i = 0; i < 16; i++)); do "$FLAME" run -p fan -- true || bench_die "flame run -p fan -- true failed"; done
fo_flame () {
	local t0 t1
	t0=$(now_us)
	seq "$JOBS" | xargs -P 16 -I{} "$FLAME" run -p fan -- true || bench_die "xargs flame run failed: ${PIPESTATUS[*]}"
	t1=$(now_us); echo $((t1 - t0))
}
fo_map () {
	local t0 t1
	t0=$(now_us)
	seq "$JOBS" | "$FLAME" map -p fan -j16 true || bench_die "flame map failed: ${PIPESTATUS[*]}"
	t1=$(now_us); echo $((t1 - t0))
}
fo_par () {
	local t0 t1
	t0=$(now_us)
	seq "$JOBS" | parallel --will-cite -j8 -S 8/a,8/b --ssh "$SSH_CM" true || bench_die "parallel failed: ${PIPESTATUS[*]}"
	t1=$(now_us); echo $((t1 - t0))
}
fo_xcm () {
	local t0 t1 pa pb rc=0
	t0=$(now_us)
	# shellcheck disable=SC2086 # $SSH_CM is a command line (one string, for hyperfine and parallel)
	seq $((JOBS / 2)) | xargs -P 8 -I{} $SSH_CM a true &
	pa=$!
	# shellcheck disable=SC2086 # the same
	seq $((JOBS / 2)) | xargs -P 8 -I{} $SSH_CM b true &
	pb=$!
	wait "$pa" || rc=$?
	wait "$pb" || rc=$?
	t1=$(now_us)
	[ "$rc" -eq 0 ] || bench_die "xargs ssh (ControlMaster) failed: $rc"
	echo $((t1 - t0))
}
for f in fo_flame fo_map fo_par fo_xcm; do : >"$OUT/$f"; done
bench_log "$FO_ROUNDS rounds of $JOBS true jobs over 2 hosts x 8: flame, parallel -S (ControlMasters), xargs ssh (ControlMasters)"
orders=("fo_flame fo_map fo_par fo_xcm" "fo_xcm fo_par fo_map fo_flame" "fo_par fo_flame fo_xcm fo_map")
for ((r = 1; r <= FO_ROUNDS; r++)); do
	line="round $r:"
	for f in ${orders[$(((r - 1) % 3))]}; do
		v=$($f) || exit 1
		[ -n "$v" ] || bench_die "fan-out round $r ($f) failed"
		echo "$v" >>"$OUT/$f"
		line="$line $f $(fmt "$(calc "$JOBS * 1e6 / $v")" 1) jobs/s,"
	done
	bench_log "${line%,}"
done
jps () { calc "$JOBS * 1e6 / $(median <"$OUT/$1")"; }
fo_f=$(jps fo_flame); fo_m=$(jps fo_map); fo_p=$(jps fo_par); fo_x=$(jps fo_xcm)
r_par=$(calc "$fo_f / $fo_p"); r_x=$(calc "$fo_f / $fo_x")
rm_par=$(calc "$fo_m / $fo_p"); rm_x=$(calc "$fo_m / $fo_x")

# ------------------------------------------------------------ report -------------
echo "ssh latency: flame run -p remote -- true     median $(fmt "$lat_f" 2) ms ($LAT_RUNS runs)"
echo "ssh latency: ssh true via ControlMaster      median $(fmt "$lat_cm" 2) ms"
echo "ssh latency: ssh true, new connection         median $(fmt "$lat_new" 2) ms"
echo "ssh latency: flame / ControlMaster            $(fmt "$lat_ratio" 3) (flame / new connection $(fmt "$(calc "$lat_f / $lat_new")" 3))"
echo "ssh push: flame $(fmt "$fpush" 0) MB/s, ssh aes128-ctr $(fmt "$spush" 0) MB/s: $(fmt "$rpush" 2)x (per-round median $(fmt "$(median <"$OUT/rpush")" 2)x), $TP_ROUNDS rounds of $BYTES bytes, flame failed $fail_push of $TP_ROUNDS"
echo "ssh pull: flame $(fmt "$fpull" 0) MB/s, ssh aes128-ctr $(fmt "$spull" 0) MB/s: $(fmt "$rpull" 2)x (per-round median $(fmt "$(median <"$OUT/rpull")" 2)x), flame failed $fail_pull of $TP_ROUNDS"
echo "ssh fan-out: flame map $(fmt "$fo_m" 1) jobs/s, xargs flame run $(fmt "$fo_f" 1) jobs/s, parallel -S via masters $(fmt "$fo_p" 1) jobs/s, xargs ssh via masters $(fmt "$fo_x" 1) jobs/s ($FO_ROUNDS rounds of $JOBS jobs)"
result 'ssh: run -p remote -- true, median' "$(fmt "$lat_f" 2)" ms \
	'ssh true via master' "$(fmt "$lat_cm" 2)" "$(fmt "$lat_ratio" 3)x" \
	'<= 0.5x ControlMaster' "$(met "$lat_ratio <= 0.5")"
result 'ssh: plain ssh true (new conn)' '-' ms \
	'ssh true, median' "$(fmt "$lat_new" 2)" "$(fmt "$(calc "$lat_f / $lat_new")" 3)x" \
	'none (reported)' '-'
result "ssh: 1 GiB push, median ($fail_push/$TP_ROUNDS failed)" "$(fmt "$fpush" 0)" MB/s \
	'ssh aes128-ctr' "$(fmt "$spush" 0)" "$(fmt "$rpush" 2)x" \
	'>= 1x OpenSSH' "$ok_push"
result "ssh: 1 GiB pull, median ($fail_pull/$TP_ROUNDS failed)" "$(fmt "$fpull" 0)" MB/s \
	'ssh aes128-ctr' "$(fmt "$spull" 0)" "$(fmt "$rpull" 2)x" \
	'>= 1x OpenSSH' "$ok_pull"
result "ssh: $JOBS x true, 2 hosts x 8" "$(fmt "$fo_f" 1)" jobs/s \
	'parallel -S, masters' "$(fmt "$fo_p" 1)" "$(fmt "$r_par" 2)x" \
	'>= 5x parallel' "$(met "$r_par >= 5")"
result "ssh: $JOBS x true, 2 hosts x 8" "$(fmt "$fo_f" 1)" jobs/s \
	'xargs -P16 ssh, masters' "$(fmt "$fo_x" 1)" "$(fmt "$r_x" 2)x" \
	'>= 2x xargs+master' "$(met "$r_x >= 2")"
result "ssh: map $JOBS x true, 2 hosts x 8" "$(fmt "$fo_m" 1)" jobs/s \
	'parallel -S, masters' "$(fmt "$fo_p" 1)" "$(fmt "$rm_par" 2)x" \
	'>= 20x parallel' "$(met "$rm_par >= 20")"
result "ssh: map $JOBS x true, 2 hosts x 8" "$(fmt "$fo_m" 1)" jobs/s \
	'xargs -P16 ssh, masters' "$(fmt "$fo_x" 1)" "$(fmt "$rm_x" 2)x" \
	'>= 5x xargs+master' "$(met "$rm_x >= 5")"
