#!/usr/bin/env python3
"""free_port.py - print a TCP port of 127.0.0.1 that can be bound now.

Shared by the tests (tests/lib-sshd.sh) and the benchmarks (bench/lib-sshd.sh).
Ports are drawn at random below the ephemeral range, so outgoing connections
never take them, which also keeps concurrent test files from racing for the
same one.  Exit 1 if none is found after 200 tries.
"""
import random
import socket
import sys

lo, hi = 20000, 32000
try:
    with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
        e = int(f.read().split()[0])
        if e - 1 < hi:
            lo, hi = 10000, max(10001, e - 1)
except (OSError, ValueError, IndexError):
    pass
for _ in range(200):
    p = random.randint(lo, hi)
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", p))
    except OSError:
        continue
    finally:
        s.close()
    print(p)
    sys.exit(0)
sys.exit("no free port found")
