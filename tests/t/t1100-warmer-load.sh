#!/bin/bash
# shellcheck disable=SC2016,SC2034,SC2317 # test bodies are single-quoted, run later by tests/lib.sh: what they expand or use looks unused here
# The warmer under load with the common descriptor limit (ulimit -n 1024):
# callers beyond what it can hold wait and are not lost; idle connections and
# half-sent requests cost it little memory (its peak RSS, VmHWM, is bounded).
. "$(dirname "$0")/../lib.sh"

SOCK=$XDG_RUNTIME_DIR/flame/warmer.sock
LOG=$XDG_STATE_HOME/flame/warmer.log
RSS_MAX_KB=$((64 * 1024))

write_config '{"pools": {"default": {"max": 4, "max_concurrency": 1}}}'

# flood MODE N: N connections to the warmer held open until $WORK/release
# exists (bounded: 120 s); prints how many connected.  MODE idle: say nothing;
# big: after the hello, announce a 64 MiB request and send 16 MB of it;
# partial: after the hello, send all but the last bytes of a request just
# under 1 MiB.
cat >"$WORK/flood.py" <<'PY'
import os, resource, socket, sys, time
path, mode, n, release, tools = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
sys.path.insert(0, tools)
from wire import hello
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
socks = []
for i in range(n):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(2)
    try:
        s.connect(path)
        if mode != "idle":
            s.sendall(hello(b"flood"))
        if mode == "big":
            s.sendall((64 << 20).to_bytes(4, "little") + bytes([1, 0]))
            for _ in range(256):
                s.sendall(b"x" * 65536)
        elif mode == "partial":
            size = (1 << 20) - 16
            s.sendall(size.to_bytes(4, "little") + bytes([1, 0]) + b"x" * (size - 3))
    except OSError:
        pass
    socks.append(s)
print(len(socks), flush=True)
end = time.time() + 120
while not os.path.exists(release) and time.time() < end:
    time.sleep(0.05)
PY

# a warmer started under ulimit -n 1024 (soft and hard)
start_small_warmer () {
	stop_warmer
	(ulimit -n 1024 && "$FLAME" run -- true)
	wpid=$(root_pgrep 'flame warmer run')
	test -n "$wpid"
	grep -q "^Max open files *1024 *1024" "/proc/$wpid/limits"
}

rss_ok () { # PID: its peak and present RSS are under RSS_MAX_KB
	local hwm rss
	hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$1/status")
	rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$1/status")
	echo "warmer VmHWM ${hwm} kB, VmRSS ${rss} kB" >&9
	less_than "$hwm" "$RSS_MAX_KB"
	less_than "$rss" "$RSS_MAX_KB"
}

test_expect_success 'the warmer raises its own descriptor limit, but its runners and jobs get the caller'"'"'s soft limit' '
	stop_warmer
	hard=$(ulimit -Hn)
	test "$hard" = unlimited || test "$hard" -gt 1000
	out=$(ulimit -Sn 1000 && "$FLAME" run -- sh -c "ulimit -Sn")
	equals 1000 "$out"
	wpid=$(root_pgrep "flame warmer run")
	not grep -q "^Max open files *1000 " "/proc/$wpid/limits"
	stop_warmer
'

TEST_TIMEOUT=600 test_expect_success '2000 concurrent callers under ulimit -n 1024 all finish with their own status' '
	stop_warmer
	(
		ulimit -n 1024
		i=0
		while [ "$i" -lt 2000 ]; do
			( rc=0; "$FLAME" run -- sh -c "sleep 0.05; exit $((i % 7))" 2>"$WORK/err.$i" || rc=$?; echo "$rc" >"$WORK/rc.$i" ) &
			i=$((i + 1))
		done
		wait
	)
	bad=0 i=0
	while [ "$i" -lt 2000 ]; do
		if [ "$(cat "$WORK/rc.$i")" != "$((i % 7))" ] || [ -s "$WORK/err.$i" ]; then
			bad=$((bad + 1))
			[ "$bad" -gt 3 ] || { echo "caller $i: rc $(cat "$WORK/rc.$i")"; cat "$WORK/err.$i"; } >&9
		fi
		i=$((i + 1))
	done
	equals 0 "$bad"
	grep "new callers wait until one ends" "$LOG" >&9
'

TEST_TIMEOUT=300 test_expect_success '1100 idle connections: a new caller still gets through; the warmer stays small' '
	start_small_warmer
	rm -f "$WORK/release"
	"$PYTHON" "$WORK/flood.py" "$SOCK" idle 1100 "$WORK/release" "$TEST_DIRECTORY/tools" >"$WORK/n" &
	fpid=$!
	wait_for "test -s \"$WORK/n\"" 60
	equals 1100 "$(cat "$WORK/n")"
	rc=0
	timeout 100 "$FLAME" run -- echo through >out || rc=$?
	rss_ok "$wpid"
	touch "$WORK/release"
	wait "$fpid"
	equals 0 "$rc"
	equals through "$(cat out)"
	grep "sent no request" "$LOG" >&9
'

for mode in big partial; do
	TEST_TIMEOUT=300 test_expect_success "60 connections sending half a request ($mode): the warmer stays small and serves" '
		start_small_warmer
		rm -f "$WORK/release"
		"$PYTHON" "$WORK/flood.py" "$SOCK" '"$mode"' 60 "$WORK/release" "$TEST_DIRECTORY/tools" >"$WORK/n" &
		fpid=$!
		wait_for "test -s \"$WORK/n\"" 200
		rss_ok "$wpid"
		rc=0
		timeout 100 "$FLAME" run -- echo through >out || rc=$?
		touch "$WORK/release"
		wait "$fpid"
		equals 0 "$rc"
		equals through "$(cat out)"
		grep "refused a caller" "$LOG" >&9
	'
done

test_done
