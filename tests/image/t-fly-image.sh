#!/bin/bash
# shellcheck disable=SC2016,SC2034,SC2317
# The Fly example image for real: runners booted by the fake Machines API in the
# root file system of examples/fly/Dockerfile's image (`make image`), so flame
# agent, its sshd, the libraries and the jobs all come from the image. Runs the
# README's ffmpeg examples on a fly pool "ffmpeg".
#
#   FLAME=$PWD/flame FLAME_IMAGE_ROOTFS=DIR tests/image/t-fly-image.sh
#
# (`make check-image` runs it; needs root.) Not in tests/t: the image needs
# Debian's package mirror to build, and `make check` runs without network.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/lib-fly.sh
. "$TEST_DIRECTORY/lib-fly.sh"

ROOTFS=${FLAME_IMAGE_ROOTFS:-}
test -x "$ROOTFS/usr/local/bin/flame" || _bail "FLAME_IMAGE_ROOTFS ($ROOTFS) is not the image's root (run make image)"
test "$(id -u)" = 0 || _bail 'needs root (the fake mounts and chroots in image mode)'

# the fake in image mode; FAKE_FLY_FLAME is not used there
FAKE_FLY_ROOTFS=$ROOTFS fly_fake_start || _bail 'cannot start the fake Machines API in image mode'

# the README's pool, pointed at the fake; no "command": the image's own flame
write_config "{ \"pools\": { \"ffmpeg\": { \"backend\": \"fly\", \"app\": \"$FLY_APP\",
  \"image\": \"$FLY_IMAGE\", \"api_url\": \"$FLY_FAKE_URL\", \"port\": $FLY_AGENT_PORT,
  \"cpus\": 2, \"memory_mb\": 2048, \"max\": 2, \"max_concurrency\": 2,
  \"boot_timeout\": \"60s\" } } }"

# the main pid of the one live machine
machine_pid () {
	fly_machines_json | "$PYTHON" -c 'import json, sys
live = [m for m in json.load(sys.stdin) if not m["destroyed"] and m["pid"]]
assert len(live) == 1, live
print(live[0]["pid"])'
}

TEST_TIMEOUT=300 test_expect_success 'a job runs in the image: its os-release, its ffmpeg, its flame' '
	"$FLAME" run -p ffmpeg -- cat /etc/os-release >os-release
	grep -q "^VERSION_CODENAME=bookworm$" os-release
	"$FLAME" run -p ffmpeg -- sh -c "command -v ffmpeg; command -v flame" >which
	equals "/usr/bin/ffmpeg
/usr/local/bin/flame" "$(cat which)"
	"$FLAME" run -p ffmpeg -- cat /app/flame.json >flame.json.image
	cmp flame.json.image "$SRC_ROOT/examples/fly/flame.json"
'

test_expect_success 'the machine runs chrooted in its own mount namespace, from the image' '
	pid=$(machine_pid)
	echo "$pid" >"$TEST_ROOT/machine.pid"
	readlink /proc/$pid/ns/mnt >"$TEST_ROOT/machine.ns"
	not equals "$(readlink /proc/self/ns/mnt)" "$(cat "$TEST_ROOT/machine.ns")"
	equals "/usr/local/bin/flame agent" "$(tr "\0" " " </proc/$pid/cmdline | sed "s/ $//")"
	# its root is its own overlay of the image, and its binary the image'"'"'s
	case $(readlink /proc/$pid/root) in
	"$TEST_ROOT"/fake/machines/*/mnt) ;;
	*) echo "root: $(readlink /proc/$pid/root)" >&9; false ;;
	esac
	cmp /proc/$pid/exe "$ROOTFS/usr/local/bin/flame"
	# its mounts are not seen here
	not grep -q "$TEST_ROOT/fake" /proc/self/mountinfo
'

TEST_TIMEOUT=300 test_expect_success 'the README example: --put talk.mov --get talk.mp4 -- ffmpeg' '
	# the video is made by the image'"'"'s ffmpeg (the host has none)
	"$FLAME" run -p ffmpeg --get talk.mov -- ffmpeg -loglevel error \
		-f lavfi -i testsrc=duration=3:size=320x240:rate=10 -pix_fmt yuv420p talk.mov
	test -s talk.mov
	"$FLAME" run -p ffmpeg -t 10m --put talk.mov --get talk.mp4 \
	    -- ffmpeg -loglevel error -i talk.mov talk.mp4
	test -s talk.mp4
	equals ftyp "$(dd if=talk.mp4 bs=1 skip=4 count=4 2>/dev/null)"
'

TEST_TIMEOUT=300 test_expect_success 'thumbnails: --put in.mp4 --get '"'"'thumb*.png'"'"' -- ffmpeg -vf fps=1' '
	cp talk.mp4 in.mp4
	"$FLAME" run -p ffmpeg --put in.mp4 --get "thumb*.png" \
		-- ffmpeg -loglevel error -i in.mp4 -vf fps=1 thumb%02d.png
	ls thumb*.png >thumbs
	equals "thumb01.png
thumb02.png
thumb03.png" "$(cat thumbs)"
	for f in thumb*.png; do
		test -s "$f"
		equals 89504e470d0a1a0a "$(od -An -tx1 -N8 "$f" | tr -d " \n")"
	done
'

TEST_TIMEOUT=120 test_expect_success 'afterwards: no machine, no process and no mount of it is left' '
	stop_warmer
	fly_no_machines 60
	pid=$(cat "$TEST_ROOT/machine.pid") ns=$(cat "$TEST_ROOT/machine.ns")
	wait_for "! proc_alive $pid" 10
	# nothing is left in the machine'"'"'s mount namespace, so its mounts are gone with it
	for p in /proc/[0-9]*; do
		test "$(readlink "$p/ns/mnt" 2>/dev/null)" != "$ns" || { echo "left: $p" >&9; false; }
	done
	not grep -q "$TEST_ROOT/fake" /proc/self/mountinfo
	# nor any process that says it belongs to one of the fake'"'"'s machines
	ids=$(fly_machines_json | "$PYTHON" -c "import json, sys
print(\" \".join(m[\"id\"] for m in json.load(sys.stdin)))")
	for id in $ids; do
		not grep -lqs "FLY_MACHINE_ID=$id" /proc/[0-9]*/environ
	done
'

test_done
