#!/bin/bash
# t9000: shell completion (completions/flame.bash; zsh and fish syntax only).
#
# The bash function is driven directly (tests/tools/bash_complete.sh):
# COMP_WORDS, COMP_CWORD, COMP_LINE and COMP_POINT are set, _flame is called
# and COMPREPLY is read, in a fresh `bash --norc` so that neither the test
# shell nor the bash-completion package is involved (the completion must work
# when sourced on its own).

# Test bodies are single-quoted on purpose and call the helpers defined here.
# shellcheck source=tests/lib.sh disable=SC2016,SC2317,SC2119
. "$(dirname "$0")/../lib.sh"

COMPLETION=$SRC_ROOT/completions/flame.bash

# comp LINE: what bash completion offers for LINE, the cursor at its end;
# sorted, one a line (tests/tools/bash_complete.sh).
comp () {
	"$TEST_DIRECTORY/tools/bash_complete.sh" "$COMPLETION" "$1" || {
		echo "completing '$1' failed" >&9
		return 1
	}
}

# expect_comp LINE WORD...: completing LINE offers exactly the WORDs.
expect_comp () {
	local line=$1 got want
	shift
	got=$(comp "$line") || return 1
	want=$(printf '%s\n' "$@" | sort -u)
	if [ "$got" != "$want" ]; then
		printf 'completing %q\nexpected:\n%s\ngot:\n%s\n' "$line" "$want" "$got" >&9
		return 1
	fi
}

# offers LINE WORD...: completing LINE offers at least the WORDs.
offers () {
	local line=$1 got w
	shift
	got=$(comp "$line") || return 1
	for w in "$@"; do
		if ! printf '%s\n' "$got" | grep -qxF -- "$w"; then
			printf 'completing %q does not offer %s; got:\n%s\n' "$line" "$w" "$got" >&9
			return 1
		fi
	done
}

write_config <<'EOF'
{
  "pools": {
    "ffmpeg": { "backend": "local", "min": 0, "max": 2, "max_concurrency": 3,
                "idle_shutdown_after": "30s", "boot_timeout": "30s", "slot_timeout": "5m" },
    "thumbs": { "max": 1 }
  }
}
EOF

test_expect_success 'sourcing the file alone defines _flame and registers it for flame' '
	out=$(bash --norc --noprofile -c ". \"\$1\" && declare -F _flame && complete -p flame" x "$COMPLETION") &&
	printf "%s\n" "$out" | grep -qx _flame &&
	printf "%s\n" "$out" | grep -q -- "-F _flame flame\$" &&
	not grep -q _init_completion "$COMPLETION"
'

test_expect_success 'flame <TAB> offers the subcommands' '
	expect_comp "flame " run map pool warmer help version
'

test_expect_success 'flame r<TAB> completes run; the internal agent is not offered' '
	expect_comp "flame r" run &&
	expect_comp "flame a"
'

test_expect_success 'flame run --pool <TAB> offers default and the configured pools' '
	expect_comp "flame run --pool " default ffmpeg thumbs &&
	expect_comp "flame run -p " default ffmpeg thumbs &&
	expect_comp "flame run -v --pool t" thumbs
'

test_expect_success 'flame pool scale <TAB> offers the pools, then its options' '
	expect_comp "flame pool scale " default ffmpeg thumbs &&
	expect_comp "flame pool scale ffmpeg --m" --max --max-concurrency --min &&
	expect_comp "flame pool scale ffmpeg --max 3 --" --max --max-concurrency --min --stopped-max &&
	expect_comp "flame pool scale --stopped-max 2 " default ffmpeg thumbs &&
	expect_comp "flame pool scale ffmpeg --stopped-max "
'

test_expect_success 'flame pool <TAB> offers key; flame pool key <TAB> offers the pools, once' '
	offers "flame pool " key &&
	expect_comp "flame pool k" key &&
	expect_comp "flame pool key " default ffmpeg thumbs &&
	expect_comp "flame pool key t" thumbs &&
	expect_comp "flame pool key ffmpeg "
'

test_expect_success 'flame pool drain <TAB> offers the pools, once' '
	expect_comp "flame pool d" drain &&
	expect_comp "flame pool drain " default ffmpeg thumbs &&
	expect_comp "flame pool drain f" ffmpeg &&
	expect_comp "flame pool drain ffmpeg "
'

test_expect_success 'pool and warmer actions and their options' '
	expect_comp "flame pool " drain key ls scale &&
	expect_comp "flame pool ls -" --json &&
	expect_comp "flame warmer " run status stop &&
	expect_comp "flame warmer status "
'

test_expect_success 'flame run -<TAB> offers every option of run' '
	offers "flame run -" -p --pool --put --get --get-dir -e --env -t --timeout \
		--slot-timeout --sh -v --verbose
'

test_expect_success 'flame map -<TAB> offers every option of map; its values are not taken for the command' '
	offers "flame map -" -p --pool -j --jobs -0 --null -k --keep-order --line-buffer --tag --sh \
		--put --get --get-dir -e --env -t --timeout --slot-timeout --retries \
		--retry-failed-commands --halt --joblog --joblog-extra --resume --resume-failed --bar \
		-v --verbose &&
	expect_comp "flame map --pool t" thumbs &&
	offers "flame map -j 4 -k -" --tag --joblog &&
	: >input.dat &&
	offers "flame map --joblog in" input.dat &&
	got=$(comp "flame map -j 4 gzip ") &&
	not grep -qx -- --joblog <<<"$got"
'

test_expect_success 'files after --put, directories after --get-dir' '
	mkdir -p outdir &&
	: >input.dat &&
	offers "flame run --put in" input.dat &&
	offers "flame run --get-dir " outdir &&
	got=$(comp "flame run --get-dir ") &&
	not grep -qx "input.dat" <<<"$got"
'

test_expect_success 'words after the command are not flame options or pools' '
	: >input.dat &&
	got=$(comp "flame run -p ffmpeg cat ") &&
	not grep -qx ffmpeg <<<"$got" &&
	not grep -qx -- --pool <<<"$got" &&
	got=$(comp "flame run -- cat -") &&
	not grep -qx -- --pool <<<"$got"
'

test_expect_success 'the project file is found from a subdirectory' '
	mkdir -p sub/dir &&
	cd sub/dir &&
	expect_comp "flame run --pool " default ffmpeg thumbs
'

test_expect_success 'pools of the user config file are offered too, once each' '
	export XDG_CONFIG_HOME="$TEST_ROOT/config-t9000" &&
	mkdir -p "$XDG_CONFIG_HOME/flame" &&
	printf "%s\n" "{\"pools\": {\"batch\": {}, \"ffmpeg\": {\"max\": 9}}}" \
		>"$XDG_CONFIG_HOME/flame/config.json" &&
	expect_comp "flame run --pool " batch default ffmpeg thumbs
'

test_expect_success 'FLAME_CONFIG replaces the project file' '
	printf "%s\n" "{\"pools\": {\"alt\": {}}}" >"$TEST_ROOT/alt.json" &&
	export FLAME_CONFIG="$TEST_ROOT/alt.json" &&
	expect_comp "flame run --pool " alt default
'

test_expect_success 'without python3 the fallback parser finds the same pools' '
	export _FLAME_COMP_NO_PYTHON=1 &&
	expect_comp "flame run --pool " default ffmpeg thumbs &&
	printf "%s\n" "{\"other\": {\"x\": 1}, \"pools\": {\"a.b\": {\"max\": 2, \"n\": {\"deep\": []}}, \"c-d\": {}}, \"after\": {\"no\": 1}}" \
		>"$TEST_ROOT/oneline.json" &&
	export FLAME_CONFIG="$TEST_ROOT/oneline.json" &&
	expect_comp "flame pool scale " a.b c-d default
'

test_expect_success 'ssh pools: hosts, logins and host keys are not taken for pool names' '
	cat >"$TEST_ROOT/ssh.json" <<-\EOF &&
	{
	  "pools": {
	    "build": { "backend": "ssh", "max_concurrency": 8, "command": "/usr/local/bin/flame",
	               "known_hosts": "/etc/flame/known_hosts",
	               "hosts": [ "flame@build1.example.com", "root@[fd00::7]:2222", "10.0.0.12:22",
	                          { "login": "flame@h3:22", "host_key": "ssh-ed25519 AAAAC3Nz {x: [1]}" } ] },
	    "cpu": { "backend": "local" }
	  }
	}
	EOF
	export FLAME_CONFIG="$TEST_ROOT/ssh.json" &&
	expect_comp "flame run --pool " build cpu default &&
	expect_comp "flame pool key " build cpu default &&
	export _FLAME_COMP_NO_PYTHON=1 &&
	expect_comp "flame run --pool " build cpu default &&
	expect_comp "flame pool scale " build cpu default
'

test_expect_success 'no config at all: only default' '
	printf "%s\n" "{}" >"$TEST_ROOT/empty.json" &&
	export FLAME_CONFIG="$TEST_ROOT/empty.json" &&
	expect_comp "flame run --pool " default
'

test_expect_success 'a malformed config file does not break completion' '
	printf "%s\n" "{\"pools\": {\"ok\": {}" >"$TEST_ROOT/broken.json" &&
	export FLAME_CONFIG="$TEST_ROOT/broken.json" &&
	offers "flame run --pool " default
'

test_expect_success 'completing never runs flame (it could start a warmer)' '
	mkdir -p "$TEST_ROOT/fakebin" &&
	printf "#!/bin/sh\n: >\"%s\"\n" "$TEST_ROOT/flame-was-run" >"$TEST_ROOT/fakebin/flame" &&
	chmod +x "$TEST_ROOT/fakebin/flame" &&
	export PATH="$TEST_ROOT/fakebin:$PATH" &&
	comp "flame run --pool " >/dev/null &&
	comp "flame pool scale " >/dev/null &&
	comp "flame pool key " >/dev/null &&
	comp "flame " >/dev/null &&
	test ! -e "$TEST_ROOT/flame-was-run"
'

# Syntax only, and only where the shell is installed: not a behaviour test.
if command -v zsh >/dev/null 2>&1; then
	test_expect_success 'zsh completion parses (zsh -n)' '
		zsh -n "$SRC_ROOT/completions/_flame"
	'
fi
if command -v fish >/dev/null 2>&1; then
	test_expect_success 'fish completion parses (fish -n)' '
		fish -n "$SRC_ROOT/completions/flame.fish"
	'
fi

test_done
