#!/bin/bash
# shellcheck disable=SC2016,SC2034,SC2317 # test bodies are single-quoted, run later by tests/lib.sh: what they expand or use looks unused here
# Run semantics: --put/--get round trips, --get safety, the scratch directory.
. "$(dirname "$0")/../lib.sh"

n1='with space.txt'
n2="quo'te\"s.txt"
n3=$'new\nline.txt'
SENTINEL=$TEST_ROOT/sentinel
mkdir -p "$SENTINEL"
echo original >"$SENTINEL/target"

# tree_sig DIR [EXCLUDE]: names, types, sizes, link targets and checksums under DIR.
tree_sig () {
	(
		cd "$1" || exit 1
		find . -path "./${2:-/}" -prune -o -printf '%p %y %s %l\n' | LC_ALL=C sort
		find . -path "./${2:-/}" -prune -o -type f -print0 | LC_ALL=C sort -z | xargs -0r md5sum
	)
}
# nentries DIR: number of entries directly in DIR (safe with newlines in names).
nentries () {
	find "$1" -mindepth 1 -maxdepth 1 -printf x | wc -c
}

test_expect_success '--put and --get round-trip files with spaces, quotes and newlines in their names' '
	mkdir src g
	printf one >"src/$n1"
	printf two >"src/$n2"
	printf three >"src/$n3"
	head -c 100000 /dev/urandom >src/bin.dat
	"$FLAME" run --put "src/$n1" --put "src/$n2" --put "src/$n3" --put src/bin.dat \
		--get "$n1.copy" --get "$n2.copy" --get "$n3.copy" --get bin.dat.copy --get-dir g \
		--sh "for f in *; do cp \"\$f\" \"\$f.copy\"; done"
	cmp "src/$n1" "g/$n1.copy"
	cmp "src/$n2" "g/$n2.copy"
	cmp "src/$n3" "g/$n3.copy"
	cmp src/bin.dat g/bin.dat.copy
	equals 4 "$(nentries g)"
'

test_expect_success 'the job starts in a scratch dir holding exactly the --put files (by basename)' '
	mkdir -p src2/deep
	printf a >"src2/deep/$n1"
	printf b >"src2/$n3"
	"$FLAME" run --put "src2/deep/$n1" --put "src2/$n3" --sh "printf \"%s\\0\" * .[!.]*" >got
	printf "%s\0" "$n1" "$n3" ".[!.]*" | sort -z >want
	sort -z got >got.sorted
	cmp want got.sorted
'

test_expect_success '--get with a glob pattern fetches every match' '
	mkdir g3
	"$FLAME" run --get "*.out" --get-dir g3 --sh "for n in a b c; do echo \$n >\$n.out; done; echo x >other.txt"
	equals "a.out b.out c.out" "$(cd g3 && echo *)"
	equals b "$(cat g3/b.out)"
'

test_expect_success '--get keeps the relative path of what it fetches' '
	mkdir g4
	"$FLAME" run --get "sub/dir/x.txt" --get "sub/*/y.txt" --get-dir g4 \
		--sh "mkdir -p sub/dir; echo hi >sub/dir/x.txt; echo yo >sub/dir/y.txt"
	equals hi "$(cat g4/sub/dir/x.txt)"
	equals yo "$(cat g4/sub/dir/y.txt)"
'

test_expect_success '--get-dir defaults to the current directory' '
	mkdir here
	cd here
	"$FLAME" run --get made.txt --sh "echo made >made.txt"
	equals made "$(cat made.txt)"
'

test_expect_success '--get of a symlink pointing inside the scratch dir fetches the file content' '
	mkdir g5
	"$FLAME" run --get alias --get-dir g5 --sh "echo real >real.txt; ln -s real.txt alias"
	equals real "$(cat g5/alias)"
	test ! -L g5/alias
'

for pat in '../x' '/etc/passwd' 'a/../../x' '..' 'sub/../../x' "$SENTINEL/target"; do
	test_expect_success "--get '${pat/#"$SENTINEL"/\$SENTINEL}' is refused before the run (125, one flame: line)" '
		mkdir -p gr
		rm -f "$WORK/ran"
		test_status 125 "$FLAME" run --get "$pat" --get-dir gr --sh "touch \"$WORK/ran\"" 2>err
		one_flame_line err
		test ! -e "$WORK/ran"
		equals 0 "$(nentries gr)"
	'
done

test_expect_success '--get-dir that does not exist is refused (125) and the job does not run' '
	rm -f "$WORK/ran"
	test_status 125 "$FLAME" run --get x --get-dir no/such/dir --sh "touch \"$WORK/ran\"; touch x" 2>err
	one_flame_line err
	test ! -e "$WORK/ran"
	test ! -e no
'

test_expect_success '--get-dir that is a regular file is refused (125)' '
	echo f >afile
	test_status 125 "$FLAME" run --get x --get-dir afile --sh "touch x" 2>err
	one_flame_line err
	equals f "$(cat afile)"
'

test_expect_success 'a job-made symlink to /etc/passwd is refused by --get leak (255, flame: --get leak: ...)' '
	mkdir g6
	before=$(tree_sig "$WORK" g6; tree_sig "$SENTINEL")
	test_status 255 "$FLAME" run --get leak --get-dir g6 --sh "ln -s /etc/passwd leak" 2>"$TEST_ROOT/err6"
	one_flame_line "$TEST_ROOT/err6" "flame: --get leak"
	equals 0 "$(nentries g6)"
	equals "$before" "$(tree_sig "$WORK" g6; tree_sig "$SENTINEL")"
'

test_expect_success 'a job-made symlink to a file outside the scratch dir is refused and not copied' '
	mkdir g7
	test_status 255 "$FLAME" run --get leak2 --get-dir g7 --sh "ln -s \"$SENTINEL/target\" leak2" 2>err
	one_flame_line err "flame: --get leak2"
	equals 0 "$(nentries g7)"
	equals original "$(cat "$SENTINEL/target")"
'

test_expect_success 'a --get path through a job-made symlinked directory pointing outside is refused' '
	mkdir g8
	test_status 255 "$FLAME" run --get escape/target --get-dir g8 --sh "ln -s \"$SENTINEL\" escape" 2>err
	one_flame_line err "flame: --get escape/target"
	equals 0 "$(nentries g8)"
'

test_expect_success 'a --get glob does not fetch a symlink pointing outside among regular matches' '
	mkdir g9
	rc=0
	"$FLAME" run --get "*.txt" --get-dir g9 --sh "echo ok >good.txt; ln -s /etc/passwd bad.txt" 2>err || rc=$?
	equals 255 "$rc"
	grep -q "^flame: --get" err
	equals ok "$(cat g9/good.txt)"
	test ! -e g9/bad.txt
	test ! -L g9/bad.txt
'

test_expect_success '--get of something that is not a regular file (a fifo) is refused (255)' '
	mkdir g10
	test_status 255 "$FLAME" run --get pipe --get-dir g10 --sh "mkfifo pipe" 2>err
	one_flame_line err "flame: --get pipe"
	equals 0 "$(nentries g10)"
'

test_expect_success '--get of a pattern that matches nothing is reported and makes run exit 255' '
	mkdir g11
	test_status 255 "$FLAME" run --get nothing-here.txt --get-dir g11 -- true 2>err
	one_flame_line err "nothing-here.txt"
'

test_expect_success 'a failed --get does not hide a nonzero exit status of the command' '
	mkdir g12
	test_status 3 "$FLAME" run --get nothing-here.txt --get-dir g12 --sh "exit 3" 2>err
	grep -q "^flame: " err
'

test_expect_success '--get never writes through a symlink already in --get-dir' '
	mkdir g13
	ln -s "$SENTINEL/target" g13/victim
	"$FLAME" run --get victim --get-dir g13 --sh "echo from-job >victim" 2>err || :
	equals original "$(cat "$SENTINEL/target")"
'

test_expect_success '--get never writes through a symlinked subdirectory of --get-dir' '
	mkdir g14
	ln -s "$SENTINEL" g14/sub
	before=$(tree_sig "$SENTINEL")
	"$FLAME" run --get sub/planted --get-dir g14 --sh "mkdir sub; echo evil >sub/planted" 2>err || :
	equals "$before" "$(tree_sig "$SENTINEL")"
	test ! -e "$SENTINEL/planted"
'

test_expect_success 'nothing was written outside the --get-dirs (sentinel dir unchanged)' '
	equals "./target f 9 " "$(cd "$SENTINEL" && find . -type f -printf "%p %y %s %l\n")"
	equals original "$(cat "$SENTINEL/target")"
'

test_expect_success 'fetched modes are masked by the caller'\''s umask; setuid, setgid and sticky never come back' '
	mkdir gm
	(
		umask 027
		"$FLAME" run --get "m*" --get-dir gm --sh "echo a >m1; echo b >m2; chmod 6777 m1; chmod 1666 m2"
	)
	equals 750 "$(stat -c %a gm/m1)"
	equals 640 "$(stat -c %a gm/m2)"
'

test_expect_success 'an unreadable or missing --put file is refused (125) before the run' '
	rm -f "$WORK/ran"
	test_status 125 "$FLAME" run --put no-such-file --sh "touch \"$WORK/ran\"" 2>err
	one_flame_line err no-such-file
	test ! -e "$WORK/ran"
'

# The runner's TMPDIR: this file's own on every backend (over ssh, the private
# sshd hands it to its sessions: tests/sshd-config.sh).
RUNNER_TMPDIR=$TMPDIR

test_expect_success 'the job cwd is a private (0700) scratch dir under $TMPDIR/flame-UID/jobs that is gone after the run' '
	"$FLAME" run --sh "pwd; stat -c %a ." >out
	d=$(sed -n 1p out)
	jobs=$RUNNER_TMPDIR/flame-$(id -u)/jobs/
	equals 700 "$(sed -n 2p out)"
	case $d in "$jobs"?*) ;; *) echo "scratch dir $d not under $jobs" >&9; false ;; esac
	test ! -e "$d"
'

test_expect_success 'two jobs get two different scratch dirs' '
	a=$("$FLAME" run -- pwd)
	b=$("$FLAME" run -- pwd)
	test -n "$a"
	not test "$a" = "$b"
'

test_expect_success 'the scratch dir is removed after a failing job and after a --timeout kill' '
	test_status 9 "$FLAME" run --sh "pwd >\"$WORK/p1\"; echo junk >f; mkdir -p d/e; exit 9"
	test_status 124 "$FLAME" run --timeout 1 --sh "pwd >\"$WORK/p2\"; echo junk >f; sleep 30.2"
	test -n "$(cat p1)"
	test -n "$(cat p2)"
	test ! -e "$(cat p1)"
	wait_for "test ! -e \"$(cat p2)\"" 2
'

test_done
