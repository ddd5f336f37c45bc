#!/bin/bash
# shellcheck disable=SC2016,SC2034,SC2317 # test bodies are single-quoted, run later by tests/lib.sh: what they expand or use looks unused here
# Run semantics: a --get copy ends with its caller.  Killing `flame run` or
# sending it SIGINT while the --get files come back stops the copy at once
# (SIGINT: run exits 130), drops the file half-written and leaves no
# collecting process and no job directory behind; a sparse file comes back
# sparse.
#
# The copy is caught mid-way without timing: once its first file is there,
# every runner process is stopped (SIGSTOP), the caller is signalled, and
# the runner continued: without the fix the copy would go on to the end.
. "$(dirname "$0")/../lib.sh"

NFILES=3000

# agents SIG: sends SIG to every runner-side flame process of this test.
agents () {
	local p
	for p in $(root_pgrep '^[^ ]*flame agent'); do
		kill "-$1" "$p" 2>/dev/null || :
	done
}

# copies_left: runner-side processes still collecting (a local agent's
# collector is a flame agent whose parent is one too) plus job directories.
copies_left () {
	local n=0 p pp
	for p in $(root_pgrep '^[^ ]*flame agent'); do
		pp=$(awk '{ print $4 }' "/proc/$p/stat" 2>/dev/null) || continue
		case $(tr '\0' ' ' <"/proc/$pp/cmdline" 2>/dev/null) in
		*"flame agent local"*) n=$((n + 1)) ;;
		esac
	done
	n=$((n + $(find "$TEST_ROOT" -name 'job-*' -path '*flame*' 2>/dev/null | wc -l)))
	echo "$n"
}

# MAKE_FILES: the job's command: NFILES files of 64 KiB (data, not holes).
MAKE_FILES="head -c $((NFILES * 65536)) /dev/zero | split -b 65536 -a 4 - f && touch made"

nfiles () {
	find "$1" -mindepth 1 -maxdepth 1 -name 'f*' | wc -l
}

test_expect_success 'set-up: a warmer started with default signal dispositions' '
	run_sigdfl "$FLAME" run -- true
'

test_expect_success 'kill -9 on flame run stops its --get copy; no copy goes on' '
	mkdir g1
	"${SIGDFL[@]}" "$FLAME" run --get "f*" --get-dir g1 --sh "$MAKE_FILES" >out 2>err &
	pid=$!
	wait_for "test \$(nfiles g1) -ge 1" 60
	agents STOP
	kill -KILL "$pid"
	agents CONT
	rc=0
	wait_exit "$pid" 10 || rc=$?
	equals 137 "$rc"
	wait_for "test \$(copies_left) = 0" 10
	n=$(nfiles g1)
	sleep 1
	equals "$n" "$(nfiles g1)"
	less_than "$n" "$NFILES"
	equals 0 "$(find g1 -name ".flame-get.*" | wc -l)"
'

test_expect_success 'SIGINT during the --get copy: it stops and flame run exits 130' '
	mkdir g2
	"${SIGDFL[@]}" "$FLAME" run --get "f*" --get-dir g2 --sh "$MAKE_FILES" >out 2>err &
	pid=$!
	wait_for "test \$(nfiles g2) -ge 1" 60
	agents STOP
	kill -INT "$pid"
	agents CONT
	rc=0
	wait_exit "$pid" 20 || rc=$?
	equals 130 "$rc"
	wait_for "test \$(copies_left) = 0" 10
	less_than "$(nfiles g2)" "$NFILES"
	equals 0 "$(find g2 -name ".flame-get.*" | wc -l)"
'

test_expect_success 'the runner serves the next job after a stopped copy' '
	equals ok "$("$FLAME" run -- echo ok)"
'

test_expect_success 'a sparse 10 GB file comes back sparse' '
	mkdir g3
	"$FLAME" run --get big --get-dir g3 --sh "truncate -s 10G big && printf x | dd of=big bs=1 seek=5000000000 conv=notrunc 2>/dev/null"
	equals 10737418240 "$(stat -c %s g3/big)"
	less_than "$(du -k g3/big | cut -f1)" 1024
	equals x "$(dd if=g3/big bs=1 skip=5000000000 count=1 2>/dev/null)"
'

test_done
