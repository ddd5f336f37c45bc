#!/bin/bash
# shellcheck disable=SC2016,SC2034,SC2317 # test bodies are single-quoted, run later by tests/lib.sh: what they expand or use looks unused here
# A fly pool's secrets stay out of ps: the pool's env and the API token
# reach the warmer and its links over descriptors, never on a command line
# or in a long-lived process's environment.
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/lib-fly.sh
. "$TEST_DIRECTORY/lib-fly.sh"

fly_fake_start || _bail 'cannot start the fake Machines API'
SECRET=postgres://app:S3cr3t-$RANDOM$RANDOM@db/app

# seen_in_proc WORD: lists the warmer and link processes whose command line
# or environment holds WORD
seen_in_proc () {
	"$PYTHON" - "$1" "$(dirname "$FLAME")/flame-link" <<-\EOF
	import os, sys
	word, link = sys.argv[1].encode(), os.path.realpath(sys.argv[2])
	found = []
	for pid in filter(str.isdigit, os.listdir("/proc")):
	    try:
	        cmd = open("/proc/%s/cmdline" % pid, "rb").read()
	        env = open("/proc/%s/environ" % pid, "rb").read()
	        exe = os.path.realpath("/proc/%s/exe" % pid)
	    except OSError:
	        continue
	    ours = exe == link or cmd.startswith(b"flame\0warmer\0")
	    if ours and (word in cmd or word in env):
	        found.append("%s %s" % (pid, cmd.replace(b"\0", b" ")[:200].decode(errors="replace")))
	print("\n".join(found))
	EOF
}

test_expect_success 'neither the pool env nor the token is in the cmdline or environ of the warmer or a link' '
	write_config "{ \"pools\": { $(fly_pool_conf f "\"min\": 2, \"env\": {\"DATABASE_URL\": \"$SECRET\"}") } }"
	equals ok "$("$FLAME" run -p f -- echo ok)"
	wait_for "test \$(root_pgrep flame-link | wc -w) = 2" 30
	equals "" "$(seen_in_proc "$SECRET")"
	equals "" "$(seen_in_proc "$FLY_API_TOKEN")"
	equals "" "$(seen_in_proc S3cr3t)"
'

test_expect_success 'the token still reaches the links after the warmer has run a while: a new runner boots' '
	"$FLAME" pool scale f --min 3 >/dev/null
	wait_for "test \$(root_pgrep flame-link | wc -w) = 3" 30
	equals "" "$(seen_in_proc "$FLY_API_TOKEN")"
	equals ok "$("$FLAME" run -p f -- echo ok)"
'

test_expect_success 'a token from token_file is used and never shown either' '
	"$FLAME" warmer stop >/dev/null
	fly_no_machines 30
	printf "%s\n" "$FLY_API_TOKEN" >token
	chmod 600 token
	write_config "{ \"pools\": { $(fly_pool_conf g "\"token_file\": \"$WORK/token\", \"env\": {\"DATABASE_URL\": \"$SECRET\"}") } }"
	equals ok "$(env -u FLY_API_TOKEN "$FLAME" run -p g -- echo ok)"
	equals "" "$(seen_in_proc "$FLY_API_TOKEN")"
	equals "" "$(seen_in_proc S3cr3t)"
	"$FLAME" warmer stop >/dev/null
	fly_no_machines 30
'

test_expect_success 'a warmer started by hand with FLY_API_TOKEN wipes it from its environment' '
	"$FLAME" warmer stop >/dev/null 2>&1 || :
	write_config "{ \"pools\": { $(fly_pool_conf f) } }"
	"$FLAME" warmer run </dev/null >hand.log 2>&1 &
	wait_for "\"$FLAME\" warmer status >/dev/null 2>&1" 10
	equals ok "$(env -u FLY_API_TOKEN "$FLAME" run -p f -- echo ok)"
	equals "" "$(seen_in_proc "$FLY_API_TOKEN")"
	"$FLAME" warmer stop >/dev/null
	fly_no_machines 30
'

test_done
