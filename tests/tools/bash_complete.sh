#!/bin/bash
# bash_complete.sh COMPLETION LINE: what the bash completion in the file
# COMPLETION offers for the command line LINE, the cursor at its end; sorted,
# one a line.  LINE is split on blanks; a trailing blank starts an empty word.
# It runs in a fresh `bash --norc`, so neither the caller's shell nor the
# bash-completion package is involved (the file must work on its own).
set -e
[ $# -eq 2 ] || { echo "usage: bash_complete.sh COMPLETION LINE" >&2; exit 2; }
out=$(bash --norc --noprofile -c '
	. "$1" || exit 1
	line=$2
	read -ra COMP_WORDS <<<"$line"
	case $line in *" ") COMP_WORDS+=("") ;; esac
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMP_LINE=$line
	COMP_POINT=${#line}
	_flame || exit 1
	[ ${#COMPREPLY[@]} -eq 0 ] || printf "%s\n" "${COMPREPLY[@]}"
' bash_complete "$1" "$2")
[ -z "$out" ] || printf '%s\n' "$out" | sort -u
