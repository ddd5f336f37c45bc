#!/bin/bash
# shellcheck disable=SC2016,SC2034,SC2317,SC2119 # test bodies are single-quoted, run later by tests/lib.sh: what they expand or use looks unused here
# Pools: max runners and max_concurrency are never exceeded under load; a
# saturated pool makes a waiting caller give up after the slot timeout (75).
. "$(dirname "$0")/../lib.sh"

write_config <<'JSON'
{
  "pools": {
    "burst": { "max": 2, "max_concurrency": 3 },
    "tiny":  { "max": 1, "max_concurrency": 1, "slot_timeout": "1s" },
    "tiny2": { "max": 1, "max_concurrency": 1 }
  }
}
JSON

# Samples /proc every 0.05 s until STOPFILE exists; writes
# "MAXJOBS MAXRUNNERS SAMPLES" to OUTFILE.  A job is a process whose argv is
# exactly JOBARGV (space-joined); a runner is a "flame agent" process whose parent
# is not one.  Only processes that belong to ROOT count.
SAMPLER='
import os, sys, time
root, jobargv, outfile, stopfile = sys.argv[1], sys.argv[2].encode(), sys.argv[3], sys.argv[4]
rootb = os.fsencode(root) + b"/"
def belongs(p):
    try:
        if (os.fsencode(os.readlink("/proc/%s/cwd" % p)) + b"/").startswith(rootb):
            return True
    except Exception:
        pass
    for w in ("environ", "cmdline"):
        try:
            with open("/proc/%s/%s" % (p, w), "rb") as f:
                if rootb in f.read():
                    return True
        except Exception:
            pass
    return False
def ppid(p):
    try:
        with open("/proc/%s/stat" % p, "rb") as f:
            s = f.read()
        return s[s.rindex(b")") + 2:].split()[1].decode()
    except Exception:
        return None
maxj = maxr = n = 0
detail = []
while not os.path.exists(stopfile):
    jobs = 0
    agents = {}
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % p, "rb") as f:
                argv = f.read().rstrip(b"\0").split(b"\0")
        except Exception:
            continue
        if b" ".join(argv) == jobargv:
            if belongs(p):
                jobs += 1
        elif len(argv) >= 2 and os.path.basename(argv[0]) == b"flame" and argv[1] == b"agent":
            pp = ppid(p)
            if pp is not None and belongs(p):  # None: it vanished while we looked
                agents[p] = (pp, b" ".join(argv).decode(errors="replace"))
    top = [p for p in agents if agents[p][0] not in agents]
    runners = len(top)
    if runners > maxr:
        detail = ["pid %s ppid %s: %s" % (p, agents[p][0], agents[p][1]) for p in sorted(agents)]
    maxj, maxr, n = max(maxj, jobs), max(maxr, runners), n + 1
    time.sleep(0.05)
with open(outfile, "w") as f:
    f.write("%d %d %d\n" % (maxj, maxr, n))
    for l in detail:
        f.write(l + "\n")
'

TEST_TIMEOUT=300 test_expect_success '64 concurrent callers on a pool with max 2, max_concurrency 3: never more than 6 jobs nor 2 runners; all 64 statuses right' '
	rm -f stop samples
	"$PYTHON" -c "$SAMPLER" "$TEST_ROOT" "sleep 0.3141" "$WORK/samples" "$WORK/stop" &
	sampler=$!
	pids=()
	for i in $(seq 1 64); do
		(
			rc=0
			"$FLAME" run -p burst --env i=$i --sh "sleep 0.3141; exit \$((i % 5))" >"out.$i" 2>"err.$i" || rc=$?
			echo "$rc" >"rc.$i"
		) &
		pids+=("$!")
	done
	for p in "${pids[@]}"; do
		wait "$p"
	done
	touch stop
	wait "$sampler"
	read -r maxjobs maxrunners nsamples <samples
	echo "max jobs $maxjobs, max runners $maxrunners, $nsamples samples; runner processes at the max:"
	tail -n +2 samples
	bad=
	for i in $(seq 1 64); do
		if [ "$(cat "rc.$i")" != $((i % 5)) ]; then
			bad="$bad $i:$(cat "rc.$i")"
		fi
		if [ -s "err.$i" ]; then
			echo "caller $i wrote to stderr:" >&9
			cat "err.$i" >&9
			bad="$bad $i:stderr"
		fi
	done
	equals "" "$bad"
	test "$nsamples" -ge 10
	test "$maxjobs" -ge 1
	test "$maxjobs" -le 6
	test "$maxrunners" -ge 1
	test "$maxrunners" -le 2
'

test_expect_success 'after the burst pool ls --json shows at most 2 runners and nothing busy or waiting in burst' '
	pool_json >pj
	n=$(json_q "len([p for p in d[\"pools\"] if p[\"name\"] == \"burst\"][0][\"runners\"])" <pj)
	test "$n" -le 2
	wait_for "test \"\$(pool_field burst \"p[\\\"busy\\\"]\")\" = 0" 5
	equals 0 "$(pool_field burst "p[\"waiting\"]")"
	equals 2 "$(pool_field burst "p[\"max\"]")"
	equals 3 "$(pool_field burst "p[\"max_concurrency\"]")"
'

test_expect_success 'on a saturated pool with slot_timeout 1s a waiting caller exits 75 naming the pool' '
	"$FLAME" run -p tiny --sh "touch \"$WORK/busy1\"; sleep 6.01" >/dev/null 2>&1 &
	holder=$!
	wait_for "test -e busy1" 20
	test_status 75 "$FLAME" run -p tiny -- echo should-not-run >out 2>err
	one_flame_line err tiny
	test ! -s out
	kill -TERM "$holder"
	wait_exit "$holder" 10 || :
'

test_expect_success '--slot-timeout 1 makes a caller on a saturated pool exit 75 naming the pool' '
	"$FLAME" run -p tiny2 --sh "touch \"$WORK/busy2\"; sleep 6.02" >/dev/null 2>&1 &
	holder=$!
	wait_for "test -e busy2" 20
	test_status 75 "$FLAME" run -p tiny2 --slot-timeout 1 -- echo should-not-run >out 2>err
	one_flame_line err tiny2
	test ! -s out
	equals 0 "$(pool_field tiny2 "p[\"waiting\"]")"
	kill -TERM "$holder"
	wait_exit "$holder" 10 || :
'

test_expect_success 'a caller queued behind a busy slot runs once the slot frees up' '
	"$FLAME" run -p tiny2 --sh "touch \"$WORK/busy3\"; sleep 1.5" >/dev/null 2>&1 &
	holder=$!
	wait_for "test -e busy3" 20
	out=$("$FLAME" run -p tiny2 -- echo ran-after)
	equals ran-after "$out"
	wait_exit "$holder" 10
'

test_done
