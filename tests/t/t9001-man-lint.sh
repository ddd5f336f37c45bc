#!/bin/bash
# t9001: the manual page is clean for mandoc and documents the CLI contract.

# Test bodies are single-quoted on purpose and call the helpers defined here.
# shellcheck source=tests/lib.sh disable=SC2016,SC2317,SC2119 # test bodies are single-quoted, run later by tests/lib.sh: what they expand or use looks unused here
. "$(dirname "$0")/../lib.sh"

MAN=$SRC_ROOT/man/flame.1

# rendered: the man page as plain text, on lines long enough that nothing is
# broken across lines.
rendered () {
	mandoc -T ascii -O width=400 "$MAN" | sed 's/.\x08//g'
}

# mentions WORD...: every WORD appears in the rendered page as a whole word
# (--get does not count as a mention of --get-dir, nor the reverse).
mentions () {
	local text w missing=
	text=$(rendered) || return 1
	for w in "$@"; do
		if ! printf '%s\n' "$text" | grep -qE -- "(^|[^-[:alnum:]_])$w([^-[:alnum:]_]|\$)"; then
			missing="$missing $w"
		fi
	done
	if [ -n "$missing" ]; then
		echo "man/flame.1 does not mention:$missing" >&9
		return 1
	fi
}

test_expect_success 'mandoc is installed (make deps)' '
	command -v mandoc
'

test_expect_success 'mandoc -T lint -W warning man/flame.1 prints nothing' '
	out=$(mandoc -T lint -W warning "$MAN" 2>&1) || :
	if [ -n "$out" ]; then
		printf "%s\n" "$out"
		exit 1
	fi
'

test_expect_success 'every long option of flame run is documented' '
	mentions --pool --put --get --get-dir --env --timeout --slot-timeout --sh --verbose
'

test_expect_success 'the short options of run and the options of the other commands' '
	mentions -p -e -t -v --json --min --max --max-concurrency --help --version -h
'

test_expect_success 'every subcommand is documented' '
	text=$(rendered) &&
	for c in "flame run" "flame pool ls" "flame pool scale" "flame warmer status" \
		"flame warmer stop" "flame warmer run" "flame help" "flame version" "flame agent"; do
		printf "%s\n" "$text" | grep -qF -- "$c" || { echo "missing: $c"; exit 1; }
	done
'

test_expect_success 'flame pool key and its keys directory are documented' '
	text=$(rendered) &&
	printf "%s\n" "$text" | grep -qF -- "flame pool key" &&
	printf "%s\n" "$text" | grep -qF -- "pool key" &&
	section=$(printf "%s\n" "$text" | sed -n "/^FILES/,/^[A-Z]/p") &&
	printf "%s\n" "$section" | grep -qF -- "flame/keys/" &&
	printf "%s\n" "$text" | grep -qF -- "ssh-keygen(1)"
'

test_expect_success 'every exit status is documented' '
	text=$(rendered) &&
	section=$(printf "%s\n" "$text" | sed -n "/^EXIT STATUS/,/^[A-Z]/p") &&
	for n in 124 125 126 127 75 255 137 3; do
		printf "%s\n" "$section" | grep -qE -- "(^|[^0-9+])$n([^0-9]|\$)" ||
			{ echo "EXIT STATUS does not mention $n"; exit 1; }
	done &&
	printf "%s\n" "$section" | grep -qF -- "128+N"
'

test_expect_success 'every environment variable and pool setting is documented' '
	mentions FLAME_CONFIG FLAME_WARMER_GRACE XDG_RUNTIME_DIR XDG_STATE_HOME \
		XDG_CONFIG_HOME HOME TMPDIR FLAME_POOL FLAME_RUNNER FLAME_JOB \
		backend min max max_concurrency idle_shutdown_after boot_timeout slot_timeout
'

test_expect_success 'the ssh backend, its settings and flame-link are documented' '
	mentions ssh hosts host_key command known_hosts &&
	text=$(rendered) &&
	section=$(printf "%s\n" "$text" | sed -n "/^CONFIGURATION/,/^[A-Z]/p") &&
	for w in "\"ssh\"" hosts host_key known_hosts ssh-keyscan authorized_keys; do
		printf "%s\n" "$section" | grep -qF -- "$w" ||
			{ echo "CONFIGURATION does not mention $w"; exit 1; }
	done &&
	section=$(printf "%s\n" "$text" | sed -n "/^FILES/,/^[A-Z]/p") &&
	printf "%s\n" "$section" | grep -qE -- "(^|[^-[:alnum:]])flame-link([^-[:alnum:]]|\$)" &&
	printf "%s\n" "$section" | grep -qF -- "known_hosts"
'

test_expect_success 'the page says that the job does not inherit the caller environment' '
	rendered | tr -s " \n" "  " | grep -qi "does not inherit the environment of the caller"
'

test_expect_success 'the page has the expected sections' '
	text=$(rendered) &&
	for s in NAME SYNOPSIS DESCRIPTION CONFIGURATION ENVIRONMENT FILES "EXIT STATUS" \
		EXAMPLES "SEE ALSO"; do
		printf "%s\n" "$text" | grep -qx -- "$s" || { echo "no section $s"; exit 1; }
	done &&
	printf "%s\n" "$text" | grep -q "ssh(1)" &&
	printf "%s\n" "$text" | grep -q "parallel(1)" &&
	printf "%s\n" "$text" | grep -q "timeout(1)"
'

test_done
