#!/bin/bash
# shellcheck disable=SC2016,SC2034,SC2088,SC1003 # test bodies are single-quoted, run later by tests/lib.sh: what they expand or use looks unused here; ~ and \ are meant literally
# Run semantics: arguments reach the command byte for byte; --sh runs a shell string.
. "$(dirname "$0")/../lib.sh"

long1=$(printf 'x%.0s' $(seq 1 5000))
long2=$(head -c 100000 /dev/zero | tr '\0' 'y')
hostile=(
	'' ' ' '  two  spaces  ' "'" '"' "'\"'\"" '$(id)' '`id`' '${HOME}' '$HOME'
	';' 'a;b' '|' 'a|b' '&&' '&' '||' 'a && b' $'\n' $'line1\nline2'
	$'\t' $'tab\tinside' '-' '--' '-n' '-e' '--help' '--sh' '-p' '--x=1'
	'*' '?' '[a]' '*.c' '/*' '~' '~root' '~/x' '%s' '%d%n%%'
	'\' '\\' '\n' '\0' '\x41' $'\xff\xfe' $'\x80' $'caf\xc3\xa9' 'ünïcödé' $'\x01\x02\x1b[31m'
	'<' '>' '>out' '2>&1' '#comment' '!' '!!' '{a,b}' '(' ')'
	'$((1+1))' 'a b c' '=' 'FOO=bar' '$0' '$@' '"$@"' '$*' '%' '%q'
	$'\r\n' ' leading' 'trailing ' "$long1" "$long2"
)

test_expect_success "${#hostile[@]} hostile arguments (quotes, \$(id), globs, newlines, non-UTF-8, long) arrive byte for byte" '
	test "${#hostile[@]}" -ge 50
	printf "%s\0" "${hostile[@]}" >want
	"$FLAME" run -- printf "%s\0" "${hostile[@]}" >got
	cmp want got
	test ! -e "$WORK/out"
'

test_expect_success 'hostile arguments arrive byte for byte without -- too' '
	printf "%s\0" "${hostile[@]}" >want
	"$FLAME" run printf "%s\0" "${hostile[@]}" >got
	cmp want got
'

test_expect_success 'each hostile argument alone arrives as exactly one argument' '
	for a in "${hostile[@]}"; do
		printf "%s\0" "$a" >want
		"$FLAME" run -- printf "%s\0" "$a" >got
		cmp want got
	done
'

test_expect_success 'options after the command word belong to the command (parsing stops there)' '
	"$FLAME" run printf "%s\n" -v --pool x --timeout >out
	equals "-v
--pool
x
--timeout" "$(cat out)"
'

test_expect_success 'a command word starting with a dash after -- is the command, not an option' '
	test_status 127 "$FLAME" run -- --not-an-option 2>err
	one_flame_line err
'

test_expect_success '--sh runs the string with /bin/sh -c (pipes, arithmetic, variables)' '
	"$FLAME" run --sh "echo a | tr a b; echo \$((2+3)); x=7; echo \$x" >out
	equals "b
5
7" "$(cat out)"
'

shstring=$'printf \'%s|\' \'a\\b "q" $(x) `y`\' "\xff" "$(echo sub)"'
test_expect_success '--sh passes the shell string byte for byte (quotes, backslashes, non-UTF-8)' '
	"$FLAME" run --sh "$shstring" >got
	/bin/sh -c "$shstring" >want
	cmp want got
'

test_expect_success '--sh followed by a command word is a usage error (125)' '
	test_status 125 "$FLAME" run --sh "echo hi" -- echo there 2>err
	one_flame_line err
'

test_done
