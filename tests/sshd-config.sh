# shellcheck shell=bash
# tests/sshd-config.sh - the private sshd configuration shared by the tests
# (tests/lib-sshd.sh) and the benchmarks (bench/lib-sshd.sh): loopback only,
# keys under DIR (and a user's own ~/.ssh/authorized_keys, for tests that make
# throw-away users), root allowed by key only, and HOME set to DIR/home so that
# no shell rc file (0.5 s for root's on Debian) runs with each command.
# The sessions also get the caller's TMPDIR and XDG_RUNTIME_DIR (when they
# are absolute paths without blanks or quotes), so that the host side of an
# ssh runner - its slot sockets and job scratch directories - stays in the
# caller's private root instead of the real /tmp/flame-UID or /run/user.
#
#   sshd_write_config DIR PORT   writes DIR/sshd_config

sshd_write_config () {
	local env="HOME=$1/home" v val
	for v in TMPDIR XDG_RUNTIME_DIR; do
		val=${!v-}
		case $val in
		/*[[:space:]\"\']*) ;;
		/*) env="$env $v=$val" ;;
		esac
	done
	cat >"$1/sshd_config" <<-EOF
		ListenAddress 127.0.0.1
		Port $2
		AddressFamily inet
		HostKey $1/ssh_host_ed25519_key
		PidFile $1/sshd.pid
		AuthorizedKeysFile $1/authorized_keys .ssh/authorized_keys
		PermitRootLogin yes
		PubkeyAuthentication yes
		PasswordAuthentication no
		KbdInteractiveAuthentication no
		HostbasedAuthentication no
		UsePAM no
		StrictModes no
		MaxSessions 64
		MaxStartups 100:30:200
		PrintMotd no
		PrintLastLog no
		UseDNS no
		LogLevel ERROR
		SetEnv $env
		RekeyLimit 4G
		Subsystem sftp internal-sftp
	EOF
}
