#!/usr/bin/env python3
"""hostile_slot.py - a compromised runner host's `flame agent slot out`.

  hostile_slot.py MODE_FILE    (a filter: frames from stdin to stdout)

Passes the slot's frames (lib/wire.h: u32 length, u8 type, u8 number of
descriptors, payload) on as they are, but before each W_JOB_DONE it reads
MODE_FILE and, unless it is empty or missing, adds --get frames for that job
that the caller never asked for, as a hostile host would:

  unrequested  pattern 'out.txt', path '.git/hooks/pre-commit', mode 0755
  pattern      pattern '*' (not the caller's), path 'evil'
  dotdot       pattern '.*/out.txt', path '../out.txt'
  absolute     pattern '*', path MODE_FILE's second line (an absolute path)
  symlink      pattern 'sub/*', path 'sub/evil' (sub is a symlink there)
  oversize     pattern 'out.txt', path 'out.txt', 5 bytes announced, 10 sent
  hole         pattern 'out.txt', path 'out.txt', 5 bytes announced, a
               16-byte hole sent
  setuid       pattern 'out.txt', path 'out.txt', mode 04755

The bytes it writes are "pwned\\n" repeated.  The W_GET frames of the real
slot go through unchanged.
"""
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from wire import (HELLO_MAGIC, W_GET, W_GET_DATA, W_GET_END, W_GET_HOLE, W_JOB_DONE, bstr, frame, i64,  # noqa: E402
                  read_exact, u32)


def get_frames(job, pattern, path, mode, size, data, hole=0):
    out = frame(W_GET, u32(job) + bstr(pattern) + bstr(path) + u32(mode) + i64(size))
    if data:
        out += frame(W_GET_DATA, u32(job) + bstr(data))
    if hole:
        out += frame(W_GET_HOLE, u32(job) + i64(hole))
    return out + frame(W_GET_END, u32(job) + u32(1))


def injected(job, mode_file):
    try:
        with open(mode_file, "rb") as f:
            lines = f.read().split(b"\n")
    except OSError:
        return b""
    mode = lines[0].strip()
    bad = b"pwned\n"
    if mode == b"unrequested":
        return get_frames(job, b"out.txt", b".git/hooks/pre-commit", 0o755, len(bad), bad)
    if mode == b"pattern":
        return get_frames(job, b"*", b"evil", 0o644, len(bad), bad)
    if mode == b"dotdot":
        return get_frames(job, b".*/out.txt", b"../out.txt", 0o644, len(bad), bad)
    if mode == b"absolute":
        return get_frames(job, b"*", lines[1], 0o644, len(bad), bad)
    if mode == b"symlink":
        return get_frames(job, b"sub/*", b"sub/evil", 0o644, len(bad), bad)
    if mode == b"oversize":
        return get_frames(job, b"out.txt", b"out.txt", 0o644, 5, bad * 2)
    if mode == b"hole":
        return get_frames(job, b"out.txt", b"out.txt", 0o644, 5, b"", 16)
    if mode == b"setuid":
        return get_frames(job, b"out.txt", b"out.txt", 0o4755, len(bad), bad)
    return b""


def main():
    mode_file = sys.argv[1]
    src, dst = sys.stdin.buffer, sys.stdout.buffer
    while True:
        head = read_exact(src, 4)
        if head is None:
            return 0
        if head == HELLO_MAGIC:  # the slot's hello: its frame follows
            dst.write(head)
            continue
        (n,) = struct.unpack("<I", head)
        body = read_exact(src, n)
        if body is None:
            return 0
        if body[0] == W_JOB_DONE and len(body) >= 6:
            (job,) = struct.unpack("<I", body[2:6])
            dst.write(injected(job, mode_file))
        dst.write(head + body)
        dst.flush()


if __name__ == "__main__":
    sys.exit(main())
