#!/bin/bash
# shellcheck disable=SC2016,SC2034,SC2317 # test bodies are single-quoted, run later by tests/lib.sh: what they expand or use looks unused here
# What the fly backend asks the Machines API for (fly-machines-api.md §2.2,
# §2.13, §6): the exact create request of a runner, and the token, which
# never appears in output, logs or the journal.
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/lib-fly.sh
. "$TEST_DIRECTORY/lib-fly.sh"

fly_fake_start || _bail 'cannot start the fake Machines API'

test_expect_success 'set-up: a fly pool with every setting, one job run' '
	write_config "{ \"pools\": { $(fly_pool_conf f "\"region\": \"ams\", \"cpu_kind\": \"shared\", \"cpus\": 2,
	  \"memory_mb\": 1024, \"env\": {\"FFMPEG_THREADS\": \"2\"}, \"max_concurrency\": 3,
	  \"idle_shutdown_after\": \"45s\", \"failsafe\": \"25s\", \"grace\": \"12s\"") } }"
	"$FLAME" pool key f >client.pub
	equals ok "$("$FLAME" run -p f -- echo ok)"
	"$FLAME" run -p f -- cat /proc/self/status >/dev/null
'

test_expect_success 'the create request is exactly a runner'"'"'s, field by field' '
	"$PYTHON" - "$TEST_ROOT/fake/requests.jsonl" "$FLAME" "$FLY_IMAGE" "$WORK/client.pub" <<-\EOF
	import base64, json, sys
	reqs = [json.loads(l) for l in open(sys.argv[1])]
	flame, image, pub = sys.argv[2], sys.argv[3], open(sys.argv[4]).read().strip()
	creates = [r for r in reqs if r["method"] == "POST" and r["path"] == "/v1/apps/flame-test/machines"]
	assert len(creates) == 1, creates
	b = creates[0]["body"]
	assert set(b) <= {"config", "region"}, b.keys()
	assert b["region"] == "ams", b
	c = b["config"]
	assert c["image"] == image
	assert c["guest"] == {"cpu_kind": "shared", "cpus": 2, "memory_mb": 1024}, c["guest"]
	assert c["env"] == {"FFMPEG_THREADS": "2"}, c["env"]
	# the pool keeps stopped machines (stopped_max: its max): one must end
	# stopped, not destroyed, when it stops
	assert c["auto_destroy"] is False
	assert c["restart"] == {"policy": "no"}, c["restart"]
	assert c["init"] == {"exec": [flame, "agent"]}, c["init"]
	m = c["metadata"]
	assert m["flame_pool"] == "f" and m["flame_parent"] and m["flame_launch"].startswith("f-"), m
	for k in ("id", "image_ref", "instance_id", "private_ip", "state"):
	    assert k not in c, k
	files = {f["guest_path"]: f for f in c["files"]}
	assert set(files) == {"/etc/flame/ssh_host_ed25519_key", "/etc/flame/authorized_keys",
	                      "/etc/flame/agent.json"}, files.keys()
	key = files["/etc/flame/ssh_host_ed25519_key"]
	assert key["mode"] == 0o600
	assert base64.b64decode(key["raw_value"]).startswith(b"-----BEGIN OPENSSH PRIVATE KEY-----")
	assert base64.b64decode(files["/etc/flame/authorized_keys"]["raw_value"]).decode().strip() == pub
	agent = json.loads(base64.b64decode(files["/etc/flame/agent.json"]["raw_value"]))
	assert agent["port"] > 0 and agent["max_concurrency"] == 3, agent
	assert agent["failsafe"] == "25s" and agent["grace"] == "12s", agent
	assert agent["idle_shutdown_after"] == "75000ms", agent   # the pool idle + 30 s
	EOF
'

test_expect_success 'the runner is reached with the host key flame made for it, pinned' '
	"$PYTHON" - "$TEST_ROOT/fake/requests.jsonl" "$XDG_STATE_HOME/flame/state.json" <<-\EOF
	import base64, json, sys
	reqs = [json.loads(l) for l in open(sys.argv[1])]
	state = json.load(open(sys.argv[2]))
	runner = [r for p in state["pools"] if p["name"] == "f" for r in p["runners"]][0]
	info = runner["info"]
	assert info["host_key"].startswith("ssh-ed25519 "), info
	assert info["machine"] and info["launch"] == runner["id"], info
	EOF
'

test_expect_success 'pool ls names each runner'"'"'s machine' '
	"$FLAME" pool ls >ls.out
	machine=$(fly_machines_json | "$PYTHON" -c "import json, sys
print([m for m in json.load(sys.stdin) if not m[\"destroyed\"]][0][\"id\"])")
	grep -q "^  runner f-.* on machine $machine\$" ls.out
'

test_expect_success 'the API token appears nowhere: output, logs, journal, pool ls, the fake'"'"'s records' '
	"$FLAME" pool ls -v >ls.out 2>&1 || "$FLAME" pool ls >ls.out 2>&1
	"$FLAME" pool ls --json >>ls.out
	for f in ls.out "$XDG_STATE_HOME/flame/warmer.log" "$XDG_STATE_HOME/flame/state.json" \
		"$TEST_ROOT/fake/requests.jsonl" "$TEST_ROOT/fake/fake.log"; do
		test -s "$f"
		not grep -q "$FLY_API_TOKEN" "$f"
	done
	not grep -rq "$FLY_API_TOKEN" "$TEST_ROOT/fake/machines"
'

test_expect_success 'a missing token is one clear error, and nothing is created' '
	"$FLAME" warmer stop >/dev/null
	fly_no_machines 30
	before=$(wc -l <"$TEST_ROOT/fake/requests.jsonl")
	rc=0
	(unset FLY_API_TOKEN; "$FLAME" run -p f -- echo ok) >out 2>err || rc=$?
	equals 255 "$rc"
	one_flame_line err
	grep -q "FLY_API_TOKEN" err
	equals "$before" "$(wc -l <"$TEST_ROOT/fake/requests.jsonl")"
	"$FLAME" warmer stop >/dev/null
'

test_done
