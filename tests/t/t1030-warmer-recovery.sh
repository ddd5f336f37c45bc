#!/bin/bash
# shellcheck disable=SC2016,SC2034,SC2317,SC2119 # test bodies are single-quoted, run later by tests/lib.sh: what they expand or use looks unused here
# The warmer: losing it mid-run, restarting from the journal, corrupt state files,
# warmer stop, private files.
. "$(dirname "$0")/../lib.sh"

write_config <<'JSON'
{ "pools": { "one": { "max": 1, "max_concurrency": 1 } } }
JSON

test_expect_success 'set-up: a warmer runs and default is scaled to max 7' '
	"$FLAME" run -- true
	"$FLAME" pool scale default --max 7
	equals 7 "$(pool_field default "p[\"max\"]")"
	pid=$(warmer_pid)
	test -n "$pid"
	proc_alive "$pid"
'

test_expect_success 'the warmer socket dir and state dir are private (0700) and the state file is 0600' '
	equals 700 "$(stat -c %a "$XDG_RUNTIME_DIR/flame")"
	test -S "$XDG_RUNTIME_DIR/flame/warmer.sock"
	equals 700 "$(stat -c %a "$XDG_STATE_HOME/flame")"
	wait_for "test -f \"$STATE_FILE\"" 5
	equals 600 "$(stat -c %a "$STATE_FILE")"
'

test_expect_success 'warmer killed with SIGKILL mid-run: the caller in flight exits 255 with one flame: line' '
	pid1=$(warmer_pid)
	echo "$pid1" >"$TEST_ROOT/pid1"
	"$FLAME" run --sh "touch \"$WORK/inflight\"; sleep 60.5; echo finished" >out 2>err &
	caller=$!
	wait_for "test -e inflight" 20
	kill -KILL "$pid1"
	rc=0
	wait_exit "$caller" 15 || rc=$?
	equals 255 "$rc"
	one_flame_line err
	not grep -q finished out
'

test_expect_success 'a job whose warmer was SIGKILLed does not outlive its caller for long' '
	wait_for "test \$(count_procs \"^sleep 60\\.5\$\") = 0" 5
'

test_expect_success 'the next run starts a new warmer (new pid) that reads the journal back (max 7 survives)' '
	pid1=$(cat "$TEST_ROOT/pid1")
	out=$("$FLAME" run -- echo back)
	equals back "$out"
	pid2=$(warmer_pid)
	test -n "$pid2"
	not test "$pid1" = "$pid2"
	equals 7 "$(pool_field default "p[\"max\"]")"
'

test_expect_success 'warmer stop lets a running job finish, gives queued callers 255, and the warmer exits' '
	"$FLAME" run -p one --sh "touch \"$WORK/running1\"; sleep 1.5; echo finished" >out.run 2>err.run &
	running=$!
	wait_for "test -e running1" 20
	"$FLAME" run -p one -- echo queued-ran >out.q 2>err.q &
	queued=$!
	wait_for "test \"\$(pool_field one \"p[\\\"waiting\\\"]\")\" = 1" 10
	"$FLAME" warmer stop
	rc=0
	wait_exit "$queued" 15 || rc=$?
	equals 255 "$rc"
	one_flame_line err.q
	test ! -s out.q
	rc=0
	wait_exit "$running" 15 || rc=$?
	equals 0 "$rc"
	equals finished "$(cat out.run)"
	wait_for "test_status 3 \"\$FLAME\" warmer status" 10
'

# corrupt_state HOW: stop the warmer, damage the state file, remember the log size.
corrupt_state () {
	stop_warmer
	test -s "$STATE_FILE"
	case $1 in
	truncate) head -c "$(($(wc -c <"$STATE_FILE") / 2))" "$STATE_FILE" >"$STATE_FILE.tmp" ;;
	garbage) printf '\000\377garbage{{{ not json\n' >"$STATE_FILE.tmp" ;;
	empty) : >"$STATE_FILE.tmp" ;;
	esac
	chmod 600 "$STATE_FILE.tmp"
	mv "$STATE_FILE.tmp" "$STATE_FILE"
	wc -c <"$WARMER_LOG" 2>/dev/null >"$TEST_ROOT/logsize" || echo 0 >"$TEST_ROOT/logsize"
}

# new_log: what the warmer logged since corrupt_state.
new_log () {
	tail -c +"$(($(cat "$TEST_ROOT/logsize") + 1))" "$WARMER_LOG"
}

for how in truncate garbage empty; do
	test_expect_success "a $how state file is recovered from: run works and the log has a warning" '
		corrupt_state '"$how"'
		out=$("$FLAME" run -- echo still-works)
		equals still-works "$out"
		wait_for "new_log | grep -qi warning" 5
	'
	test_expect_success "after a $how state file the warmer rebuilds a valid journal" '
		"$FLAME" pool scale one --max 3
		stop_warmer
		"$PYTHON" -c "import json, sys; json.load(open(sys.argv[1]))" "$STATE_FILE"
		equals 3 "$(pool_field one "p[\"max\"]")"
	'
done

test_expect_success 'pool ls --json reads a corrupt journal without a warmer and does not crash' '
	corrupt_state garbage
	rc=0
	pool_json >pj 2>err || rc=$?
	test "$rc" -eq 0 -o "$rc" -eq 255
	if [ "$rc" -eq 0 ]; then "$PYTHON" -c "import json, sys; json.load(sys.stdin)" <pj; fi
	out=$("$FLAME" run -- echo ok)
	equals ok "$out"
'

test_done
