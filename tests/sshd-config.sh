# shellcheck shell=bash
# tests/sshd-config.sh - the private sshd configuration shared by the tests
# (tests/lib-sshd.sh) and the benchmarks (bench/lib-sshd.sh): loopback only,
# keys under DIR, root allowed by key only, and HOME set to DIR/home so that
# no shell rc file (0.5 s for root's on Debian) runs with each command.
#
#   sshd_write_config DIR PORT   writes DIR/sshd_config

sshd_write_config () {
	cat >"$1/sshd_config" <<-EOF
		ListenAddress 127.0.0.1
		Port $2
		AddressFamily inet
		HostKey $1/ssh_host_ed25519_key
		PidFile $1/sshd.pid
		AuthorizedKeysFile $1/authorized_keys
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
		SetEnv HOME=$1/home
		RekeyLimit 4G
		Subsystem sftp internal-sftp
	EOF
}
