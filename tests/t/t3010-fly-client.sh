#!/bin/bash
# shellcheck disable=SC2016,SC2034,SC2317 # test bodies are single-quoted, run later by tests/lib.sh: what they expand or use looks unused here
# The Fly Machines API client (lib/fly/http.c, driven by build/tools/fly-probe)
# against the fake Machines API (tests/fakes/fly_api.py): round trips, retries,
# pacing under rate limits, ambiguous creates settled by launch id, wait loops,
# one-line errors, and a token that never leaks.  Every test leaves no machine.
. "$(dirname "$0")/../lib.sh"

# the sanitizer pass (FLAME is the sanitized build) drives the sanitized probe
case $FLAME in
*/build/san/*) PROBE=${FLY_PROBE:-$SRC_ROOT/build/san/tools/fly-probe} ;;
*) PROBE=${FLY_PROBE:-$SRC_ROOT/build/tools/fly-probe} ;;
esac
FAKE_DIR=$TEST_ROOT/fake
TOKEN=fly-test-token-5e1f0c-do-not-print
export FLY_API_TOKEN=$TOKEN

[ -x "$PROBE" ] || _bail "$PROBE is not built (make build/tools/fly-probe)"
mkdir -p "$FAKE_DIR"
# the token in its environment, not on a command line everyone can read
FAKE_FLY_TOKEN=$TOKEN "$PYTHON" "$SRC_ROOT/tests/fakes/fly_api.py" --state "$FAKE_DIR" --port 0 \
	>"$FAKE_DIR/stdout" 2>&1 </dev/null &
wait_for 'test -s "$FAKE_DIR/port"' 15 2>/dev/null || _bail "the fake Machines API did not start"
FAKE_URL=http://127.0.0.1:$(cat "$FAKE_DIR/port")

probe () {
	"$PROBE" --base "$FAKE_URL" --app flame-test "$@"
}

# fake METHOD PATH [JSON]: a control request to the fake; prints its answer.
fake () {
	"$PYTHON" -c '
import sys, urllib.request
url, method, path = sys.argv[1:4]
data = sys.argv[4].encode() if len(sys.argv) > 4 else None
req = urllib.request.Request(url + path, data=data, method=method,
                             headers={"Content-Type": "application/json"})
print(urllib.request.urlopen(req, timeout=10).read().decode())
' "$FAKE_URL" "$@"
}

fake_set () { # JSON: switch the fake's faults on, from a clean slate
	fake POST /_fake/config '{"rate_limit": false, "fail_next": [], "ambiguous_create": 0,
	  "drop_connection_on_create": 0, "boot_delay": 0, "boot_never_starts": false}' >/dev/null
	fake POST /_fake/config "$1" >/dev/null
}

live_machines () { # how many machines are not destroyed
	fake GET /_fake/machines | json_q 'len([m for m in d if not m["destroyed"]])'
}

# mark: how many requests the fake has recorded so far.
mark () {
	wc -l <"$FAKE_DIR/requests.jsonl"
}

# reqs FROM EXPR: EXPR evaluated with rs = the requests recorded after FROM.
reqs () {
	"$PYTHON" -c '
import json, sys
rs = [json.loads(l) for l in open(sys.argv[1]).read().splitlines()[int(sys.argv[2]):]]
creates = [r for r in rs if r["method"] == "POST" and r["path"].endswith("/machines")]
lists = [r for r in rs if r["method"] == "GET" and r["path"].endswith("/machines")]
waits = [r for r in rs if r["path"].endswith("/wait")]
r = eval(sys.argv[3])
print(r if isinstance(r, str) else json.dumps(r))
' "$FAKE_DIR/requests.jsonl" "$1" "$2"
}

# no_machines_left: destroys what a test left and checks that nothing is.
no_machines_left () {
	local id st
	fake_set '{}'
	probe list | while read -r id st; do probe destroy "$id"; done
	wait_for 'test "$(live_machines)" = 0' 10
}

create () { # LAUNCH_ID [OPTIONS...]: a runner-like machine; prints "ID IP INSTANCE_ID"
	local launch=$1
	shift
	probe create --image registry.fly.io/flame-test:v1 --region ord --launch-id "$launch" "$@" \
		-- /bin/sleep 300
}

# created LAUNCH_ID [OPTIONS...]: create, and set id, ip and iid from what it printed.
created () {
	create "$@" >out
	read -r id ip iid <out
}

# one_machine_after LAUNCH_ID STATUSES: creates LAUNCH_ID; the fake answered its
# creates with STATUSES (a JSON list) and exactly one machine, the one the probe
# printed, carries the launch id.  M is the mark from before the create.
one_machine_after () {
	M=$(mark)
	created "$1"
	equals "$2" "$(reqs "$M" "[r[\"status\"] for r in creates]")"
	equals 1 "$(live_machines)"
	equals "$id" "$(probe list "flame_launch=$1" | cut -d" " -f1)"
}

test_expect_success 'create, wait for started, get and destroy a machine' '
	printf "hello\n" >hello.txt && chmod 640 hello.txt
	m=$(mark)
	probe --count create --image registry.fly.io/flame-test:v1 --region ord --launch-id rt-1 \
		--pool p1 --parent host:42 --metadata team=infra --file /etc/flame/hello=hello.txt \
		--env GREETING="hi there" -- /bin/sleep 300 >out
	read -r id ip iid <out
	test -n "$id" && test -n "$iid"
	case $ip in 127.*) ;; *) echo "private_ip $ip"; false ;; esac
	grep -qx "requests 1" out
	probe --count wait "$id" started 30 "$iid" >out
	grep -qx "requests 1" out
	probe get "$id" >get
	grep -qx "state started" get
	grep -qx "image registry.fly.io/flame-test:v1" get
	grep -qx "image_ref registry.fly.io/flame-test:v1" get
	grep -qx "metadata.flame_launch rt-1" get
	grep -qx "metadata.flame_pool p1" get
	grep -qx "metadata.flame_parent host:42" get
	grep -qx "metadata.team infra" get
	root=$(fake GET /_fake/machines | json_q "[m for m in d if m[\"id\"] == \"$id\"][0][\"root\"]")
	cmp hello.txt "$root/etc/flame/hello"
	equals 640 "$(stat -c %a "$root/etc/flame/hello")"
	reqs "$m" "creates[0][\"body\"]" >body.json
	c="d[\"config\"]"
	json_q "d[\"region\"], sorted(d), $c[\"auto_destroy\"], $c[\"restart\"], $c[\"init\"][\"exec\"], $c[\"env\"], $c[\"guest\"]" <body.json >fields
	equals "[\"ord\", [\"config\", \"region\"], true, {\"policy\": \"no\"}, [\"/bin/sleep\", \"300\"], {\"GREETING\": \"hi there\"}, {\"cpu_kind\": \"shared\", \"cpus\": 1, \"memory_mb\": 256}]" "$(cat fields)"
	probe --count destroy "$id" >out
	grep -qx "requests 1" out
	wait_for "test \"\$(live_machines)\" = 0" 10
	test_status 1 probe get "$id" 2>err
	no_machines_left
'

test_expect_success 'a create answered 500 twice is retried and makes one machine' '
	fake_set "{\"fail_next\": [{\"action\": \"create\", \"status\": 500, \"count\": 2}]}"
	one_machine_after retry-1 "[500, 500, 200]"
	no_machines_left
'

test_expect_success 'a storm of 429s under the rate limit still gets every request through' '
	fake_set "{\"rate_limit\": true}"
	m=$(mark)
	pids=
	for i in 1 2 3 4 5 6 7; do
		create "storm-$i" --pool storm >"out.$i" 2>"err.$i" &
		pids="$pids $!"
	done
	for p in $pids; do wait "$p"; done
	equals 7 "$(probe list flame_pool=storm | wc -l)"
	test "$(reqs "$m" "len([r for r in creates if r[\"status\"] == 429])")" -ge 1
	equals 7 "$(reqs "$m" "len([r for r in creates if r[\"status\"] == 200])")"
	read -r id ip iid <out.1
	pids=
	for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15; do
		probe get "$id" >"get.$i" &
		pids="$pids $!"
	done
	for p in $pids; do wait "$p"; done
	for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15; do grep -qx "id $id" "get.$i"; done
	test "$(reqs "$m" "len([r for r in rs if r[\"status\"] == 429 and r[\"method\"] == \"GET\"])")" -ge 1
	no_machines_left
'

test_expect_success 'a create answered 408 is settled by its launch id: one machine' '
	fake_set "{\"ambiguous_create\": 1}"
	one_machine_after amb-1 "[408]"
	equals "[{\"metadata.flame_launch\": [\"amb-1\"]}]" "$(reqs "$M" "[r[\"query\"] for r in lists][:1]")"
	equals 1 "$(fake GET /_fake/machines | json_q "len([m for m in d if m[\"metadata\"].get(\"flame_launch\") == \"amb-1\"])")"
	no_machines_left
'

test_expect_success 'a create whose connection dropped is settled by its launch id: one machine' '
	fake_set "{\"drop_connection_on_create\": 1}"
	one_machine_after drop-1 "[0]"
	equals "[{\"metadata.flame_launch\": [\"drop-1\"]}]" "$(reqs "$M" "[r[\"query\"] for r in lists][:1]")"
	no_machines_left
'

test_expect_success 'wait polls again after 408s until a slow boot has started' '
	fake_set "{\"boot_delay\": 4}"
	created slow-1
	m=$(mark)
	probe --poll 1 wait "$id" started 30 "$iid"
	test "$(reqs "$m" "len([r for r in waits if r[\"status\"] == 408])")" -ge 2
	equals 200 "$(reqs "$m" "waits[-1][\"status\"]")"
	equals "[\"1\"]" "$(reqs "$m" "waits[0][\"query\"][\"timeout\"]")"
	equals "[\"$iid\"]" "$(reqs "$m" "waits[0][\"query\"][\"version\"]")"
	no_machines_left
'

test_expect_success 'a machine that never starts: wait gives up at its deadline with one line' '
	fake_set "{\"boot_never_starts\": true}"
	created never-1
	start=$(now)
	test_status 1 probe --poll 1 wait "$id" started 3 "$iid" 2>err
	less_than "$(elapsed "$start")" 15
	one_flame_line err "wait for machine $id to be started" "not started within 3s" "408"
	no_machines_left
'

test_expect_success 'an unknown machine or app gives a one-line 404, not retried' '
	m=$(mark)
	test_status 1 probe --count get 0123456789abcd >out 2>err
	one_flame_line err "get machine 0123456789abcd in app flame-test: 404" "machine not found" "gone"
	grep -qx "requests 1" out
	test_status 1 probe destroy 0123456789abcd 2>err
	one_flame_line err "destroy machine 0123456789abcd" "404"
	test_status 1 probe wait 0123456789abcd started 5 2>err
	one_flame_line err "404"
	test_status 1 "$PROBE" --base "$FAKE_URL" --app no-such-app list 2>err
	one_flame_line err "list machines in app no-such-app: 404" "app not found" "check the app name"
	equals 4 "$(reqs "$m" "len(rs)")"
	no_machines_left
'

test_expect_success 'the token never shows: not in output, errors or the fake'"'"'s records' '
	created tok-1 2>err
	probe --count wait "$id" started 30 "$iid" >>out 2>>err
	probe get "$id" >>out 2>>err
	probe list >>out 2>>err
	probe destroy "$id" >>out 2>>err
	wait_for "test \"\$(live_machines)\" = 0" 10
	test_status 1 probe get "$id" >>out 2>>err
	FLY_API_TOKEN=not-the-token-7f3a9 test_status 1 probe list >out2 2>err2
	one_flame_line err2 "401" "check FLY_API_TOKEN"
	not grep -q "not-the-token-7f3a9" out2 err2 "$FAKE_DIR/requests.jsonl"
	test_status 1 "$PROBE" --base "http://127.0.0.1:1/$TOKEN" --app flame-test --timeout 2 list 2>err3
	one_flame_line err3 "no answer" "[token]"
	cat out2 err2 err3 >>err
	not grep -qF "$TOKEN" out err "$FAKE_DIR/requests.jsonl" "$FAKE_DIR/fake.log" "$FAKE_DIR/stdout"
	not grep -qF "${TOKEN#fly-test-}" out err
	no_machines_left
'

test_expect_success 'the token comes from a file, and none at all is a clear error' '
	printf "%s\n" "$TOKEN" >tokfile
	FLY_API_TOKEN= probe --token-file tokfile list
	test_status 1 env -u FLY_API_TOKEN "$PROBE" --base "$FAKE_URL" --app flame-test list 2>err
	one_flame_line err "no Fly API token" "FLY_API_TOKEN"
	test_status 1 probe --token-file "$WORK/missing" list 2>err
	one_flame_line err "cannot read the Fly API token file"
'

test_expect_success 'list filters by metadata, every filter must match, values are URL-encoded' '
	create lf-1 --pool a --metadata team=x >/dev/null
	create lf-2 --pool a --metadata team=y >/dev/null
	create lf-3 --pool b --metadata team=x --metadata "note=a b&c=d/é%" >/dev/null
	equals 3 "$(probe list | wc -l)"
	equals 2 "$(probe list flame_pool=a | wc -l)"
	equals 1 "$(probe list flame_pool=a team=x | wc -l)"
	equals 2 "$(probe list team=x | wc -l)"
	equals 0 "$(probe list flame_pool=zzz | wc -l)"
	m=$(mark)
	equals 1 "$(probe list "note=a b&c=d/é%" | wc -l)"
	equals true "$(reqs "$m" "lists[0][\"query\"][\"metadata.note\"] == [\"a b&c=d/é%\"]")"
	id=$(probe list flame_launch=lf-2 | cut -d" " -f1)
	probe get "$id" | grep -qx "metadata.team y"
	no_machines_left
'

test_expect_success 'an invalid launch is refused locally with one line, before any request' '
	m=$(mark)
	test_status 1 probe --count create --image alpine --launch-id v-1 --memory 1000 -- /bin/sleep 300 >out 2>err
	one_flame_line err "create machine in app flame-test" "memory_mb 1000" "use 1024"
	grep -qx "requests 0" out
	test_status 1 probe create --image "" --launch-id v-2 2>err
	one_flame_line err "no image"
	test_status 1 probe create --image alpine --launch-id v-3 --cpu-kind gpu 2>err
	one_flame_line err "cpu_kind" "shared nor performance"
	equals 0 "$(reqs "$m" "len(rs)")"
	no_machines_left
'

test_done
