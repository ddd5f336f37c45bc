#!/bin/bash
# shellcheck disable=SC2016,SC2034,SC2317 # test bodies are single-quoted, run later by tests/lib.sh: what they expand or use looks unused here
# The fake Fly Machines API itself (tests/fakes/fly_api.py): every point of the
# "must match" checklist of fly-machines-api.md §7 it enforces, the local boot of
# machines (files, environment, process trees, exits, restart policies) and its
# control switches (/_fake/...).
. "$(dirname "$0")/../lib.sh"

FAKE_PY=$SRC_ROOT/tests/fakes/fly_api.py
FAKE_DIR=$TEST_ROOT/fly
FLY_TOKEN=fm2_fake-token-$$-$RANDOM-secret
M=/v1/apps/flame-test/machines
IMAGE=registry.fly.io/flame-test:deployment-01HXYZ

# The token travels in the environment, not on the command line.
mkdir -p "$FAKE_DIR"
FAKE_FLY_TOKEN=$FLY_TOKEN FAKE_FLY_FLAME=$FLAME \
	"$PYTHON" "$FAKE_PY" --state "$FAKE_DIR" --app other-app >"$FAKE_DIR/stdout" 2>&1 </dev/null &
FAKE_PID=$!
wait_for 'test -s "$FAKE_DIR/port"' 15 || _bail 'the fake did not write its port file'
BASE=http://127.0.0.1:$(cat "$FAKE_DIR/port")

# api METHOD PATH [BODY]: print the HTTP status; the body lands in ./body, headers in ./hdr.
api () {
	local method=$1 path=$2
	shift 2
	curl -sS -o body -D hdr -w '%{http_code}' -X "$method" \
		-H "Authorization: Bearer $FLY_TOKEN" ${1+--data-binary "$1"} "$BASE$path"
}

# jbody EXPR: EXPR evaluated on the last answer's JSON body (d).
jbody () {
	json_q "$1" <body
}

# fake_config JSON: POST /_fake/config.
fake_config () {
	test "$(curl -sS -o /dev/null -w '%{http_code}' -X POST --data-binary "$1" "$BASE/_fake/config")" = 200
}

# fake_machines EXPR: EXPR evaluated on GET /_fake/machines (d).
fake_machines () {
	curl -sS "$BASE/_fake/machines" | json_q "$1"
}

live_ids () {
	fake_machines '" ".join(m["id"] for m in d if not m["destroyed"])'
}

# fake_clean: switches back to their defaults, every machine force-destroyed, and
# no process left below the fake.  Every test that makes machines ends with it.
fake_clean () {
	local id
	fake_config '{"rate_limit":false,"fail_next":[],"ambiguous_create":0,"boot_delay":0,
		"boot_never_starts":false,"drop_connection_on_create":0}'
	for id in $(live_ids); do
		api DELETE "$M/$id?force=true" >/dev/null
	done
	wait_for '[ -z "$(live_ids)" ] && [ -z "$(pgrep -P "$FAKE_PID")" ]' 15
}

# sh_argv SCRIPT: the JSON argv ["/bin/sh","-c",SCRIPT].
sh_argv () {
	"$PYTHON" -c 'import json, sys; print(json.dumps(["/bin/sh", "-c", sys.argv[1]]))' "$1"
}

# create_body ARGV_JSON [CONFIG_EXTRA_JSON [TOP_EXTRA_JSON]]: a create body for an
# auto_destroy, restart "no" machine running ARGV, merged with the extras.
create_body () {
	"$PYTHON" -c '
import json, sys
argv, cfg_x, top_x = sys.argv[1], sys.argv[2], sys.argv[3]
cfg = {"image": sys.argv[4], "auto_destroy": True, "restart": {"policy": "no"}, "guest": {"cpu_kind": "shared", "cpus": 1, "memory_mb": 256}}
if argv != "null":
    cfg["init"] = {"exec": json.loads(argv)}
cfg.update(json.loads(cfg_x))
body = {"config": cfg}
body.update(json.loads(top_x))
print(json.dumps(body))
' "$1" "${2:-"{}"}" "${3:-"{}"}" "$IMAGE"
}

# create ARGV_JSON [CONFIG_EXTRA [TOP_EXTRA]]: create a machine, print its id.
create () {
	local st
	st=$(api POST "$M" "$(create_body "$@")")
	if [ "$st" != 200 ]; then
		echo "create: status $st: $(cat body)" >&9
		return 1
	fi
	jbody 'd["id"]'
}

# wait_state ID STATE [TIMEOUT]: the wait endpoint answers 200 for STATE.
wait_state () {
	local st
	st=$(api GET "$M/$1/wait?state=$2&timeout=${3:-30}")
	if [ "$st" != 200 ]; then
		echo "wait $1 $2: status $st: $(cat body)" >&9
		return 1
	fi
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

SLEEP_ARGV='["/bin/sleep","300"]'

test_expect_success 'the fake starts: port file (no temp file left), pid file, /_fake/health 200, fake.log' '
	case $(cat "$FAKE_DIR/port") in ""|*[!0-9]*) false ;; esac
	equals "$FAKE_PID" "$(cat "$FAKE_DIR/pid")"
	equals "" "$(ls "$FAKE_DIR" | grep tmp || :)"
	equals 200 "$(curl -sS -o body -w "%{http_code}" "$BASE/_fake/health")"
	equals true "$(jbody "d[\"ok\"]")"
	grep -q "listening on 127.0.0.1:" "$FAKE_DIR/fake.log"
'

test_expect_success 'auth (§7.3): no Authorization, a wrong token, a bare scheme or another scheme is 401 with a JSON error' '
	equals 401 "$(curl -sS -o body -w "%{http_code}" "$BASE/v1/apps/flame-test")"
	jbody "d[\"error\"]"
	for h in "Bearer wrong" "Bearer" "FlyV1 " "Basic $FLY_TOKEN" "$FLY_TOKEN"; do
		equals 401 "$(curl -sS -o body -w "%{http_code}" -H "Authorization: $h" "$BASE$M")"
		jbody "d[\"error\"]"
	done
'

test_expect_success 'auth (§7.3): Bearer, FlyV1, nested Bearer FlyV1, any case, and a FlyV1 token list are accepted' '
	for h in "Bearer $FLY_TOKEN" "FlyV1 $FLY_TOKEN" "Bearer FlyV1 $FLY_TOKEN" "bearer $FLY_TOKEN" \
		"FLYV1 $FLY_TOKEN" "FlyV1 fm2_other,$FLY_TOKEN"; do
		equals 200 "$(curl -sS -o body -w "%{http_code}" -H "Authorization: $h" "$BASE$M")"
		equals "[]" "$(cat body | tr -d "\n")"
	done
'

test_expect_success 'app GET (§7.20): 200 with name and organization; --app adds apps; an unknown app is 404 "app not found" everywhere' '
	n=$(fake_machines "len(d)")
	equals 200 "$(api GET /v1/apps/flame-test)"
	equals flame-test "$(jbody "d[\"name\"]")"
	equals personal "$(jbody "d[\"organization\"][\"slug\"]")"
	equals 200 "$(api GET /v1/apps/other-app)"
	error_is 404 "app not found" api GET /v1/apps/nope
	error_is 404 "app not found" api GET /v1/apps/nope/machines
	error_is 404 "app not found" api POST /v1/apps/nope/machines "$(create_body "$SLEEP_ARGV")"
	error_is 404 "app not found" api GET /v1/apps/nope/machines/0123456789abcd
	equals "$n" "$(fake_machines "len(d)")"
'

test_expect_success 'an unknown machine is 404 "machine not found" on get, wait, stop, start and destroy; answers are JSON with fly-request-id' '
	error_is 404 "machine not found" api GET "$M/0123456789abcd"
	grep -qi "^content-type: application/json" hdr
	grep -qi "^fly-request-id: ." hdr
	error_is 404 "machine not found" api GET "$M/0123456789abcd/wait?state=started&timeout=1"
	error_is 404 "machine not found" api POST "$M/0123456789abcd/stop"
	error_is 404 "machine not found" api POST "$M/0123456789abcd/start"
	error_is 404 "machine not found" api DELETE "$M/0123456789abcd?force=true"
'

test_expect_success 'create (§7.6): 200 and a full machine: 14-hex id, ULID, generated name, region ord, state created, 127.0.0.N, config echo with defaults, image_ref, RFC 3339 times, launch event, no nonce' '
	equals 200 "$(api POST "$M" "{\"config\":{\"image\":\"$IMAGE\",\"init\":{\"exec\":$SLEEP_ARGV},\"auto_destroy\":true,\"restart\":{\"policy\":\"no\"},\"metadata\":{\"k\":\"v\"}}}")"
	jbody "d" >m.json
	json_q "d[\"id\"]" <m.json | grep -Eqx "[0-9a-f]{14}"
	json_q "d[\"instance_id\"]" <m.json | grep -Eqx "[0-9A-HJKMNP-TV-Z]{26}"
	json_q "d[\"name\"]" <m.json | grep -Eqx "[a-z]+-[a-z]+-[0-9]{4}"
	equals ord "$(json_q "d[\"region\"]" <m.json)"
	equals created "$(json_q "d[\"state\"]" <m.json)"
	json_q "d[\"private_ip\"]" <m.json | grep -Eqx "127\.0\.0\.([2-9]|[1-9][0-9]+)"
	equals "$IMAGE" "$(json_q "d[\"config\"][\"image\"]" <m.json)"
	equals "[\"/bin/sleep\", \"300\"]" "$(json_q "d[\"config\"][\"init\"][\"exec\"]" <m.json)"
	equals "{\"k\": \"v\"}" "$(json_q "d[\"config\"][\"metadata\"]" <m.json)"
	equals "{\"cpu_kind\": \"shared\", \"cpus\": 1, \"memory_mb\": 256}" "$(json_q "d[\"config\"][\"guest\"]" <m.json)"
	equals "{}" "$(json_q "d[\"config\"][\"dns\"]" <m.json)"
	equals "registry.fly.io flame-test deployment-01HXYZ" \
		"$(json_q "\" \".join(d[\"image_ref\"][k] for k in (\"registry\", \"repository\", \"tag\"))" <m.json)"
	json_q "d[\"created_at\"]" <m.json | grep -Eqx "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z"
	json_q "d[\"updated_at\"]" <m.json | grep -Eqx "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z"
	equals "launch created user" "$(json_q "\" \".join(d[\"events\"][0][k] for k in (\"type\", \"status\", \"source\"))" <m.json)"
	equals False "$(json_q "str(\"nonce\" in d)" <m.json)"
	wait_state "$(json_q "d[\"id\"]" <m.json)" started
	fake_clean
'

test_expect_success 'create (§7.6): name and region are echoed; nonce iff lease_ttl; skip_launch stays created and may be destroyed without force' '
	equals 200 "$(api POST "$M" "$(create_body "$SLEEP_ARGV" "{}" "{\"name\":\"my-runner\",\"region\":\"iad\",\"lease_ttl\":30}")")"
	equals "my-runner iad" "$(jbody "d[\"name\"] + \" \" + d[\"region\"]")"
	jbody "d[\"nonce\"]" | grep -Eqx "[0-9a-f]+"
	id=$(create "$SLEEP_ARGV" "{}" "{\"skip_launch\":true}")
	error_is 408 "currently created" api GET "$M/$id/wait?state=started&timeout=1"
	equals 200 "$(api GET "$M/$id")"
	equals created "$(jbody "d[\"state\"]")"
	equals 200 "$(api DELETE "$M/$id")"
	error_is 404 "machine not found" api GET "$M/$id"
	fake_clean
'

test_expect_success 'create validation (§7.7): no config, no image or an empty image is 400 "config.image required", an empty or bad JSON body is 400, and nothing is created' '
	n=$(fake_machines "len(d)")
	error_is 400 "config.image required" api POST "$M" "{}"
	error_is 400 "config.image required" api POST "$M" "{\"config\":null}"
	error_is 400 "config.image required" api POST "$M" "{\"config\":{\"init\":{}}}"
	error_is 400 "config.image required" api POST "$M" "{\"config\":{\"image\":\"\"}}"
	error_is 400 "unexpected end of JSON input" api POST "$M"
	error_is 400 "invalid character" api POST "$M" "{\"config\":}"
	equals "$n" "$(fake_machines "len(d)")"
'

test_expect_success 'create validation (§7.7, §7.8): type mismatches are 400 "json: cannot unmarshal ..."; null is accepted; unknown fields are ignored and not echoed' '
	n=$(fake_machines "len(d)")
	error_is 400 "json: cannot unmarshal array into Go value of type" api POST "$M" "[]"
	error_is 400 "json: cannot unmarshal string into Go struct field" api POST "$M" "$(create_body "$SLEEP_ARGV" "{\"guest\":{\"cpus\":\"2\"}}")"
	jbody "d[\"error\"]" | grep -qF "guest.cpus of type int"
	error_is 400 "json: cannot unmarshal string into Go struct field" api POST "$M" "$(create_body "$SLEEP_ARGV" "{\"auto_destroy\":\"yes\"}")"
	error_is 400 "json: cannot unmarshal number 1.5 into Go struct field" api POST "$M" "$(create_body "$SLEEP_ARGV" "{\"guest\":{\"cpus\":1.5}}")"
	error_is 400 "json: cannot unmarshal string into Go struct field" api POST "$M" "$(create_body "\"/bin/true\"")"
	error_is 400 "json: cannot unmarshal number into Go struct field" api POST "$M" "$(create_body "$SLEEP_ARGV" "{\"env\":{\"A\":1}}")"
	error_is 400 "json: cannot unmarshal object into Go struct field" api POST "$M" "$(create_body "$SLEEP_ARGV" "{\"image\":{}}")"
	error_is 400 "json: cannot unmarshal bool into Go struct field" api POST "$M" "$(create_body "$SLEEP_ARGV" "{}" "{\"region\":true}")"
	equals "$n" "$(fake_machines "len(d)")"
	equals 200 "$(api POST "$M" "$(create_body "$SLEEP_ARGV" "{\"guest\":{\"cpu_kind\":\"shared\",\"cpus\":1,\"memory_mb\":256,\"gpu_kind\":null,\"gpus\":null},\"services\":[],\"metadata\":null,\"bogus\":{\"x\":1}}" "{\"region\":null,\"name\":null,\"skip_secrets\":false,\"also_bogus\":[1]}")")"
	equals ord "$(jbody "d[\"region\"]")"
	equals False "$(jbody "str(\"bogus\" in d[\"config\"] or \"gpu_kind\" in d[\"config\"][\"guest\"] or \"metadata\" in d[\"config\"])")"
	fake_clean
'

test_expect_success 'create validation (§7.9): restart.policy enum, files (absolute guest_path, one source, base64, integer mode), guest memory rules, cpu_kind, durations' '
	n=$(fake_machines "len(d)")
	error_is 400 "restart policy" api POST "$M" "$(create_body "$SLEEP_ARGV" "{\"restart\":{\"policy\":\"on-fail\"}}")"
	error_is 400 "absolute" api POST "$M" "$(create_body "$SLEEP_ARGV" "{\"files\":[{\"guest_path\":\"etc/x\",\"raw_value\":\"aGk=\"}]}")"
	error_is 400 "guest_path" api POST "$M" "$(create_body "$SLEEP_ARGV" "{\"files\":[{\"raw_value\":\"aGk=\"}]}")"
	error_is 400 "exactly one of" api POST "$M" "$(create_body "$SLEEP_ARGV" "{\"files\":[{\"guest_path\":\"/x\"}]}")"
	error_is 400 "exactly one of" api POST "$M" "$(create_body "$SLEEP_ARGV" "{\"files\":[{\"guest_path\":\"/x\",\"raw_value\":\"aGk=\",\"secret_name\":\"S\"}]}")"
	error_is 400 "base64" api POST "$M" "$(create_body "$SLEEP_ARGV" "{\"files\":[{\"guest_path\":\"/x\",\"raw_value\":\"not base64!\"}]}")"
	error_is 400 "base64" api POST "$M" "$(create_body "$SLEEP_ARGV" "{\"files\":[{\"guest_path\":\"/x\",\"raw_value\":\"aGk\"}]}")"
	error_is 400 "json: cannot unmarshal string into Go struct field File.config.files.mode of type int" api POST "$M" "$(create_body "$SLEEP_ARGV" "{\"files\":[{\"guest_path\":\"/x\",\"raw_value\":\"aGk=\",\"mode\":\"0644\"}]}")"
	error_is 400 "256 MiB increment" api POST "$M" "$(create_body "$SLEEP_ARGV" "{\"guest\":{\"memory_mb\":300}}")"
	error_is 400 "max config.guest.memory_mb: 2048" api POST "$M" "$(create_body "$SLEEP_ARGV" "{\"guest\":{\"cpu_kind\":\"shared\",\"cpus\":1,\"memory_mb\":4096}}")"
	error_is 400 "minimum required 2048 MiB" api POST "$M" "$(create_body "$SLEEP_ARGV" "{\"guest\":{\"cpu_kind\":\"performance\",\"cpus\":1,\"memory_mb\":1024}}")"
	error_is 400 "cpu_kind" api POST "$M" "$(create_body "$SLEEP_ARGV" "{\"guest\":{\"cpu_kind\":\"turbo\"}}")"
	error_is 400 "time: invalid duration" api POST "$M" "$(create_body "$SLEEP_ARGV" "{\"stop_config\":{\"timeout\":\"10x\"}}")"
	error_is 400 "time: invalid duration" api POST "$M" "$(create_body "$SLEEP_ARGV" "{\"checks\":{\"alive\":{\"type\":\"tcp\",\"port\":2222,\"interval\":\"15\"}}}")"
	error_is 400 "signal" api POST "$M" "$(create_body "$SLEEP_ARGV" "{\"stop_config\":{\"signal\":\"SIGWINCH\"}}")"
	equals "$n" "$(fake_machines "len(d)")"
	for ok in "{\"restart\":{\"policy\":\"on-failure\",\"max_retries\":2}}" \
		"{\"guest\":{\"cpu_kind\":\"performance\",\"cpus\":2,\"memory_mb\":8192}}" \
		"{\"files\":[{\"guest_path\":\"/x\",\"raw_value\":\"\",\"mode\":384}]}" \
		"{\"stop_config\":{\"signal\":\"SIGINT\",\"timeout\":\"1m30s\"},\"checks\":{\"a\":{\"interval\":15000000000,\"timeout\":\"500ms\"}}}"; do
		equals 200 "$(api POST "$M" "$(create_body "$SLEEP_ARGV" "$ok")")"
	done
	equals "1m30s" "$(jbody "d[\"config\"][\"stop_config\"][\"timeout\"]")"
	fake_clean
'

test_expect_success 'wait (§7.10): state defaults to started; repeated and comma-listed states; instance_id and version accepted; 200 {"ok":true,"state":...}' '
	id=$(create "$SLEEP_ARGV" "{\"auto_destroy\":false}")
	api GET "$M/$id" >/dev/null
	v=$(jbody "d[\"instance_id\"]")
	equals 200 "$(api GET "$M/$id/wait")"
	equals "True started" "$(jbody "str(d[\"ok\"]) + \" \" + d[\"state\"]")"
	equals 200 "$(api GET "$M/$id/wait?state=stopped&state=started&timeout=5")"
	equals started "$(jbody "d[\"state\"]")"
	equals 200 "$(api GET "$M/$id/wait?state=destroyed,started&timeout=5&instance_id=$v")"
	equals 200 "$(api GET "$M/$id/wait?state=started&timeout=5&version=$v")"
	equals 200 "$(api GET "$M/$id/wait?state=settled&timeout=5")"
	equals started "$(jbody "d[\"state\"]")"
	fake_clean
'

test_expect_success 'wait (§7.10): timeout 0, 61 or not a number and an unknown state are 400; an expired wait is 408 deadline_exceeded, held at least the timeout' '
	id=$(create "$SLEEP_ARGV")
	wait_state "$id" started
	for t in 0 61 -1 abc 1.5; do
		error_is 400 "invalid_argument" api GET "$M/$id/wait?state=started&timeout=$t"
	done
	error_is 400 "invalid_argument" api GET "$M/$id/wait?state=running&timeout=1"
	start=$(now)
	error_is 408 "deadline_exceeded: machine failed to reach desired state, stopped, currently started" \
		api GET "$M/$id/wait?state=stopped&timeout=2"
	less_than 1.95 "$(elapsed "$start")"
	fake_clean
'

test_expect_success 'wait (§7.10) is a real long-poll: a pending wait for stopped answers once the machine stops, and other requests are served meanwhile' '
	id=$(create "$SLEEP_ARGV" "{\"auto_destroy\":false}")
	wait_state "$id" started
	curl -sS -o waited -w "%{http_code}" -H "Authorization: Bearer $FLY_TOKEN" \
		"$BASE$M/$id/wait?state=stopped&timeout=30" >waited.status &
	w=$!
	sleep 0.5
	equals 200 "$(api GET "$M/$id")"
	equals started "$(jbody "d[\"state\"]")"
	equals 200 "$(api POST "$M/$id/stop")"
	wait_exit "$w" 30
	equals 200 "$(cat waited.status)"
	equals stopped "$(json_q "d[\"state\"]" <waited)"
	fake_clean
'

SCRIPT_TRAP='trap "echo got-TERM >\"$FLAME_AGENT_ROOT/sig\"; exit 0" TERM; while :; do sleep 0.1; done'
SCRIPT_IGNORE='trap "echo ignored >>\"$FLAME_AGENT_ROOT/sig\"" TERM INT; while :; do sleep 0.1; done'

test_expect_success 'stop (§7.11): the body is optional and may carry extra fields; the signal reaches the process; started -> stopped; start (§7.12) boots it again with previous_state' '
	id=$(create "$(sh_argv "$SCRIPT_TRAP")" "{\"auto_destroy\":false}")
	wait_state "$id" started
	root=$FAKE_DIR/machines/$id/root
	equals 200 "$(api POST "$M/$id/stop" "{\"signal\":\"SIGTERM\",\"timeout\":\"10s\",\"id\":\"$id\",\"extra\":1}")"
	equals "{\"ok\": true}" "$(jbody "d")"
	wait_state "$id" stopped
	equals got-TERM "$(cat "$root/sig")"
	api GET "$M/$id" >/dev/null
	equals "stopped exit True" "$(jbody "d[\"state\"] + \" \" + d[\"events\"][0][\"type\"] + \" \" + str(d[\"events\"][0][\"request\"][\"exit_event\"][\"requested_stop\"])")"
	rm -f "$root/sig"
	equals 200 "$(api POST "$M/$id/start")"
	equals stopped "$(jbody "d[\"previous_state\"]")"
	wait_state "$id" started
	error_is 412 "failed_precondition" api POST "$M/$id/start"
	equals 200 "$(api POST "$M/$id/stop")"
	wait_state "$id" stopped
	equals got-TERM "$(cat "$root/sig")"
	equals 200 "$(api POST "$M/$id/stop")"
	fake_clean
'

test_expect_success 'stop (§7.11): a non-object body is 400 "json: cannot unmarshal array into Go value of type main.stopRequest"; a bad signal or timeout is 400' '
	id=$(create "$SLEEP_ARGV")
	wait_state "$id" started
	error_is 400 "json: cannot unmarshal array into Go value of type main.stopRequest" api POST "$M/$id/stop" "[]"
	error_is 400 "signal" api POST "$M/$id/stop" "{\"signal\":\"SIGFOO\"}"
	error_is 400 "time: invalid duration" api POST "$M/$id/stop" "{\"timeout\":\"soon\"}"
	error_is 400 "json: cannot unmarshal number into Go struct field stopRequest.signal of type string" api POST "$M/$id/stop" "{\"signal\":15}"
	equals 200 "$(api GET "$M/$id")"
	equals started "$(jbody "d[\"state\"]")"
	fake_clean
'

test_expect_success 'stop (§7.11): a process that ignores the signal is killed after the stop timeout' '
	id=$(create "$(sh_argv "$SCRIPT_IGNORE")" "{\"auto_destroy\":false}")
	wait_state "$id" started
	equals 200 "$(api POST "$M/$id/stop" "{\"signal\":\"SIGINT\",\"timeout\":\"1s\"}")"
	wait_state "$id" stopped
	grep -qx ignored "$FAKE_DIR/machines/$id/root/sig"
	api GET "$M/$id" >/dev/null
	equals 9 "$(jbody "d[\"events\"][0][\"request\"][\"exit_event\"][\"signal\"]")"
	equals "" "$(fake_machines "[m[\"pid\"] for m in d if m[\"id\"] == \"$id\"][0] or \"\"")"
	fake_clean
'

test_expect_success 'destroy (§7.13): a started machine is 412 failed_precondition without force; force=true and kill=true destroy it; GET is then 404' '
	a=$(create "$SLEEP_ARGV")
	b=$(create "$SLEEP_ARGV")
	wait_state "$a" started
	wait_state "$b" started
	error_is 412 "failed_precondition: unable to destroy machine, not currently stopped" api DELETE "$M/$a"
	error_is 412 "failed_precondition" api DELETE "$M/$a?force=false"
	equals 200 "$(api DELETE "$M/$a?force=true")"
	equals "{\"ok\": true}" "$(jbody "d")"
	equals 200 "$(api DELETE "$M/$b?kill=true")"
	wait_state "$a" destroyed
	wait_state "$b" destroyed
	error_is 404 "machine not found" api GET "$M/$a"
	error_is 404 "machine not found" api GET "$M/$b"
	equals "[]" "$(api GET "$M" >/dev/null; jbody "d")"
	fake_clean
'

test_expect_success 'stop (§7.11) of an auto_destroy machine ends in destroyed' '
	id=$(create "$SLEEP_ARGV")
	wait_state "$id" started
	equals 200 "$(api POST "$M/$id/stop")"
	wait_state "$id" destroyed
	error_is 404 "machine not found" api GET "$M/$id"
	fake_clean
'

test_expect_success 'list (§7.15): a JSON array; filters region, state (CSV), repeated metadata (AND), summary and include_deleted' '
	a=$(create "$SLEEP_ARGV" "{\"metadata\":{\"t\":\"L\",\"pool\":\"p1\",\"launch\":\"L1\"}}" "{\"region\":\"iad\"}")
	b=$(create "$SLEEP_ARGV" "{\"metadata\":{\"t\":\"L\",\"pool\":\"p1\",\"launch\":\"L2\"}}")
	c=$(create "$SLEEP_ARGV" "{\"metadata\":{\"t\":\"L\",\"pool\":\"p2\"}}" "{\"skip_launch\":true}")
	d=$(create "$SLEEP_ARGV" "{\"metadata\":{\"t\":\"L\"}}")
	wait_state "$a" started
	wait_state "$b" started
	equals 200 "$(api DELETE "$M/$d?force=true")"
	wait_state "$d" destroyed
	ids () { api GET "$M$1" >/dev/null; jbody "\" \".join(sorted(m[\"id\"] for m in d))"; }
	sorted () { printf "%s\n" "$@" | sort | tr "\n" " " | sed "s/ \$//"; }
	equals "$(sorted "$a" "$b" "$c")" "$(ids "")"
	equals "$a" "$(ids "?region=iad")"
	equals "$(sorted "$b" "$c")" "$(ids "?region=ord")"
	equals "$c" "$(ids "?state=created")"
	equals "$(sorted "$a" "$b" "$c")" "$(ids "?state=started,created")"
	equals "$(sorted "$a" "$b")" "$(ids "?metadata.pool=p1")"
	equals "$a" "$(ids "?metadata.pool=p1&metadata.launch=L1")"
	equals "" "$(ids "?metadata.pool=p2&metadata.launch=L1")"
	equals "" "$(ids "?metadata.pool=p3")"
	equals "$(sorted "$a" "$b" "$c" "$d")" "$(ids "?include_deleted=true&metadata.t=L")"
	equals "$d" "$(ids "?include_deleted=true&state=destroyed&metadata.t=L")"
	api GET "$M?summary=true" >/dev/null
	equals "False False" "$(jbody "str(any(\"config\" in m for m in d)) + \" \" + str(any(\"events\" in m for m in d))")"
	equals 3 "$(jbody "len([m for m in d if m[\"state\"] and m[\"private_ip\"]])")"
	fake_clean
'

test_expect_success 'exit (§7.14): the main process exiting gives stopped and an exit event with its code; with auto_destroy it is then destroyed and GET is 404' '
	id=$(create "$(sh_argv "sleep 1; exit 3")")
	wait_state "$id" destroyed
	error_is 404 "machine not found" api GET "$M/$id"
	api GET "$M?include_deleted=true" >/dev/null
	equals 3 "$(jbody "[e for m in d if m[\"id\"] == \"$id\" for e in m[\"events\"] if e[\"type\"] == \"exit\"][0][\"request\"][\"exit_event\"][\"exit_code\"]")"
	equals "destroy exit" "$(jbody "\" \".join([m for m in d if m[\"id\"] == \"$id\"][0][\"events\"][i][\"type\"] for i in (0, 1))")"
	id=$(create "$(sh_argv "sleep 1; exit 4")" "{\"auto_destroy\":false}")
	wait_state "$id" stopped
	api GET "$M/$id" >/dev/null
	equals "stopped exit 4 False" "$(jbody "\"%s %s %s %s\" % (d[\"state\"], d[\"events\"][0][\"type\"], d[\"events\"][0][\"request\"][\"exit_event\"][\"exit_code\"], d[\"events\"][0][\"request\"][\"exit_event\"][\"requested_stop\"])")"
	equals 200 "$(api DELETE "$M/$id")"
	fake_clean
'

test_expect_success 'restart policies (§7.14): always restarts after exit 0; on-failure retries a failing exit up to max_retries, then stops' '
	runs="echo run >>\"\$FLAME_AGENT_ROOT/runs\""
	a=$(create "$(sh_argv "$runs; sleep 0.2; exit 0")" "{\"restart\":{\"policy\":\"always\"}}")
	b=$(create "$(sh_argv "$runs; exit 1")" "{\"auto_destroy\":false,\"restart\":{\"policy\":\"on-failure\",\"max_retries\":1}}")
	c=$(create "$(sh_argv "$runs; exit 0")" "{\"auto_destroy\":false,\"restart\":{\"policy\":\"on-failure\",\"max_retries\":3}}")
	wait_for "test \$(cat \"$FAKE_DIR/machines/$a/root/runs\" 2>/dev/null | wc -l) -ge 3" 30
	api GET "$M/$a" >/dev/null
	case $(jbody "d[\"state\"]") in started|starting) ;; *) false ;; esac
	wait_state "$b" stopped
	equals 2 "$(wc -l <"$FAKE_DIR/machines/$b/root/runs")"
	api GET "$M/$b" >/dev/null
	equals "1 1" "$(jbody "\"%d %d\" % (d[\"events\"][0][\"request\"][\"exit_event\"][\"exit_code\"], d[\"events\"][0][\"request\"][\"restart_count\"])")"
	wait_state "$c" stopped
	equals 1 "$(wc -l <"$FAKE_DIR/machines/$c/root/runs")"
	fake_clean
'

test_expect_success 'a machine without init.exec, entrypoint or cmd fails its boot: stopped with exit code 1, then destroyed with auto_destroy' '
	a=$(create null "{\"auto_destroy\":false}")
	wait_state "$a" stopped
	api GET "$M/$a" >/dev/null
	equals "exit 1" "$(jbody "d[\"events\"][0][\"type\"] + \" \" + str(d[\"events\"][0][\"request\"][\"exit_event\"][\"exit_code\"])")"
	grep -q "boot failed" "$FAKE_DIR/machines/$a/console.log"
	b=$(create null)
	wait_state "$b" destroyed
	c=$(create "[\"/nonexistent/cmd\"]")
	wait_state "$c" destroyed
	d=$(create "$SLEEP_ARGV" "{\"init\":{\"entrypoint\":[\"/bin/sh\",\"-c\"],\"cmd\":[\"echo from-cmd; sleep 300\"]}}")
	wait_state "$d" started
	wait_for "grep -q from-cmd \"$FAKE_DIR/machines/$d/console.log\"" 10
	fake_clean
'

test_expect_success 'files: raw_value is decoded under the machine root at guest_path, parents created, mode applied (default 0644)' '
	key=$(printf "secret key\n" | base64)
	hello=$(printf "hello" | base64)
	id=$(create "$SLEEP_ARGV" "{\"files\":[{\"guest_path\":\"/etc/flame/key\",\"raw_value\":\"$key\",\"mode\":384},{\"guest_path\":\"/a/b/c.txt\",\"raw_value\":\"$hello\"},{\"guest_path\":\"/bin/tool\",\"raw_value\":\"$hello\",\"mode\":493}]}")
	wait_state "$id" started
	root=$FAKE_DIR/machines/$id/root
	equals "secret key" "$(cat "$root/etc/flame/key")"
	equals 600 "$(stat -c %a "$root/etc/flame/key")"
	equals hello "$(cat "$root/a/b/c.txt")"
	equals 644 "$(stat -c %a "$root/a/b/c.txt")"
	equals 755 "$(stat -c %a "$root/bin/tool")"
	fake_clean
'

test_expect_success 'environment: FLY_* (§5.1), FLAME_AGENT_ROOT and config.env reach the process, which runs in its root; nothing else of the environment of the fake' '
	id=$(create "$(sh_argv "env >\"\$FLAME_AGENT_ROOT/env.out\"; pwd >\"\$FLAME_AGENT_ROOT/pwd.out\"; sleep 300")" \
		"{\"env\":{\"GREETING\":\"hello world\",\"FLY_MACHINE_ID\":\"spoofed\"},\"metadata\":{\"fly_process_group\":\"app\"},\"guest\":{\"cpus\":2,\"memory_mb\":512}}" \
		"{\"region\":\"iad\"}")
	wait_state "$id" started
	root=$FAKE_DIR/machines/$id/root
	wait_for "test -s \"$root/pwd.out\"" 10
	api GET "$M/$id" >/dev/null
	ip=$(jbody "d[\"private_ip\"]")
	has () { grep -qxF -- "$1" "$root/env.out" || { echo "missing $1" >&9; return 1; }; }
	has "FLY_PRIVATE_IP=$ip"
	has "FLAME_AGENT_ROOT=$root"
	has "FLY_MACHINE_ID=$id"
	has "FLY_ALLOC_ID=$id"
	has "FLY_APP_NAME=flame-test"
	has "FLY_REGION=iad"
	has "PRIMARY_REGION=iad"
	has "FLY_IMAGE_REF=$IMAGE"
	has "FLY_VM_MEMORY_MB=512"
	has "FLY_PROCESS_GROUP=app"
	has "FLY_MACHINE_VERSION=$(jbody "d[\"instance_id\"]")"
	has "GREETING=hello world"
	has "HOME=$HOME"
	grep -q "^PATH=" "$root/env.out"
	not grep -q "^FAKE_FLY_" "$root/env.out"
	not grep -qF "$FLY_TOKEN" "$root/env.out"
	equals "$root" "$(cat "$root/pwd.out")"
	fake_clean
'

test_expect_success 'argv[0] named flame is replaced by $FAKE_FLY_FLAME (the binary under test)' '
	id=$(create "[\"/usr/local/bin/flame\",\"--version\"]")
	wait_state "$id" destroyed
	equals "$("$FLAME" --version)" "$(cat "$FAKE_DIR/machines/$id/console.log")"
	fake_clean
'

test_expect_success 'private_ip: a loopback 127.0.0.N unique among live machines, given back at destroy' '
	a=$(create "$SLEEP_ARGV")
	b=$(create "$SLEEP_ARGV")
	ipa=$(fake_machines "[m[\"private_ip\"] for m in d if m[\"id\"] == \"$a\"][0]")
	ipb=$(fake_machines "[m[\"private_ip\"] for m in d if m[\"id\"] == \"$b\"][0]")
	not equals "$ipa" "$ipb" 9>/dev/null
	wait_state "$a" started
	equals 200 "$(api DELETE "$M/$a?force=true")"
	wait_state "$a" destroyed
	c=$(create "$SLEEP_ARGV")
	equals "$ipa" "$(fake_machines "[m[\"private_ip\"] for m in d if m[\"id\"] == \"$c\"][0]")"
	fake_clean
'

SCRIPT_TREE='setsid sh -c "sleep 301.5" & (setsid sleep 302.5 &); sleep 303.5'
SCRIPT_ORPHANS='(setsid sleep 304.5 &); env -i /bin/sh -c "(setsid /bin/sleep 306.5 &)"; sleep 1; exit 0'

test_expect_success 'processes: destroy kills the whole tree, setsid grandchildren included; orphans left by an exited main process die too' '
	id=$(create "$(sh_argv "$SCRIPT_TREE")")
	wait_state "$id" started
	wait_for "test \$(count_procs \"^sleep 30[123]\\\\.5\$\") = 3" 10
	equals 200 "$(api DELETE "$M/$id?force=true")"
	wait_state "$id" destroyed
	wait_for "test \$(count_procs \"^sleep 30[123]\\\\.5\$\") = 0" 10
	id=$(create "$(sh_argv "$SCRIPT_ORPHANS")")
	wait_state "$id" destroyed
	wait_for "test \$(count_procs \"sleep 30[46]\\\\.5\$\") = 0" 10
	fake_clean
'

test_expect_success 'rate_limit (§7.16): past 3 quick requests per action and app, or 10 GETs per machine, 429 {"error":"rate limited"} without Retry-After; off again, 200' '
	a=$(create "$SLEEP_ARGV")
	b=$(create "$SLEEP_ARGV")
	fake_config "{\"rate_limit\":true}"
	burst () { # PATH N: N GETs on one connection: "STATUS retry-after:yes|no" lines
		"$PYTHON" -c "
import http.client, sys
c = http.client.HTTPConnection(\"127.0.0.1\", int(sys.argv[1]))
for _ in range(int(sys.argv[3])):
    c.request(\"GET\", sys.argv[2], headers={\"Authorization\": \"Bearer \" + sys.argv[4]})
    r = c.getresponse()
    body = r.read()
    print(r.status, \"retry-after:\" + (\"yes\" if r.getheader(\"Retry-After\") else \"no\"), body.decode().strip())
" "$(cat "$FAKE_DIR/port")" "$1" "$2" "$FLY_TOKEN"
	}
	burst "$M" 8 >list.out
	test "$(grep -c "^200 " list.out)" -ge 3
	grep -q "^429 retry-after:no {\"error\": \"rate limited\"}\$" list.out
	not grep -q "retry-after:yes" list.out
	burst "$M/$a" 30 >get.out
	test "$(grep -c "^200 " get.out)" -ge 10
	grep -q "^429 retry-after:no {\"error\": \"rate limited\"}\$" get.out
	equals 200 "$(api GET "$M/$b")"
	fake_config "{\"rate_limit\":false}"
	burst "$M/$a" 30 >get.out
	equals 30 "$(grep -c "^200 " get.out)"
	fake_clean
'

test_expect_success 'fail_next (§7.17): the next N matching requests get the status and a JSON error; a failed create creates nothing; "any" matches all' '
	fake_config "{\"fail_next\":[{\"action\":\"create\",\"status\":503,\"count\":2},{\"action\":\"get\",\"status\":429,\"count\":3}]}"
	body=$(create_body "$SLEEP_ARGV" "{\"metadata\":{\"launch\":\"F1\"}}")
	equals 503 "$(api POST "$M" "$body")"
	jbody "d[\"error\"]"
	equals 503 "$(api POST "$M" "$body")"
	equals 200 "$(api POST "$M" "$body")"
	id=$(jbody "d[\"id\"]")
	api GET "$M?metadata.launch=F1" >/dev/null
	equals 1 "$(jbody "len(d)")"
	for i in 1 2 3; do error_is 429 "rate limited" api GET "$M/$id"; done
	equals 200 "$(api GET "$M/$id")"
	fake_config "{\"fail_next\":[{\"action\":\"any\",\"status\":500,\"count\":1},{\"action\":\"wait\",\"status\":502,\"count\":1},{\"action\":\"destroy\",\"status\":409,\"count\":1}]}"
	equals 500 "$(api GET /v1/apps/flame-test)"
	equals 502 "$(api GET "$M/$id/wait?timeout=5")"
	wait_state "$id" started
	equals 409 "$(api DELETE "$M/$id?force=true")"
	equals 200 "$(api GET "$M/$id")"
	equals 400 "$(curl -sS -o /dev/null -w "%{http_code}" -X POST --data-binary "{\"fail_next\":[{\"action\":\"create\",\"status\":418}]}" "$BASE/_fake/config")"
	equals 400 "$(curl -sS -o /dev/null -w "%{http_code}" -X POST --data-binary "{\"no_such_switch\":1}" "$BASE/_fake/config")"
	fake_clean
'

test_expect_success 'ambiguous_create (§7.17): the create answers 408, yet the machine exists exactly once and boots' '
	fake_config "{\"ambiguous_create\":1}"
	error_is 408 "deadline_exceeded" api POST "$M" "$(create_body "$SLEEP_ARGV" "{\"metadata\":{\"launch\":\"AMB\"}}")"
	api GET "$M?metadata.launch=AMB" >/dev/null
	equals 1 "$(jbody "len(d)")"
	id=$(jbody "d[0][\"id\"]")
	wait_state "$id" started
	equals 200 "$(api POST "$M" "$(create_body "$SLEEP_ARGV" "{\"metadata\":{\"launch\":\"AMB2\"}}")")"
	fake_clean
'

test_expect_success 'drop_connection_on_create: the socket closes without an answer, yet the machine exists and boots' '
	fake_config "{\"drop_connection_on_create\":1}"
	rc=0
	api POST "$M" "$(create_body "$SLEEP_ARGV" "{\"metadata\":{\"launch\":\"DROP\"}}")" 2>err || rc=$?
	equals 52 "$rc"
	api GET "$M?metadata.launch=DROP" >/dev/null
	equals 1 "$(jbody "len(d)")"
	wait_state "$(jbody "d[0][\"id\"]")" started
	fake_clean
'

test_expect_success 'boot_delay: starting until the delay has passed, then started; boot_never_starts: starting forever, wait 408, destroy needs force' '
	fake_config "{\"boot_delay\":3}"
	id=$(create "$SLEEP_ARGV")
	api GET "$M/$id" >/dev/null
	equals starting "$(jbody "d[\"state\"]")"
	error_is 408 "currently starting" api GET "$M/$id/wait?state=started&timeout=1"
	wait_state "$id" started 20
	fake_config "{\"boot_delay\":0,\"boot_never_starts\":true}"
	id=$(create "$SLEEP_ARGV")
	start=$(now)
	error_is 408 "deadline_exceeded: machine failed to reach desired state, started, currently starting" \
		api GET "$M/$id/wait?timeout=2"
	less_than 1.95 "$(elapsed "$start")"
	error_is 412 "failed_precondition" api DELETE "$M/$id"
	equals 200 "$(api DELETE "$M/$id?force=true")"
	wait_state "$id" destroyed
	fake_clean
'

test_expect_success 'the die hook SIGKILLs the machine: exit event with signal 9, then destroyed (auto_destroy); 404 for an unknown machine' '
	id=$(create "$SLEEP_ARGV")
	wait_state "$id" started
	pid=$(fake_machines "[m[\"pid\"] for m in d if m[\"id\"] == \"$id\"][0]")
	proc_alive "$pid"
	equals 200 "$(curl -sS -o /dev/null -w "%{http_code}" -X POST "$BASE/_fake/machines/$id/die")"
	wait_state "$id" destroyed
	not proc_alive "$pid"
	api GET "$M?include_deleted=true" >/dev/null
	equals "137 9 False" "$(jbody "\" \".join(str(e[\"request\"][\"exit_event\"][k]) for m in d if m[\"id\"] == \"$id\" for e in m[\"events\"] if e[\"type\"] == \"exit\" for k in (\"exit_code\", \"signal\", \"requested_stop\"))")"
	equals 404 "$(curl -sS -o /dev/null -w "%{http_code}" -X POST "$BASE/_fake/machines/0123456789abcd/die")"
	fake_clean
'

test_expect_success '/_fake/machines and machines.jsonl: every machine ever created, with state, ip, pid, timestamps and run time' '
	id=$(create "$(sh_argv "sleep 1")")
	wait_state "$id" destroyed
	fake_machines "[m for m in d if m[\"id\"] == \"$id\"][0]" >m.json
	equals "destroyed True" "$(json_q "d[\"state\"] + \" \" + str(d[\"destroyed\"])" <m.json)"
	json_q "d[\"t_created\"] <= d[\"t_started\"] <= d[\"t_stopped\"] <= d[\"t_destroyed\"] or sys.exit(1)" <m.json
	json_q "d[\"run_seconds\"] >= 0.9 or sys.exit(1)" <m.json
	"$PYTHON" -c "
import json, sys
last = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    last[r[\"id\"]] = r
r = last[sys.argv[2]]
assert r[\"state\"] == \"destroyed\" and r[\"t_destroyed\"] and r[\"t_started\"], r
" "$FAKE_DIR/machines.jsonl" "$id"
	equals "$(fake_machines "len(d)")" "$(fake_machines "len(set(m[\"id\"] for m in d))")"
	fake_clean
'

test_expect_success 'requests.jsonl: one line per /v1 request (t, method, path, query, status, body); the token is in no record, log or console' '
	"$PYTHON" -c "
import json, sys
n = 0
for line in open(sys.argv[1]):
    r = json.loads(line)
    assert set(r) == {\"t\", \"method\", \"path\", \"query\", \"status\", \"body\"}, r
    assert r[\"path\"].startswith(\"/v1\"), r
    n += 1
creates = [json.loads(l) for l in open(sys.argv[1]) if \"\\\"POST\\\"\" in l]
assert any(r[\"status\"] == 200 and r[\"body\"][\"config\"][\"image\"] for r in creates if r[\"path\"].endswith(\"/machines\"))
waits = [json.loads(l) for l in open(sys.argv[1]) if \"/wait\" in l]
assert any(r[\"query\"].get(\"state\") == [\"stopped\", \"started\"] for r in waits)
assert n > 100, n
" "$FAKE_DIR/requests.jsonl"
	not grep -rqF "$FLY_TOKEN" "$FAKE_DIR"
	not grep -rqi "authorization" "$FAKE_DIR/requests.jsonl" "$FAKE_DIR/fake.log"
'

test_expect_success 'SIGTERM: the fake kills every machine process tree and exits, removing its port file' '
	a=$(create "$(sh_argv "setsid sleep 305.5 & sleep 307.5")")
	b=$(create "$SLEEP_ARGV" "{\"restart\":{\"policy\":\"always\"}}")
	wait_state "$a" started
	wait_state "$b" started
	wait_for "test \$(count_procs \"^sleep 30[57]\\\\.5\$\") = 2" 10
	pids=$(fake_machines "\" \".join(str(m[\"pid\"]) for m in d if m[\"pid\"])")
	test -n "$pids"
	kill -TERM "$FAKE_PID"
	wait_for "! proc_alive $FAKE_PID" 20
	equals 0 "$(count_procs "^sleep 30[57]\\.5\$")"
	for p in $pids; do not proc_alive "$p"; done
	grep -q "shutdown complete" "$FAKE_DIR/fake.log"
	not test -e "$FAKE_DIR/port"
	tail -n 2 "$FAKE_DIR/machines.jsonl" | grep -q "\"state\": \"destroyed\""
	test ! -s "$FAKE_DIR/stdout"
'

test_done
