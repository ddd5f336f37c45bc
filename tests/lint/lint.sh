#!/bin/bash
# tests/lint/lint.sh - the checks behind `make lint` (tests/lint/lint.mk).
#
#   tests/lint/lint.sh CHECK...     run from the top of the source tree
#
# CHECK is one of:
#   cppcheck   cppcheck --enable=warning,style,performance over the C code
#   analyze    clang's static analyzer (clang --analyze) over the same files
#   shell      shellcheck over every shell script in the tree
#   man        mandoc -T lint -W warning on man/flame.1
#   format     clang-format --dry-run -Werror: the C code follows .clang-format
#   all        all of the above, each run even when one before it failed
#   format-fix rewrites the C files with clang-format -i (`make format`)
#   files      lists the C files, then the shell scripts (what is checked)
#
# Every finding is printed; the exit status is 0 only when there are none (1
# when a check found something, 2 when its tool is missing).  A finding that
# is not a bug is suppressed where it is, with a comment that says why; the
# few suppressions that hold for the whole tree are below, each with its
# reason.  Environment: CPPCHECK, CLANG, CLANG_FORMAT, SHELLCHECK, MANDOC
# (the tools), LINT_JOBS (files analysed at once; default 2).

set -u
cd "$(dirname "$0")/../.." || exit 2

CPPCHECK=${CPPCHECK:-cppcheck}
CLANG=${CLANG:-clang}
CLANG_FORMAT=${CLANG_FORMAT:-clang-format}
SHELLCHECK=${SHELLCHECK:-shellcheck}
MANDOC=${MANDOC:-mandoc}
LINT_JOBS=${LINT_JOBS:-2}

# The C the analyzers read: the programs, the test tools and the unit tests.
c_sources () {
	ls cmd/*.c cmd/*/*.c lib/*.c lib/*/*.c backends/*.c tests/tools/*.c tests/unit/*.c 2>/dev/null
}

# What clang-format keeps in shape: those and their headers, and the fuzz
# targets when there are any.
c_files () {
	{
		c_sources
		ls cmd/*.h lib/*.h lib/*/*.h backends/*.h tests/unit/*.h tests/fuzz/*.c tests/fuzz/*.h 2>/dev/null
	} | sort -u
}

# Every shell script: *.sh, and the files whose first line names a shell
# (.ci/run).  From git when this is a checkout, else from the tree.
shell_scripts () {
	local f
	{
		if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
			git ls-files
		else
			find . -type f ! -path './.git/*' ! -path './build/*' | sed 's|^\./||'
		fi
	} | while IFS= read -r f; do
		[ -f "$f" ] || continue
		case $f in
		*.sh) echo "$f" ;;
		*.py | *.c | *.h | *.md | *.json | *.1) ;;
		*) head -n 1 "$f" 2>/dev/null | grep -qE '^#! */(usr/)?bin/(env +)?(ba|da|k)?sh( |$)' && echo "$f" ;;
		esac
	done | sort
}

need () {
	command -v "$1" >/dev/null 2>&1 && return 0
	echo "lint: $1 is not installed (make deps)" >&2
	return 2
}

# findings NAME FILE [KINDS]: prints FILE's findings, then how many lines
# say one of KINDS (an ERE; other lines explain them); 1 if there are any.
findings () {
	if [ -s "$2" ]; then
		cat "$2"
		echo "lint: $1: $(grep -cE ": (${3:-warning|error}): " "$2") finding(s)" >&2
		return 1
	fi
	echo "lint: $1: clean"
}

cjson_cflags () {
	pkg-config --cflags libcjson 2>/dev/null || echo -I/usr/include/cjson
}

out=$(mktemp "${TMPDIR:-/tmp}/flame-lint.XXXXXX") || exit 2
trap 'rm -f "$out"' EXIT

check_cppcheck () {
	need "$CPPCHECK" || return
	# variableScope: whether a variable is declared at the top of its function
	# or in the block that uses it is a matter of taste here, not a defect.
	# shellcheck disable=SC2046 # one word per file and per flag
	"$CPPCHECK" --quiet --std=c11 --enable=warning,style,performance --inline-suppr \
		--suppress=variableScope -j "$LINT_JOBS" -D_GNU_SOURCE -Ilib -I. $(cjson_cflags) \
		--template='{file}:{line}:{column}: {severity}: {message} [{id}]' \
		$(c_sources) >"$out" 2>&1
	findings cppcheck "$out" 'error|warning|style|performance|portability|information'
}

check_analyze () {
	need "$CLANG" || return
	local flags
	# the build's own flags (Makefile), with every library's include path
	flags="-std=c11 -D_GNU_SOURCE -Wall -Wextra -Ilib -I. $(cjson_cflags)"
	flags="$flags $(pkg-config --cflags libcurl libssh2 2>/dev/null)"
	export LINT_ANALYZE_FLAGS=$flags LINT_CLANG=$CLANG
	# shellcheck disable=SC2016 # expanded by the inner shell, per file
	c_sources | xargs -P "$LINT_JOBS" -n 1 sh -c \
		'$LINT_CLANG --analyze -Xanalyzer -analyzer-output=text $LINT_ANALYZE_FLAGS -o /dev/null "$0" 2>&1' \
		>"$out"
	findings 'clang --analyze' "$out"
}

check_shell () {
	need "$SHELLCHECK" || return
	local scripts
	mapfile -t scripts < <(shell_scripts)
	# -x -P SCRIPTDIR: sourced files are read too, found beside the script
	"$SHELLCHECK" -x -P SCRIPTDIR -f gcc "${scripts[@]}" >"$out" 2>&1
	# the bash completion has no shebang: it is sourced by bash
	"$SHELLCHECK" -s bash -f gcc completions/flame.bash >>"$out" 2>&1
	findings shellcheck "$out" 'error|warning|note'
}

check_man () {
	need "$MANDOC" || return
	"$MANDOC" -T lint -W warning man/flame.1 >"$out" 2>&1
	findings mandoc "$out" 'ERROR|WARNING|UNSUPP'
}

check_format () {
	need "$CLANG_FORMAT" || return
	local n
	# shellcheck disable=SC2046 # one word per file
	"$CLANG_FORMAT" --dry-run -Werror $(c_files) >"$out" 2>&1
	if [ -s "$out" ]; then
		n=$(grep -E '^[^ ]+:[0-9]+:[0-9]+: error:' "$out" | cut -d: -f1 | sort -u | wc -l)
		cat "$out"
		echo "lint: clang-format: $n file(s) differ from .clang-format; \`make format\` rewrites them" >&2
		return 1
	fi
	echo "lint: clang-format: clean"
}

format_fix () {
	need "$CLANG_FORMAT" || return
	# shellcheck disable=SC2046 # one word per file
	"$CLANG_FORMAT" -i $(c_files)
}

rc=0
[ $# -gt 0 ] || set -- all
for check in "$@"; do
	case $check in
	cppcheck) check_cppcheck || rc=1 ;;
	analyze) check_analyze || rc=1 ;;
	shell) check_shell || rc=1 ;;
	man) check_man || rc=1 ;;
	format) check_format || rc=1 ;;
	all)
		for c in check_cppcheck check_analyze check_shell check_man check_format; do
			$c || rc=1
		done
		;;
	format-fix) format_fix || rc=1 ;;
	files) c_files; shell_scripts ;;
	*) echo "lint: unknown check '$check' (see the header of $0)" >&2; exit 2 ;;
	esac
done
exit "$rc"
