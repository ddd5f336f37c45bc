#!/bin/bash
# shellcheck disable=SC2016,SC2034,SC2317,SC2119 # test bodies are single-quoted, run later by tests/lib.sh: what they expand or use looks unused here
# Whose files steer a run: a flame.json found by walking up must belong to you
# or root and be writable by nobody else (the search stops at a directory
# others can write); FLAME_CONFIG names one on purpose; the journal brings back
# only pools the configuration still declares; a /tmp/flame-UID squatted by
# another user blocks nothing.
. "$(dirname "$0")/../lib.sh"

open_root_for_other_users || _bail 'cannot open / to other users'
OTHER=flo$$
SQUAT=flq$$
trap 'set +e; userdel -f -r $OTHER >/dev/null 2>&1; userdel -f -r $SQUAT >/dev/null 2>&1' EXIT
useradd -M -s /bin/sh "$OTHER" || _bail "useradd $OTHER failed"

# A shared directory like /tmp: root's, 1777.  The other user's flame.json in
# it declares the default pool; ssh to a closed loopback port would be where
# the runs go.
SHARED=$TEST_ROOT/shared
mkdir -m 1777 "$SHARED"
mkdir "$SHARED/work"
printf '{ "pools": { "default": { "backend": "ssh", "hosts": ["x@127.0.0.1:1"] }, "planted": { "max": 9 } } }\n' \
	>"$SHARED/flame.json"
chmod 644 "$SHARED/flame.json"
chown "$OTHER" "$SHARED/flame.json"

test_expect_success 'another user'"'"'s flame.json in a shared parent directory is refused, saying how to trust it' '
	cd "$SHARED/work"
	test_status 125 "$FLAME" run -- echo hi >out 2>err
	test ! -s out
	one_flame_line err "refusing project file $SHARED/flame.json" "FLAME_CONFIG=$SHARED/flame.json"
	test_status 125 "$FLAME" run -p planted -- true 2>err
	one_flame_line err "belongs to uid"
'

test_expect_success 'FLAME_CONFIG trusts such a file on purpose' '
	cd "$SHARED/work"
	FLAME_CONFIG=$SHARED/flame.json pool_field planted "p[\"max\"]" >out
	equals 9 "$(cat out)"
'

test_expect_success 'a flame.json of yours in a sticky shared directory is used' '
	mkdir -m 1777 "$TEST_ROOT/sticky" && mkdir "$TEST_ROOT/sticky/w"
	printf "{ \"pools\": { \"mine\": { \"max\": 3 } } }\n" >"$TEST_ROOT/sticky/flame.json"
	cd "$TEST_ROOT/sticky/w"
	out=$("$FLAME" run -p mine -- echo ran)
	equals ran "$out"
'

test_expect_success 'a flame.json others can write is refused, found or named' '
	mkdir -p "$WORK/gw/sub"
	printf "{ \"pools\": { \"gw\": {} } }\n" >"$WORK/gw/flame.json"
	chmod 664 "$WORK/gw/flame.json"
	cd "$WORK/gw/sub"
	test_status 125 "$FLAME" run -p gw -- true 2>err
	one_flame_line err "$WORK/gw/flame.json" "others can write it"
	FLAME_CONFIG=$WORK/gw/flame.json test_status 125 "$FLAME" run -p gw -- true 2>err
	one_flame_line err "others can write it"
'

test_expect_success 'the search stops at a directory others can write: a flame.json above it is not used' '
	mkdir -p "$WORK/stop/open/sub"
	chmod 777 "$WORK/stop/open"
	printf "{ \"pools\": { \"above\": {} } }\n" >"$WORK/stop/flame.json"
	cd "$WORK/stop/open/sub"
	test_status 125 "$FLAME" run -p above -- true 2>err
	one_flame_line err "unknown pool"
	cd "$WORK/stop"
	out=$("$FLAME" run -p above -- echo here)
	equals here "$out"
'

test_expect_success 'a flame.json in a directory others can write is refused' '
	printf "{ \"pools\": { \"inopen\": {} } }\n" >"$WORK/stop/open/flame.json"
	cd "$WORK/stop/open/sub"
	test_status 125 "$FLAME" run -p inopen -- true 2>err
	one_flame_line err "refusing project file $WORK/stop/open/flame.json" "others can write"
'

test_expect_success 'a flame.json in another user'"'"'s directory is refused' '
	mkdir -p "$WORK/theirs/sub"
	printf "{ \"pools\": { \"theirs\": {} } }\n" >"$WORK/theirs/flame.json"
	chown "$OTHER" "$WORK/theirs"
	cd "$WORK/theirs/sub"
	test_status 125 "$FLAME" run -p theirs -- true 2>err
	one_flame_line err "refusing project file $WORK/theirs/flame.json" "belongs to another user" "FLAME_CONFIG="
'

test_expect_success 'the journal does not bring back a pool whose declaration is gone' '
	mkdir -p "$WORK/proj"
	printf "{ \"pools\": { \"gone\": { \"min\": 1, \"max\": 1 } } }\n" >"$WORK/proj/flame.json"
	cd "$WORK/proj"
	out=$("$FLAME" run -p gone -- echo warm)
	equals warm "$out"
	grep -q "\"gone\"" "$STATE_FILE"
	"$FLAME" warmer stop >/dev/null
	wait_for "test_status 3 \"\$FLAME\" warmer status" 10
	rm "$WORK/proj/flame.json"
	out=$("$FLAME" run -- echo again)
	equals again "$out"
	not grep -q "\"gone\"" "$STATE_FILE"
	grep -q "pool .gone.: the configuration no longer declares it" "$WARMER_LOG"
	test_status 125 "$FLAME" run -p gone -- true 2>err
	one_flame_line err "unknown pool"
'

test_expect_success 'a pool still declared comes back from the journal with its scaled settings' '
	printf "{ \"pools\": { \"kept\": { \"max\": 2 } } }\n" >"$WORK/proj/flame.json"
	cd "$WORK/proj"
	"$FLAME" pool scale kept --max 5 >/dev/null
	"$FLAME" warmer stop >/dev/null
	wait_for "test_status 3 \"\$FLAME\" warmer status" 10
	"$FLAME" run -- true
	equals 5 "$(pool_field kept "p[\"max\"]")"
'

# Scratch: another user took the fixed name first.
test_expect_success 'a $TMPDIR/flame-UID made by another user does not block runs; jobs get a private dir' '
	"$FLAME" warmer stop >/dev/null
	wait_for "test_status 3 \"\$FLAME\" warmer status" 10
	rm -rf "$TMPDIR/flame-$(id -u)"
	mkdir -m 777 "$TMPDIR/flame-$(id -u)"
	chown "$OTHER" "$TMPDIR/flame-$(id -u)"
	out=$("$FLAME" run -- pwd)
	case $out in
	"$TMPDIR/flame-$(id -u)."*/jobs/*) ;;
	*) echo "job ran in $out" >&9; false ;;
	esac
	test "$(stat -c %a:%U "${out%%/jobs/*}")" = "700:$(id -un)"
	equals 0 "$(find "$TMPDIR/flame-$(id -u)" -mindepth 1 | wc -l)"
'

test_expect_success 'without TMPDIR, scratch is under XDG_RUNTIME_DIR' '
	"$FLAME" warmer stop >/dev/null
	wait_for "test_status 3 \"\$FLAME\" warmer status" 10
	out=$(env -u TMPDIR "$FLAME" run -- pwd)
	case $out in
	"$XDG_RUNTIME_DIR/flame/jobs/"*) ;;
	*) echo "job ran in $out" >&9; false ;;
	esac
	"$FLAME" warmer stop >/dev/null
	wait_for "test_status 3 \"\$FLAME\" warmer status" 10
'

# As a user of its own, without XDG_RUNTIME_DIR or TMPDIR: the real /tmp names.
test_expect_success 'a squatted /tmp/flame-UID blocks neither the warmer nor scratch of its user' '
	useradd -m -s /bin/sh "$SQUAT"
	uid=$(id -u "$SQUAT")
	home=$(getent passwd "$SQUAT" | cut -d: -f6)
	# the user must be able to run flame: $FLAME may be in a directory only
	# root can enter (a checkout under /root), so it runs a copy
	bin=$(mktemp -d /tmp/flame-bin.XXXXXX)
	trap "set +e; runuser -u $SQUAT -- env -i HOME=$home $bin/flame warmer stop >/dev/null 2>&1
		rm -rf /tmp/flame-$uid /tmp/flame-$uid.* $bin
		userdel -f -r $SQUAT >/dev/null 2>&1; userdel -f -r $OTHER >/dev/null 2>&1" EXIT
	chmod 755 "$bin" && cp "$FLAME" "$bin/flame"
	rm -rf "/tmp/flame-$uid" /tmp/flame-"$uid".*
	mkdir -m 777 "/tmp/flame-$uid"
	chown "$OTHER" "/tmp/flame-$uid"
	cd /
	out=$(runuser -u "$SQUAT" -- env -i HOME="$home" PATH=/usr/bin:/bin FLAME_WARMER_GRACE=3s "$bin/flame" run -- pwd)
	case $out in
	"/tmp/flame-$uid."*/jobs/*) ;;
	*) echo "job ran in $out" >&9; false ;;
	esac
	test -S "$home/.local/state/flame/run/warmer.sock"
	runuser -u "$SQUAT" -- env -i HOME="$home" "$bin/flame" warmer stop >/dev/null
	wait_for "test_status 3 runuser -u $SQUAT -- env -i HOME=$home $bin/flame warmer status" 10
	equals 0 "$(find "/tmp/flame-$uid" -mindepth 1 | wc -l)"
'

test_done
