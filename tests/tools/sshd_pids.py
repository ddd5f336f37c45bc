#!/usr/bin/env python3
# Python helper: the processes of one private sshd.  argv: PORT HOMEDIR [LISTENER]
# The listener, every process holding a TCP socket bound to 127.0.0.1:PORT (the
# listener and the per-connection sshd processes - their titles, "sshd: root@notty",
# no longer show the test root), every process whose environment has HOME=HOMEDIR
# (the commands sessions run), and all descendants of these.
# Shared by tests/lib-sshd.sh and bench/lib-sshd.sh.
import os, sys
port, home = int(sys.argv[1]), os.fsencode("HOME=" + sys.argv[2])
listener = sys.argv[3] if len(sys.argv) > 3 else ""
want = "0100007F:%04X" % port
inodes = set()
for tab in ("/proc/net/tcp",):
    try:
        with open(tab) as f:
            for line in f.readlines()[1:]:
                x = line.split()
                if x[1] == want:
                    inodes.add("socket:[%s]" % x[9])
    except OSError:
        pass
me = str(os.getpid())
procs, kids, sel = [], {}, set()
for p in os.listdir("/proc"):
    if not p.isdigit() or p == me:
        continue
    try:
        with open("/proc/%s/stat" % p, "rb") as f:
            st = f.read().rsplit(b")", 1)[1].split()
    except OSError:
        continue
    if st[0] == b"Z":
        continue
    kids.setdefault(st[1].decode(), []).append(p)
    if p == listener:
        sel.add(p)
        continue
    try:
        with open("/proc/%s/environ" % p, "rb") as f:
            if home in f.read().split(b"\0"):
                sel.add(p)
                continue
    except OSError:
        pass
    if inodes:
        try:
            for fd in os.listdir("/proc/%s/fd" % p):
                try:
                    if os.readlink("/proc/%s/fd/%s" % (p, fd)) in inodes:
                        sel.add(p)
                        break
                except OSError:
                    pass
        except OSError:
            pass
todo = list(sel)
while todo:
    for k in kids.get(todo.pop(), []):
        if k not in sel:
            sel.add(k)
            todo.append(k)
for p in sorted(sel, key=int):
    print(p)
