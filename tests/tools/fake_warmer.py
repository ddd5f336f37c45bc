#!/usr/bin/env python3
"""fake_warmer.py - listens on the warmer's socket and answers every request
with one given frame, as a warmer of another version, or one that fails,
might: for testing what the CLI makes of answers it did not ask for.

  fake_warmer.py SOCKET TYPE CODE TEXT

SOCKET must not exist yet; it exists once the fake listens.  It greets each
caller with a hello of this protocol (a warmer of this version answering
oddly), and its request (after the caller's hello) is answered with TYPE
{u32 CODE, string TEXT} (lib/wire.h); then the connection is closed.  The fake stops after 60 s or when killed.
"""
import os
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from wire import hello, read_frame, read_hello  # noqa: E402


def main():
    path, ftype, code, text = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4].encode()
    payload = struct.pack("<I", code) + struct.pack("<I", len(text)) + text
    reply = struct.pack("<IBB", len(payload) + 2, ftype, 0) + payload
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(4)
    until = time.monotonic() + 60
    try:
        while time.monotonic() < until:
            srv.settimeout(max(until - time.monotonic(), 0.01))
            try:
                conn, _ = srv.accept()
            except socket.timeout:
                break
            with conn:
                conn.settimeout(10)
                conn.sendall(hello(b"warmer"))
                with conn.makefile("rb") as r:
                    if read_hello(r) and read_frame(r)[0] is not None:
                        conn.sendall(reply)
    finally:
        os.unlink(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
