#!/bin/bash
# shellcheck disable=SC2016,SC2034,SC2317 # test bodies are single-quoted, run later by tests/lib.sh: what they expand or use looks unused here
# The fake Fly Machines API (tests/fakes/fly_api.py) as the stopped tier uses
# it: machines created with auto_destroy false and restart "no", stopped with
# POST stop and started again with POST start (fly-machines-api.md §2.5–§2.7,
# §3, §7.11–§7.13); the start_delay and migrate_on_start switches; billing
# (run_seconds, stopped_seconds, starts, GET /_fake/billing).
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/lib-fly.sh
. "$TEST_DIRECTORY/lib-fly.sh"

fly_fake_start || _bail 'cannot start the fake Machines API'
M=/v1/apps/$FLY_APP/machines

# api METHOD PATH [BODY]: print the HTTP status; the body lands in ./body.
api () {
	local method=$1 path=$2
	shift 2
	curl -sS -o body -w '%{http_code}' -X "$method" \
		-H "Authorization: Bearer $FLY_API_TOKEN" ${1+--data-binary "$1"} "$FLY_FAKE_URL$path"
}

# jbody EXPR: EXPR evaluated on the last answer's JSON body (d).
jbody () {
	json_q "$1" <body
}

# machine ID EXPR: EXPR evaluated on that machine's /_fake/machines object (d).
machine () {
	fly_machines_json | "$PYTHON" -c '
import json, sys
d = [m for m in json.load(sys.stdin) if m["id"] == sys.argv[1]][0]
r = eval(sys.argv[2])
print(r if isinstance(r, str) else json.dumps(r))
' "$1" "$2"
}

# billing EXPR: EXPR evaluated on GET /_fake/billing (d).
billing () {
	curl -fsS "$FLY_FAKE_URL/_fake/billing" | json_q "$1"
}

# at_least A B: the number A >= B.
at_least () {
	awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }' && return 0
	echo "expected $1 >= $2" >&9
	return 1
}

# create SCRIPT [CONFIG_EXTRA_JSON]: a stopped-tier machine (auto_destroy false,
# restart "no") running sh -c SCRIPT; prints its id.
create () {
	local body st
	body=$("$PYTHON" -c '
import json, sys
cfg = {"image": sys.argv[1], "auto_destroy": False, "restart": {"policy": "no"},
       "init": {"exec": ["/bin/sh", "-c", sys.argv[2]]}}
cfg.update(json.loads(sys.argv[3]))
print(json.dumps({"config": cfg}))
' "$FLY_IMAGE" "$1" "${2:-"{}"}")
	st=$(api POST "$M" "$body")
	if [ "$st" != 200 ]; then
		echo "create: status $st: $(cat body)" >&9
		return 1
	fi
	jbody 'd["id"]'
}

# wait_state ID STATE [QUERY]: the wait endpoint answers 200 for STATE.
wait_state () {
	local st
	st=$(api GET "$M/$1/wait?state=$2&timeout=30${3:+&$3}")
	if [ "$st" != 200 ]; then
		echo "wait $1 $2: status $st: $(cat body)" >&9
		return 1
	fi
}

# state ID: the machine's state as GET machine gives it.
state () {
	api GET "$M/$1" >/dev/null
	jbody 'd["state"]'
}

# error_is STATUS TEXT CMD...: CMD (an api call) printed STATUS and the body is
# {"error": ...} containing TEXT.
error_is () {
	local want=$1 text=$2 got
	shift 2
	got=$("$@")
	equals "$want" "$got"
	jbody 'd["error"]' | grep -qF -- "$text" || {
		echo "error text does not contain '$text': $(cat body)" >&9
		return 1
	}
}

# fake_clean: switches back to their defaults, every machine force-destroyed.
fake_clean () {
	local id
	fly_fake_set '{"boot_delay": 0, "start_delay": null, "migrate_on_start": 0}'
	for id in $(fly_machines_json | json_q '" ".join(m["id"] for m in d if not m["destroyed"])'); do
		api DELETE "$M/$id?force=true" >/dev/null
	done
	fly_no_machines 15
}

# Each boot appends to runs and records the greeting it found, then scribbles
# over it: after a start that resets the root, runs has one line again and the
# greeting is config.files' own.
SCRIPT_BOOT='r=$FLAME_AGENT_ROOT; echo run >>"$r/runs"; cat "$r/etc/greeting" >>"$r/greetings"
echo scribbled >"$r/etc/greeting"; exec sleep 300'
GREETING_FILE="{\"files\": [{\"guest_path\": \"/etc/greeting\", \"raw_value\": \"$(printf hello | base64)\"}]}"

test_expect_success 'switches: start_delay is null by default, takes a number >= 0 or null; migrate_on_start a count' '
	equals "null 0" "$(curl -fsS "$FLY_FAKE_URL/_fake/config" | json_q "\"%s %s\" % (json.dumps(d[\"start_delay\"]), d[\"migrate_on_start\"])")"
	fly_fake_set "{\"start_delay\": 1.5}"
	fly_fake_set "{\"start_delay\": null}"
	for bad in "\"1\"" -1 true; do
		equals 400 "$(curl -sS -o /dev/null -w "%{http_code}" -X POST -d "{\"start_delay\": $bad}" "$FLY_FAKE_URL/_fake/config")"
	done
	equals 400 "$(curl -sS -o /dev/null -w "%{http_code}" -X POST -d "{\"migrate_on_start\": 1.5}" "$FLY_FAKE_URL/_fake/config")"
'

test_expect_success 'stop (§7.11) of an auto_destroy false machine: stopped, and it stays; wait for stopped (with instance_id) is 200; a second stop is 200 and changes nothing' '
	id=$(create "$SCRIPT_BOOT" "$GREETING_FILE")
	wait_state "$id" started
	iid=$(machine "$id" "d[\"instance_id\"]")
	equals 200 "$(api POST "$M/$id/stop")"
	wait_state "$id" stopped "instance_id=$iid"
	wait_state "$id" stopped "version=$iid"
	equals "stopped exit True" "$(api GET "$M/$id" >/dev/null; jbody "d[\"state\"] + \" \" + d[\"events\"][0][\"type\"] + \" \" + str(d[\"events\"][0][\"request\"][\"exit_event\"][\"requested_stop\"])")"
	events=$(jbody "len(d[\"events\"])")
	equals 200 "$(api POST "$M/$id/stop")"
	equals "{\"ok\": true}" "$(jbody "d")"
	sleep 1
	api GET "$M/$id" >/dev/null
	equals "stopped $events" "$(jbody "d[\"state\"] + \" \" + str(len(d[\"events\"]))")"
	equals "$id" "$(api GET "$M?state=stopped" >/dev/null; jbody "\" \".join(m[\"id\"] for m in d)")"
	equals "False null" "$(machine "$id" "\"%s %s\" % (d[\"destroyed\"], json.dumps(d[\"pid\"]))")"
'

test_expect_success 'billing while stopped: run_seconds stops growing, stopped_seconds grows' '
	id=$(fly_machines_json | json_q "[m[\"id\"] for m in d if m[\"state\"] == \"stopped\"][0]")
	run1=$(machine "$id" "d[\"run_seconds\"]")
	stopped1=$(machine "$id" "d[\"stopped_seconds\"]")
	at_least "$stopped1" 0.9
	sleep 1.2
	equals "$run1" "$(machine "$id" "d[\"run_seconds\"]")"
	at_least "$(machine "$id" "d[\"stopped_seconds\"]")" "$(awk -v s="$stopped1" "BEGIN { print s + 1.1 }")"
	equals 0 "$(machine "$id" "d[\"starts\"]")"
'

test_expect_success 'start (§2.5, §7.12) of a stopped machine: starting for start_delay, then started; same id, instance_id and private_ip; the root is reset to config.files' '
	id=$(fly_machines_json | json_q "[m[\"id\"] for m in d if m[\"state\"] == \"stopped\"][0]")
	root=$(machine "$id" "d[\"root\"]")
	equals 1 "$(wc -l <"$root/runs")"
	equals scribbled "$(cat "$root/etc/greeting")"
	before=$(machine "$id" "d[\"instance_id\"] + \" \" + d[\"private_ip\"]")
	fly_fake_set "{\"start_delay\": 2}"
	start=$(now)
	equals 200 "$(api POST "$M/$id/start")"
	equals "stopped False " "$(jbody "\"%s %s %s\" % (d[\"previous_state\"], d[\"migrated\"], d[\"new_host\"])")"
	equals starting "$(state "$id")"
	stopped=$(machine "$id" "d[\"stopped_seconds\"]")
	at_least "$stopped" 2
	wait_state "$id" started
	at_least "$(elapsed "$start")" 1.9
	equals "$id started" "$(api GET "$M/$id" >/dev/null; jbody "d[\"id\"] + \" \" + d[\"state\"]")"
	equals "$before" "$(machine "$id" "d[\"instance_id\"] + \" \" + d[\"private_ip\"]")"
	wait_for "test -s \"$root/greetings\"" 10
	equals 1 "$(wc -l <"$root/runs")"
	equals hello "$(cat "$root/greetings")"
	equals 1 "$(machine "$id" "d[\"starts\"]")"
	sleep 0.5
	equals "$stopped" "$(machine "$id" "d[\"stopped_seconds\"]")"
'

test_expect_success 'start of a started machine is 412 failed_precondition and changes nothing' '
	id=$(fly_machines_json | json_q "[m[\"id\"] for m in d if m[\"state\"] == \"started\"][0]")
	pid=$(machine "$id" "d[\"pid\"]")
	error_is 412 "failed_precondition: machine still active, refusing to start" api POST "$M/$id/start"
	equals "started $pid 1" "$(machine "$id" "\"%s %s %s\" % (d[\"state\"], d[\"pid\"], d[\"starts\"])")"
	fake_clean
'

SCRIPT_IGNORE='trap "" TERM INT; while :; do sleep 0.1; done'

test_expect_success 'start of a stopping machine is 412; once stopped, destroy without force is 200 and its stopped_seconds stop growing' '
	id=$(create "$SCRIPT_IGNORE")
	wait_state "$id" started
	equals 200 "$(api POST "$M/$id/stop" "{\"timeout\": \"2s\"}")"
	equals stopping "$(state "$id")"
	error_is 412 "failed_precondition" api POST "$M/$id/start"
	equals stopping "$(state "$id")"
	wait_state "$id" stopped
	equals 200 "$(api DELETE "$M/$id")"
	equals "{\"ok\": true}" "$(jbody "d")"
	error_is 404 "machine not found" api GET "$M/$id"
	stopped=$(machine "$id" "d[\"stopped_seconds\"]")
	sleep 0.5
	equals "$stopped" "$(machine "$id" "d[\"stopped_seconds\"]")"
'

test_expect_success 'start_delay null: a start takes boot_delay' '
	id=$(create "exec sleep 300")
	wait_state "$id" started
	equals 200 "$(api POST "$M/$id/stop")"
	wait_state "$id" stopped
	fly_fake_set "{\"boot_delay\": 1.5, \"start_delay\": null}"
	start=$(now)
	equals 200 "$(api POST "$M/$id/start")"
	wait_state "$id" started
	at_least "$(elapsed "$start")" 1.4
	fake_clean
'

test_expect_success 'migrate_on_start: the next start answers migrated true with a new_host, and the machine has a new private_ip, FLY_PRIVATE_IP too' '
	id=$(create "echo \"\$FLY_PRIVATE_IP\" >\"\$FLAME_AGENT_ROOT/ip\"; exec sleep 300")
	wait_state "$id" started
	ip1=$(machine "$id" "d[\"private_ip\"]")
	equals 200 "$(api POST "$M/$id/stop")"
	wait_state "$id" stopped
	fly_fake_set "{\"migrate_on_start\": 1}"
	equals 200 "$(api POST "$M/$id/start")"
	equals True "$(jbody "str(d[\"migrated\"] and len(d[\"new_host\"]) > 0)")"
	wait_state "$id" started
	ip2=$(machine "$id" "d[\"private_ip\"]")
	not equals "$ip1" "$ip2" 9>/dev/null
	equals "$ip2" "$(api GET "$M/$id" >/dev/null; jbody "d[\"private_ip\"]")"
	root=$(machine "$id" "d[\"root\"]")
	wait_for "test -s \"$root/ip\"" 10
	equals "$ip2" "$(cat "$root/ip")"
	equals 0 "$(curl -fsS "$FLY_FAKE_URL/_fake/config" | json_q "d[\"migrate_on_start\"]")"
	equals 200 "$(api POST "$M/$id/stop")"
	wait_state "$id" stopped
	equals 200 "$(api POST "$M/$id/start")"
	equals "False $ip2" "$(jbody "str(d[\"migrated\"])") $(machine "$id" "d[\"private_ip\"]")"
	fake_clean
'

test_expect_success 'GET /_fake/billing: machines created, POST starts, run and stopped seconds summed over all machines, machines running and stopped now' '
	curl -fsS "$FLY_FAKE_URL/_fake/billing" >b0.json
	equals "api_starts machines_created run_seconds running stopped stopped_seconds" "$(json_q "\" \".join(sorted(d))" <b0.json)"
	equals "0 0" "$(json_q "\"%d %d\" % (d[\"running\"], d[\"stopped\"])" <b0.json)"
	created0=$(json_q "d[\"machines_created\"]" <b0.json)
	starts0=$(json_q "d[\"api_starts\"]" <b0.json)
	a=$(create "exec sleep 300")
	b=$(create "exec sleep 300")
	wait_state "$a" started
	wait_state "$b" started
	equals 200 "$(api POST "$M/$a/stop")"
	wait_state "$a" stopped
	equals "$((created0 + 2)) $starts0 1 1" "$(billing "\"%d %d %d %d\" % (d[\"machines_created\"], d[\"api_starts\"], d[\"running\"], d[\"stopped\"])")"
	equals 200 "$(api POST "$M/$a/start")"
	equals "$((starts0 + 1)) 2 0" "$(billing "\"%d %d %d\" % (d[\"api_starts\"], d[\"running\"], d[\"stopped\"])")"
	wait_state "$a" started
	fly_machines_json >ms.json
	billing "d" >b1.json
	"$PYTHON" - ms.json b0.json b1.json <<-\EOF
	import json, sys
	ms, b0, b1 = (json.load(open(f)) for f in sys.argv[1:])
	for k in ("run_seconds", "stopped_seconds"):
	    total = sum(m[k] for m in ms)
	    assert total - 0.01 <= b1[k] <= total + 5, (k, total, b1[k])
	assert b1["stopped_seconds"] > b0["stopped_seconds"], (b0, b1)
	assert b1["api_starts"] == sum(m["starts"] for m in ms), b1
	EOF
	fake_clean
'

test_done
