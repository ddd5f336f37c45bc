#!/usr/bin/env python3
"""A local fake of the Fly Machines API, for flame's tests and benchmarks.

    python3 tests/fakes/fly_api.py --state DIR [--port 0] [--token TOKEN] [--app NAME]...
                                   [--rootfs DIR]

It enforces /work/shared/docs/fly-machines-api.md §7 (the "must match" checklist)
and boots every machine as a local process: its config.init command, run in a new
session as a child of this server, with its files written under
DIR/machines/<id>/root and the environment Fly would give it.  In image mode
(--rootfs) each machine runs instead in its own mount namespace, chrooted into its
own overlay of that image root file system.  See tests/fakes/README.md for the
switches and for where it knowingly differs from Fly.

Python 3 standard library only.
"""

import argparse
import base64
import binascii
import ctypes
import hashlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

DEFAULT_APP = "flame-test"
DEFAULT_REGION = "ord"
DEFAULT_STOP_TIMEOUT = 5.0      # seconds; Fly's platform default kill_timeout
RESTART_DELAY = 1.0             # seconds between an exit and a policy restart
SCAN_INTERVAL = 0.5             # seconds between scans of /proc for machine processes
SWEEP_AFTER_STOP = 10.0         # seconds a stopped machine's strays are still hunted

STOP_SIGNALS = ("SIGHUP", "SIGINT", "SIGQUIT", "SIGKILL", "SIGUSR1", "SIGUSR2", "SIGTERM")
RESTART_POLICIES = ("no", "always", "on-failure")
WAIT_STATES = ("started", "stopped", "suspended", "destroyed", "failed", "settled")
# "settled" waits are satisfied by any state that is not transient (§3).
SETTLED = ("created", "started", "stopped", "suspended", "failed", "destroyed")
# Destroy without force is allowed only from these states (§2.7).
DESTROYABLE = ("stopped", "suspended", "failed", "created")
# Start is allowed only from these states (§7.12); any other is 412.
STARTABLE = ("stopped", "created", "suspended", "failed")
# Per-CPU memory bounds in MB, by cpu_kind (fly-go constants, §2.13).
MEMORY_BOUNDS = {"shared": (256, 2048), "performance": (2048, 8192)}
MAX_CPUS = {"shared": 8, "performance": 16}
# The environment a Debian image gives its processes (image mode).
IMAGE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# Image mode: run "$@" chrooted into an overlay of the image ($1) whose writable
# layer is the machine's root ($2/root), with /proc, /sys, /dev, a tmpfs /tmp and
# /run.  Run by `unshare --mount --propagation private`, so these mounts are the
# machine's alone and go away with its last process.
IMAGE_BOOT = r"""set -e
lower=$1 dir=$2
shift 2
new=$dir/mnt
mkdir -p "$new" "$dir/work"
mount -t overlay overlay -o "lowerdir=$lower,upperdir=$dir/root,workdir=$dir/work" "$new"
mount -t proc proc "$new/proc"
mount -t sysfs sysfs "$new/sys"
mount --rbind /dev "$new/dev"
mount -t tmpfs -o mode=1777 tmpfs "$new/tmp"
mount -t tmpfs -o mode=0755 tmpfs "$new/run"
exec chroot "$new" "$@"
"""


# ------------------------------------------------------------------ small helpers

def rfc3339(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def ulid(t=None):
    """A 26-character ULID: 48 bits of milliseconds, then 80 random bits."""
    ms = int((time.time() if t is None else t) * 1000)
    n = (ms << 80) | int.from_bytes(secrets.token_bytes(10), "big")
    return "".join(_CROCKFORD[(n >> (5 * i)) & 31] for i in range(25, -1, -1))


_ADJ = ("aged", "bold", "calm", "dark", "eager", "fancy", "gentle", "holy", "icy",
        "jolly", "keen", "lively", "misty", "noisy", "odd", "proud", "quiet", "royal")
_NOUN = ("thunder", "river", "meadow", "forest", "glade", "harbor", "island", "lake",
         "morning", "night", "ocean", "pine", "rain", "sky", "sun", "wave", "wind")


def machine_name():
    return "%s-%s-%04d" % (secrets.choice(_ADJ), secrets.choice(_NOUN), secrets.randbelow(10000))


def parse_bool(s):
    """Go's strconv.ParseBool, lenient: anything else is false."""
    return s in ("1", "t", "T", "true", "TRUE", "True")


_DURATION_RE = re.compile(r"^[-+]?(?:(?:\d+\.?\d*|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+$")
_DURATION_PART = re.compile(r"(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)")
_UNIT = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_go_duration(s):
    """Seconds for a Go duration string ("10s", "1m30s", "0"); ValueError if invalid."""
    if s in ("0", "+0", "-0"):
        return 0.0
    if not _DURATION_RE.match(s):
        raise ValueError('time: invalid duration %s' % json.dumps(s))
    total = sum(float(n) * _UNIT[u] for n, u in _DURATION_PART.findall(s))
    return -total if s.startswith("-") else total


def to_seconds(d):
    """A fly.Duration as sent: a Go duration string, or a number of nanoseconds."""
    return parse_go_duration(d) if isinstance(d, str) else d / 1e9


def remove_tree(path):
    """rm -rf PATH, even where the machine took away its own write permission."""
    for d, dirs, _ in os.walk(path):
        for x in [d] + [os.path.join(d, y) for y in dirs]:
            try:
                if not os.path.islink(x):
                    os.chmod(x, 0o700)
            except OSError:
                pass
    shutil.rmtree(path, ignore_errors=True)


def parse_image_ref(image):
    """Split an image reference the way a registry client would (docker defaults)."""
    digest = ""
    if "@" in image:
        image, digest = image.split("@", 1)
    first, _, rest = image.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        registry, path = first, rest
    else:
        registry, path = "registry-1.docker.io", image
        if "/" not in path:
            path = "library/" + path
    tag = "latest"
    if ":" in path.rsplit("/", 1)[-1]:
        path, tag = path.rsplit(":", 1)
    if not digest:
        digest = "sha256:" + hashlib.sha256(image.encode()).hexdigest()
    return {"registry": registry, "repository": path, "tag": tag, "digest": digest, "labels": {}}


class GoNumber(float):
    """A JSON number with a fraction or exponent, remembering its literal for errors."""

    def __new__(cls, text):
        v = float.__new__(cls, text)
        v.text = text
        return v


def go_json_error(raw, e):
    """A Go-flavoured text for a JSON syntax error."""
    if e.pos >= len(raw):
        return "unexpected end of JSON input"
    return "invalid character %s looking for beginning of value" % repr(raw[e.pos])


class ApiError(Exception):
    """An error answer: HTTP status and the {"error": ...} text."""

    def __init__(self, status, text, extra=None):
        super().__init__(text)
        self.status, self.text, self.extra = status, text, extra or {}


# ------------------------------------------------------------------ Go-style decoding

S, I, B, D, A, N = "string", "int", "bool", "fly.Duration", "any", "float64"


def lst(t):
    return ("list", t)


def mp(t):
    return ("map", t)


def st(name, fields):
    return ("struct", name, fields)


GUEST = st("fly.MachineGuest", {
    "cpu_kind": S, "cpus": I, "memory_mb": I, "gpu_kind": S, "gpus": I, "max_memory_mb": I,
    "host_dedication_id": S, "kernel_args": lst(S), "persist_rootfs": S})
RESTART = st("fly.MachineRestart", {"policy": S, "max_retries": I, "gpu_bid_price": N})
FILE = st("fly.File", {"guest_path": S, "raw_value": S, "secret_name": S, "image_config": S, "mode": I})
INIT = st("fly.MachineInit", {"exec": lst(S), "entrypoint": lst(S), "cmd": lst(S), "tty": B,
                              "swap_size_mb": I, "kernel_args": lst(S)})
PROCESS = st("fly.MachineProcess", {"exec": lst(S), "entrypoint": lst(S), "cmd": lst(S), "user": S,
                                    "env": mp(S), "ignore_app_secrets": B, "secrets": lst(A),
                                    "env_from": lst(A)})
STOPCFG = st("fly.StopConfig", {"signal": S, "timeout": D})
CHECK = st("fly.MachineCheck", {"type": S, "port": I, "interval": D, "timeout": D, "grace_period": D,
                                "method": S, "path": S, "protocol": S, "tls_skip_verify": B,
                                "tls_server_name": S, "headers": lst(A), "kind": S})
DNS = st("fly.DNSConfig", {"skip_registration": B, "nameservers": lst(S), "searches": lst(S),
                           "options": lst(A), "dns_forward_rules": lst(A), "hostname": S,
                           "hostname_fqdn": S})
CONFIG = st("fly.MachineConfig", {
    "image": S, "env": mp(S), "guest": GUEST, "auto_destroy": B, "restart": RESTART,
    "metadata": mp(S), "files": lst(FILE), "init": INIT, "processes": lst(PROCESS),
    "services": lst(A), "stop_config": STOPCFG, "checks": mp(CHECK), "dns": DNS, "mounts": lst(A),
    "schedule": S, "size": S, "rootfs": A, "statics": lst(A), "standbys": lst(S), "metrics": A,
    "containers": lst(A), "volumes": lst(A), "cache_drive": A, "disable_machine_autostart": B})
CREATE_REQ = st("main.createMachineRequest", {
    "config": CONFIG, "name": S, "region": S, "skip_launch": B, "skip_service_registration": B,
    "lease_ttl": I, "lsvd": B, "skip_secrets": B, "min_secrets_version": I})
STOP_REQ = st("main.stopRequest", {"signal": S, "timeout": D, "id": S})


def go_type(t):
    if isinstance(t, str):
        return t
    if t[0] == "list":
        return "[]" + go_type(t[1])
    if t[0] == "map":
        return "map[string]" + go_type(t[1])
    return t[1]


def json_kind(v):
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, str):
        return "string"
    return "array" if isinstance(v, list) else "object"


class GoDecoder:
    """Checks a parsed JSON value against a schema the way encoding/json would decode
    it into fly-go's structs: type mismatches give Go's "json: cannot unmarshal ..."
    text, null is the zero value, unknown fields are dropped.  Returns the value as
    the server would echo it."""

    def __init__(self):
        self.stack = []      # JSON field names from the top (Go's errorContext.FieldStack)
        self.struct = None   # the innermost struct type being decoded

    def decode(self, v, t):
        if v is None:
            return None
        if isinstance(t, str):
            return self._scalar(v, t)
        if t[0] == "struct":
            return self._struct(v, t)
        if t[0] == "list":
            if not isinstance(v, list):
                self._fail(json_kind(v), t)
            return [self._elem(x, t[1]) for x in v]
        if not isinstance(v, dict):
            self._fail(json_kind(v), t)
        return {k: self._elem(x, t[1]) for k, x in v.items()}

    def _elem(self, v, t):
        out = self.decode(v, t)
        if out is None and t in (S, I, B):
            return {S: "", I: 0, B: False}[t]
        return out

    def _struct(self, v, t):
        if not isinstance(v, dict):
            self._fail(json_kind(v), t)
        saved = self.struct
        self.struct = t[1]
        out = {}
        for k, x in v.items():
            if k not in t[2]:
                continue            # unknown fields are ignored (§7.8)
            self.stack.append(k)
            y = self.decode(x, t[2][k])
            self.stack.pop()
            if y is not None:
                out[k] = y
        self.struct = saved
        return out

    def _scalar(self, v, t):
        if t == A:
            return v
        kind = json_kind(v)
        if t == S and kind == "string":
            return v
        if t == B and kind == "bool":
            return v
        if t == N and kind == "number":
            return v
        if t == I and kind == "number":
            if isinstance(v, GoNumber) or not -2 ** 63 <= v < 2 ** 63:
                self._fail("number " + getattr(v, "text", str(v)), t)
            return v
        if t == D and kind in ("string", "number"):
            try:
                to_seconds(v)           # validate; the echo keeps what was sent
            except ValueError as e:
                raise ApiError(400, str(e))
            return v
        self._fail(kind, t)

    def _fail(self, value, t):
        if self.struct is None:
            msg = "json: cannot unmarshal %s into Go value of type %s" % (value, go_type(t))
        else:
            msg = "json: cannot unmarshal %s into Go struct field %s.%s of type %s" % (
                value, self.struct.split(".")[-1], ".".join(self.stack), go_type(t))
        raise ApiError(400, msg)


def parse_json_body(raw):
    """The request body as JSON (None when empty); ApiError 400 on bad JSON."""
    if not raw.strip():
        return None
    text = raw.decode("utf-8", "replace")
    try:
        return json.loads(text, parse_float=GoNumber)
    except json.JSONDecodeError as e:
        raise ApiError(400, go_json_error(text, e))


# ------------------------------------------------------------------ create validation

def invalid(msg):
    return ApiError(400, "invalid_argument: " + msg)


class CreateRequest:
    """A validated create body: .config is the echoed config with defaults filled in."""

    def __init__(self, body):
        if body is None:
            raise ApiError(400, "unexpected end of JSON input")
        req = GoDecoder().decode(body, CREATE_REQ)
        cfg = req.get("config")
        if not cfg or not str(cfg.get("image") or "").strip():
            raise ApiError(400, "config.image required")
        self.name = req.get("name") or machine_name()
        self.region = req.get("region") or DEFAULT_REGION
        if not re.match(r"^[a-z]{3}$", self.region):
            raise invalid("invalid region %s" % json.dumps(self.region))
        self.skip_launch = bool(req.get("skip_launch"))
        self.lease_ttl = req.get("lease_ttl") or 0
        self._check_restart(cfg.get("restart") or {})
        self._check_files(cfg.get("files") or [])
        cfg["guest"] = self._check_guest(cfg.get("guest") or {})
        self._check_stop_config(cfg.get("stop_config") or {})
        cfg.setdefault("init", {})
        cfg.setdefault("dns", {})
        self.config = cfg

    @staticmethod
    def _check_restart(r):
        if r.get("policy", "") not in ("",) + RESTART_POLICIES:
            raise invalid("invalid restart policy %s, must be one of: %s" % (
                json.dumps(r["policy"]), ", ".join(RESTART_POLICIES)))
        if r.get("max_retries", 0) < 0:
            raise invalid("invalid config.restart.max_retries %d" % r["max_retries"])

    @staticmethod
    def _check_files(files):
        for i, f in enumerate(files):
            where = "config.files[%d]" % i
            f = f or {}
            gp = f.get("guest_path", "")
            if not gp:
                raise invalid(where + ".guest_path is required")
            if not gp.startswith("/"):
                raise invalid("%s.guest_path must be an absolute path, got %s" % (where, json.dumps(gp)))
            sources = [k for k in ("raw_value", "secret_name", "image_config") if k in f]
            if len(sources) != 1:
                raise invalid(where + ": exactly one of raw_value, secret_name or image_config must be set")
            if "raw_value" in f:
                try:
                    base64.b64decode(f["raw_value"], validate=True)
                except (binascii.Error, ValueError):
                    raise invalid(where + ".raw_value: illegal base64 data")
            if "secret_name" in f:
                # the fake's apps have no secrets, as a new app on Fly has none
                raise invalid("%s: secret %s not found" % (where, json.dumps(f["secret_name"])))
            if not 0 <= f.get("mode", 0) <= 0o7777:
                raise invalid("%s.mode %d out of range" % (where, f["mode"]))

    @staticmethod
    def _check_guest(g):
        kind = g.get("cpu_kind") or "shared"
        if kind not in MEMORY_BOUNDS:
            raise invalid("invalid config.guest.cpu_kind %s" % json.dumps(kind))
        cpus = g.get("cpus") or 1
        if not 1 <= cpus <= MAX_CPUS[kind]:
            raise invalid("invalid config.guest.cpus %d for cpu_kind %s" % (cpus, kind))
        lo, hi = (b * cpus for b in MEMORY_BOUNDS[kind])
        mem = g.get("memory_mb") or lo
        if mem % 256:
            raise invalid("invalid memory size %d; must be in 256 MiB increment" % mem)
        if mem < lo:
            raise invalid("invalid config.guest.memory_mb, minimum required %d MiB" % lo)
        if mem > hi:
            raise invalid("max config.guest.memory_mb: %d" % hi)
        return dict(g, cpu_kind=kind, cpus=cpus, memory_mb=mem)

    @staticmethod
    def _check_stop_config(sc):
        if sc.get("signal", "") not in ("",) + STOP_SIGNALS:
            raise invalid("invalid config.stop_config.signal %s" % json.dumps(sc["signal"]))


def parse_stop_body(body):
    """(signal name or None, timeout seconds or None) from an optional stop body."""
    req = GoDecoder().decode(body, STOP_REQ) if body is not None else {}
    sig = req.get("signal") or None
    if sig is not None and sig not in STOP_SIGNALS:
        raise invalid("invalid signal %s" % json.dumps(sig))
    timeout = to_seconds(req["timeout"]) if "timeout" in req else None
    return sig, timeout


# ------------------------------------------------------------------ records and logs

class Recorder:
    """fake.log (human), requests.jsonl (one line per /v1 request) and machines.jsonl
    (a snapshot line per machine state change; the last line per id is current)."""

    def __init__(self, state_dir):
        self.dir = state_dir
        self.lock = threading.Lock()
        self.log_f = open(os.path.join(state_dir, "fake.log"), "a", buffering=1)
        self.req_f = open(os.path.join(state_dir, "requests.jsonl"), "a", buffering=1)
        self.mach_f = open(os.path.join(state_dir, "machines.jsonl"), "a", buffering=1)

    def log(self, fmt, *args):
        line = "%s %s\n" % (time.strftime("%H:%M:%S"), fmt % args if args else fmt)
        with self.lock:
            self.log_f.write(line)

    def request(self, entry):
        with self.lock:
            self.req_f.write(json.dumps(entry) + "\n")

    def machine(self, snapshot):
        with self.lock:
            self.mach_f.write(json.dumps(snapshot) + "\n")


# ------------------------------------------------------------------ processes

class Proc:
    """One /proc entry."""
    __slots__ = ("pid", "ppid", "sid", "start", "state")

    def __init__(self, pid, ppid, sid, start, state):
        self.pid, self.ppid, self.sid, self.start, self.state = pid, ppid, sid, start, state


def proc_snapshot():
    """pid -> Proc for every process, read from /proc/*/stat."""
    snap = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d, "rb") as f:
                s = f.read()
        except OSError:
            continue
        rest = s[s.rindex(b")") + 2:].split()
        snap[int(d)] = Proc(int(d), int(rest[1]), int(rest[3]), int(rest[19]), rest[0].decode())
    return snap


def proc_env_value(pid, name):
    try:
        with open("/proc/%d/environ" % pid, "rb") as f:
            env = f.read().split(b"\0")
    except OSError:
        return None
    key = name.encode() + b"="
    for e in env:
        if e.startswith(key):
            return e[len(key):].decode("utf-8", "replace")
    return None


def descendants(snap, roots):
    kids = {}
    for p in snap.values():
        kids.setdefault(p.ppid, []).append(p.pid)
    out, todo = set(), list(roots)
    while todo:
        p = todo.pop()
        if p in out:
            continue
        out.add(p)
        todo.extend(kids.get(p, ()))
    return out


def set_child_subreaper():
    """Orphaned grandchildren of machines (sshd's setsid'd children, daemons) are
    re-parented to us instead of init, so they stay findable and get reaped here."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(36, 1, 0, 0, 0)          # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        pass


class ProcessTable:
    """Finds and kills the processes of each machine.

    A machine's processes are: its main process, everything in its session (the
    main process is a session leader), what the periodic scan saw descending from
    those (pid + start time, so a reused pid is not mistaken), and orphans re-parented
    to this server whose environment names the machine; plus all their descendants."""

    def __init__(self):
        self.me = os.getpid()
        self.seen = {}          # (pid, start) -> machine id
        self.env_cache = {}     # (pid, start) -> FLY_MACHINE_ID or None

    def pids_of(self, m, snap):
        roots = set()
        if m.sid:
            roots |= {p.pid for p in snap.values() if p.sid == m.sid}
        roots |= {pid for (pid, start), mid in self.seen.items()
                  if mid == m.id and pid in snap and snap[pid].start == start}
        for p in snap.values():
            if p.ppid == self.me and self._env_machine(p) == m.id:
                roots.add(p.pid)
        pids = descendants(snap, roots)
        pids.discard(self.me)
        return {p for p in pids if p in snap and snap[p].state != "Z"}

    def _env_machine(self, p):
        key = (p.pid, p.start)
        if key not in self.env_cache:
            self.env_cache[key] = proc_env_value(p.pid, "FLY_MACHINE_ID")
        return self.env_cache[key]

    def remember(self, m, snap, pids):
        for p in pids:
            self.seen[(p, snap[p].start)] = m.id

    def forget_dead(self, snap):
        self.seen = {k: v for k, v in self.seen.items() if k[0] in snap and snap[k[0]].start == k[1]}
        self.env_cache = {k: v for k, v in self.env_cache.items()
                          if k[0] in snap and snap[k[0]].start == k[1]}

    def kill_machine(self, m):
        """SIGKILL every process of m; a few rounds, for processes forked meanwhile."""
        killed = 0
        for _ in range(4):
            snap = proc_snapshot()
            pids = self.pids_of(m, snap)
            if not pids:
                break
            self.remember(m, snap, pids)
            # A machine dies all at once: freeze every process first, so that
            # none sees another die (a job's parent reporting the job killed)
            # before it dies itself.
            for sig in (signal.SIGSTOP, signal.SIGKILL):
                for p in pids:
                    try:
                        os.kill(p, sig)
                        killed += sig == signal.SIGKILL
                    except OSError:
                        pass
            time.sleep(0.01)
        return killed


# ------------------------------------------------------------------ machines

class Machine:
    def __init__(self, app, req, private_ip, state_dir):
        now = time.time()
        self.id = self._new_id()
        self.app = app
        self.name = req.name
        self.region = req.region
        self.config = req.config
        self.instance_id = ulid(now)
        self.private_ip = private_ip
        self.image_ref = parse_image_ref(req.config["image"])
        self.nonce = secrets.token_hex(6) if req.lease_ttl else None
        self.dir = os.path.join(state_dir, "machines", self.id)
        self.root = os.path.join(self.dir, "root")
        self.state = "created"
        self.history = ["created"]      # every state entered, for waiters (§7.10)
        self.events = []
        self.created_at = self.updated_at = now
        self.t_started = self.t_stopped = self.t_destroyed = None
        self.run_since = None
        self.run_seconds = 0.0
        self.stopped_since = None       # billing: a stopped machine bills storage only
        self.stopped_seconds = 0.0
        self.starts = 0                 # boots asked for by POST start
        self.reset_root = False         # the next boot starts from the image (§2.5)
        self.proc = None                # subprocess.Popen of the main process
        self.sid = 0                    # session id of the last main process
        self.gen = 0                    # bumped to cancel a pending boot or stop
        self.stop_requested = False
        self.destroy_requested = False
        self.restart_count = 0
        self.last_exit = None
        self.sweep_until = 0.0
        self.never_starts = False

    _ids = set()

    @classmethod
    def _new_id(cls):
        while True:
            i = secrets.token_hex(7)
            if i not in cls._ids:
                cls._ids.add(i)
                return i

    @property
    def metadata(self):
        return self.config.get("metadata") or {}

    @property
    def auto_destroy(self):
        return bool(self.config.get("auto_destroy"))

    def event(self, typ, status, source="user", request=None):
        e = {"id": ulid(), "type": typ, "status": status, "source": source,
             "timestamp": int(time.time() * 1000)}
        if request is not None:
            e["request"] = request
        self.events.insert(0, e)        # newest first, as Fly lists them

    def to_api(self, summary=False, with_nonce=False):
        d = {"id": self.id, "name": self.name, "state": self.state, "region": self.region,
             "instance_id": self.instance_id, "private_ip": self.private_ip,
             "image_ref": self.image_ref, "created_at": rfc3339(self.created_at),
             "updated_at": rfc3339(self.updated_at), "cordoned": False}
        if not summary:
            # a copy: the answer is written after the lock is let go, while
            # a boot thread may already add its events
            d.update(config=self.config, events=list(self.events), checks=[], host_status="ok")
        if with_nonce and self.nonce:
            d["nonce"] = self.nonce
        return d

    def to_fake(self):
        now = time.time()
        run = self.run_seconds + (now - self.run_since if self.run_since else 0.0)
        stopped = self.stopped_seconds + (now - self.stopped_since if self.stopped_since else 0.0)
        return {"id": self.id, "name": self.name, "app": self.app, "region": self.region,
                "state": self.state, "private_ip": self.private_ip,
                "pid": self.proc.pid if self.proc else None, "instance_id": self.instance_id,
                "metadata": self.metadata, "destroyed": self.state == "destroyed",
                "t_created": self.created_at, "t_started": self.t_started,
                "t_stopped": self.t_stopped, "t_destroyed": self.t_destroyed,
                "run_seconds": round(run, 3), "stopped_seconds": round(stopped, 3),
                "starts": self.starts, "restart_count": self.restart_count,
                "last_exit": self.last_exit, "root": self.root}


class IpPool:
    """Loopback addresses 127.0.0.N, N from 2 up, unique among live machines."""

    def __init__(self):
        self.used = set()

    def take(self):
        n = 2
        while n in self.used or n % 256 in (0, 255):
            n += 1
        self.used.add(n)
        return "127.%d.%d.%d" % (n >> 16 & 255, n >> 8 & 255, n & 255)

    def give_back(self, ip):
        a = [int(x) for x in ip.split(".")]
        self.used.discard(a[1] << 16 | a[2] << 8 | a[3])


class Fleet:
    """Every machine, its state machine (§3) and its processes.  One lock (a
    Condition) guards all machine state; waiters sleep on it."""

    def __init__(self, state_dir, rec, settings, rootfs=None):
        self.state_dir = state_dir
        self.rootfs = rootfs        # image mode: the image's root file system
        self.rec = rec
        self.settings = settings
        self.cond = threading.Condition(threading.RLock())
        self.machines = {}          # id -> Machine, destroyed ones included
        self.by_pid = {}            # main pid -> Machine
        self.unclaimed = {}         # pid -> wait status reaped before it was registered
        self.ips = IpPool()
        self.procs = ProcessTable()
        self.closing = False
        os.makedirs(os.path.join(state_dir, "machines"), exist_ok=True)

    # -- state changes ---------------------------------------------------------

    def set_state(self, m, state):
        now = time.time()
        if m.stopped_since is not None and state != "stopped":
            m.stopped_seconds += now - m.stopped_since
            m.stopped_since = None
        elif state == "stopped" and m.stopped_since is None:
            m.stopped_since = now
        m.state = state
        m.history.append(state)
        m.updated_at = now
        self.rec.machine(dict(m.to_fake(), t=m.updated_at))
        self.rec.log("machine %s %s", m.id, state)
        self.cond.notify_all()

    def create(self, app, req):
        with self.cond:
            m = Machine(app, req, self.ips.take(), self.state_dir)
            m.never_starts = self.settings.get("boot_never_starts")
            m.event("launch", "created")
            self.machines[m.id] = m
            self.set_state(m, "created")
            snapshot = m.to_api(with_nonce=True)
            if not req.skip_launch:
                self._boot_later(m, self.settings.get("boot_delay"))
            return m, snapshot

    def get(self, app, mid, live=True):
        m = self.machines.get(mid)
        if m is None or m.app != app or (live and m.state == "destroyed"):
            raise ApiError(404, "machine not found")
        return m

    # -- boot --------------------------------------------------------------------

    def _boot_later(self, m, delay):
        """created/stopped -> starting -> (after delay) started, in a thread."""
        m.gen += 1
        gen = m.gen
        self.set_state(m, "starting")
        if m.never_starts:
            return
        threading.Thread(target=self._boot, args=(m, gen, delay), daemon=True).start()

    def _boot(self, m, gen, delay):
        if delay:
            time.sleep(delay)
        with self.cond:
            if m.gen == gen and m.state == "starting" and not self.closing:
                self._spawn(m)

    def _spawn(self, m):
        """starting -> started: write the files, run the command (or fail the boot)."""
        if self.rootfs:                 # each boot starts from the image, as on Fly
            for d in (m.root, os.path.join(m.dir, "work")):
                shutil.rmtree(d, ignore_errors=True)
        elif m.reset_root:              # a started machine is back to its image state (§2.5)
            remove_tree(m.root)
            if os.path.exists(m.root):
                self.rec.log("machine %s: could not empty its root", m.id)
        m.reset_root = False
        os.makedirs(m.root, exist_ok=True)
        argv = self._argv(m.config, self.rootfs)
        with open(os.path.join(m.dir, "console.log"), "ab") as log:
            try:
                if not argv:
                    raise OSError("no init.exec, init.entrypoint or init.cmd "
                                  "(the fake has no image to take a command from)")
                self._write_files(m)
                m.proc = subprocess.Popen(
                    self._wrap(m, argv), cwd=m.root, env=self._env(m), stdin=subprocess.DEVNULL,
                    stdout=log, stderr=subprocess.STDOUT, start_new_session=True, close_fds=True)
            except OSError as e:
                log.write(("fake: boot failed: %s\n" % e).encode())
                return self._boot_failed(m, str(e))
        m.sid = m.proc.pid
        m.stop_requested = m.destroy_requested = False
        self.by_pid[m.proc.pid] = m
        now = time.time()
        m.t_started = m.t_started or now
        m.run_since = now
        m.event("start", "started", "flyd")
        self.rec.log("machine %s pid %d: %s", m.id, m.proc.pid, " ".join(argv))
        self.set_state(m, "started")
        if m.proc.pid in self.unclaimed:
            self._on_exit(m, self.unclaimed.pop(m.proc.pid))

    @staticmethod
    def _argv(cfg, image_mode):
        init = cfg.get("init") or {}
        argv = list(init.get("exec") or []) or \
            list(init.get("entrypoint") or []) + list(init.get("cmd") or [])
        flame = os.environ.get("FAKE_FLY_FLAME")
        if argv and flame and not image_mode and os.path.basename(argv[0]) == "flame":
            argv[0] = flame
        return argv

    def _wrap(self, m, argv):
        """The command as spawned: in image mode, inside the machine's own root."""
        if not self.rootfs:
            return argv
        return ["unshare", "--mount", "--propagation", "private", "--", "/bin/sh", "-c",
                IMAGE_BOOT, "fake-boot", self.rootfs, m.dir] + argv

    @staticmethod
    def _write_files(m):
        for f in m.config.get("files") or []:
            if "raw_value" not in f:
                continue
            path = os.path.join(m.root, os.path.normpath(f["guest_path"]).lstrip("/"))
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as out:
                out.write(base64.b64decode(f["raw_value"]))
            os.chmod(path, f.get("mode") or 0o644)

    def _env(self, m):
        if self.rootfs:                 # the image's environment, not this host's
            env = {"PATH": IMAGE_PATH}
        else:
            env = {k: v for k, v in os.environ.items()
                   if k in ("PATH", "HOME", "LANG", "TMPDIR") or k.startswith("XDG_")
                   or k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS")}
        env.update(m.config.get("env") or {})
        env.setdefault("PRIMARY_REGION", m.region)
        env.update(FLY_APP_NAME=m.app, FLY_MACHINE_ID=m.id, FLY_ALLOC_ID=m.id,
                   FLY_REGION=m.region, FLY_IMAGE_REF=m.config["image"],
                   FLY_MACHINE_VERSION=m.instance_id, FLY_PRIVATE_IP=m.private_ip,
                   FLY_PUBLIC_IP="", FLY_VM_MEMORY_MB=str(m.config["guest"]["memory_mb"]))
        if not self.rootfs:             # in image mode the machine's root is /
            env["FLAME_AGENT_ROOT"] = m.root
        group = m.metadata.get("fly_process_group")
        if group:
            env["FLY_PROCESS_GROUP"] = group
        return env

    def _boot_failed(self, m, why):
        self.rec.log("machine %s boot failed: %s", m.id, why)
        m.last_exit = {"exit_code": 1, "signal": None, "boot_failed": True}
        m.event("exit", "stopped", "flyd", self._exit_request(m, 1, -1, False, False))
        self._stopped(m)

    # -- exits -------------------------------------------------------------------

    def reaped(self, pid, status):
        """Called by the reaper thread for every child that ended."""
        with self.cond:
            m = self.by_pid.pop(pid, None)
            if m is None or m.proc is None or m.proc.pid != pid:
                self.unclaimed[pid] = status   # maybe a main process not registered yet
                if len(self.unclaimed) > 1000:
                    self.unclaimed.clear()
                return
            self._on_exit(m, status)

    def _on_exit(self, m, status):
        """§7.14: the main process ended; apply the restart policy and auto_destroy."""
        m.proc.returncode = os.waitstatus_to_exitcode(status)   # keep Popen from waiting
        m.proc = None
        code = os.waitstatus_to_exitcode(status)
        sig = -code if code < 0 else -1
        exit_code = 128 + sig if code < 0 else code
        self.procs.kill_machine(m)      # the machine is down: nothing of it survives
        m.sweep_until = time.time() + SWEEP_AFTER_STOP
        if m.run_since:
            m.run_seconds += time.time() - m.run_since
            m.run_since = None
        m.last_exit = {"exit_code": exit_code, "signal": sig if sig > 0 else None}
        restart = not (m.stop_requested or m.destroy_requested or self.closing) and \
            self._should_restart(m, exit_code)
        m.event("exit", "stopped", "flyd",
                self._exit_request(m, exit_code, sig, m.stop_requested, restart))
        self.rec.log("machine %s exited: code %d%s", m.id, exit_code, ", restarting" if restart else "")
        if m.destroy_requested:
            return self._destroyed(m)
        if restart:
            m.restart_count += 1
            return self._boot_later(m, RESTART_DELAY)
        self._stopped(m)

    @staticmethod
    def _should_restart(m, exit_code):
        r = m.config.get("restart") or {}
        policy = r.get("policy") or "on-failure"    # Fly's default when none is set
        if policy == "always":
            return True
        if policy == "on-failure":
            return exit_code != 0 and m.restart_count < r.get("max_retries", 10)
        return False

    @staticmethod
    def _exit_request(m, exit_code, sig, requested, restarting):
        return {"exit_event": {"exit_code": exit_code, "guest_exit_code": exit_code,
                               "signal": sig, "oom_killed": False, "requested_stop": requested,
                               "restarting": restarting, "exited_at": rfc3339(time.time())},
                "restart_count": m.restart_count}

    def _stopped(self, m):
        m.t_stopped = time.time()
        self.set_state(m, "stopped")
        if m.auto_destroy:
            self._destroyed(m, source="flyd")

    def _destroyed(self, m, source="user"):
        m.gen += 1
        if m.state != "destroying":
            self.set_state(m, "destroying")
        m.event("destroy", "destroyed", source)
        m.t_destroyed = time.time()
        m.t_stopped = m.t_stopped or m.t_destroyed
        self.ips.give_back(m.private_ip)
        self.set_state(m, "destroyed")

    # -- API actions -------------------------------------------------------------

    def stop(self, m, sig_name, timeout):
        if m.state == "starting":           # not running yet: cancel the boot
            m.gen += 1
            self.set_state(m, "stopping")
            m.event("stop", "stopped")
            return self._stopped(m)
        if m.state != "started":
            return
        sc = m.config.get("stop_config") or {}
        sig_name = sig_name or sc.get("signal") or "SIGTERM"
        if timeout is None:
            timeout = to_seconds(sc["timeout"]) if "timeout" in sc else DEFAULT_STOP_TIMEOUT
        m.stop_requested = True
        m.gen += 1
        m.event("stop", "stopping")
        self.set_state(m, "stopping")
        try:
            os.kill(m.proc.pid, getattr(signal, sig_name))
        except OSError:
            pass
        threading.Thread(target=self._stop_deadline, args=(m, m.proc, timeout), daemon=True).start()

    def _stop_deadline(self, m, proc, timeout):
        """After the stop timeout, SIGKILL whatever is left of the machine."""
        deadline = time.time() + max(0.0, timeout)
        with self.cond:
            while m.proc is proc and time.time() < deadline:
                self.cond.wait(deadline - time.time())
            if m.proc is proc:
                self.rec.log("machine %s: stop timeout, killing", m.id)
                self.procs.kill_machine(m)

    def start(self, m):
        """stopped/created/suspended/failed -> starting; (previous state, new host or "")."""
        prev = m.state
        if prev not in STARTABLE:
            raise ApiError(412, "failed_precondition: machine still active, refusing to start")
        new_host = ""
        if self.settings.take("migrate_on_start"):
            # on another host the machine gets another 6PN address (§5.2)
            old = m.private_ip
            m.private_ip = self.ips.take()
            self.ips.give_back(old)
            new_host = secrets.token_hex(6)
            self.rec.log("machine %s migrated: %s -> %s", m.id, old, m.private_ip)
        m.restart_count = 0
        m.starts += 1
        m.reset_root = True
        delay = self.settings.get("start_delay")
        self._boot_later(m, self.settings.get("boot_delay") if delay is None else delay)
        return prev, new_host

    def billing(self):
        """Totals over every machine ever created, for GET /_fake/billing."""
        fakes = [m.to_fake() for m in self.machines.values()]
        states = [m.state for m in self.machines.values()]
        return {"machines_created": len(fakes),
                "api_starts": sum(f["starts"] for f in fakes),
                "run_seconds": round(sum(f["run_seconds"] for f in fakes), 3),
                "stopped_seconds": round(sum(f["stopped_seconds"] for f in fakes), 3),
                "running": sum(1 for s in states if s in ("started", "starting")),
                "stopped": states.count("stopped")}

    def destroy(self, m, force):
        if m.state not in DESTROYABLE and not force:
            raise ApiError(412, "failed_precondition: unable to destroy machine, not currently stopped")
        if m.state == "destroying":
            return
        m.gen += 1
        self.set_state(m, "destroying")
        if m.proc is not None:
            m.destroy_requested = True      # _on_exit finishes it once reaped
            self.procs.kill_machine(m)
        else:
            self._destroyed(m)

    def die(self, m):
        """Test hook: the machine's processes are killed from outside (a crash)."""
        if m.proc is None:
            raise ApiError(409, "machine has no running process")
        self.procs.kill_machine(m)

    def wait(self, m, wanted, timeout):
        """Long-poll until m enters a wanted state (§7.10); the state or None on expiry."""
        deadline = time.time() + timeout
        seen = len(m.history) - 1          # the current state counts
        with self.cond:
            while True:
                for s in m.history[seen:]:
                    if s in wanted or ("settled" in wanted and s in SETTLED):
                        return s
                seen = len(m.history)
                if m.state == "destroyed":
                    raise ApiError(404, "machine not found")
                left = deadline - time.time()
                if left <= 0:
                    return None
                self.cond.wait(left)

    # -- background: reaping and scanning -------------------------------------------

    def reaper(self):
        """Reaps every child, ours and re-parented orphans (we are a subreaper)."""
        while True:
            try:
                pid, status = os.waitpid(-1, 0)
            except ChildProcessError:
                time.sleep(0.1)
                continue
            except InterruptedError:
                continue
            self.reaped(pid, status)

    def scanner(self):
        """Learns each running machine's processes while their parents still live,
        and kills leftovers of machines that are down."""
        while not self.closing:
            time.sleep(SCAN_INTERVAL)
            try:
                self._scan_once()
            except Exception:
                self.rec.log("scanner: %s", traceback.format_exc().replace("\n", " | "))

    def _scan_once(self):
        snap = proc_snapshot()
        with self.cond:
            live, strays = set(), set()
            now = time.time()
            for m in list(self.machines.values()):
                if m.proc is not None:
                    pids = self.procs.pids_of(m, snap)
                    self.procs.remember(m, snap, pids)
                    live |= pids
                elif m.sweep_until > now:
                    strays |= self.procs.pids_of(m, snap)
            if not any(m.proc is not None for m in self.machines.values()):
                # No machine runs, so nothing should run below us: this catches what
                # escaped attribution (env -i, then setsid, then a double fork).
                strays |= descendants(snap, [self.procs.me]) - {self.procs.me}
            self.procs.forget_dead(snap)
            # killed under the lock: no machine can be spawned on a reused pid meanwhile
            for p in strays - live:
                if snap[p].state == "Z":
                    continue
                try:
                    os.kill(p, signal.SIGKILL)
                    self.rec.log("killed stray process %d", p)
                except OSError:
                    pass

    def shutdown(self):
        """Kill every machine's processes, then anything else below us."""
        with self.cond:
            self.closing = True
            for m in self.machines.values():
                m.gen += 1
                if m.proc is not None or m.sid:
                    self.procs.kill_machine(m)
        for _ in range(3):
            snap = proc_snapshot()
            rest = descendants(snap, [self.procs.me]) - {self.procs.me}
            rest = {p for p in rest if snap[p].state != "Z"}
            if not rest:
                break
            for p in rest:
                try:
                    os.kill(p, signal.SIGKILL)
                except OSError:
                    pass
            time.sleep(0.05)
        with self.cond:
            for m in self.machines.values():
                if m.state != "destroyed":
                    if m.run_since:
                        m.run_seconds += time.time() - m.run_since
                        m.run_since = None
                    if m.proc is not None:
                        self.by_pid.pop(m.proc.pid, None)
                        m.proc = None
                    self._destroyed(m, source="fake-shutdown")


# ------------------------------------------------------------------ switches

class Settings:
    """Run-time switches, set with POST /_fake/config."""

    TYPES = {"rate_limit": bool, "fail_next": list, "ambiguous_create": int, "boot_delay": (int, float),
             "start_delay": (int, float, type(None)), "boot_never_starts": bool,
             "drop_connection_on_create": int, "migrate_on_start": int}
    ACTIONS = ("create", "wait", "stop", "start", "destroy", "get", "list", "app", "any")
    STATUSES = (408, 409, 412, 429, 500, 502, 503)

    def __init__(self):
        self.lock = threading.Lock()
        # start_delay None: a start takes boot_delay, as a create's boot does
        self.values = {"rate_limit": False, "fail_next": [], "ambiguous_create": 0, "boot_delay": 0,
                       "start_delay": None, "boot_never_starts": False,
                       "drop_connection_on_create": 0, "migrate_on_start": 0}

    def get(self, key):
        with self.lock:
            return self.values[key]

    def update(self, body):
        if not isinstance(body, dict):
            raise ApiError(400, "config must be a JSON object")
        for k, v in body.items():
            t = self.TYPES.get(k)
            if t is None:
                raise ApiError(400, "unknown switch %s" % json.dumps(k))
            if not isinstance(v, t) or (t is not bool and isinstance(v, bool)) or \
                    (isinstance(v, (int, float)) and v < 0):
                raise ApiError(400, "bad value for %s" % k)
        rules = [self._rule(r) for r in body.get("fail_next", [])]
        with self.lock:
            self.values.update(body)
            if "fail_next" in body:
                self.values["fail_next"] = rules
            return dict(self.values)

    def _rule(self, r):
        if not isinstance(r, dict) or r.get("action") not in self.ACTIONS or \
                r.get("status") not in self.STATUSES:
            raise ApiError(400, "fail_next entries are {action: %s, status: %s, count: N}" % (
                "|".join(self.ACTIONS), "|".join(map(str, self.STATUSES))))
        count = r.get("count", 1)
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            raise ApiError(400, "fail_next count must be a positive integer")
        return {"action": r["action"], "status": r["status"], "count": count}

    def take_fault(self, action):
        """The status to inject for this action, consuming one count; or None."""
        with self.lock:
            for r in self.values["fail_next"]:
                if r["action"] in (action, "any"):
                    r["count"] -= 1
                    if r["count"] == 0:
                        self.values["fail_next"].remove(r)
                    return r["status"]
        return None

    def take(self, key):
        """Consume one unit of a counter switch; True if there was one."""
        with self.lock:
            if self.values[key] > 0:
                self.values[key] -= 1
                return True
        return False


FAULT_TEXT = {
    408: "deadline_exceeded: request timed out",
    409: "failed to launch VM: aborted: could not reserve resource for machine",
    412: "failed_precondition: capacity not found",
    429: "rate limited",
    500: "internal: unexpected error",
    502: "bad gateway",
    503: "service unavailable",
}


class RateLimiter:
    """§7.16: a token bucket per (action, machine or app): 1/s with bursts of 3;
    GET machine 5/s with bursts of 10."""

    def __init__(self):
        self.lock = threading.Lock()
        self.buckets = {}

    def allow(self, action, scope):
        rate, burst = (5.0, 10.0) if action == "get" else (1.0, 3.0)
        now = time.monotonic()
        with self.lock:
            tokens, last = self.buckets.get((action, scope), (burst, now))
            tokens = min(burst, tokens + (now - last) * rate)
            ok = tokens >= 1.0
            self.buckets[(action, scope)] = (tokens - 1.0 if ok else tokens, now)
            return ok

    def reset(self):
        with self.lock:
            self.buckets.clear()


# ------------------------------------------------------------------ HTTP

class DropConnection(Exception):
    """Close the socket without answering."""


class Api:
    """The /v1 routes and the /_fake control routes, independent of HTTP plumbing."""

    def __init__(self, fleet, settings, apps, token, rec):
        self.fleet, self.settings, self.apps, self.token, self.rec = fleet, settings, apps, token, rec
        self.limiter = RateLimiter()

    # -- auth --------------------------------------------------------------------

    def authorized(self, header):
        """Accepts "Bearer X", "FlyV1 X", nested "Bearer FlyV1 X", any case (§7.3)."""
        v = (header or "").strip()
        stripped = False
        while True:
            low = v.lower()
            for scheme in ("bearer ", "flyv1 "):
                if low.startswith(scheme):
                    v = v[len(scheme):].strip()
                    stripped = True
                    break
            else:
                break
        if not stripped or not v:
            return False
        if self.token is None:
            return True
        return v == self.token or self.token in [p.strip() for p in v.split(",")]

    # -- routing -----------------------------------------------------------------

    def route(self, method, path):
        """(action, app, machine id, handler) for a /v1 path; ApiError if none."""
        parts = [p for p in path.split("/") if p][1:]          # drop "v1"
        if len(parts) < 2 or parts[0] != "apps":
            raise ApiError(404, "404 page not found")
        app, rest = parts[1], parts[2:]
        table = {
            ("GET", 0): ("app", self.get_app), ("GET", 1): ("list", self.list),
            ("POST", 1): ("create", self.create), ("GET", 2): ("get", self.get_machine),
            ("DELETE", 2): ("destroy", self.destroy), ("GET", 3, "wait"): ("wait", self.wait),
            ("POST", 3, "stop"): ("stop", self.stop), ("POST", 3, "start"): ("start", self.start),
        }
        if rest and rest[0] != "machines":
            raise ApiError(404, "404 page not found")
        key = (method, len(rest)) if len(rest) < 3 else (method, 3, rest[2])
        if key not in table:
            if len(rest) >= 2:
                raise ApiError(501, "not implemented by the fake: %s %s" % (method, "/".join(rest[2:]) or "update"))
            raise ApiError(405, "method not allowed")
        action, fn = table[key]
        return action, app, rest[1] if len(rest) >= 2 else None, fn

    def handle_v1(self, method, path, query, headers, body_raw):
        """(status, object) for a /v1 request."""
        if not self.authorized(headers.get("Authorization")):
            raise ApiError(401, "You must be authenticated to view this.")
        action, app, mid, fn = self.route(method, path)
        if app not in self.apps:
            raise ApiError(404, "app not found")
        injected = self.settings.take_fault(action)
        if injected:
            extra = {"status": "insufficient_capacity"} if injected in (409, 412) and action == "create" else {}
            raise ApiError(injected, FAULT_TEXT[injected], extra)
        if self.settings.get("rate_limit") and not self.limiter.allow(action, mid or app):
            raise ApiError(429, "rate limited")
        return fn(app=app, mid=mid, query=query, body=body_raw)

    # -- /v1 handlers --------------------------------------------------------------

    def get_app(self, app, **_):
        with self.fleet.cond:
            count = sum(1 for m in self.fleet.machines.values() if m.app == app and m.state != "destroyed")
        return 200, {"id": hashlib.sha1(app.encode()).hexdigest()[:16], "name": app,
                     "status": "deployed", "network": "default", "network_cidr": "fdaa:0:1::/48",
                     "organization": {"name": "Fake Org", "slug": "personal", "internal_numeric_id": 1},
                     "machine_count": count, "volume_count": 0, "internal_numeric_id": 2}

    def create(self, app, body, **_):
        req = CreateRequest(parse_json_body(body))
        m, snapshot = self.fleet.create(app, req)
        if self.settings.take("drop_connection_on_create"):
            raise DropConnection()
        if self.settings.take("ambiguous_create"):
            raise ApiError(408, "deadline_exceeded: request timed out")
        return 200, snapshot

    def get_machine(self, app, mid, **_):
        with self.fleet.cond:
            return 200, self.fleet.get(app, mid).to_api()

    def list(self, app, query, **_):
        deleted = parse_bool(query.get("include_deleted", [""])[-1])
        summary = parse_bool(query.get("summary", [""])[-1])
        regions = query.get("region")
        states = {s for v in query.get("state", []) for s in v.split(",") if s}
        meta = [(k[len("metadata."):], v) for k, vs in query.items() if k.startswith("metadata.") for v in vs]
        out = []
        with self.fleet.cond:
            for m in sorted(self.fleet.machines.values(), key=lambda m: m.created_at):
                if m.app != app or (m.state == "destroyed" and not deleted):
                    continue
                if regions and m.region not in regions or states and m.state not in states:
                    continue
                if all(m.metadata.get(k) == v for k, v in meta):
                    out.append(m.to_api(summary=summary))
        return 200, out

    def wait(self, app, mid, query, **_):
        wanted = [s.strip() for v in query.get("state", []) for s in v.split(",") if s.strip()] or ["started"]
        for s in wanted:
            if s not in WAIT_STATES:
                raise invalid("invalid state %s, must be one of: %s" % (json.dumps(s), ", ".join(WAIT_STATES)))
        t = query.get("timeout", ["60"])[-1]
        if not re.match(r"^-?\d+$", t):
            raise invalid("invalid timeout %s" % json.dumps(t))
        if not 1 <= int(t) <= 60:
            raise invalid("timeout must be between 1 and 60 seconds, got %s" % t)
        with self.fleet.cond:
            m = self.fleet.machines.get(mid)
            if m is None or m.app != app or (m.state == "destroyed" and "destroyed" not in wanted
                                             and "settled" not in wanted):
                raise ApiError(404, "machine not found")
            got = self.fleet.wait(m, set(wanted), int(t))
            if got is None:
                raise ApiError(408, "deadline_exceeded: machine failed to reach desired state, %s, currently %s"
                               % (",".join(wanted), m.state))
            return 200, {"ok": True, "state": got, "event_id": m.events[0]["id"], "version": m.instance_id}

    def stop(self, app, mid, body, **_):
        sig, timeout = parse_stop_body(parse_json_body(body))
        with self.fleet.cond:
            self.fleet.stop(self.fleet.get(app, mid), sig, timeout)
        return 200, {"ok": True}

    def start(self, app, mid, **_):
        with self.fleet.cond:
            prev, new_host = self.fleet.start(self.fleet.get(app, mid))
        return 200, {"previous_state": prev, "migrated": bool(new_host), "new_host": new_host}

    def destroy(self, app, mid, query, **_):
        force = any(parse_bool(query.get(k, [""])[-1]) for k in ("force", "kill"))
        with self.fleet.cond:
            self.fleet.destroy(self.fleet.get(app, mid), force)
        return 200, {"ok": True}

    # -- /_fake ----------------------------------------------------------------------

    def handle_fake(self, method, path, body_raw):
        parts = [p for p in path.split("/") if p][1:]
        if method == "GET" and parts == ["health"]:
            return 200, {"ok": True, "pid": os.getpid()}
        if method == "GET" and parts == ["machines"]:
            with self.fleet.cond:
                return 200, [m.to_fake() for m in sorted(self.fleet.machines.values(),
                                                         key=lambda m: m.created_at)]
        if method == "GET" and parts == ["billing"]:
            with self.fleet.cond:
                return 200, self.fleet.billing()
        if parts == ["config"] and method in ("GET", "POST"):
            if method == "GET":
                with self.settings.lock:
                    return 200, dict(self.settings.values)
            values = self.settings.update(parse_json_body(body_raw) or {})
            if not values["rate_limit"]:
                self.limiter.reset()
            self.rec.log("config: %s", json.dumps(parse_json_body(body_raw)))
            return 200, values
        if method == "POST" and len(parts) == 3 and parts[0] == "machines" and parts[2] == "die":
            with self.fleet.cond:
                m = self.fleet.machines.get(parts[1])
                if m is None or m.state == "destroyed":
                    raise ApiError(404, "machine not found")
                self.fleet.die(m)
            return 200, {"ok": True}
        raise ApiError(404, "404 page not found")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fly-fake/1"
    api = None          # set by main()

    def log_message(self, fmt, *args):      # our own log in fake.log instead
        pass

    def do_GET(self):
        self._serve()

    do_POST = do_DELETE = do_PUT = do_PATCH = do_GET

    def _read_body(self):
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            data = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline().strip():
                        pass
                    return data
                data += self.rfile.read(size)
                self.rfile.readline()
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def _serve(self):
        t0 = time.time()
        url = urlsplit(self.path)
        query = parse_qs(url.query, keep_blank_values=True)
        body = self._read_body()
        status, obj = 500, None
        try:
            if url.path == "/v1" or url.path.startswith("/v1/"):
                status, obj = self.api.handle_v1(self.command, url.path, query, self.headers, body)
            elif url.path.startswith("/_fake/"):
                status, obj = self.api.handle_fake(self.command, url.path, body)
            else:
                status, obj = 404, None
        except ApiError as e:
            status, obj = e.status, dict({"error": e.text}, **e.extra)
        except DropConnection:
            status = 0
        except Exception:
            self.api.rec.log("internal error: %s", traceback.format_exc().replace("\n", " | "))
            status, obj = 500, {"error": "internal error in the fake"}
        self._record(t0, url.path, query, status, body)
        if status == 0:
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        self._answer(status, obj)

    def _answer(self, status, obj):
        if obj is None and status == 404:
            data, ctype = b"404 page not found\n", "text/plain; charset=utf-8"
        else:
            data, ctype = (json.dumps(obj) + "\n").encode(), "application/json"
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("fly-request-id", secrets.token_hex(10))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _record(self, t0, path, query, status, body):
        """Never records headers (the token lives there)."""
        self.api.rec.log("%s %s %s", self.command, path, status or "dropped")
        if not path.startswith("/v1"):
            return
        try:
            parsed = json.loads(body) if body.strip() else None
        except ValueError:
            parsed = None
        self.api.rec.request({"t": t0, "method": self.command, "path": path, "query": query,
                              "status": status, "body": parsed})


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


# ------------------------------------------------------------------ main

def write_atomic(path, text):
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, path)


def main(argv=None):
    ap = argparse.ArgumentParser(description="A local fake of the Fly Machines API.")
    ap.add_argument("--state", required=True, help="directory for port, logs, records and machines")
    ap.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (0: pick one)")
    ap.add_argument("--token", default=None, help="the accepted API token (default $FAKE_FLY_TOKEN)")
    ap.add_argument("--app", action="append", default=[], help="an app name to serve (repeatable)")
    ap.add_argument("--rootfs", default=os.environ.get("FAKE_FLY_ROOTFS") or None,
                    help="image mode: boot machines in this root file system "
                         "(default $FAKE_FLY_ROOTFS)")
    args = ap.parse_args(argv)
    rootfs = os.path.abspath(args.rootfs) if args.rootfs else None
    if rootfs and not os.path.isdir(rootfs):
        ap.error("--rootfs %s: not a directory" % rootfs)
    if rootfs and os.geteuid() != 0:
        ap.error("--rootfs: image mode mounts and chroots, so it needs root")

    state = os.path.abspath(args.state)
    os.makedirs(state, exist_ok=True)
    for stale in ("port", "pid"):
        try:
            os.unlink(os.path.join(state, stale))
        except FileNotFoundError:
            pass
    token = args.token if args.token is not None else os.environ.get("FAKE_FLY_TOKEN") or None
    set_child_subreaper()
    rec = Recorder(state)
    settings = Settings()
    fleet = Fleet(state, rec, settings, rootfs)
    Handler.api = Api(fleet, settings, {DEFAULT_APP, *args.app}, token, rec)

    server = Server(("127.0.0.1", args.port), Handler)
    port = server.server_address[1]
    threading.Thread(target=fleet.reaper, daemon=True).start()
    threading.Thread(target=fleet.scanner, daemon=True).start()

    def on_signal(signum, _frame):
        rec.log("signal %d: shutting down", signum)
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    write_atomic(os.path.join(state, "pid"), "%d\n" % os.getpid())
    write_atomic(os.path.join(state, "port"), "%d\n" % port)
    rec.log("listening on 127.0.0.1:%d (pid %d, apps %s, token %s%s)", port, os.getpid(),
            ",".join(sorted(Handler.api.apps)), "set" if token else "any",
            ", image " + rootfs if rootfs else "")
    server.serve_forever(poll_interval=0.2)
    fleet.shutdown()
    server.server_close()
    for stale in ("port", "pid"):
        try:
            os.unlink(os.path.join(state, stale))
        except FileNotFoundError:
            pass
    rec.log("shutdown complete")
    return 0


if __name__ == "__main__":
    sys.exit(main())
