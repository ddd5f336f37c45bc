#!/bin/bash
# shellcheck disable=SC2016,SC2034,SC2317,SC2119 # test bodies are single-quoted, run later by tests/lib.sh: what they expand or use looks unused here
# Files that are not files, and a disk that is full: a FIFO as a config file or
# as the journal is refused, never waited on; a journal write that fails is an
# error to the caller who asked for the change.  (timeout only bounds a hang.)
. "$(dirname "$0")/../lib.sh"

test_expect_success 'a FIFO as FLAME_CONFIG is refused with one line naming it' '
	mkfifo "$TEST_ROOT/fifo.json"
	FLAME_CONFIG=$TEST_ROOT/fifo.json test_status 125 timeout 20 "$FLAME" run -- true 2>err
	one_flame_line err "$TEST_ROOT/fifo.json" "not a regular file"
'

test_expect_success 'a FIFO as the user config is refused with one line naming it' '
	mkdir -p "$XDG_CONFIG_HOME/flame"
	mkfifo "$XDG_CONFIG_HOME/flame/config.json"
	test_status 125 timeout 20 "$FLAME" run -- true 2>err
	one_flame_line err "$XDG_CONFIG_HOME/flame/config.json" "not a regular file"
	rm "$XDG_CONFIG_HOME/flame/config.json"
'

test_expect_success 'a FIFO as the journal does not hang the warmer: it is replaced and the run goes on' '
	"$FLAME" warmer stop >/dev/null 2>&1 || :
	wait_for "test_status 3 \"\$FLAME\" warmer status" 10
	mkdir -p "$XDG_STATE_HOME/flame"
	rm -f "$STATE_FILE"
	mkfifo "$STATE_FILE"
	out=$(timeout 30 "$FLAME" run -- echo ran)
	equals ran "$out"
	grep -q "state.json is not a regular file" "$WARMER_LOG"
	wait_for "test -f \"\$STATE_FILE\"" 10
	timeout 20 "$FLAME" pool ls >/dev/null
'

FULL=$TEST_ROOT/full
test_expect_success 'pool scale on a full disk fails, and the change is not kept' '
	rm -f "$XDG_CONFIG_HOME/flame/config.json"
	"$FLAME" warmer stop >/dev/null 2>&1 || :
	wait_for "test_status 3 \"\$FLAME\" warmer status" 10
	mkdir "$FULL"
	mount -t tmpfs -o size=64k,mode=0700 flame-test-full "$FULL"
	export XDG_STATE_HOME=$FULL
	out=$(timeout 30 "$FLAME" run -- echo up)
	equals up "$out"
	test -f "$FULL/flame/state.json"
	dd if=/dev/zero of="$FULL/filler" bs=1k 2>/dev/null || :
	test_status 255 "$FLAME" pool scale default --max 7 >out 2>err
	test ! -s out
	one_flame_line err "not scaled" "$FULL/flame/state.json"
	rm "$FULL/filler"
	"$FLAME" warmer stop >/dev/null
	wait_for "test_status 3 \"\$FLAME\" warmer status" 10
	out=$("$FLAME" run -- echo again)
	equals again "$out"
	equals 4 "$(pool_field default "p[\"max\"]")"
	"$FLAME" pool scale default --max 7 >/dev/null
	"$FLAME" warmer stop >/dev/null
	wait_for "test_status 3 \"\$FLAME\" warmer status" 10
	equals 7 "$(pool_field default "p[\"max\"]")"
	"$FLAME" warmer stop >/dev/null 2>&1 || :
	wait_for "test_status 3 \"\$FLAME\" warmer status" 10
	umount "$FULL"
'
# whatever happened above: no warmer keeps the mount busy, and it goes
if mountpoint -q "$FULL"; then
	timeout 20 "$FLAME" warmer stop >/dev/null 2>&1
	wait_for "test_status 3 \"\$FLAME\" warmer status" 10 || :
	umount "$FULL" 2>/dev/null || umount -l "$FULL"
fi

test_done
