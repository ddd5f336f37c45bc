#!/bin/bash
# shellcheck disable=SC2016,SC2034,SC2317 # test bodies are single-quoted, run later by tests/lib.sh: what they expand or use looks unused here
# A compromised runner host hands back only what the caller asked for.  The
# pool's `command` runs the real flame, but its `agent slot out` goes through
# tests/tools/hostile_slot.py, which adds --get frames to each job: a path no
# pattern asked for, a pattern the caller never gave, '..', an absolute path,
# a name through a symlink in --get-dir, more bytes (or a longer hole) than
# announced, mode 04755.  Each is refused on the caller's side with one
# "flame: --get" line and exit 255; nothing is written but what was asked.
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/lib-sshd.sh
. "$TEST_DIRECTORY/lib-sshd.sh"

MODE=$TEST_ROOT/hostile-mode
HOSTILE=$TEST_ROOT/hostile-flame
: >"$MODE"
cat >"$HOSTILE" <<EOF
#!/bin/sh
if [ "\$1 \$2 \$3" = "agent slot out" ]; then
	"$FLAME" "\$@" | "$PYTHON" "$TEST_DIRECTORY/tools/hostile_slot.py" "$MODE"
	exit
fi
exec "$FLAME" "\$@"
EOF
chmod +x "$HOSTILE"

# hostile MODE [GETS...]: in a fresh w/ (a repository: w/in/.git/hooks), runs
# a job that writes out.txt ("honest") under MODE, --get-dir w/in; its exit
# status in rc, its stderr in err.
hostile () {
	local mode=$1
	shift
	rm -rf w
	mkdir -p w/in/.git/hooks w/outside
	printf '%s\n%s\n' "$mode" "$PWD/w/abs.txt" >"$MODE"
	rc=0
	"$FLAME" run -p hostile "$@" --get-dir w/in --sh "echo honest >out.txt" >out 2>err || rc=$?
	: >"$MODE"
}

# only_asked: w holds what it held, out.txt as the job wrote it, nothing else.
only_asked () {
	equals "$(printf '%s\n' w w/in w/in/.git w/in/.git/hooks w/in/out.txt w/outside)" \
		"$(find w | LC_ALL=C sort)"
	equals honest "$(cat w/in/out.txt)"
	equals 644 "$(stat -c %a w/in/out.txt)"
}

test_expect_success 'set-up: an ssh pool whose host is hostile' '
	sshd_start a
	sshd_load a
	write_config "{ \"pools\": {
	  \"hostile\": { \"backend\": \"ssh\", \"max_concurrency\": 1, \"command\": \"$HOSTILE\",
	    \"hosts\": [ { \"login\": \"root@127.0.0.1:$SSHD_A_PORT\", \"host_key\": \"$SSHD_A_HOST_PUB\" } ] } } }"
	"$FLAME" pool key hostile >>"$SSHD_A_DIR/authorized_keys"
	umask 022
	hostile "" --get out.txt
	equals 0 "$rc"
	only_asked
'

test_expect_success 'a path no pattern asked for (.git/hooks/pre-commit) is refused' '
	umask 022
	hostile unrequested --get out.txt
	equals 255 "$rc"
	one_flame_line err "--get out.txt:" ".git/hooks/pre-commit" "not asked for"
	only_asked
'

test_expect_success 'a pattern the caller never gave is refused' '
	umask 022
	hostile pattern --get out.txt
	equals 255 "$rc"
	one_flame_line err "--get *:" "evil" "not asked for"
	only_asked
'

test_expect_success "a path with '..' is refused, even when the pattern matches it" '
	umask 022
	hostile dotdot --get ".*/out.txt"
	equals 255 "$rc"
	one_flame_line err "../out.txt"
	test ! -e w/out.txt
	equals "$(printf "%s\n" w w/in w/in/.git w/in/.git/hooks w/in/out.txt w/outside)" \
		"$(find w | LC_ALL=C sort)"
'

test_expect_success 'an absolute path is refused' '
	umask 022
	hostile absolute --get "*"
	equals 255 "$rc"
	one_flame_line err "$PWD/w/abs.txt" "not asked for"
	only_asked
'

test_expect_success 'a name through a symlink in --get-dir is refused; nothing lands outside' '
	umask 022
	rm -rf w && mkdir -p w/in/.git/hooks w/outside && ln -s ../outside w/in/sub
	printf "symlink\n" >"$MODE"
	rc=0
	"$FLAME" run -p hostile --get "sub/*" --get-dir w/in --sh "mkdir sub; echo ok >sub/ok" >out 2>err || rc=$?
	: >"$MODE"
	equals 255 "$rc"
	grep -F "sub/evil" err
	equals "" "$(grep -v "^flame: --get sub/\*: " err || :)"
	equals "" "$(ls -A w/outside)"
	test -L w/in/sub
'

test_expect_success 'more bytes than announced are refused; the honest file stays' '
	umask 022
	hostile oversize --get out.txt
	equals 255 "$rc"
	one_flame_line err "--get out.txt:" "more bytes than it announced"
	only_asked
'

test_expect_success 'a hole longer than announced is refused' '
	umask 022
	hostile hole --get out.txt
	equals 255 "$rc"
	one_flame_line err "--get out.txt:" "more bytes than it announced"
	only_asked
'

test_expect_success 'mode 04755 is refused' '
	umask 022
	hostile setuid --get out.txt
	equals 255 "$rc"
	one_flame_line err "--get out.txt:" "mode"
	only_asked
'

test_expect_success 'the caller'\''s umask masks what an honest host sends' '
	umask 077
	rm -rf w && mkdir w
	"$FLAME" run -p hostile --get x --get-dir w --sh "echo x >x; chmod 777 x"
	equals 700 "$(stat -c %a w/x)"
'

test_done
