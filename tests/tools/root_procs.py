#!/usr/bin/env python3
"""root_procs.py - the processes that belong to a test root: their working
directory, command line or environment names ROOT (ROOT itself, or a path
below it). The tool itself and its ancestors (the test shells) are never
listed, nor are zombies.

  root_procs.py ROOT all             every such process, one pid a line
  root_procs.py ROOT filter PIDS...  only those of the given pids
  root_procs.py ROOT top PIDS...     only those whose parent is not listed too
  root_procs.py ROOT left [SECONDS]  every such process as "PID CMDLINE",
                                     waiting up to SECONDS (default 5) for
                                     them to be gone (one may be exiting)
"""
import os
import sys
import time


def stat_fields(p):
    try:
        with open("/proc/%s/stat" % p, "rb") as f:
            s = f.read()
        return s[s.rindex(b")") + 2:].split()
    except (OSError, ValueError):
        return None


def ppid(p):
    f = stat_fields(p)
    return f[1].decode() if f else None


def names(data, root):
    """data mentions root as a whole path: root/..., or root at the end of
    a NUL-separated entry (an environment value, an argument)."""
    i = data.find(root)
    while i >= 0:
        end = i + len(root)
        if end == len(data) or data[end:end + 1] in (b"/", b"\0"):
            return True
        i = data.find(root, i + 1)
    return False


def belongs(p, root):
    f = stat_fields(p)
    if f is None or f[0] == b"Z":
        return False
    try:
        cwd = os.fsencode(os.readlink("/proc/%s/cwd" % p))
        if cwd == root or cwd.startswith(root + b"/"):
            return True
    except OSError:
        pass
    for what in ("cmdline", "environ"):
        try:
            with open("/proc/%s/%s" % (p, what), "rb") as fh:
                if names(fh.read(), root):
                    return True
        except OSError:
            pass
    return False


def cmdline(p):
    try:
        with open("/proc/%s/cmdline" % p, "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return None


def main():
    root = os.fsencode(sys.argv[1])
    mode = sys.argv[2]
    skip, p = set(), str(os.getpid())
    while p and p != "0" and p not in skip:
        skip.add(p)
        p = ppid(p)

    def select(cands):
        return [c for c in cands if c not in skip and belongs(c, root)]

    def everyone():
        return [d for d in os.listdir("/proc") if d.isdigit()]

    if mode == "left":
        deadline = time.time() + float(sys.argv[3] if len(sys.argv) > 3 else 5)
        left = select(everyone())
        while left and time.time() < deadline:
            time.sleep(0.1)
            left = select(everyone())
        for c in left:
            cmd = cmdline(c)
            if cmd is not None:
                print(c, cmd[:300])
        return
    sel = select(everyone() if mode == "all" else sys.argv[3:])
    if mode == "top":
        s = set(sel)
        parents = {c: ppid(c) for c in sel}
        # a process that vanished meanwhile (no parent) is not counted
        sel = [c for c in sel if parents[c] is not None and parents[c] not in s]
    for c in sel:
        print(c)


if __name__ == "__main__":
    main()
