#!/bin/bash
# shellcheck disable=SC2016,SC2034,SC2317 # test bodies are single-quoted, run later by tests/lib.sh: what they expand or use looks unused here
# `flame run` right after `flame warmer stop`: the caller either reaches the
# live warmer or starts a new one; a job that was not handed on is never lost.
# The warmer unlinks and closes its socket before it answers anyone, and the
# client retries a job the warmer did not acknowledge.
. "$(dirname "$0")/../lib.sh"

CYCLES=${FLAME_STOP_RACE_CYCLES:-200}

TEST_TIMEOUT=600 test_expect_success "$CYCLES stop/run cycles: every run runs its job once" '
	fails=0 i=0
	while [ "$i" -lt "$CYCLES" ]; do
		"$FLAME" warmer stop >/dev/null 2>&1 &
		rc=0
		"$FLAME" run -- sh -c "echo $i >>\"$WORK/ran\"" 2>>"$WORK/errs" || rc=$?
		wait
		[ "$rc" = 0 ] || fails=$((fails + 1))
		i=$((i + 1))
	done
	sed 5q "$WORK/errs" >&9
	equals 0 "$fails"
	equals "$CYCLES" "$(sort -u "$WORK/ran" | wc -l)"
	equals "$CYCLES" "$(wc -l <"$WORK/ran")"
'

TEST_TIMEOUT=600 test_expect_success "stop, then run at once: $CYCLES times without a loss" '
	fails=0 i=0
	: >"$WORK/errs"
	while [ "$i" -lt "$CYCLES" ]; do
		"$FLAME" warmer stop >/dev/null 2>&1
		rc=0
		"$FLAME" run -- true 2>>"$WORK/errs" || rc=$?
		[ "$rc" = 0 ] || fails=$((fails + 1))
		i=$((i + 1))
	done
	sed 5q "$WORK/errs" >&9
	equals 0 "$fails"
'

test_done
