#!/usr/bin/env python3
"""slot_driver.py - plays the warmer's side of `flame agent slot` over local
pipes, the way the ssh link will over two SSH channels, so the slot's job
semantics can be tested without SSH.

  slot_driver.py FLAME [--timeout MS] [--env NAME=VALUE]... [--also ID] -- CMD [ARG...]

stdin is streamed to the job, its stdout and stderr come back separately,
SIGINT/SIGTERM/SIGHUP/SIGUSR1/SIGUSR2 are passed on, and the exit status is
the job's (128+N for a signal, 124 for the timeout) as flame run reports it.
--also ID sends a second job (`true`, numbered ID) right after the first, as
a confused link would to a busy slot, and prints how that one ended on stderr
as "slot_driver: job ID: status S, flags F".
"""
import os
import secrets
import signal
import struct
import subprocess
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from wire import (PROTOCOL, W_ERR, W_JOB, W_JOB_CANCEL, W_JOB_DONE, W_JOB_SIGNAL, W_OUT, W_READY,  # noqa: E402
                  W_STDIN, W_STDIN_EOF, bstr, frame, hello, i64, job_frame, read_exact, read_frame, read_hello, u32)


def exit_code(status, flags):
    if flags & 1:
        return 124
    if flags & (4 | 8):
        return 255
    if status & 0x7F:
        return 128 + (status & 0x7F)
    code = (status >> 8) & 0xFF
    return 255 if code == 0 and flags & 2 else code


def main():
    args = sys.argv[1:]
    flame = args.pop(0)
    timeout, env, also = 0, [], None
    while args and args[0] != "--":
        opt = args.pop(0)
        if opt == "--timeout":
            timeout = int(args.pop(0))
        elif opt == "--env":
            env.append(args.pop(0).encode())
        elif opt == "--also":
            also = int(args.pop(0))
    argv = [os.fsencode(a) for a in args[1:]]
    token = secrets.token_hex(16)
    child_env = dict(os.environ, FLAME_POOL="slotpool", FLAME_RUNNER_ID="slot-test")
    sin = subprocess.Popen([flame, "agent", "slot", "in", token], stdin=subprocess.PIPE,
                           stdout=subprocess.DEVNULL, env=child_env)
    sout = subprocess.Popen([flame, "agent", "slot", "out", token], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, env=child_env)
    link = sin.stdin
    lock = threading.Lock()

    def send(data):
        with lock:
            if link.closed:  # the job is over: the stdin pump may still be at it
                return
            link.write(data)
            link.flush()

    send(hello(b"link"))
    peer = read_hello(sout.stdout)
    t, _ = read_frame(sout.stdout)
    if peer is None or peer[0] != PROTOCOL or t != W_READY:
        sys.stderr.write("flame: slot did not become ready\n")
        return 255
    job = 7
    # handlers first: a signal may arrive as soon as the job runs
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2):
        signal.signal(s, lambda n, _f: send(frame(W_JOB_SIGNAL, u32(job) + u32(n))))
    send(frame(W_JOB, u32(job) + job_frame(argv, env, timeout=timeout)))
    if also is not None:  # before any stdin: the first job cannot have ended
        send(frame(W_JOB, u32(also) + job_frame([b"true"])))

    def pump_stdin():
        try:
            while True:
                b = os.read(0, 65536)
                if not b:
                    break
                send(frame(W_STDIN, u32(job) + bstr(b)))
            send(frame(W_STDIN_EOF, u32(job)))
        except (BrokenPipeError, OSError):
            pass

    threading.Thread(target=pump_stdin, daemon=True).start()
    code = 255
    while True:
        t, p = read_frame(sout.stdout)
        if t is None:
            sys.stderr.write("flame: the slot went away before the job finished\n")
            break
        if t in (W_OUT, W_ERR):
            (n,) = struct.unpack_from("<I", p, 4)
            out = sys.stdout.buffer if t == W_OUT else sys.stderr.buffer
            out.write(p[8:8 + n])
            out.flush()
        elif t == W_JOB_DONE:
            done, status, flags = struct.unpack_from("<Iqq", p)
            if done != job:
                sys.stderr.write("slot_driver: job %d: status %d, flags %d\n" % (done, status, flags))
                sys.stderr.flush()
                continue
            code = exit_code(status, flags)
            break
    with lock:
        link.close()
    sout.stdin.close()
    sin.wait()
    sout.wait()
    return code


if __name__ == "__main__":
    sys.exit(main())
