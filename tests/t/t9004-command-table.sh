#!/bin/bash
# t9004: the table of commands and options (cmd/commands.c, printed by the
# internal `flame help --table`) is what the man page, the three completion
# files and flame's own help offer: every command and option of the table is
# in each, and none of them names an option the table lacks.  A command
# marked "man" (flame agent) is documented but not offered; "internal" ones
# (agent local, agent slot, help --table) are dispatched only.
#
# The words of each file are read by tests/tools/cli_words.py.

# Test bodies are single-quoted on purpose and call the helpers defined here.
# shellcheck source=tests/lib.sh disable=SC2016,SC2317,SC2119,SC2034
. "$(dirname "$0")/../lib.sh"

WORDS=$TEST_DIRECTORY/tools/cli_words.py
MAN=$SRC_ROOT/man/flame.1
# Options the man page names that belong to other programs: the --sshlogin
# of parallel(1), which the ssh backend is compared with.
FOREIGN_MAN_OPTIONS='--sshlogin'

# table_options VISIBILITY...: the options (--long and -x) of the table's
# commands of those visibilities (public, man, internal); sorted.
table_options () {
	"$FLAME" help --table | awk -F'\t' -v vis=" $* " '
		$1 == "option" && index(vis, " " $3 " ") { print $4; if ($5 != "-") print $5 }' |
		sort -u
}

# table_words VISIBILITY...: the last words of the table's command paths of
# those visibilities (what a completion offers after the words before it).
table_words () {
	"$FLAME" help --table | awk -F'\t' -v vis=" $* " '
		$1 == "command" && $2 != "flame" && index(vis, " " $3 " ") { n = split($2, w, " "); print w[n] }' |
		sort -u
}

# table_paths VISIBILITY...: the table's command paths ("flame pool ls").
table_paths () {
	"$FLAME" help --table | awk -F'\t' -v vis=" $* " '$1 == "command" && index(vis, " " $3 " ") { print $2 }'
}

# file_words KIND FILE option|command: what cli_words.py finds in FILE.
file_words () {
	"$PYTHON" "$WORDS" "$1" "$2" | awk -v what="$3" '$1 == what { print $2 }' | sort -u
}

# subset WHAT A B: every line of A is in B (both sorted), else says which not.
subset () {
	local extra
	extra=$(comm -23 <(printf '%s\n' "$2" | sed '/^$/d') <(printf '%s\n' "$3"))
	if [ -n "$extra" ]; then
		printf '%s: %s\n' "$1" "$(printf '%s\n' "$extra" | tr '\n' ' ')" >&9
		return 1
	fi
}

test_expect_success 'flame help --table: each command once, each option once per command' '
	"$FLAME" help --table >table &&
	test -s table &&
	awk -F"\t" "\$1 == \"command\" && NF != 5 || \$1 == \"option\" && NF != 7 { print; bad = 1 } END { exit bad }" table &&
	dups=$(awk -F"\t" "\$1 == \"command\" { print \$2 }" table | sort | uniq -d) &&
	equals "" "$dups" &&
	dups=$(awk -F"\t" "\$1 == \"option\" { print \$2, \$4; if (\$5 != \"-\") print \$2, \$5 }" table | sort | uniq -d) &&
	equals "" "$dups" &&
	for c in "flame run" "flame pool ls" "flame pool scale" "flame pool key" "flame warmer status" \
		"flame warmer stop" "flame warmer run" "flame agent" "flame agent local" "flame agent slot" \
		"flame help" "flame version"; do
		grep -q "^command	$c	" table || { echo "no $c in the table"; exit 1; }
	done
'

test_expect_success 'the internal entries are marked so; flame agent is documented only' '
	"$FLAME" help --table >table &&
	grep -q "^command	flame agent	man	" table &&
	grep -q "^command	flame agent local	internal	" table &&
	grep -q "^command	flame agent slot	internal	" table &&
	grep -q "^option	flame help	internal	--table	" table
'

for f in bash:flame.bash zsh:_flame fish:flame.fish; do
	kind=${f%%:*} file=$SRC_ROOT/completions/${f#*:}
	test_expect_success "completions/${f#*:} offers every public option of the table and no other" '
		want=$(table_options public) &&
		got=$(file_words '"$kind"' "'"$file"'" option) &&
		subset "options of the table not in '"${f#*:}"'" "$want" "$got" &&
		subset "options in '"${f#*:}"' the table does not offer" "$got" "$want"
	'
	test_expect_success "completions/${f#*:} offers every public command of the table and no other" '
		want=$(table_words public) &&
		got=$(file_words '"$kind"' "'"$file"'" command) &&
		subset "commands of the table not in '"${f#*:}"'" "$want" "$got" &&
		subset "commands in '"${f#*:}"' the table does not offer" "$got" "$want"
	'
done

test_expect_success 'man/flame.1 names every documented option of the table and no other' '
	want=$(table_options public man) &&
	got=$(file_words man "$MAN" option) &&
	subset "options of the table not in flame.1" "$want" "$got" &&
	known=$(printf "%s\n" $want $FOREIGN_MAN_OPTIONS | sort -u) &&
	subset "options in flame.1 the table does not have" "$got" "$known"
'

test_expect_success 'the check sees an option the table lacks (a copy of each file with --bogus)' '
	want=$(table_options public man) &&
	sed "s/_flame_words \"--json\"/_flame_words \"--json --bogus\"/" "$SRC_ROOT/completions/flame.bash" >c.bash &&
	sed "s/--json\[/--bogus[/" "$SRC_ROOT/completions/_flame" >c.zsh &&
	sed "s/ -l json / -l bogus /" "$SRC_ROOT/completions/flame.fish" >c.fish &&
	printf ".Fl -bogus\n" | cat "$MAN" - >c.man &&
	for k in bash zsh fish man; do
		file_words $k c.$k option | grep -qx -- --bogus || { echo "$k: --bogus not seen"; exit 1; }
		not subset "extra" "$(file_words $k c.$k option)" "$want" 9>/dev/null
	done
'

test_expect_success 'man/flame.1 documents every public and documented command' '
	text=$(mandoc -T ascii -O width=400 "$MAN" | sed "s/.\x08//g") &&
	table_paths public man >paths &&
	while read -r p; do
		printf "%s\n" "$text" | grep -qF -- "$p" || { echo "flame.1 does not document $p"; exit 1; }
	done <paths
'

# offered_after LINE: the options bash completion offers for LINE ending in "-".
offered_after () {
	"$TEST_DIRECTORY/tools/bash_complete.sh" "$SRC_ROOT/completions/flame.bash" "$1" | grep -- "^-" || :
}

test_expect_success 'bash: after each public command, its own options (and -h, --help, -- at most)' '
	table_paths public >paths &&
	while read -r p; do
		want=$("$FLAME" help --table | awk -F"\t" -v p="$p" "\$1 == \"option\" && \$2 == p && \$3 == \"public\" { print \$4; if (\$5 != \"-\") print \$5 }" | sort -u) &&
		got=$(offered_after "$p -") &&
		subset "not offered after \"$p -\"" "$want" "$got" &&
		subset "offered after \"$p -\" but not options of $p" "$got" "$(printf "%s\n" $want -h --help -- | sort -u)" ||
			exit 1
	done <paths
'

# (agent local still parses its own options in cmd/agent_local.c: internal
# commands are not checked)
test_expect_success 'the options a synopsis names are options of its command' '
	"$FLAME" help --table | awk -F"\t" "\$1 == \"command\" && \$3 != \"internal\" { print \$2 \"\t\" \$4 }" >synopses &&
	while IFS="	" read -r p s; do
		for o in $(printf "%s\n" "$s" | grep -oE -- "--[a-z][-a-z]*" || :); do
			"$FLAME" help --table | grep -q "^option	$p	[a-z]*	$o	" ||
				{ echo "the synopsis of $p names $o, which it does not have"; exit 1; }
		done
	done <synopses
'

test_expect_success 'flame help lists the public commands only' '
	"$FLAME" help >out &&
	table_paths public | sed -n "s/^flame \(.*\)/\1/p" >paths &&
	while read -r p; do
		grep -qE "^  $p( |\$)" out || { echo "flame help does not list $p"; exit 1; }
	done <paths &&
	not grep -qE "^  agent" out &&
	not grep -q -- "--table" out
'

test_expect_success 'flame CMD --help lists every public option of CMD, never an internal one' '
	table_paths public man | sed -n "s/^flame \(.*\)/\1/p" >paths &&
	while read -r p; do
		# shellcheck disable=SC2086 # the path is several words on purpose
		"$FLAME" $p --help >out 2>err || { echo "flame $p --help failed"; exit 1; }
		test ! -s err
		grep -q "^usage: flame $p" out
		for o in $("$FLAME" help --table | awk -F"\t" -v p="flame $p" "\$1 == \"option\" && \$2 == p && \$3 != \"internal\" { print \$4 }"); do
			grep -qE -- "(^| )$o( |\$)" out || { echo "flame $p --help does not list $o"; exit 1; }
		done
	done <paths &&
	"$FLAME" help --help >out &&
	not grep -q -- "--table" out
'

test_expect_success 'a group alone prints its usage on stderr (125); an unknown subcommand is one line (125)' '
	for g in pool warmer; do
		test_status 125 "$FLAME" $g >out 2>err
		test ! -s out
		grep -q "^usage: flame $g " err
		test_status 125 "$FLAME" $g frobnicate >out 2>err
		test ! -s out
		one_flame_line err "unknown subcommand" frobnicate "flame $g"
		"$FLAME" $g --help >out 2>err
		test ! -s err
		grep -q "^usage: flame $g " out
	done
'

test_done
