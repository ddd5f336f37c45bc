#!/bin/bash
# shellcheck disable=SC2016,SC2034,SC2317 # test bodies are single-quoted, run later by tests/lib.sh: what they expand or use looks unused here
# Every example in README.md runs here, as written, so that none can rot: each
# fenced block is taken from the README itself (not copied into this file) and
# run in a sandbox where `flame` is the binary under test, `ffmpeg` a stand-in
# that copies its input, and `ssh`/`ssh-keyscan` reach a private sshd instead
# of the example's hosts. Where a line names a path outside the sandbox
# (/etc/flame, /srv/bin, /src/app), the test rewrites that path and says so.
# The last test fails if the README has a block that no test here runs or
# explicitly sets aside (only drawings and Fly's own `fly` CLI are).
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/lib-sshd.sh
. "$TEST_DIRECTORY/lib-sshd.sh"
# shellcheck source=tests/lib-fly.sh
. "$TEST_DIRECTORY/lib-fly.sh"

open_root_for_other_users || _bail 'cannot open / to other users'
README=$SRC_ROOT/README.md
BLOCKS=$TEST_ROOT/readme
mkdir -p "$BLOCKS" "$WORK/bin"

# Split the README into its fenced blocks: $BLOCKS/N (the text) and a line
# "N<TAB>README line" in $BLOCKS/index.
# A block inside a list item is indented like its fence; that indent is removed.
awk -v d="$BLOCKS" '
	/^ *```/ && !inb { inb = 1; n++; f = d "/" n; ind = index($0, "`") - 1
		printf "" >f; print n "\t" NR >(d "/index"); next }
	/^ *```/ && inb { inb = 0; close(f); next }
	inb { print substr($0, 1, ind) ~ /^ *$/ ? substr($0, ind + 1) : $0 >>f }' "$README" ||
	_bail 'cannot split README.md'

# readme_block TEXT: the path of the one block that has the line TEXT (leading
# blanks aside), else the one block that contains TEXT; marks the block as run.
readme_block () {
	local hits='' n f
	for f in "$BLOCKS"/[0-9]*; do
		sed 's/^[[:space:]]*//' "$f" | grep -qxF -- "$1" && hits="$hits$f
"
	done
	[ -z "$hits" ] && hits=$(grep -lF -- "$1" "$BLOCKS"/[0-9]* 2>/dev/null)
	n=$(printf '%s' "$hits" | grep -c .)
	if [ "$n" -ne 1 ]; then
		echo "README: $n blocks contain: $1" >&2
		return 1
	fi
	basename "$hits" >>"$BLOCKS/used"
	printf '%s' "$hits" | head -n 1
}

# readme_whole TEXT: like readme_block, for the block whose whole text is TEXT.
readme_whole () {
	local f
	for f in "$BLOCKS"/[0-9]*; do
		if [ "$(cat "$f")" = "$1" ]; then
			basename "$f" >>"$BLOCKS/used"
			printf '%s\n' "$f"
			return 0
		fi
	done
	echo "README: no block is exactly: $1" >&2
	return 1
}

# readme_set_aside TEXT WHY: the block holding TEXT is not run, for WHY.
readme_set_aside () {
	readme_block "$1" >/dev/null
}

# The sandbox's commands, first on PATH for the tests and the runners alike.
ln -s "$FLAME" "$WORK/bin/flame"
cat >"$WORK/bin/ffmpeg" <<'EOF'
#!/bin/sh
# stand-in: "ffmpeg [opts] -i IN OUT" copies IN to OUT; -version says what it is
for a; do [ "$a" = -version ] && { echo "ffmpeg version stand-in"; exit 0; }; done
in=; prev=; for a; do [ "$prev" = -i ] && in=$a; prev=$a; done
eval "out=\${$#}"
[ -n "$in" ] && cp -- "$in" "$out"
EOF
chmod +x "$WORK/bin/ffmpeg"
export PATH="$WORK/bin:$PATH" LANG=C.UTF-8

sshd_start a >/dev/null || _bail 'cannot start a private sshd'
sshd_load a
# ssh and ssh-keyscan reach sshd a, whatever host the example names
cat >"$WORK/bin/ssh" <<EOF
#!/bin/sh
# stand-in: the example's host is replaced by the test's sshd (root@127.0.0.1)
while [ \$# -gt 0 ]; do case \$1 in -*) shift ;; *) shift; break ;; esac; done
exec /usr/bin/ssh -F /dev/null -p $SSHD_A_PORT -i $SSHD_A_DIR/client_ed25519 -o IdentitiesOnly=yes \
	-o UserKnownHostsFile=$SSHD_A_DIR/known_hosts -o StrictHostKeyChecking=yes -o BatchMode=yes \
	-o LogLevel=ERROR root@127.0.0.1 "\$@"
EOF
cat >"$WORK/bin/ssh-keyscan" <<EOF
#!/bin/sh
# stand-in: scans the test's sshd, never the example's address
exec /usr/bin/ssh-keyscan -t ed25519 -p $SSHD_A_PORT 127.0.0.1 2>/dev/null
EOF
chmod +x "$WORK/bin/ssh" "$WORK/bin/ssh-keyscan"

# pools_from JSON_BLOCK...: one flame.json holding the pools of all the blocks
pools_from () {
	"$PYTHON" -c 'import json, sys
pools = {}
for f in sys.argv[1:]:
    pools.update(json.load(open(f))["pools"])
print(json.dumps({"pools": pools}, indent=1))' "$@"
}

test_expect_success 'Quick start: its flame run prints the SHA-256 of the README; its second line is this suite' '
	b=$(readme_block "sha256sum README.md")
	line=$(head -n 1 "$b")
	equals "make check" "$(sed -n 2p "$b")"
	run=${line##*&& }
	equals "./flame run --put README.md -- sha256sum README.md" "$run"
	cp "$README" README.md && ln -s "$FLAME" ./flame
	sh -c "$run" >out
	equals "$(sha256sum README.md)" "$(cat out)"
'

# synopsis_options_in_help COMMAND LINE: the README block with LINE names
# only options that `flame COMMAND --help` has.
synopsis_options_in_help () {
	local b o
	b=$(readme_block "$2") || return 1
	"$FLAME" "$1" --help >help
	# shellcheck disable=SC2013 # the words are options: no blanks in them
	for o in $(grep -o -- "-[-a-z]*" "$b" | sort -u); do
		grep -q -- "$o" help || { echo "synopsis has $o, help does not" >&9; return 1; }
	done
}

test_expect_success 'the run synopsis lists exactly the options of flame run --help' '
	synopsis_options_in_help run "flame run [OPTIONS] --sh '"'"'SHELL STRING'"'"'"
'

test_expect_success 'the map synopsis names only options of flame map --help' '
	synopsis_options_in_help map "flame map [OPTIONS] --sh '"'"'SHELL STRING'"'"' [::: INPUT... | :::: FILE]"
'

test_expect_success 'the configuration example is accepted as written' '
	b=$(readme_block "\"thumbs\": { \"max\": 1 }")
	cp "$b" flame.json
	equals 2 "$(pool_field ffmpeg "p[\"max\"]")"
	equals 3 "$(pool_field ffmpeg "p[\"max_concurrency\"]")"
	equals 1 "$(pool_field thumbs "p[\"max\"]")"
'

test_expect_success 'the run examples: pipelines, a file sent and fetched, variables passed' '
	cp "$(readme_block "\"thumbs\": { \"max\": 1 }")" flame.json
	b=$(readme_block "zcat access.log.gz | flame run -- grep -c '"' 404 '"'")
	printf "%s\n" "GET /a 200" "GET /b 404 x" "GET /c 404 y" "GET /d 404 z" | gzip >access.log.gz
	printf "%s\n" b a c a b a >words.txt
	echo "talk video" >talk.mov
	printf "#!/bin/sh\necho \"\$LANG \$LOG_LEVEL\"\n" >report.sh && chmod +x report.sh
	bash -e "$b" >out 2>err
	test ! -s err
	printf "%s\n" 3 "      3 a" "      2 b" "      1 c" "C.UTF-8 debug" >expected
	equals "$(cat expected)" "$(cat out)"
	cmp talk.mov talk.mp4
'

test_expect_success 'the Makefile example under make -j16 converts every .mov' '
	cp "$(readme_block "\"thumbs\": { \"max\": 1 }")" flame.json
	cp "$(readme_block "%.mp4: %.mov")" Makefile
	b=$(readme_block "make -j16 \$(ls *.mov | sed '"'"'s/mov\$/mp4/'"'"')")
	for i in 1 2 3 4 5 6 7 8; do echo "movie $i" >m$i.mov; done
	bash -e "$b" >out 2>&1
	for i in 1 2 3 4 5 6 7 8; do cmp m$i.mov m$i.mp4; done
'

test_expect_success 'the flame map examples: videos converted, thumbnails logged and resumed, a shell per job' '
	cp "$(readme_block "\"thumbs\": { \"max\": 1 }")" flame.json
	b=$(readme_block "ls *.mov | flame map -p ffmpeg --put {} --get {.}.mp4 \\")
	rm -f ./*.mov ./*.mp4
	for i in 1 2 3; do echo "video $i" >v$i.mov; done
	cp "$README" README.md && cp "$SRC_ROOT/CHANGELOG.md" CHANGELOG.md
	bash -e "$b" >out 2>err
	test ! -s err
	for i in 1 2 3; do cmp v$i.mov v$i.mp4 && cmp v$i.mov v$i.png; done
	test "$(wc -l <thumbs.log)" = 4
	printf "README.md: %s\nCHANGELOG.md: %s\n" "$(wc -l <README.md)" "$(wc -l <CHANGELOG.md)" >want
	cmp want out
'

test_expect_success 'the cron line runs from HOME with its pool in the user file (flame and the job at sandbox paths)' '
	mkdir -p "$XDG_CONFIG_HOME/flame"
	cp "$(readme_block "\"thumbs\": { \"max\": 1 }")" "$XDG_CONFIG_HOME/flame/config.json"
	b=$(readme_block "0 * * * * /usr/local/bin/flame run -p thumbs -t 10m -- /srv/bin/thumbs")
	printf "#!/bin/sh\necho thumbs ran\n" >thumbs && chmod +x thumbs
	cmd=$(cut -d" " -f6- "$b" | sed -e "s#/usr/local/bin/flame#$FLAME#" -e "s#/srv/bin/thumbs#$WORK/thumbs#")
	(cd "$HOME" && sh -c "$cmd") >out
	rm "$XDG_CONFIG_HOME/flame/config.json"
	equals "thumbs ran" "$(cat out)"
'

test_expect_success 'the warmer commands do what their comments say' '
	b=$(readme_block "flame warmer status   # exit 0 if it runs, 3 if not")
	flame run -- true
	test_status 0 sh -c "$(sed -n 1p "$b")"
	test_status 0 sh -c "$(sed -n 2p "$b")"
	wait_for "test_status 3 flame warmer status" 10
	sh -c "$(sed -n 3p "$b")" >fg.out 2>&1 &
	wait_for "test_status 0 flame warmer status" 10
	flame warmer stop
	wait
'

test_expect_success 'the configuration errors are the ones flame prints' '
	b=$(readme_block "flame: unknown pool '"'"'nope'"'"'; known pools: default, ffmpeg (declare it in flame.json)")
	mkdir -p src/app && cd src/app
	printf "{\n  \"pools\": {\n    \"x\": {\n" >flame.json
	test_status 125 flame pool ls 2>err1
	printf "{ \"pools\": { \"x\": { \"max_concurrency\": 0 } } }\n" >flame.json
	test_status 125 flame pool ls 2>err2
	printf "{ \"pools\": { \"ffmpeg\": {} } }\n" >flame.json
	test_status 125 flame run -p nope -- true 2>err3
	cat err1 err2 err3 | sed "s#$WORK/src/app#/src/app#" >got
	equals "$(cat "$b")" "$(cat got)"
'

test_expect_success 'the pool commands work on the example pools (local and ssh)' '
	pools_from "$(readme_block "\"thumbs\": { \"max\": 1 }")" \
		"$(readme_block "\"known_hosts\": \"/etc/flame/known_hosts\"")" >flame.json
	b=$(readme_block "flame pool key build         # the pool'"'"'s SSH public key, one authorized_keys line")
	bash -e "$b" >pools.out 2>pools.err || { cat pools.err; exit 1; }
	test ! -s pools.err
	grep -q "^ssh-ed25519 AAAA" pools.out
	equals 8 "$(pool_field ffmpeg "p[\"max\"]")"
	equals 2 "$(pool_field ffmpeg "p[\"max_concurrency\"]")"
'

test_expect_success 'ssh host setup, step 0: sshd (UsePAM no) takes a key for the new account, not for a locked one' '
	b=$(readme_block "useradd -m -s /bin/sh flame && usermod -p '"'"'*'"'"' flame")
	u=flrd$$ v=flrl$$
	sshd_ssh_args a
	trap "set +e; userdel -f -r $u >/dev/null 2>&1; userdel -f -r $v >/dev/null 2>&1" EXIT
	# the test sshd also reads ~/.ssh/authorized_keys in the user'"'"'s home
	authorize () {
		install -d -m 700 -o "$1" "/home/$1/.ssh" &&
		install -m 600 -o "$1" "$SSHD_A_DIR/client_ed25519.pub" "/home/$1/.ssh/authorized_keys"
	}
	useradd -m -s /bin/sh "$v" && authorize "$v"
	test_status 255 /usr/bin/ssh "${SSH_ARGS[@]}" "$v@127.0.0.1" true
	sh -e -c "$(sed "s/ flame\( \|\$\)/ $u\1/g" "$b")"
	authorize "$u"
	/usr/bin/ssh "${SSH_ARGS[@]}" "$u@127.0.0.1" echo in >out
	equals in "$(cat out)"
'

test_expect_success 'ssh host setup, steps 1 and 2: the key is authorized, the host pinned, a job runs' '
	pools_from "$(readme_block "\"known_hosts\": \"/etc/flame/known_hosts\"")" >flame.json
	b1=$(readme_block "flame pool key build | ssh flame@build1.example.com \\")
	rm -rf "$SSHD_A_HOME/.ssh"
	bash -e "$b1"
	test "$(stat -c %a "$SSHD_A_HOME/.ssh")" = 700
	equals "$(flame pool key build)" "$(cat "$SSHD_A_HOME/.ssh/authorized_keys")"
	b2=$(readme_block "ssh-keyscan -t ed25519 -p 2222 10.0.0.12 > build2.key")
	sed -e "s#/etc/flame#$WORK/etc-flame#g" \
	    -e "s#/etc/ssh/ssh_host_ed25519_key.pub#$SSHD_A_DIR/host_ed25519.pub#" "$b2" >steps
	printf "%s\n" "$SSHD_A_HOST_PUB" >"$SSHD_A_DIR/host_ed25519.pub"
	bash -e steps >out
	equals 2 "$(grep -c SHA256: out)"
	equals 1 "$(sort -u -k2,2 out | wc -l)"
	# the pool, as configured, with the test host and the sandbox known_hosts
	"$FLAME" pool key build >>"$SSHD_A_DIR/authorized_keys"
	write_config "{ \"pools\": { \"build\": { \"backend\": \"ssh\", \"command\": \"$FLAME\",
	  \"hosts\": [ \"root@127.0.0.1:$SSHD_A_PORT\" ], \"known_hosts\": \"$WORK/etc-flame/known_hosts\" } } }"
	equals pinned "$(flame run --pool build -- echo pinned)"
'

test_expect_success 'Pools: authorizing a pool key through ssh as the section shows' '
	pools_from "$(readme_block "\"known_hosts\": \"/etc/flame/known_hosts\"")" >flame.json
	b=$(readme_block "flame pool key build | ssh flame@build1 '"'"'umask 077 && mkdir -p ~/.ssh && cat >> ~/.ssh/authorized_keys'"'"'")
	rm -rf "$SSHD_A_HOME/.ssh"
	bash -e "$b"
	equals "$(flame pool key build)" "$(cat "$SSHD_A_HOME/.ssh/authorized_keys")"
'

test_expect_success 'Fly: the pool example runs its jobs (against the fake Machines API)' '
	stop_warmer # the token reaches the warmer from the call that starts it
	# $WORK/image stands for the image'"'"'s /usr/local/bin: flame and ffmpeg
	# (a runner'"'"'s jobs find commands in the directory of its flame first)
	mkdir -p "$WORK/image" && cp "$FLAME" "$WORK/image/flame" && cp "$WORK/bin/ffmpeg" "$WORK/image/"
	FLAME=$WORK/image/flame fly_fake_start
	b=$(readme_block "\"app\": \"my-flame-app\",")
	"$PYTHON" -c "import json, sys
c = json.load(open(sys.argv[1]))
c[\"pools\"][\"ffmpeg\"].update(api_url=sys.argv[2], command=sys.argv[3], port=int(sys.argv[4]), app=sys.argv[5],
                               image=\"registry.fly.io/my-flame-app:deployment-1\")
print(json.dumps(c))" "$b" "$FLY_FAKE_URL" "$WORK/image/flame" "$FLY_AGENT_PORT" "$FLY_APP" >flame.json
	r=$(readme_block "flame run --pool ffmpeg -v -- ffmpeg -version")
	echo "talk video" >talk.mov
	bash -e "$r" >fly.out 2>fly.err || { cat fly.err; exit 1; }
	grep -q "ffmpeg version stand-in" fly.out
	cmp talk.mov talk.mp4
	s=$(readme_block "flame pool ls --json                       # also each runner'"'"'s machine id, private address and host key")
	grep "^flame " "$s" >flame-lines
	bash -e flame-lines >ls.out
	grep -q ffmpeg ls.out
	stop_warmer
	fly_no_machines
'

test_expect_success 'bash completion: the line for ~/.bashrc loads flame'"'"'s completion in a non-login shell' '
	b=$(readme_block ". /usr/share/bash-completion/bash_completion")
	mkdir -p "$TEST_ROOT/data/bash-completion/completions"
	cp "$SRC_ROOT/completions/flame.bash" "$TEST_ROOT/data/bash-completion/completions/flame"
	XDG_DATA_HOME=$TEST_ROOT/data bash --norc -c ". $b; _completion_loader flame; complete -p flame" >out
	grep -q "flame\$" out
'

test_expect_success 'Fly: without a token the call fails with the line the README quotes' '
	fly_fake_start
	b=$(readme_block "flame: pool '"'"'ffmpeg'"'"': runner ffmpeg-1a2b3c-1 on machine (creating) could not start: no Fly API token in FLY_API_TOKEN: set FLY_API_TOKEN (fly tokens deploy prints one)")
	write_config "{ \"pools\": { $(fly_pool_conf ffmpeg) } }"
	stop_warmer
	unset FLY_API_TOKEN
	test_status 255 flame run -p ffmpeg -- true 2>err
	sed "s/ffmpeg-[0-9a-f]*-[0-9]*/ffmpeg-1a2b3c-1/" err >got
	equals "$(sed "s/^[[:space:]]*//" "$b")" "$(cat got)"
	flame warmer stop
'

test_expect_success 'every README block is run above or set aside for a stated reason' '
	readme_whole "make check" >/dev/null # Testing: this suite itself
	readme_set_aside "flame run / pool / warmer            the CLI: links only cJSON" "a drawing"
	readme_set_aside "flame warmer" "a drawing (the ssh runner)"
	readme_set_aside "process                         started by" "a table (the processes, Architecture)"
	readme_set_aside "fly apps create my-flame-app" "Fly'"'"'s own CLI, which needs Fly"
	readme_set_aside "fly deploy --config examples/fly/fly.toml --dockerfile examples/fly/Dockerfile ." "Fly'"'"'s own CLI"
	missing=
	while IFS="	" read -r n line; do
		grep -qx "$n" "$BLOCKS/used" || missing="$missing $line"
	done <"$BLOCKS/index"
	if [ -n "$missing" ]; then
		echo "README blocks at lines$missing are not run by $TEST_FILE"
		exit 1
	fi
'

test_done
