#!/bin/bash
# shellcheck disable=SC2016,SC2034,SC2317 # test bodies are single-quoted, run later by tests/lib.sh: what they expand or use looks unused here
# `flame warmer status|stop` when the warmer answers with something else than
# its reply: an error is an error (exit 255, one flame: line), never "not
# running".  The warmer is played by tests/tools/fake_warmer.py.
. "$(dirname "$0")/../lib.sh"

SOCK=$XDG_RUNTIME_DIR/flame/warmer.sock
W_ERROR=22 W_DONE=21

# fake TYPE CODE TEXT: a fake warmer on the socket, until the test ends it.
fake () {
	[ -d "$XDG_RUNTIME_DIR/flame" ] || mkdir -m 0700 "$XDG_RUNTIME_DIR/flame"
	"$PYTHON" "$TEST_DIRECTORY/tools/fake_warmer.py" "$SOCK" "$@" &
	fake_pid=$!
	wait_for "test -S \"$SOCK\"" 10
}
unfake () {
	kill "$fake_pid" 2>/dev/null || :
	wait "$fake_pid" 2>/dev/null || :
	rm -f "$SOCK"
}

for cmd in status stop; do
	test_expect_success "flame warmer $cmd: an error from the warmer is an error, said once" '
		fake $W_ERROR 255 "the warmer is confused"
		rc=0
		"$FLAME" warmer '"$cmd"' >out 2>err || rc=$?
		unfake
		equals 255 "$rc"
		one_flame_line err
		grep -q "the warmer is confused" err
		not grep -q "not running" out
	'

	test_expect_success "flame warmer $cmd: an answer of the wrong type is an error" '
		fake $W_DONE 0 ""
		rc=0
		"$FLAME" warmer '"$cmd"' >out 2>err || rc=$?
		unfake
		equals 255 "$rc"
		one_flame_line err
		not grep -q "not running" out
	'
done

test_expect_success 'a warmer that closes without answering is not running (3 for status, 0 for stop)' '
	[ -d "$XDG_RUNTIME_DIR/flame" ] || mkdir -m 0700 "$XDG_RUNTIME_DIR/flame"
	"$PYTHON" -c "
import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(4)
for _ in range(2):
    s.settimeout(20); c, _ = s.accept(); c.recv(6); c.close()
" "$SOCK" &
	pid=$!
	wait_for "test -S \"$SOCK\"" 10
	test_status 3 "$FLAME" warmer status >out
	grep -qx "warmer: not running" out
	test_status 0 "$FLAME" warmer stop >out
	grep -qx "warmer: not running" out
	wait "$pid"
	rm -f "$SOCK"
'

test_done
