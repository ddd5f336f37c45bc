#!/bin/bash
# t9003: the source tree keeps its shape (ARCHITECTURE.md): short files, lib/
# never reaching into backends/ or cmd/ nor into a program's folder, no
# include cycles (tests/tools/tree_check.py holds the rules).

# shellcheck source=tests/lib.sh disable=SC2016,SC2034,SC2317 # test bodies are single-quoted, run later by tests/lib.sh: what they expand or use looks unused here
. "$(dirname "$0")/../lib.sh"

CHECK=$SRC_ROOT/tests/tools/tree_check.py

test_expect_success 'the tree as it is keeps every rule' '
	python3 "$CHECK" "$SRC_ROOT"
'

# a copy of the tree with one rule broken: the check must say so
broken_tree () {
	mkdir -p tree && cp -r "$SRC_ROOT/lib" "$SRC_ROOT/cmd" "$SRC_ROOT/backends" tree/ &&
	mkdir -p tree/tests
}

test_expect_success 'lib/ including from backends/ is refused' '
	broken_tree &&
	printf "#include \"backends/backend.h\"\n" >>tree/lib/util.c &&
	! python3 "$CHECK" tree >out &&
	grep -q "^reach: lib/util.c includes backends/backend.h" out
'

test_expect_success 'a pure module including a program folder is refused' '
	rm -rf tree && broken_tree &&
	printf "#include \"warmer/warmer.h\"\n" >>tree/lib/wire.c &&
	! python3 "$CHECK" tree >out &&
	grep -q "^reach: lib/wire.c includes lib/warmer/warmer.h" out
'

test_expect_success 'two headers including each other are a cycle' '
	rm -rf tree && broken_tree &&
	printf "#include \"util.h\"\n" >>tree/lib/wire.h &&
	printf "#include \"wire.h\"\n" >>tree/lib/util.h &&
	! python3 "$CHECK" tree >out &&
	grep -q "^cycles: .*lib/util.h" out
'

test_expect_success 'a .c file over 500 lines is refused' '
	rm -rf tree && broken_tree &&
	seq 600 | sed "s|.*|/* & */|" >>tree/lib/util.c &&
	! python3 "$CHECK" tree >out &&
	grep -q "^size: lib/util.c has" out
'

test_done
