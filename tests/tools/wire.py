"""wire.py - flame's frame format (lib/wire.h) for the Python test tools:
a frame is u32 length (of type, count and payload), u8 type, u8 number of
descriptors, then the payload; integers are little-endian, strings are u32
length + bytes, string vectors u32 count + strings."""
import struct

PROTOCOL = 3
HELLO_MAGIC = b"FLAM"
W_HELLO = 99
W_JOB, W_JOB_SIGNAL, W_JOB_CANCEL = 40, 41, 42
W_READY, W_JOB_DONE = 60, 62
W_STDIN, W_STDIN_EOF, W_OUT, W_ERR = 80, 81, 82, 83
W_GET, W_GET_DATA, W_GET_END, W_GET_HOLE = 87, 88, 89, 90


def frame(t, payload=b""):
    return struct.pack("<IBB", len(payload) + 2, t, 0) + payload


def u32(v):
    return struct.pack("<I", v)


def i64(v):
    return struct.pack("<q", v)


def bstr(b):
    return u32(len(b)) + b


def strv(v):
    return u32(len(v)) + b"".join(bstr(x) for x in v)


def read_exact(f, n):
    """n bytes from f, or None at end of file."""
    b = b""
    while len(b) < n:
        c = f.read(n - len(b))
        if not c:
            return None
        b += c
    return b


def read_frame(f):
    """(type, payload) of the next frame, or (None, None) at end of file."""
    h = read_exact(f, 6)
    if h is None:
        return None, None
    n, t, _ = struct.unpack("<IBB", h)
    return t, read_exact(f, n - 2)


def job_frame(argv, env=(), puts=(), gets=(), getdir=0, timeout=0):
    """A job frame (lib/job_frame.h): the head declaring the descriptors,
    then argv, env, put names, get patterns."""
    return u32(len(puts)) + u32(getdir) + i64(timeout) + strv(list(argv)) + strv(list(env)) + \
        strv(list(puts)) + strv(list(gets))


def hello(who=b"test", protocol=PROTOCOL, version=b"0.3.0"):
    """The bytes a flame process opens every connection with (wire.h)."""
    return HELLO_MAGIC + frame(W_HELLO, u32(protocol) + bstr(version) + bstr(who))


def read_hello(f):
    """The peer's hello from f: (protocol, version, who), or None if its
    first bytes are not one."""
    if read_exact(f, 4) != HELLO_MAGIC:
        return None
    t, p = read_frame(f)
    if t != W_HELLO or p is None or len(p) < 8:
        return None
    proto, n = struct.unpack("<II", p[:8])
    version = p[8:8 + n]
    (m,) = struct.unpack("<I", p[8 + n:12 + n])
    return proto, version, p[12 + n:12 + n + m]
