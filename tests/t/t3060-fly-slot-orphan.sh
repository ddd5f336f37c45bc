#!/bin/bash
# shellcheck disable=SC2016,SC2034,SC2317 # test bodies are single-quoted, run later by tests/lib.sh: what they expand or use looks unused here
# No job outlives its slot on a Fly runner either: with both processes of a
# busy slot stopped and then killed, the keeper `slot in` left behind kills
# the job's process group and removes its scratch directory (t2040 does the
# same on an ssh host).
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/lib-fly.sh
. "$TEST_DIRECTORY/lib-fly.sh"

fly_fake_start || _bail 'cannot start the fake Machines API'

test_expect_success 'set-up: a fly pool on the fake Machines API' '
	write_config "{ \"pools\": { $(fly_pool_conf f "\"max_concurrency\": 2") } }"
	equals ok "$("$FLAME" run -p f -- echo ok)"
'

test_expect_success 'slot in and slot out stopped, then both killed mid-job: 255, the job group and its scratch dir are gone' '
	slot_orphan_check f 64.64
'

test_done
