#!/bin/bash
# shellcheck disable=SC2016,SC2034,SC2317 # test bodies are single-quoted, run later by tests/lib.sh: what they expand or use looks unused here
# --put and --get on ssh pools: files travel over the slot's channels (W_PUT
# frames into the job's scratch directory on the host before stdin, W_GET
# frames back after the command exited), names, bytes and permission bits
# intact, under the same rules as on the local backend (t0050 runs over ssh
# too); on a terminal a long transfer shows a progress bar, elsewhere never.
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/lib-sshd.sh
. "$TEST_DIRECTORY/lib-sshd.sh"

test_expect_success 'set-up: ssh pools on a private sshd (one with a single slot)' '
	sshd_start a
	sshd_load a
	write_config "{ \"pools\": {
	  \"remote\": { \"backend\": \"ssh\", \"max_concurrency\": 2, \"command\": \"$FLAME\",
	    \"hosts\": [ { \"login\": \"root@127.0.0.1:$SSHD_A_PORT\", \"host_key\": \"$SSHD_A_HOST_PUB\" } ] },
	  \"one\": { \"backend\": \"ssh\", \"max_concurrency\": 1, \"command\": \"$FLAME\",
	    \"hosts\": [ { \"login\": \"root@127.0.0.1:$SSHD_A_PORT\", \"host_key\": \"$SSHD_A_HOST_PUB\" } ] } } }"
	"$FLAME" pool key remote >>"$SSHD_A_DIR/authorized_keys"
	"$FLAME" pool key one >>"$SSHD_A_DIR/authorized_keys"
	equals ok "$("$FLAME" run -p remote -- echo ok)"
	equals ok "$("$FLAME" run -p one -- echo ok)"
'

test_expect_success 'put files with spaces, quotes and newlines in their names arrive intact' '
	mkdir src
	printf "one\n" >"src/a b"
	printf "two\n" >"src/it'\''s \"q\""
	printf "three\n" >"src/$(printf "new\nline")"
	head -c 3000000 /dev/urandom >src/big
	"$FLAME" run -p remote --put "src/a b" --put "src/it'\''s \"q\"" \
		--put "src/$(printf "new\nline")" --put src/big \
		-- sh -c "cat \"a b\" \"it'\''s \\\"q\\\"\" \"\$(printf \"new\\\\nline\")\"; sha256sum big" >out
	printf "one\ntwo\nthree\n" >want
	head -n 3 out | cmp - want
	equals "$(sha256sum <src/big | cut -d" " -f1)" "$(tail -n 1 out | cut -d" " -f1)"
'

test_expect_success 'a put script keeps its exec bit and stdin still streams after the files' '
	printf "#!/bin/sh\ncat\n" >run.sh
	chmod +x run.sh
	equals piped "$(echo piped | "$FLAME" run -p remote --put run.sh -- ./run.sh)"
'

# tree_sig DIR: names, types, sizes, modes and checksums under DIR.
tree_sig () {
	(
		cd "$1" || exit 1
		find . -printf '%p %y %s %m\n' | LC_ALL=C sort
		find . -type f -print0 | LC_ALL=C sort -z | xargs -0r md5sum
	)
}

test_expect_success '--get brings back names with spaces, quotes and newlines' '
	mkdir g1
	"$FLAME" run -p remote --get "*.out" --get-dir g1 \
		--sh "printf 1 >\"a b.out\"; printf 2 >\"it'\''s \\\"q\\\".out\"; printf 3 >\"\$(printf \"new\\nline\").out\""
	equals 1 "$(cat "g1/a b.out")"
	equals 2 "$(cat "g1/it'\''s \"q\".out")"
	equals 3 "$(cat "g1/$(printf "new\nline").out")"
	equals 3 "$(find g1 -type f | grep -c "\.out$")"
'

test_expect_success '--get keeps nested directories and makes the missing ones' '
	mkdir g2
	"$FLAME" run -p remote --get "a/b/c/d/deep.txt" --get "tree/*/*.txt" --get-dir g2 \
		--sh "mkdir -p a/b/c/d tree/x tree/y; echo deep >a/b/c/d/deep.txt;
		      echo x >tree/x/1.txt; echo y >tree/y/2.txt; echo no >tree/skip.dat"
	equals deep "$(cat g2/a/b/c/d/deep.txt)"
	equals x "$(cat g2/tree/x/1.txt)"
	equals y "$(cat g2/tree/y/2.txt)"
	test ! -e g2/tree/skip.dat
'

TEST_TIMEOUT=300 test_expect_success 'a 64 MiB --get arrives whole (same SHA-256), with no temporary file left' '
	mkdir g3
	"$FLAME" run -p remote --get big.bin --get-dir g3 \
		--sh "head -c 67108864 /dev/urandom >big.bin; sha256sum big.bin" >sum
	equals 67108864 "$(stat -c %s g3/big.bin)"
	equals "$(cut -d" " -f1 sum)" "$(sha256sum <g3/big.bin | cut -d" " -f1)"
	equals big.bin "$(ls -A g3)"
'

test_expect_success '--get keeps permission bits (0755, 0640, 0600, 0444)' '
	mkdir g4
	"$FLAME" run -p remote --get "m*" --get-dir g4 \
		--sh "for m in 755 640 600 444; do echo \$m >m\$m; chmod \$m m\$m; done"
	for m in 755 640 600 444; do equals "$m" "$(stat -c %a g4/m$m)"; done
'

test_expect_success '--put and --get in one job, with stdin streamed in between' '
	mkdir g5
	printf "put\n" >in.txt
	echo piped | "$FLAME" run -p remote --put in.txt --get out.txt --get-dir g5 \
		--sh "cat in.txt - >out.txt"
	printf "put\npiped\n" >want
	cmp want g5/out.txt
'

test_expect_success 'an escape through a symlink in the scratch dir is refused (255) and nothing lands outside' '
	mkdir g6 outside
	echo secret >outside/secret
	before=$(tree_sig outside)
	rc=0
	"$FLAME" run -p remote --get leak --get "dir/secret" --get-dir g6 \
		--sh "ln -s \"$WORK/outside/secret\" leak; ln -s \"$WORK/outside\" dir" 2>err || rc=$?
	equals 255 "$rc"
	equals 2 "$(grep -c "^flame: --get .*points outside the job.s directory" err)"
	equals 2 "$(wc -l <err)"
	equals 0 "$(ls -A g6 | wc -l)"
	equals "$before" "$(tree_sig outside)"
'

test_expect_success 'a file that cannot be written here is reported (255, "cannot write") and the others still arrive' '
	mkdir g7
	echo in-the-way >g7/sub
	rc=0
	"$FLAME" run -p remote --get "sub/x" --get ok.txt --get-dir g7 \
		--sh "mkdir sub; echo x >sub/x; echo ok >ok.txt" 2>err || rc=$?
	equals 255 "$rc"
	one_flame_line err "flame: --get sub/x: cannot write" "sub/x"
	equals ok "$(cat g7/ok.txt)"
	equals in-the-way "$(cat g7/sub)"
	equals "ok.txt sub" "$(cd g7 && ls -A | tr "\n" " " | sed "s/ \$//")"
'

test_expect_success 'two jobs fetching the same name into one directory at once both succeed' '
	mkdir g8
	"$FLAME" run -p remote --get same.bin --get-dir g8 --sh "head -c 5000000 /dev/zero >same.bin" &
	p1=$!
	"$FLAME" run -p remote --get same.bin --get-dir g8 --sh "head -c 5000000 /dev/zero >same.bin" &
	p2=$!
	wait_exit "$p1" 60
	wait_exit "$p2" 60
	equals same.bin "$(ls -A g8)"
	equals 5000000 "$(stat -c %s g8/same.bin)"
'

# slot_in_of POOL: the pid of the pool's `flame agent slot in` (a pool of one slot).
slot_in_of () {
	local p
	for p in $(root_pgrep "agent slot in"); do
		if tr "\0" "\n" <"/proc/$p/environ" 2>/dev/null | grep -qx "FLAME_POOL=$1"; then
			echo "$p"
		fi
	done
}

# stall PID SECONDS: stop PID now and let it go on SECONDS later (in the
# background), so that a transfer through it lasts longer than a second
# however fast this machine is.
stall () {
	kill -STOP "$1"
	(sleep "$2"; kill -CONT "$1") &
}

# under_pty OUT ERR CMD...: runs CMD with its stderr on a pseudo-terminal of
# 100 columns (what the terminal received goes to ERR), stdin from /dev/null
# and stdout to OUT; exits with CMD's status.
under_pty () {
	"$PYTHON" -c '
import fcntl, os, pty, struct, sys, termios
out, err = sys.argv[1], sys.argv[2]
pid, fd = pty.fork()
if pid == 0:
    os.dup2(os.open("/dev/null", os.O_RDONLY), 0)
    os.dup2(os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644), 1)
    os.execvp(sys.argv[3], sys.argv[3:])
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
got = b""
while True:
    try:
        data = os.read(fd, 65536)
    except OSError:
        break
    if not data:
        break
    got += data
with open(err, "wb") as f:
    f.write(got)
sys.exit(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
' "$@"
}

# bar_shown TTY_OUTPUT NAME: the terminal showed a progress bar for NAME:
# lines redrawn after "\r", each within 99 columns, with a percentage and a
# rate, and the last one erased at the end.
bar_shown () {
	"$PYTHON" -c '
import sys
got = open(sys.argv[1], "rb").read().decode("utf-8", "replace")
name = sys.argv[2]
assert got.endswith("\r\033[K"), "the bar is not erased at the end: %r" % got[-80:]
lines = [l.replace("\033[K", "") for l in got.split("\r")]
bars = [l for l in lines if l.startswith(name + "  ") and "%" in l and l.endswith("/s")]
assert bars, "no progress line for %s in %r" % (name, got[:400])
for l in bars:
    assert len(l) <= 99, "line wider than the terminal: %r" % l
' "$1" "$2" >&9
}

test_expect_success 'a --put that lasts over a second shows nothing when stderr is not a terminal' '
	head -c 16777216 /dev/zero >slow.bin
	slot=$(slot_in_of one)
	test -n "$slot"
	stall "$slot" 2
	start=$(now)
	"$FLAME" run -p one --put slow.bin -- sh -c "test \$(stat -c %s slow.bin) = 16777216" 2>err
	less_than 1.5 "$(elapsed "$start")"
	equals 0 "$(tr -cd "\r" <err | wc -c)"
	test ! -s err
'

test_expect_success 'on a terminal, a --put that lasts over a second shows a progress bar, erased at the end' '
	slot=$(slot_in_of one)
	stall "$slot" 2
	under_pty out tty "$FLAME" run -p one --put slow.bin -- sh -c "stat -c %s slow.bin"
	equals 16777216 "$(cat out)"
	bar_shown tty slow.bin
'

test_expect_success 'on a terminal, a short transfer shows nothing' '
	printf small >small.txt
	under_pty out tty "$FLAME" run -p one --put small.txt --get small.txt -- true
	test ! -s tty
'

# The runner sends --get files after the command: stall it once the first
# bytes have arrived (its temporary file is there), well before 256 MiB have.
TEST_TIMEOUT=300 test_expect_success 'a --get that lasts over a second: a bar on a terminal, nothing in a file' '
	mkdir gp gt
	"$FLAME" run -p one --get dense.bin --get-dir gp --sh "head -c 256M /dev/zero >dense.bin" 2>err &
	pid=$!
	wait_for "ls -A gp | grep -q flame-get" 30
	stall "$(slot_in_of one)" 1.5
	wait_exit "$pid" 60
	equals 268435456 "$(stat -c %s gp/dense.bin)"
	test ! -s err
	under_pty out tty "$FLAME" run -p one --get dense.bin --get-dir gt --sh "head -c 256M /dev/zero >dense.bin" &
	pid=$!
	wait_for "ls -A gt | grep -q flame-get" 30
	stall "$(slot_in_of one)" 1.5
	wait_exit "$pid" 60
	equals 268435456 "$(stat -c %s gt/dense.bin)"
	bar_shown tty dense.bin
'

TEST_TIMEOUT=300 test_expect_success 'Ctrl-C during a long --get stops it: 130, one line, no file and no temporary left' '
	mkdir gi
	"${SIGDFL[@]}" "$FLAME" run -p one --get dense.bin --get-dir gi --sh "head -c 256M /dev/zero >dense.bin" 2>err &
	pid=$!
	wait_for "ls -A gi | grep -q flame-get" 30
	# the runner waits while the signal travels, so the transfer cannot end first
	stall "$(slot_in_of one)" 1
	kill -INT "$pid"
	rc=0
	wait_exit "$pid" 30 || rc=$?
	equals 130 "$rc"
	one_flame_line err "flame: --get dense.bin: cannot read" "canceled"
	equals 0 "$(ls -A gi | wc -l)"
	equals ok "$("$FLAME" run -p one -- echo ok)"
'

test_done
