#!/bin/bash
# shellcheck disable=SC2016,SC2034,SC2317
# --put on ssh pools: files travel over the slot's channel into the job's
# scratch directory on the host, names and bytes intact; --get is refused
# there for now with one line.
. "$(dirname "$0")/../lib.sh"
. "$TEST_DIRECTORY/lib-sshd.sh"

test_expect_success 'set-up: an ssh pool on a private sshd' '
	sshd_start a
	sshd_load a
	write_config "{ \"pools\": { \"remote\": { \"backend\": \"ssh\", \"max_concurrency\": 2,
	  \"command\": \"$FLAME\",
	  \"hosts\": [ { \"login\": \"root@127.0.0.1:$SSHD_A_PORT\", \"host_key\": \"$SSHD_A_HOST_PUB\" } ] } } }"
	"$FLAME" pool key remote >>"$SSHD_A_DIR/authorized_keys"
	equals ok "$("$FLAME" run -p remote -- echo ok)"
'

test_expect_success 'put files with spaces, quotes and newlines in their names arrive intact' '
	mkdir src
	printf "one\n" >"src/a b"
	printf "two\n" >"src/it'\''s \"q\""
	printf "three\n" >"src/$(printf "new\nline")"
	head -c 3000000 /dev/urandom >src/big
	"$FLAME" run -p remote --put "src/a b" --put "src/it'\''s \"q\"" \
		--put "src/$(printf "new\nline")" --put src/big \
		-- sh -c "cat \"a b\" \"it'\''s \\\"q\\\"\" \"\$(printf \"new\\\\nline\")\"; sha256sum big" >out
	printf "one\ntwo\nthree\n" >want
	head -n 3 out | cmp - want
	equals "$(sha256sum <src/big | cut -d" " -f1)" "$(tail -n 1 out | cut -d" " -f1)"
'

test_expect_success 'a put script keeps its exec bit and stdin still streams after the files' '
	printf "#!/bin/sh\ncat\n" >run.sh
	chmod +x run.sh
	equals piped "$(echo piped | "$FLAME" run -p remote --put run.sh -- ./run.sh)"
'

test_expect_success '--get on an ssh pool is refused with one line and 255' '
	rc=0
	"$FLAME" run -p remote --get x -- true 2>err || rc=$?
	equals 255 "$rc"
	one_flame_line err
	grep -q "not supported on ssh pools" err
'

test_done
