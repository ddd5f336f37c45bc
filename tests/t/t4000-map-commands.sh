#!/bin/bash
# shellcheck disable=SC2016,SC2034,SC2317 # test bodies are single-quoted, run later by tests/lib.sh: what they expand or use looks unused here
# flame map builds each job's command as GNU parallel builds it, and every
# input reaches its job byte for byte.  Where GNU parallel is installed, the
# same inputs through both give the same commands, output and exit status.
. "$(dirname "$0")/../lib.sh"

have_parallel () { command -v parallel >/dev/null 2>&1; }

test_expect_success 'one job per input line, the input appended: same output as GNU parallel -k' '
	printf "%s\n" a "b c" "" d >in
	"$FLAME" map -k echo x <in >got
	printf "x a\nx b c\nx \nx d\n" >want
	cmp want got
	if have_parallel; then parallel -k echo x <in >want; cmp want got; fi
'

test_expect_success 'replacement strings {} {.} {/} {//} {/.} {#} {%} as GNU parallel' '
	printf "%s\n" foo.jpg sub.dir/bar a/b.c.d /x.y ./z .bashrc a. "a b.c" / . >in
	"$FLAME" map -k -j1 echo {} {.} {/} {//} {/.} {#} {%} <in >got
	if have_parallel; then
		parallel -k -j1 echo {} {.} {/} {//} {/.} {#} {%} <in >want
		cmp want got
	fi
	grep -qxF "sub.dir/bar sub.dir/bar bar sub.dir bar 2 1" got
	grep -qxF "a/b.c.d a/b.c b.c.d a b.c 3 1" got
'

test_expect_success 'several replacement strings in one word, inside a word; {#} alone stops the append' '
	"$FLAME" map -k echo {}{} x{}y ::: "a b" >got
	equals "a ba b xa by" "$(cat got)"
	"$FLAME" map -k echo {#} ::: p q >got
	equals "1
2" "$(cat got)"
'

test_expect_success 'an unknown {...} stays as it is (the input appended); --verbose says so once' '
	"$FLAME" map -k echo {foo} {1} ::: a b >got 2>err
	equals "{foo} {1} a
{foo} {1} b" "$(cat got)"
	test ! -s err
	"$FLAME" map -v -k echo {foo} ::: a b >got 2>err
	test "$(grep -c "{foo}.*no replacement string" err)" = 1
'

test_expect_success '::: INPUT... and :::: FILE are the inputs' '
	"$FLAME" map -k echo ::: 1 2 3 >got
	equals "1
2
3" "$(cat got)"
	printf "x\ny\n" >list
	"$FLAME" map -k echo :::: list </dev/null >got
	equals "x
y" "$(cat got)"
'

test_expect_success 'inputs go byte for byte: quotes, $(id), globs, invalid UTF-8, spaces, a 100 kB line' '
	{ printf "%s\n" "it'\''s" "\$(id)" "*" "a  b" " lead" "trail " "\\" "-n"
	  printf "\xff\xfe\x80\n"
	  head -c 100000 /dev/zero | tr "\0" y; echo; } >in
	"$FLAME" map -k -j4 printf "%s\0" <in >got
	tr "\n" "\0" <in >want
	cmp want got
'

test_expect_success 'a 1 MB input line is read whole (shown by --tag; as an argument the kernel refuses it, one line)' '
	{ head -c 1000000 /dev/zero | tr "\0" y; echo; echo short; } >in
	"$FLAME" map -k --tag echo {#} <in >got
	{ head -c 1000000 /dev/zero | tr "\0" y; printf "\t1\nshort\t2\n"; } >want
	cmp want got
	test_status 1 "$FLAME" map echo <in >got 2>err
	equals short "$(cat got)"
	one_flame_line err "Argument list too long"
'

test_expect_success 'empty lines are inputs; a last line without a newline is one' '
	printf "\n\nlast" | "$FLAME" map -k printf "[%s]\n" >got
	equals "[]
[]
[last]" "$(cat got)"
'

test_expect_success '-0: NUL-separated inputs may hold newlines' '
	printf "a\nb\0c\0" | "$FLAME" map -0 -k printf "<%s>" >got
	equals "<a
b><c>" "$(cat got)"
'

test_expect_success 'no input: no job, exit 0' '
	"$FLAME" map echo x </dev/null >got
	test ! -s got
'

test_expect_success '--sh runs each with /bin/sh -c, the input quoted: nothing in it is run' '
	printf "%s\n" "\$(touch pwned)" "a;touch pwned2" "it'\''s" "\`id\`" >in
	"$FLAME" map -k --sh "echo {} | wc -c; echo [{}]" <in >got
	test ! -e pwned
	test ! -e pwned2
	grep -qxF "[\$(touch pwned)]" got
	grep -qxF "[it'\''s]" got
	if have_parallel; then parallel -k "echo {} | wc -c; echo [{}]" <in >want; cmp want got; fi
'

test_expect_success '--sh without a replacement string appends the quoted input' '
	"$FLAME" map -k --sh "printf \"%s;\"" ::: "a b" "c" >got
	equals "a b;c;" "$(cat got)"
'

test_expect_success 'an input with a NUL byte cannot be an argument: that job fails in one line, the others run' '
	printf "ok\nb\0ad\nok2\n" >in
	test_status 1 "$FLAME" map -k echo <in >got 2>err
	equals "ok
ok2" "$(cat got)"
	one_flame_line err "NUL"
'

test_done
