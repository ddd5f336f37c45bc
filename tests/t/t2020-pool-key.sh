#!/bin/bash
# shellcheck disable=SC2016,SC2034,SC2317 # test bodies are single-quoted, run later by tests/lib.sh: what they expand or use looks unused here
# flame pool key NAME: one ed25519 client key per pool, made on first use,
# private and stable.
. "$(dirname "$0")/../lib.sh"

write_config '{ "pools": { "build": { "max": 2 } } }'

test_expect_success 'pool key prints an ed25519 public key line made on first use' '
	"$FLAME" pool key build >pub
	equals 1 "$(wc -l <pub)"
	grep -q "^ssh-ed25519 AAAA[A-Za-z0-9+/=]* flame-pool-build@" pub
	ssh-keygen -lf pub >/dev/null
'

test_expect_success 'the key is stable: a second call prints the same key' '
	"$FLAME" pool key build >again
	cmp pub again
'

test_expect_success 'the private key is 0600 in a 0700 directory and matches the public half' '
	dir=$XDG_STATE_HOME/flame/keys
	equals 700 "$(stat -c %a "$dir")"
	equals 600 "$(stat -c %a "$dir/build_ed25519")"
	equals "$(cut -d" " -f1,2 pub)" "$(ssh-keygen -y -f "$dir/build_ed25519" | cut -d" " -f1,2)"
'

test_expect_success 'each pool has its own key' '
	"$FLAME" pool key default >def
	not cmp -s pub def
'

test_expect_success 'concurrent first uses agree on one key' '
	write_config "{ \"pools\": { \"fresh\": {} } }"
	for i in 1 2 3 4 5 6; do "$FLAME" pool key fresh >"k$i" & done
	wait
	for i in 2 3 4 5 6; do cmp k1 "k$i"; done
	grep -q "^ssh-ed25519 " k1
'

test_expect_success 'an unknown pool or a missing name is a one-line usage error (125)' '
	rc=0
	"$FLAME" pool key nope 2>err || rc=$?
	equals 125 "$rc"
	one_flame_line err
	grep -q "unknown pool" err
	rc=0
	"$FLAME" pool key 2>err || rc=$?
	equals 125 "$rc"
	one_flame_line err
'

test_done
