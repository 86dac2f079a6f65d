#!/usr/bin/env python3
"""Host integration probes for dmfilemap-supervisord, dmfilemapctl and the
dmfilemapd shim, run by tests/host/run.sh against a daemon it started.

Prints one line per test, "ok NAME", "FAIL NAME: why" or "skip NAME: why".
Standard library only. Waits are generous and polled: nothing here asserts
how fast the daemon answers, only what it answers.

This machine has no device-mapper: every real file is refused with
NotDeviceMapper ("not on a device-mapper device"), which is expected.
"""

import argparse
import json
import os
import select
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
import traceback

IFACE = "io.dmfilemap.Supervisor"
SVC = "org.varlink.service"
ERR_INVALID_PARAMETER = SVC + ".InvalidParameter"
ERR_METHOD_NOT_FOUND = SVC + ".MethodNotFound"
ERR_INTERFACE_NOT_FOUND = SVC + ".InterfaceNotFound"
ERR_EXPECTED_MORE = SVC + ".ExpectedMore"
MSG_MAX = 64 * 1024        # DMF_MSG_MAX
FDS_MAX = 4                # DMF_FDS_MAX
WAIT = 60.0                # the longest we wait for anything (never a target)
SAN_MARKERS = ("ERROR: AddressSanitizer", "runtime error", "LeakSanitizer")
NOT_DM = "not on a device-mapper device"


class Fail(Exception):
    pass


class Skip(Exception):
    pass


def check(cond, why):
    if not cond:
        raise Fail(why)


def eq(got, want, what):
    if got != want:
        raise Fail("%s: expected %r, got %r" % (what, want, got))


def short(x, n=300):
    s = x if isinstance(x, str) else repr(x)
    return s if len(s) <= n else s[:n] + "..."


def poll_until(fn, what, timeout=WAIT, step=0.05):
    """Call FN until it returns a true value; Fail after TIMEOUT."""
    deadline = time.monotonic() + timeout
    while True:
        v = fn()
        if v:
            return v
        if time.monotonic() > deadline:
            raise Fail("%s: still not so after %.0f s" % (what, timeout))
        time.sleep(step)


# --------------------------------------------------------------------------
# the wire

class Conn:
    """One client connection: NUL-framed JSON, fds with SCM_RIGHTS."""

    def __init__(self, path, timeout=WAIT):
        self.path = path
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(timeout)
        self.s.connect(path)
        self.buf = b""

    def close(self):
        if self.s:
            self.s.close()
            self.s = None

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()

    def send_raw(self, data, fds=()):
        if fds:
            n = socket.send_fds(self.s, [data], list(fds))
            if n < len(data):
                self.s.sendall(data[n:])
        else:
            self.s.sendall(data)

    def send(self, msg, fds=()):
        if isinstance(msg, dict):
            msg = json.dumps(msg)
        if isinstance(msg, str):
            msg = msg.encode()
        self.send_raw(msg + b"\0", fds)

    def recv_raw(self, timeout=WAIT):
        """One message (bytes, no NUL), or None at EOF."""
        deadline = time.monotonic() + timeout
        while b"\0" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise Fail("no reply after %.0f s" % timeout)
            self.s.settimeout(left)
            try:
                chunk = self.s.recv(1 << 20)
            except socket.timeout:
                raise Fail("no reply after %.0f s" % timeout)
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                if self.buf:
                    raise Fail("connection closed in the middle of a reply: "
                               + short(self.buf))
                return None
            self.buf += chunk
        msg, _, self.buf = self.buf.partition(b"\0")
        return msg

    def recv(self, timeout=WAIT):
        m = self.recv_raw(timeout)
        if m is None:
            raise Fail("connection closed instead of a reply")
        try:
            r = json.loads(m)
        except ValueError:
            raise Fail("reply is not JSON: " + short(m))
        check(isinstance(r, dict), "reply is not an object: " + short(m))
        return r

    def call(self, method, params=None, more=False, oneway=False, fds=()):
        c = {"method": method}
        if params is not None:
            c["parameters"] = params
        if more:
            c["more"] = True
        if oneway:
            c["oneway"] = True
        self.send(c, fds)
        return None if oneway else self.recv()

    def expect_eof(self, timeout=WAIT):
        """The daemon closes the connection (replies before it are read)."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise Fail("connection still open after %.0f s" % timeout)
            self.s.settimeout(left)
            try:
                chunk = self.s.recv(1 << 20)
            except socket.timeout:
                continue
            except ConnectionResetError:
                return
            if not chunk:
                return

    def quiet(self, secs):
        """True if nothing (no data, no EOF) arrives within SECS."""
        if self.buf:
            return False
        r, _, _ = select.select([self.s], [], [], secs)
        return not r


def ok_params(reply, what):
    if "error" in reply:
        raise Fail("%s: error reply %s" % (what, short(json.dumps(reply))))
    p = reply.get("parameters", {})
    check(isinstance(p, dict), "%s: parameters not an object" % what)
    return p


def expect_error(reply, name, what, **want):
    got = reply.get("error")
    if got != name:
        raise Fail("%s: expected error %s, got %s" %
                   (what, name, short(json.dumps(reply))))
    p = reply.get("parameters", {})
    check(isinstance(p, dict), "%s: error parameters not an object" % what)
    for k, v in want.items():
        if k == "message_has":
            m = p.get("message")
            check(isinstance(m, str) and v in m,
                  "%s: message %r lacks %r" % (what, m, v))
        elif p.get(k) != v:
            raise Fail("%s: error parameter %s: expected %r, got %r" %
                       (what, k, v, p.get(k)))
    if name.startswith(IFACE + "."):
        m = p.get("message")
        check(isinstance(m, str) and m and "\n" not in m,
              "%s: %s without a one-line message: %r" % (what, name, m))
    return p


def still_usable(c, what):
    """A good call on the same connection is still answered."""
    p = ok_params(c.call(SVC + ".GetInfo"), what + ", then GetInfo")
    eq(p.get("product"), "dmfilemap-supervisord", what + ", then GetInfo")


# --------------------------------------------------------------------------
# processes

def sanitizer_report(text):
    for line in text.splitlines():
        if any(m in line for m in SAN_MARKERS):
            return line.strip()
    return None


def run(argv, env=None, unset=(), pass_fds=(), cwd=None, timeout=WAIT * 2):
    e = dict(os.environ)
    for k in unset:
        e.pop(k, None)
    if env:
        e.update(env)
    try:
        p = subprocess.run(argv, capture_output=True, text=True, env=e,
                           pass_fds=pass_fds, cwd=cwd, timeout=timeout,
                           stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise Fail("%s did not exit within %.0f s" % (" ".join(argv), timeout))
    rep = sanitizer_report(p.stderr)
    if rep:
        raise Fail("%s: sanitizer: %s" % (os.path.basename(argv[0]), rep))
    return p


def expect_exit(p, code, what):
    if p.returncode != code:
        raise Fail("%s: exit %d, expected %d; stderr: %s" %
                   (what, p.returncode, code, short(p.stderr.strip())))


def one_line(text, what):
    lines = text.splitlines()
    check(len(lines) == 1, "%s: expected one line on stderr, got %r" %
          (what, text))
    return lines[0]


def proc_alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            st = f.read()
    except OSError:
        return False
    return st[st.rindex(")") + 2] not in "ZX"


def supervisors_on(sock):
    """Pids of dmfilemap-supervisord processes serving SOCK."""
    pids = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % d, "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if (any(a.endswith(b"dmfilemap-supervisord") for a in argv[:3]) and
                sock.encode() in argv and proc_alive(int(d))):
            pids.append(int(d))
    return pids


def stop_pid(pid, what, sig=signal.SIGTERM):
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        return
    poll_until(lambda: not proc_alive(pid), "%s (pid %d) exits" % (what, pid))


def fd_list(pid):
    d = "/proc/%d/fd" % pid
    out = {}
    for n in os.listdir(d):
        try:
            out[int(n)] = os.readlink(os.path.join(d, n))
        except OSError:
            pass
    return out


# --------------------------------------------------------------------------
# the tests

TESTS = []


def test(name):
    def deco(fn):
        TESTS.append((name, fn))
        return fn
    return deco


class Ctx:
    pass


def add_params(ctx, **kw):
    p = {"fd": 0, "path": ctx.hostfile, "group_id": 0, "mode": "inode"}
    p.update(kw)
    return {k: v for k, v in p.items() if v is not DROP}


DROP = object()


def open_file(path, flags=os.O_RDONLY):
    return os.open(path, flags | os.O_CLOEXEC)


# ---- service ------------------------------------------------------------

@test("getinfo")
def t_getinfo(ctx):
    with Conn(ctx.sock) as c:
        p = ok_params(c.call(SVC + ".GetInfo"), "GetInfo")
    for k in ("vendor", "product", "version", "url"):
        check(isinstance(p.get(k), str) and p[k], "GetInfo: no %s" % k)
    eq(p["product"], "dmfilemap-supervisord", "GetInfo product")
    eq(p["version"], ctx.version, "GetInfo version")
    ifs = p.get("interfaces")
    check(isinstance(ifs, list) and IFACE in ifs and SVC in ifs,
          "GetInfo interfaces: %r" % ifs)


@test("interface_description")
def t_desc(ctx):
    with Conn(ctx.sock) as c:
        p = ok_params(c.call(SVC + ".GetInterfaceDescription",
                             {"interface": IFACE}), "description")
        d = p.get("description")
        check(isinstance(d, str), "no description string")
        check("interface io.dmfilemap.Supervisor" in d,
              "description lacks 'interface io.dmfilemap.Supervisor'")
        with open(os.path.join(ctx.repo, "protocol",
                               "io.dmfilemap.Supervisor.varlink")) as f:
            idl = f.read()
        eq(d.strip(), idl.strip(), "description vs the IDL file")
        p = ok_params(c.call(SVC + ".GetInterfaceDescription",
                             {"interface": SVC}), "service description")
        check("interface org.varlink.service" in p.get("description", ""),
              "org.varlink.service description: %r" % p)


@test("interface_description_unknown")
def t_desc_unknown(ctx):
    with Conn(ctx.sock) as c:
        expect_error(c.call(SVC + ".GetInterfaceDescription",
                            {"interface": "com.example.Nope"}),
                     ERR_INTERFACE_NOT_FOUND, "unknown interface",
                     interface="com.example.Nope")
        expect_error(c.call(SVC + ".GetInterfaceDescription", {}),
                     ERR_INVALID_PARAMETER, "no interface",
                     parameter="interface")
        expect_error(c.call(SVC + ".GetInterfaceDescription",
                            {"interface": 5}),
                     ERR_INVALID_PARAMETER, "interface 5",
                     parameter="interface")
        still_usable(c, "GetInterfaceDescription errors")


@test("list_empty")
def t_list(ctx):
    with Conn(ctx.sock) as c:
        p = ok_params(c.call(IFACE + ".List"), "List")
    eq(p, {"monitors": [], "unmonitored": []}, "List")


@test("info")
def t_info(ctx):
    with Conn(ctx.sock) as c:
        p = ok_params(c.call(IFACE + ".Info"), "Info")
    eq(p.get("version"), ctx.version, "Info version")
    if ctx.pid:
        eq(p.get("pid"), ctx.pid, "Info pid")
    for k in ("pid", "uptime", "monitors", "devices", "interval_ms"):
        v = p.get(k)
        check(isinstance(v, int) and not isinstance(v, bool) and v >= 0,
              "Info %s: %r" % (k, v))
    eq(p["monitors"], 0, "Info monitors")
    eq(p["devices"], 0, "Info devices")
    eq(p["interval_ms"], 1000, "Info interval_ms")
    io = p.get("ioctls")
    check(isinstance(io, dict), "Info ioctls: %r" % io)
    kinds = ("stats_list", "stats_create", "stats_delete", "stats_set_aux",
             "info", "total")
    for k in kinds:
        v = io.get(k)
        check(isinstance(v, int) and not isinstance(v, bool) and v >= 0,
              "Info ioctls.%s: %r" % (k, v))
    check(io["total"] >= sum(io[k] for k in kinds[:-1]),
          "Info ioctls.total below the sum of the kinds: %r" % io)


@test("socket_mode")
def t_socket_mode(ctx):
    st = os.stat(ctx.sock)
    check(stat.S_ISSOCK(st.st_mode), "not a socket")
    eq(oct(st.st_mode & 0o7777), oct(0o660), "socket mode")
    check(os.path.exists(ctx.sock + ".lock"), "no lock file")


# ---- bad calls ------------------------------------------------------------

BAD_REQUESTS = [
    ("not_json", b"nonsense"),
    ("empty_message", b""),
    ("truncated_json", b'{"method":"org.varlink.service.GetInfo"'),
    ("json_array", b'[{"method":"org.varlink.service.GetInfo"}]'),
    ("json_string", b'"org.varlink.service.GetInfo"'),
    ("json_number", b"42"),
    ("json_null", b"null"),
    ("missing_method", b'{"parameters":{}}'),
    ("method_not_string", b'{"method":5}'),
    ("method_without_dot", b'{"method":"GetInfo"}'),
    ("parameters_not_object",
     b'{"method":"org.varlink.service.GetInfo","parameters":[]}'),
    ("more_not_bool", b'{"method":"org.varlink.service.GetInfo","more":1}'),
    ("oneway_not_bool",
     b'{"method":"org.varlink.service.GetInfo","oneway":"yes"}'),
    ("deep_nesting", b'{"method":"org.varlink.service.GetInfo",'
     b'"parameters":{"a":' + b"[" * 5000 + b"]" * 5000 + b"}}"),
]


def make_bad_request_test(name, data):
    def t(ctx):
        with Conn(ctx.sock) as c:
            c.send(data)
            expect_error(c.recv(), IFACE + ".InvalidRequest", name)
            still_usable(c, name)
    TESTS.append(("bad_request_" + name, t))


for _n, _d in BAD_REQUESTS:
    make_bad_request_test(_n, _d)


@test("bad_request_trailing_garbage")
def t_trailing(ctx):
    # one message is one JSON value; text after it makes it not JSON
    with Conn(ctx.sock) as c:
        c.send(b'{"method":"io.dmfilemap.Supervisor.List"}garbage')
        expect_error(c.recv(), IFACE + ".InvalidRequest",
                     "call followed by garbage")
        still_usable(c, "trailing garbage")


@test("invalid_utf8_answered_with_valid_json")
def t_utf8(ctx):
    # Varlink messages are UTF-8 JSON: a call with invalid UTF-8 may be
    # refused, but whatever comes back must itself be valid JSON
    with Conn(ctx.sock) as c:
        for data in (b'{"method":"a\xff.B"}',
                     b'{"method":"io.dmfilemap.Supervisor.N\xc3("}'):
            c.send(data)
            m = c.recv_raw()
            check(m is not None, "connection closed")
            try:
                r = json.loads(m.decode("utf-8"))
            except (UnicodeDecodeError, ValueError) as e:
                raise Fail("reply to %r is not UTF-8 JSON (%s): %r" %
                           (data, e, m))
            check("error" in r, "no error for %r: %r" % (data, r))
        still_usable(c, "invalid UTF-8")


@test("unknown_method")
def t_unknown_method(ctx):
    with Conn(ctx.sock) as c:
        expect_error(c.call(IFACE + ".Nope"), ERR_METHOD_NOT_FOUND,
                     "Nope", method=IFACE + ".Nope")
        expect_error(c.call(SVC + ".Nope"), ERR_METHOD_NOT_FOUND,
                     "service Nope", method=SVC + ".Nope")
        # method names are case-sensitive
        expect_error(c.call(IFACE + ".list"), ERR_METHOD_NOT_FOUND,
                     "lower-case list", method=IFACE + ".list")
        still_usable(c, "unknown method")


@test("unknown_interface")
def t_unknown_interface(ctx):
    with Conn(ctx.sock) as c:
        expect_error(c.call("com.example.Foo.Bar"), ERR_INTERFACE_NOT_FOUND,
                     "com.example.Foo.Bar", interface="com.example.Foo")
        expect_error(c.call("io.dmfilemap.Other.List"),
                     ERR_INTERFACE_NOT_FOUND, "io.dmfilemap.Other.List",
                     interface="io.dmfilemap.Other")
        expect_error(c.call("." + "x" * 1000),
                     ERR_INTERFACE_NOT_FOUND, "empty interface")
        still_usable(c, "unknown interface")


def param_case(ctx, c, method, params, want_param, nfd=1):
    fds = []
    try:
        fds = [open_file(ctx.hostfile) for _ in range(nfd)]
        r = c.call(method, params, fds=fds)
    finally:
        for fd in fds:
            os.close(fd)
    expect_error(r, ERR_INVALID_PARAMETER,
                 "%s %s" % (method.rsplit(".", 1)[1], short(params, 120)),
                 parameter=want_param)


@test("add_wrong_types")
def t_add_types(ctx):
    cases = [
        (dict(fd="0"), "fd"), (dict(fd=1.5), "fd"), (dict(fd=-1), "fd"),
        (dict(fd=1), "fd"), (dict(fd=True), "fd"), (dict(fd=DROP), "fd"),
        (dict(fd=[0]), "fd"),
        (dict(path=5), "path"), (dict(path=""), "path"),
        (dict(path=DROP), "path"), (dict(path=["/x"]), "path"),
        (dict(path="/" + "a" * 5000), "path"),
        (dict(group_id="0"), "group_id"), (dict(group_id=-1), "group_id"),
        (dict(group_id=0.5), "group_id"), (dict(group_id=DROP), "group_id"),
        (dict(group_id=2 ** 31), "group_id"),
        (dict(group_id=1e300), "group_id"), (dict(group_id=None), "group_id"),
        (dict(mode=5), "mode"), (dict(mode="sideways"), "mode"),
        (dict(mode="INODE"), "mode"), (dict(mode=""), "mode"),
    ]
    with Conn(ctx.sock) as c:
        for kw, want in cases:
            param_case(ctx, c, IFACE + ".Add", add_params(ctx, **kw), want)
        still_usable(c, "Add wrong types")


@test("create_wrong_types")
def t_create_types(ctx):
    base = {"fd": 0, "path": ctx.hostfile}
    cases = [
        (dict(fd="0"), "fd"), (dict(path=7), "path"),
        (dict(mode="x"), "mode"),
        (dict(alias=5), "alias"), (dict(alias="a" * 129), "alias"),
        (dict(alias="bad\x01alias"), "alias"),
        (dict(precise="yes"), "precise"), (dict(precise=1), "precise"),
        (dict(bounds="10ms"), "bounds"), (dict(bounds=[]), "bounds"),
        (dict(bounds=[3000000, 2000000]), "bounds"),
        (dict(bounds=[1000000, 1000000]), "bounds"),
        (dict(bounds=[1.5]), "bounds"), (dict(bounds=[-1]), "bounds"),
        (dict(bounds=["1"]), "bounds"),
        (dict(bounds=list(range(1000000, 66000000, 1000000))), "bounds"),
        (dict(group_id=0), "group_id"),
    ]
    with Conn(ctx.sock) as c:
        for kw, want in cases:
            p = dict(base)
            p.update(kw)
            param_case(ctx, c, IFACE + ".Create", p, want)
        still_usable(c, "Create wrong types")


@test("remove_watch_wrong_types")
def t_remove_types(ctx):
    with Conn(ctx.sock) as c:
        for p, want in [({"id": "1"}, "id"), ({"id": 0}, "id"),
                        ({"id": -3}, "id"), ({"id": 1.5}, "id"),
                        ({"path": 5}, "path"), ({}, "id"),
                        ({"id": 1, "delete_group": "yes"}, "delete_group"),
                        ({"id": 1, "bogus": 1}, "bogus")]:
            expect_error(c.call(IFACE + ".Remove", p), ERR_INVALID_PARAMETER,
                         "Remove %s" % json.dumps(p), parameter=want)
        for p, want in [({"id": "1"}, "id"), ({"id": 0}, "id"),
                        ({"bogus": True}, "bogus")]:
            expect_error(c.call(IFACE + ".Watch", p, more=True),
                         ERR_INVALID_PARAMETER, "Watch %s" % json.dumps(p),
                         parameter=want)
        still_usable(c, "Remove/Watch wrong types")


@test("unknown_extra_parameter")
def t_extra(ctx):
    with Conn(ctx.sock) as c:
        param_case(ctx, c, IFACE + ".Add", add_params(ctx, bogus=1), "bogus")
        param_case(ctx, c, IFACE + ".Create",
                   {"fd": 0, "path": ctx.hostfile, "extra": None}, "extra")
        expect_error(c.call(IFACE + ".List", {"x": 1}), ERR_INVALID_PARAMETER,
                     "List {x}", parameter="x")
        still_usable(c, "unknown parameters")


@test("info_unknown_parameter")
def t_info_extra(ctx):
    # Info() takes no parameter, as List() (which refuses one)
    with Conn(ctx.sock) as c:
        expect_error(c.call(IFACE + ".Info", {"x": 1}), ERR_INVALID_PARAMETER,
                     "Info {x}", parameter="x")
        still_usable(c, "Info with an unknown parameter")


@test("watch_without_more")
def t_watch_nomore(ctx):
    with Conn(ctx.sock) as c:
        expect_error(c.call(IFACE + ".Watch"), ERR_EXPECTED_MORE, "Watch")
        expect_error(c.call(IFACE + ".Watch", {"id": 3}), ERR_EXPECTED_MORE,
                     "Watch id 3")
        still_usable(c, "Watch without more")


@test("remove_nonexistent")
def t_remove_none(ctx):
    with Conn(ctx.sock) as c:
        p = expect_error(c.call(IFACE + ".Remove", {"id": 12345}),
                         IFACE + ".NoSuchMonitor", "Remove id 12345",
                         message_has="12345")
        p = expect_error(c.call(IFACE + ".Remove", {"path": "/no/such/file"}),
                         IFACE + ".NoSuchMonitor", "Remove path",
                         message_has="/no/such/file", path="/no/such/file")
        expect_error(c.call(IFACE + ".Remove",
                            {"id": 99, "delete_group": True}),
                     IFACE + ".NoSuchMonitor", "Remove id 99 delete_group")
        expect_error(c.call(IFACE + ".Watch", {"id": 777}, more=True),
                     IFACE + ".NoSuchMonitor", "Watch id 777",
                     message_has="777")
        still_usable(c, "NoSuchMonitor")


@test("stats_empty")
def t_stats_empty(ctx):
    # no device-mapper here, so no monitor: every form of "all" and of an
    # empty list of names is an empty list of files
    with Conn(ctx.sock) as c:
        for p in (None, {}, {"ids": None, "paths": None}, {"ids": []},
                  {"paths": []}):
            eq(ok_params(c.call(IFACE + ".Stats", p),
                         "Stats %s" % json.dumps(p)), {"files": []},
               "Stats %s" % json.dumps(p))
        still_usable(c, "Stats")


@test("stats_wrong_types")
def t_stats_types(ctx):
    with Conn(ctx.sock) as c:
        for p, want in [({"ids": "x"}, "ids"), ({"ids": 3}, "ids"),
                        ({"ids": ["1"]}, "ids"), ({"ids": [0]}, "ids"),
                        ({"ids": [-1]}, "ids"), ({"ids": [1.5]}, "ids"),
                        ({"paths": "x"}, "paths"), ({"paths": [5]}, "paths"),
                        ({"paths": [""]}, "paths"),
                        ({"paths": ["/" + "a" * 5000]}, "paths"),
                        ({"bogus": 1}, "bogus")]:
            expect_error(c.call(IFACE + ".Stats", p), ERR_INVALID_PARAMETER,
                         "Stats %s" % short(json.dumps(p), 80),
                         parameter=want)
        still_usable(c, "Stats wrong types")


@test("stats_nonexistent")
def t_stats_none(ctx):
    with Conn(ctx.sock) as c:
        p = expect_error(c.call(IFACE + ".Stats", {"ids": [999]}),
                         IFACE + ".NoSuchMonitor", "Stats ids [999]")
        eq(p.get("message"), "no monitor 999", "Stats ids [999] message")
        p = expect_error(c.call(IFACE + ".Stats",
                                {"paths": ["/no/such/file"]}),
                         IFACE + ".NoSuchMonitor", "Stats paths",
                         path="/no/such/file")
        eq(p.get("message"), "no monitor for /no/such/file",
           "Stats paths message")
        still_usable(c, "Stats NoSuchMonitor")


@test("oneway")
def t_oneway(ctx):
    with Conn(ctx.sock) as c:
        c.call(IFACE + ".Info", oneway=True)
        c.call(IFACE + ".Nope", oneway=True)
        c.call(IFACE + ".List", {"bogus": 1}, oneway=True)
        c.call(IFACE + ".Remove", {"id": 5}, oneway=True)
        # the next reply on this connection is GetInfo's own
        p = ok_params(c.call(SVC + ".GetInfo"), "GetInfo after oneways")
        check("vendor" in p, "first reply after oneway calls is not "
              "GetInfo's: %r" % p)
        check(c.quiet(0.3), "a reply to a oneway call arrived late")


@test("pipelined_calls")
def t_pipelined(ctx):
    calls = []
    for i in range(300):
        m = [SVC + ".GetInfo", IFACE + ".Info", IFACE + ".List",
             IFACE + ".Nope"][i % 4]
        calls.append(json.dumps({"method": m}).encode() + b"\0")
    with Conn(ctx.sock) as c:
        c.send_raw(b"".join(calls))
        for i in range(300):
            r = c.recv()
            k = i % 4
            if k == 0:
                check("vendor" in ok_params(r, "GetInfo"), "reply %d" % i)
            elif k == 1:
                check("uptime" in ok_params(r, "Info"), "reply %d" % i)
            elif k == 2:
                check("monitors" in ok_params(r, "List"), "reply %d" % i)
            else:
                expect_error(r, ERR_METHOD_NOT_FOUND, "reply %d" % i)


# ---- descriptors ----------------------------------------------------------

def fd_case(ctx, params, fds, error, what, method=IFACE + ".Add", **want):
    with Conn(ctx.sock) as c:
        r = c.call(method, params, fds=fds)
        p = expect_error(r, error, what, **want)
        still_usable(c, what)
        return p


@test("fd_baseline")
def t_fd_baseline(ctx):
    ctx.fd_base = wait_fd_settled(ctx)


def wait_fd_settled(ctx):
    """The daemon's fd table once no client is connected (it only shrinks
    while connections already closed on our side are reaped)."""
    if not ctx.pid:
        raise Skip("daemon pid unknown")
    last, same = None, 0
    deadline = time.monotonic() + WAIT
    while same < 10:
        cur = fd_list(ctx.pid)
        same = same + 1 if cur == last else 0
        last = cur
        if time.monotonic() > deadline:
            break
        time.sleep(0.1)
    return last


def expect_no_fd_leak(ctx, what):
    if not ctx.pid or ctx.fd_base is None:
        raise Skip("no baseline")
    base = ctx.fd_base

    def settled():
        return len(fd_list(ctx.pid)) <= len(base)
    try:
        poll_until(settled, "fd count back to %d" % len(base))
    except Fail:
        now = fd_list(ctx.pid)
        extra = {k: v for k, v in now.items() if base.get(k) != v}
        raise Fail("%s: daemon holds %d fds, %d before; new: %s" %
                   (what, len(now), len(base), short(repr(extra), 600)))


@test("add_without_fd")
def t_add_nofd(ctx):
    fd_case(ctx, add_params(ctx), [], IFACE + ".BadFile", "Add without fd",
            message_has="descriptor")
    fd_case(ctx, {"fd": 0, "path": ctx.hostfile}, [], IFACE + ".BadFile",
            "Create without fd", method=IFACE + ".Create")


def with_fds(ctx, n, fn):
    fds = [open_file(ctx.hostfile) for _ in range(n)]
    try:
        return fn(fds)
    finally:
        for fd in fds:
            os.close(fd)


@test("add_two_fds")
def t_add_2(ctx):
    with_fds(ctx, 2, lambda fds: fd_case(
        ctx, add_params(ctx), fds, IFACE + ".BadFile", "Add with 2 fds",
        message_has="descriptor"))


@test("add_max_fds")
def t_add_4(ctx):
    with_fds(ctx, FDS_MAX, lambda fds: fd_case(
        ctx, add_params(ctx), fds, IFACE + ".BadFile", "Add with 4 fds"))


@test("add_too_many_fds")
def t_add_5(ctx):
    with_fds(ctx, FDS_MAX + 1, lambda fds: fd_case(
        ctx, add_params(ctx), fds, IFACE + ".BadFile", "Add with 5 fds"))
    with_fds(ctx, 20, lambda fds: fd_case(
        ctx, add_params(ctx), fds, IFACE + ".BadFile", "Add with 20 fds"))


@test("add_at_open_files_limit")
def t_add_emfile(ctx):
    # the supervisor cannot receive the descriptor (its RLIMIT_NOFILE is
    # reached): the error says so, names the file, and the connection and
    # the daemon go on
    import resource
    if not ctx.pid:
        raise Skip("daemon pid unknown")
    with Conn(ctx.sock) as c:
        still_usable(c, "before the limit")
        old = resource.prlimit(ctx.pid, resource.RLIMIT_NOFILE)
        used = set(fd_list(ctx.pid))
        low = min(set(range(len(used) + 1)) - used)
        try:
            resource.prlimit(ctx.pid, resource.RLIMIT_NOFILE, (low, old[1]))
        except (OSError, ValueError) as e:
            raise Skip("cannot lower the daemon's RLIMIT_NOFILE: %s" % e)
        try:
            fd = open_file(ctx.hostfile)
            try:
                r = c.call(IFACE + ".Add", add_params(ctx), fds=[fd])
            finally:
                os.close(fd)
            expect_error(r, IFACE + ".LimitExceeded", "Add at the limit",
                         message_has="open-files limit")
            m = r["parameters"]["message"]
            check(m.startswith("cannot monitor %s:" % ctx.hostfile),
                  "Add at the limit: message %r does not name the file" % m)
        finally:
            resource.prlimit(ctx.pid, resource.RLIMIT_NOFILE, old)
        still_usable(c, "after the limit")
        # and a descriptor is received again
        with_fds(ctx, 1, lambda fds: fd_case(
            ctx, add_params(ctx), fds, IFACE + ".NotDeviceMapper",
            "Add after the limit"))


def not_regular(ctx, fd, what):
    fd_case(ctx, add_params(ctx), [fd], IFACE + ".BadFile", what,
            message_has="not a regular file", path=ctx.hostfile)


@test("add_pipe")
def t_add_pipe(ctx):
    r, w = os.pipe()
    try:
        not_regular(ctx, r, "Add with a pipe")
        not_regular(ctx, w, "Add with a pipe's write end")
    finally:
        os.close(r)
        os.close(w)


@test("add_socket")
def t_add_socket(ctx):
    a, b = socket.socketpair()
    try:
        not_regular(ctx, a.fileno(), "Add with a socket")
    finally:
        a.close()
        b.close()


@test("add_directory")
def t_add_dir(ctx):
    fd = os.open(ctx.tmp, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        not_regular(ctx, fd, "Add with a directory")
    finally:
        os.close(fd)


@test("add_dev_null")
def t_add_null(ctx):
    fd = open_file("/dev/null")
    try:
        not_regular(ctx, fd, "Add with /dev/null")
    finally:
        os.close(fd)


@test("add_regular_host_file")
def t_add_host(ctx):
    def go(fds):
        fd_case(ctx, add_params(ctx), fds, IFACE + ".NotDeviceMapper",
                "Add host file", message_has=NOT_DM, path=ctx.hostfile)
        fd_case(ctx, add_params(ctx, mode="path"), fds,
                IFACE + ".NotDeviceMapper", "Add host file, mode path",
                message_has=NOT_DM)
        fd_case(ctx, add_params(ctx, mode=None), fds,
                IFACE + ".NotDeviceMapper", "Add host file, mode null",
                message_has=NOT_DM)
        fd_case(ctx, {"fd": 0, "path": ctx.hostfile, "alias": "a1",
                      "bounds": [1000000, 2500000]}, fds,
                IFACE + ".NotDeviceMapper", "Create host file",
                method=IFACE + ".Create", message_has=NOT_DM,
                path=ctx.hostfile)
    with_fds(ctx, 1, go)
    # opened write-only: still a regular file
    fd = os.open(ctx.hostfile, os.O_WRONLY | os.O_CLOEXEC)
    try:
        fd_case(ctx, add_params(ctx), [fd], IFACE + ".NotDeviceMapper",
                "Add host file opened O_WRONLY", message_has=NOT_DM)
    finally:
        os.close(fd)


@test("add_relative_path")
def t_add_rel(ctx):
    with_fds(ctx, 1, lambda fds: fd_case(
        ctx, add_params(ctx, path=os.path.basename(ctx.hostfile)), fds,
        IFACE + ".BadFile", "Add relative path", message_has="absolute"))


@test("add_path_names_other_file")
def t_add_other(ctx):
    with_fds(ctx, 1, lambda fds: fd_case(
        ctx, add_params(ctx, path=ctx.otherfile), fds, IFACE + ".BadFile",
        "Add path of another file",
        message_has="does not name the file passed", path=ctx.otherfile))
    with_fds(ctx, 1, lambda fds: fd_case(
        ctx, add_params(ctx, path=ctx.tmp + "/no-such-file"), fds,
        IFACE + ".BadFile", "Add path that does not exist",
        path=ctx.tmp + "/no-such-file"))


@test("fds_with_other_calls")
def t_fds_other(ctx):
    # fds sent with calls that take none, with bad calls, with a message
    # never finished, and with an oversize one: all must be closed
    def go(fds):
        with Conn(ctx.sock) as c:
            ok_params(c.call(SVC + ".GetInfo", fds=fds[:1]), "GetInfo+fd")
            ok_params(c.call(IFACE + ".List", fds=fds[:2]), "List+2 fds")
            c.send(b"not json", fds=fds[:3])
            expect_error(c.recv(), IFACE + ".InvalidRequest", "junk+fds")
            expect_error(c.call(IFACE + ".Nope", fds=fds[:1]),
                         ERR_METHOD_NOT_FOUND, "Nope+fd")
            c.call(IFACE + ".Info", oneway=True, fds=fds[:1])
            still_usable(c, "calls with fds")
        with Conn(ctx.sock) as c:
            c.send_raw(b'{"method":"io.dmfilemap', fds[:2])
        with Conn(ctx.sock) as c:
            try:
                c.send_raw(b"x" * (MSG_MAX + 10), fds[:3])
            except OSError:
                pass
            c.expect_eof()
    with_fds(ctx, 3, go)


@test("fd_after_pipelined_calls")
def t_fd_pipelined(ctx):
    # A client that sends calls without waiting, then an Add with its fd:
    # the fd belongs to the Add (it went with the Add's first byte),
    # however the daemon's reads happen to split the stream.
    n = 400
    junk = (json.dumps({"method": SVC + ".GetInfo"}).encode() + b"\0") * n
    add = json.dumps({"method": IFACE + ".Add",
                      "parameters": add_params(ctx)}).encode() + b"\0"
    for rnd in range(5):
        with Conn(ctx.sock) as c:
            fd = open_file(ctx.hostfile)
            try:
                c.send_raw(junk)
                c.send_raw(add, [fd])
            finally:
                os.close(fd)
            for i in range(n):
                ok_params(c.recv(), "GetInfo %d" % i)
            expect_error(c.recv(), IFACE + ".NotDeviceMapper",
                         "Add sent after %d pipelined calls (round %d)"
                         % (n, rnd + 1), message_has=NOT_DM)


@test("no_fd_leak_after_fd_tests")
def t_fd_leak(ctx):
    expect_no_fd_leak(ctx, "after the fd tests")


# ---- size limit, many clients, slow readers ---------------------------------

@test("message_exactly_max")
def t_msg_max(ctx):
    call = json.dumps({"method": SVC + ".GetInfo"}).encode()
    data = call + b" " * (MSG_MAX - 1 - len(call))
    eq(len(data) + 1, MSG_MAX, "test message size")
    with Conn(ctx.sock) as c:
        c.send(data)
        check("vendor" in ok_params(c.recv(), "64 KiB call"),
              "64 KiB GetInfo")
        still_usable(c, "64 KiB call")


@test("oversize_closes_only_that_connection")
def t_oversize(ctx):
    with Conn(ctx.sock) as keep:
        still_usable(keep, "before")
        # one byte over, with its NUL
        call = json.dumps({"method": SVC + ".GetInfo"}).encode()
        with Conn(ctx.sock) as c:
            try:
                c.send(call + b" " * (MSG_MAX - len(call)))
            except OSError:
                pass
            c.expect_eof()
        # far over, and no NUL at all
        with Conn(ctx.sock) as c:
            try:
                c.send_raw(b"y" * (MSG_MAX + 4096))
            except OSError:
                pass
            c.expect_eof()
        # a good call first, then an oversize one: the good one is answered
        with Conn(ctx.sock) as c:
            try:
                c.send_raw(call + b"\0" + b"z" * (MSG_MAX * 2))
            except OSError:
                pass
            check("vendor" in ok_params(c.recv(), "call before oversize"),
                  "call before the oversize message")
            c.expect_eof()
        still_usable(keep, "connection opened before the oversize ones")


@test("half_sent_message_does_not_block_others")
def t_half(ctx):
    with Conn(ctx.sock) as half:
        half.send_raw(b'{"method":"org.varlink.ser')
        with Conn(ctx.sock) as c:
            still_usable(c, "while another message is half-sent")
        half.send_raw(b'vice.GetInfo"}\0')
        check("vendor" in ok_params(half.recv(), "completed"),
              "completed call")


@test("many_clients")
def t_many(ctx):
    n = 200
    conns = []
    try:
        for _ in range(n):
            conns.append(Conn(ctx.sock))
        for c in conns:
            c.send({"method": SVC + ".GetInfo"})
        for i, c in enumerate(conns):
            p = ok_params(c.recv(), "client %d" % i)
            eq(p.get("product"), "dmfilemap-supervisord", "client %d" % i)
    finally:
        for c in conns:
            c.close()
    if ctx.pid and ctx.fd_base is not None:
        expect_no_fd_leak(ctx, "after %d clients" % n)


DESC_CALL = json.dumps({"method": SVC + ".GetInterfaceDescription",
                        "parameters": {"interface": IFACE}}).encode() + b"\0"


@test("client_that_does_not_read_is_dropped")
def t_slow_reader(ctx):
    # replies are never read: past DMF_OUTBUF_MAX (4 MiB) queued, the
    # daemon drops this client and goes on serving the others. Each reply
    # is the IDL (several KiB), so a few thousand calls are plenty.
    batch = DESC_CALL * 500
    with Conn(ctx.sock) as keep:
        c = Conn(ctx.sock)
        try:
            c.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            c.s.settimeout(WAIT)
            sent = 0
            while sent < 20000:
                try:
                    c.s.sendall(batch)
                except socket.timeout:
                    raise Fail("send blocked for %.0f s: the daemon neither "
                               "reads nor drops a client that does not read"
                               % WAIT)
                except OSError:
                    break
                sent += 500
            # dropped while we sent, or about to be: either way, EOF
            c.expect_eof()
        finally:
            c.close()
        still_usable(keep, "after a non-reading client")


@test("pipelining_client_that_reads_gets_all_replies")
def t_pipeline_reader(ctx):
    # A client sends many calls at once and reads the replies as they
    # come: it reads, so it must get every reply (about 9 MiB here, more
    # than DMF_OUTBUF_MAX, but never that much unread at a time by it).
    n = 1500
    data = DESC_CALL * n
    err = []

    def sender(sock):
        try:
            sock.sendall(data)
        except OSError as e:
            err.append(e)
    with Conn(ctx.sock) as c:
        th = threading.Thread(target=sender, args=(c.s,), daemon=True)
        th.start()
        for i in range(n):
            m = c.recv_raw()
            if m is None:
                raise Fail("connection closed after %d of %d replies "
                           "(sender: %s)" % (i, n, err or "ok"))
            check(b'"description"' in m, "reply %d: %s" % (i, short(m)))
        th.join(WAIT)


# ---- permission ---------------------------------------------------------------

def nobody_ids():
    import pwd
    try:
        pw = pwd.getpwnam("nobody")
    except KeyError:
        return None
    return pw.pw_uid, pw.pw_gid


@test("permission_non_root")
def t_perm(ctx):
    if os.geteuid() != 0:
        raise Skip("not root: cannot run a client as nobody")
    ids = nobody_ids()
    if not ids:
        raise Skip("no user nobody")
    if shutil.which("setpriv"):
        wrap = ["setpriv", "--reuid=%d" % ids[0], "--regid=%d" % ids[1],
                "--clear-groups", "--"]
    elif shutil.which("runuser"):
        wrap = ["runuser", "-u", "nobody", "--"]
    else:
        raise Skip("neither setpriv nor runuser")
    # an interpreter nobody can run (not one under /root)
    py = "/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK) \
        else sys.executable
    script = os.path.join(ctx.tmp, "probes-nobody.py")
    shutil.copy(__file__, script)
    os.chmod(script, 0o644)
    old = os.stat(ctx.sock).st_mode & 0o7777
    # the socket is 0660 root:root: let nobody in for this test
    os.chmod(ctx.sock, 0o666)
    try:
        p = subprocess.run(wrap + [py, script, "--socket", ctx.sock,
                                   "--build", ctx.build, "--inner-nobody"],
                           capture_output=True, text=True, timeout=WAIT * 2,
                           cwd="/", stdin=subprocess.DEVNULL)
    finally:
        os.chmod(ctx.sock, old)
    if "cannot connect" in p.stdout:
        raise Skip("nobody cannot connect: " + p.stdout.strip())
    for line in p.stdout.splitlines():
        print(line, flush=True)
    if p.returncode != 0:
        raise Fail("as nobody: exit %d: %s %s" %
                   (p.returncode, short(p.stdout), short(p.stderr)))


def backlog_bounded(sock):
    """Replies unread by one user's clients are bounded in all
    (DMF_UID_BACKLOG_MAX, 1 MiB): 120 clients each send 100 calls for the
    IDL (7 KiB a reply) and read nothing for a while, which would leave
    over 2 MiB queued. Calls made while that user's unread replies are
    over the bound are answered with LimitExceeded ("replies unread");
    every call gets an answer once they read, and afterwards a call is
    served again."""
    held, per = [], 100
    try:
        for _ in range(120):
            h = Conn(sock)
            h.s.sendall(DESC_CALL * per)
            held.append(h)
        time.sleep(3)  # the supervisor answers what it may meanwhile
        served = refused = 0
        for h in held:
            for i in range(per):
                m = h.recv_raw()
                check(m is not None, "connection closed after %d replies"
                      % i)
                r = json.loads(m)
                if r.get("error"):
                    expect_error(r, IFACE + ".LimitExceeded",
                                 "GetInterfaceDescription",
                                 message_has="replies unread")
                    refused += 1
                else:
                    served += 1
        print("backlog: %d served, %d refused" % (served, refused))
        check(refused > 0, "no call refused with 120 clients not reading")
        check(served > 120, "only %d calls served" % served)
    finally:
        for h in held:
            h.close()
    with Conn(sock) as c:
        r = c.call(SVC + ".GetInfo")
    check(not r.get("error"), "GetInfo refused after the clients left: %s"
          % short(json.dumps(r)))


def inner_nobody(sock, build=None):
    """Run as nobody: PermissionDenied for changes, reads served."""
    failed = 0
    try:
        c = Conn(sock)
    except OSError as e:
        print("cannot connect as uid %d: %s" % (os.getuid(), e))
        return 0

    def one(name, fn):
        nonlocal failed
        try:
            fn()
            print("ok " + name)
        except Fail as e:
            failed += 1
            print("FAIL %s: %s" % (name, e))

    check_uid = os.getuid()
    fd = os.open(__file__, os.O_RDONLY | os.O_CLOEXEC)

    def denied(method, params, fds=()):
        def f():
            check(check_uid != 0, "still root")
            expect_error(c.call(method, params, fds=fds),
                         IFACE + ".PermissionDenied", method)
        return f

    one("nobody_add_denied", denied(
        IFACE + ".Add", {"fd": 0, "path": os.path.abspath(__file__),
                         "group_id": 0}, [fd]))
    one("nobody_create_denied", denied(
        IFACE + ".Create", {"fd": 0, "path": os.path.abspath(__file__)},
        [fd]))
    one("nobody_remove_denied", denied(IFACE + ".Remove", {"id": 1}))
    one("nobody_list_served", lambda: eq(
        ok_params(c.call(IFACE + ".List"), "List"), {"monitors": [], "unmonitored": []},
        "List as nobody"))
    one("nobody_info_served", lambda: check(
        "ioctls" in ok_params(c.call(IFACE + ".Info"), "Info"), "Info"))
    one("nobody_stats_served", lambda: eq(
        ok_params(c.call(IFACE + ".Stats"), "Stats"), {"files": []},
        "Stats as nobody"))
    one("nobody_getinfo_served", lambda: check(
        "vendor" in ok_params(c.call(SVC + ".GetInfo"), "GetInfo"),
        "GetInfo"))
    os.close(fd)
    c.close()
    one("nobody_backlog_bounded", lambda: backlog_bounded(sock))
    # dmfilemapctl stats as nobody, if nobody may run the build's binary
    ctl_bin = os.path.join(build or "", "dmfilemapctl")
    if not build or not os.access(ctl_bin, os.X_OK):
        print("skip nobody_ctl_stats_served: %s not executable as uid %d"
              % (ctl_bin, os.getuid()))
    else:
        def ctl_stats():
            p = run([ctl_bin, "--socket", sock, "stats"])
            expect_exit(p, 0, "dmfilemapctl stats as nobody")
            eq(p.stdout.split(), STATS_HEADER.split(), "stats as nobody")
            p = run([ctl_bin, "--socket", sock, "stats", "--json"])
            expect_exit(p, 0, "dmfilemapctl stats --json as nobody")
            eq(p.stdout, '{"files":[]}\n', "stats --json as nobody")
        one("nobody_ctl_stats_served", ctl_stats)
    return 1 if failed else 0


# ---- dmfilemapctl -------------------------------------------------------------

def ctl(ctx, *args, **kw):
    env = {"DMFILEMAP_SOCKET": ctx.sock}
    env.update(kw.pop("env", {}))
    return run([ctx.bin("dmfilemapctl")] + list(args), env=env, **kw)


@test("ctl_help")
def t_ctl_help(ctx):
    p = ctl(ctx, "--help")
    expect_exit(p, 0, "--help")
    check("usage:" in p.stdout, "--help prints no usage")
    p = ctl(ctx, "-h")
    expect_exit(p, 0, "-h")
    p = ctl(ctx, "--version")
    expect_exit(p, 0, "--version")
    check(ctx.version in p.stdout, "--version: %r" % p.stdout)


@test("ctl_usage_errors")
def t_ctl_usage(ctx):
    for args, what in [((), "no command"), (("frobnicate",), "unknown command"),
                       (("--bogus", "list"), "bad global option"),
                       (("add", ctx.hostfile, "--group", "0", "--create"),
                        "add --group --create"),
                       (("add", ctx.hostfile), "add without --group/--create"),
                       (("add", "--group", "0"), "add without FILE"),
                       (("add", ctx.hostfile, "/x", "--group", "0"),
                        "add --group with two FILEs"),
                       (("add", ctx.hostfile, "--group", "abc"), "bad group"),
                       (("add", ctx.hostfile, "--group", "-1"), "group -1"),
                       (("add", ctx.hostfile, "--group", "0", "--alias", "x"),
                        "--alias with --group"),
                       (("add", ctx.hostfile, "--create", "--follow", "both"),
                        "bad --follow"),
                       (("add", ctx.hostfile, "--create", "--bounds", "10xs"),
                        "bad --bounds unit"),
                       (("remove",), "remove without FILE/--id"),
                       (("remove", "--id", "0"), "remove --id 0"),
                       (("remove", "--id", "1", "/x"), "remove both"),
                       (("list", "--bogus"), "list --bogus"),
                       (("info", "extra"), "info extra"),
                       (("watch", "file"), "watch FILE"),
                       (("watch", "--id", "x"), "watch --id x")]:
        p = ctl(ctx, *args)
        expect_exit(p, 2, what)
        check(any(l.startswith("dmfilemapctl: ")
                  for l in p.stderr.splitlines()),
              "%s: stderr %r" % (what, p.stderr))
    p = ctl(ctx, "frobnicate")
    check("frobnicate" in p.stderr, "unknown command not named: %r" % p.stderr)


@test("ctl_add_nonexistent")
def t_ctl_add_none(ctx):
    p = ctl(ctx, "add", "/nonexistent", "--group", "0")
    expect_exit(p, 1, "add /nonexistent")
    line = one_line(p.stderr, "add /nonexistent")
    check(line.startswith("dmfilemapctl: cannot monitor /nonexistent:"),
          "stderr: %r" % line)


@test("ctl_add_host_file")
def t_ctl_add_host(ctx):
    p = ctl(ctx, "add", ctx.hostfile, "--group", "0")
    expect_exit(p, 1, "add FILE --group 0")
    line = one_line(p.stderr, "add FILE")
    check(line.startswith("dmfilemapctl: cannot monitor %s" % ctx.hostfile)
          and NOT_DM in line, "stderr: %r" % line)
    eq(p.stdout, "", "stdout of a failed add")
    p = ctl(ctx, "add", ctx.hostfile, "--create", "--alias", "x",
            "--bounds", "1ms,2.5ms,1s", "--precise", "--follow", "path")
    expect_exit(p, 1, "add FILE --create")
    line = one_line(p.stderr, "add --create")
    check(NOT_DM in line, "stderr: %r" % line)
    # a relative FILE is made absolute
    p = ctl(ctx, "add", os.path.basename(ctx.hostfile), "--group", "0",
            cwd=os.path.dirname(ctx.hostfile))
    expect_exit(p, 1, "add relative FILE")
    line = one_line(p.stderr, "add relative FILE")
    check(("cannot monitor %s" % ctx.hostfile) in line and NOT_DM in line,
          "stderr: %r" % line)


@test("ctl_add_many_files")
def t_ctl_add_many(ctx):
    # every FILE gets its call (one connection) and its own line, in order;
    # one that fails does not stop the others
    other = os.path.join(ctx.tmp, "other-host-file")
    with open(other, "w") as f:
        f.write("x")
    files = [ctx.hostfile, "/nonexistent", other]
    p = ctl(ctx, "add", "--create", *files)
    expect_exit(p, 1, "add --create with three failing FILEs")
    lines = p.stderr.splitlines()
    eq(len(lines), 3, "stderr lines of add --create FILE FILE FILE: %r" %
       p.stderr)
    for line, f in zip(lines, files):
        check(line.startswith("dmfilemapctl: cannot monitor %s:" % f),
              "line for %s: %r" % (f, line))
    check(NOT_DM in lines[0] and NOT_DM in lines[2]
          and NOT_DM not in lines[1], "reasons: %r" % lines)


@test("ctl_add_files_beyond_the_window")
def t_ctl_add_window(ctx):
    # add sends up to 32 calls ahead of their replies: with more files than
    # that, and failures of both kinds (the client's open, the daemon's
    # refusal) mixed, every FILE still gets exactly its own line, in order
    other = os.path.join(ctx.tmp, "other-host-file")
    with open(other, "w") as f:
        f.write("x")
    files = []
    for i in range(90):
        files.append("/nonexistent-%d" % i if i % 3 == 1 else
                     (ctx.hostfile if i % 2 else other))
    p = ctl(ctx, "add", "--create", *files)
    expect_exit(p, 1, "add --create with %d failing FILEs" % len(files))
    lines = p.stderr.splitlines()
    eq(len(lines), len(files), "stderr lines of add --create with %d FILEs"
       % len(files))
    for i, (line, f) in enumerate(zip(lines, files)):
        check(line.startswith("dmfilemapctl: cannot monitor %s:" % f),
              "line %d, for %s: %r" % (i, f, line))
        check((NOT_DM in line) == (i % 3 != 1),
              "line %d, for %s: reason %r" % (i, f, line))


@test("ctl_list_info")
def t_ctl_list(ctx):
    p = ctl(ctx, "list", "--json")
    expect_exit(p, 0, "list --json")
    try:
        j = json.loads(p.stdout)
    except ValueError:
        raise Fail("list --json is not JSON: %r" % p.stdout)
    eq(j, {"monitors": [], "unmonitored": []}, "list --json")
    p = ctl(ctx, "list")
    expect_exit(p, 0, "list")
    lines = p.stdout.splitlines()
    check(lines and lines[0].split() ==
          "ID GROUP REGIONS MODE STATE DEVICE PATH".split(),
          "list header: %r" % p.stdout)
    eq(len(lines), 1, "list rows with no monitor")
    p = ctl(ctx, "info", "--json")
    expect_exit(p, 0, "info --json")
    try:
        j = json.loads(p.stdout)
    except ValueError:
        raise Fail("info --json is not JSON: %r" % p.stdout)
    for k in ("version", "pid", "uptime", "monitors", "devices",
              "interval_ms", "ioctls"):
        check(k in j, "info --json lacks %s" % k)
    if ctx.pid:
        eq(j["pid"], ctx.pid, "info --json pid")
    p = ctl(ctx, "info")
    expect_exit(p, 0, "info")
    check("version" in p.stdout and "ioctls" in p.stdout,
          "info text: %r" % p.stdout)


@test("ctl_errors_from_daemon")
def t_ctl_errs(ctx):
    p = ctl(ctx, "remove", "--id", "999")
    expect_exit(p, 1, "remove --id 999")
    line = one_line(p.stderr, "remove --id 999")
    check(line.startswith("dmfilemapctl: ") and "999" in line,
          "stderr: %r" % line)
    p = ctl(ctx, "remove", "/no/such/file")
    expect_exit(p, 1, "remove FILE")
    check("/no/such/file" in one_line(p.stderr, "remove FILE"),
          "stderr: %r" % p.stderr)
    p = ctl(ctx, "watch", "--id", "999")
    expect_exit(p, 1, "watch --id 999")
    check("999" in one_line(p.stderr, "watch --id 999"),
          "stderr: %r" % p.stderr)


STATS_HEADER = "ID READS RKB WRITES WKB INFLIGHT IO_MS PATH"
STATS_RATES_HEADER = ("ID r/s w/s rkB/s wkB/s rrqm/s wrqm/s r_await w_await "
                      "aqu-sz %util PATH")


@test("ctl_stats_empty")
def t_ctl_stats_empty(ctx):
    # no monitor here: the header alone, and an empty list of files
    p = ctl(ctx, "stats")
    expect_exit(p, 0, "stats")
    lines = p.stdout.splitlines()
    eq(len(lines), 1, "stats lines with no monitor: %r" % p.stdout)
    eq(lines[0].split(), STATS_HEADER.split(), "stats header")
    eq(p.stderr, "", "stats stderr")
    p = ctl(ctx, "stats", "--json")
    expect_exit(p, 0, "stats --json")
    eq(p.stdout, '{"files":[]}\n', "stats --json")
    p = ctl(ctx, "--help")
    check("stats [FILE... | --id N...]" in p.stdout,
          "--help does not show stats: %r" % p.stdout)


@test("ctl_stats_nonexistent_file")
def t_ctl_stats_nofile(ctx):
    p = ctl(ctx, "stats", "/nonexistent/x")
    expect_exit(p, 1, "stats /nonexistent/x")
    eq(one_line(p.stderr, "stats /nonexistent/x"),
       "dmfilemapctl: cannot read statistics of /nonexistent/x: "
       "no monitor for /nonexistent/x", "stats /nonexistent/x stderr")
    eq(p.stdout, "", "stdout of a failed stats")


@test("ctl_stats_unmonitored_file")
def t_ctl_stats_unmonitored(ctx):
    f = "/etc/hostname"
    if not os.path.isfile(f) or os.path.realpath(f) != f:
        f = ctx.hostfile  # a file that exists and is its own real path
    p = ctl(ctx, "stats", f)
    expect_exit(p, 1, "stats %s" % f)
    eq(one_line(p.stderr, "stats %s" % f),
       "dmfilemapctl: cannot read statistics of %s: no monitor for %s" %
       (f, f), "stats %s stderr" % f)
    eq(p.stdout, "", "stdout of a failed stats")
    # a relative FILE is made absolute; --json fails the same way
    p = ctl(ctx, "stats", "--json", os.path.basename(ctx.hostfile),
            cwd=os.path.dirname(ctx.hostfile))
    expect_exit(p, 1, "stats --json relative FILE")
    real = os.path.realpath(ctx.hostfile)
    eq(one_line(p.stderr, "stats relative FILE"),
       "dmfilemapctl: cannot read statistics of %s: no monitor for %s" %
       (real, real), "stats relative FILE stderr")
    eq(p.stdout, "", "stdout of a failed stats --json")


@test("ctl_stats_unknown_id")
def t_ctl_stats_id(ctx):
    p = ctl(ctx, "stats", "--id", "999")
    expect_exit(p, 1, "stats --id 999")
    line = one_line(p.stderr, "stats --id 999")
    check(line.startswith("dmfilemapctl: cannot read statistics")
          and "no monitor 999" in line, "stderr: %r" % line)
    eq(p.stdout, "", "stdout of a failed stats --id")
    p = ctl(ctx, "stats", "--id", "999", "--interval", "0.1", "--count", "1")
    expect_exit(p, 1, "stats --id 999 --interval")
    check("no monitor 999" in one_line(p.stderr, "stats --id 999 --interval"),
          "stderr: %r" % p.stderr)


@test("ctl_stats_usage_errors")
def t_ctl_stats_usage(ctx):
    for args, what in [(("--count", "2"), "--count without --interval"),
                       (("--interval", "0"), "--interval 0"),
                       (("--interval", "3601"), "--interval 3601"),
                       (("--interval", "-1"), "--interval -1"),
                       (("--interval", "abc"), "--interval abc"),
                       (("--interval", "1e1"), "--interval 1e1"),
                       (("--interval", ""), "--interval ''"),
                       (("--interval", "1", "--count", "0"), "--count 0"),
                       (("--interval", "1", "--count", "x"), "--count x"),
                       (("--interval", "1", "--count", "-2"), "--count -2"),
                       (("--id", "0"), "--id 0"), (("--id", "x"), "--id x"),
                       (("--id", "-1"), "--id -1"),
                       (("--id", "1", ctx.hostfile), "--id with FILE"),
                       (("--interval",), "--interval without a value"),
                       (("--bogus",), "--bogus")]:
        p = ctl(ctx, "stats", *args)
        expect_exit(p, 2, "stats " + what)
        lines = p.stderr.splitlines()
        check(len(lines) == 2 and lines[0].startswith("dmfilemapctl: ") and
              lines[1] == "Try 'dmfilemapctl --help'.",
              "stats %s: stderr %r" % (what, p.stderr))
        eq(p.stdout, "", "stats %s: stdout" % what)


@test("ctl_stats_interval")
def t_ctl_stats_interval(ctx):
    # a sample, then a report every 0.2 s: with no monitor, each report
    # is its header alone (no empty line between them: not a terminal)
    t0 = time.monotonic()
    p = ctl(ctx, "stats", "--interval", "0.2", "--count", "2")
    took = time.monotonic() - t0
    expect_exit(p, 0, "stats --interval 0.2 --count 2")
    lines = p.stdout.splitlines()
    eq([l.split() for l in lines], [STATS_RATES_HEADER.split()] * 2,
       "stats --interval 0.2 --count 2 output")
    check(took >= 0.4, "two 0.2 s reports came after %.3f s" % took)
    t0 = time.time()
    p = ctl(ctx, "stats", "--json", "--interval", "0.2", "--count", "2")
    expect_exit(p, 0, "stats --json --interval 0.2 --count 2")
    lines = p.stdout.splitlines()
    eq(len(lines), 2, "stats --json --interval reports: %r" % p.stdout)
    last = 0
    for l in lines:
        try:
            j = json.loads(l)
        except ValueError:
            raise Fail("report is not JSON: %r" % l)
        eq(sorted(j), ["files", "interval", "time"], "report members")
        eq(j["files"], [], "report files")
        # measured between the samples, on a 0.2 s grid: near 0.2, never
        # what the nominal interval says exactly
        check(isinstance(j["interval"], (int, float)) and
              0.1 < j["interval"] < WAIT, "report interval %r" %
              j["interval"])
        check(isinstance(j["time"], (int, float)) and
              t0 - 1 <= j["time"] <= time.time() + 1 and j["time"] > last,
              "report time %r" % j["time"])
        last = j["time"]


@test("ctl_stats_interval_signal")
def t_ctl_stats_signal(ctx):
    # without --count it runs until SIGINT or SIGTERM, then exits 0 with
    # its last report whole
    for sig in (signal.SIGINT, signal.SIGTERM):
        e = dict(os.environ)
        e["DMFILEMAP_SOCKET"] = ctx.sock
        p = subprocess.Popen([ctx.bin("dmfilemapctl"), "stats", "--interval",
                              "0.1"], env=e, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             stdin=subprocess.DEVNULL)
        try:
            first = p.stdout.readline()  # line-buffered: the first report
            eq(first.split(), STATS_RATES_HEADER.split(), "first report")
            p.send_signal(sig)
            out, err = p.communicate(timeout=WAIT)
        except subprocess.TimeoutExpired:
            p.kill()
            p.communicate()
            raise Fail("stats --interval still running after signal %d" %
                       sig)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        rep = sanitizer_report(err)
        check(not rep, "sanitizer: %s" % rep)
        eq(p.returncode, 0, "exit status after signal %d (stderr %r)" %
           (sig, err))
        check(out == "" or out.endswith("\n"),
              "last line cut after signal %d: %r" % (sig, out))
        for l in out.splitlines():
            eq(l.split(), STATS_RATES_HEADER.split(), "report after signal")


@test("ctl_cannot_connect")
def t_ctl_noconn(ctx):
    nowhere = os.path.join(ctx.tmp, "nowhere", "s")
    p = run([ctx.bin("dmfilemapctl"), "--socket", nowhere, "info"],
            unset=("DMFILEMAP_SOCKET",))
    expect_exit(p, 1, "--socket nowhere")
    line = one_line(p.stderr, "--socket nowhere")
    check(line.startswith("dmfilemapctl: cannot connect to %s" % nowhere),
          "stderr: %r" % line)
    # the environment names the socket; --socket overrides it
    p = run([ctx.bin("dmfilemapctl"), "list"],
            env={"DMFILEMAP_SOCKET": nowhere})
    expect_exit(p, 1, "DMFILEMAP_SOCKET nowhere")
    check(("cannot connect to %s" % nowhere) in p.stderr,
          "stderr: %r" % p.stderr)
    p = run([ctx.bin("dmfilemapctl"), "--socket", ctx.sock, "list"],
            env={"DMFILEMAP_SOCKET": nowhere})
    expect_exit(p, 0, "--socket over DMFILEMAP_SOCKET")
    # a path that is not a socket
    p = run([ctx.bin("dmfilemapctl"), "--socket", ctx.hostfile, "info"])
    expect_exit(p, 1, "--socket a regular file")
    check("cannot connect to" in one_line(p.stderr, "--socket file"),
          "stderr: %r" % p.stderr)


# ---- dmfilemapd shim -----------------------------------------------------------

SHIM_ARG_ERRORS = [
    ([], "Wrong number of arguments."),
    (["3", "0", "/a"], "Wrong number of arguments."),
    (["3", "0", "/a", "inode", "0", "0", "x"], "Wrong number of arguments."),
    (["x", "0", "/a", "inode"], "Could not parse file descriptor: x"),
    (["-1", "0", "/a", "inode"], "Could not parse file descriptor: -1"),
    (["", "0", "/a", "inode"], "Could not parse file descriptor: "),
    (["3", "g", "/a", "inode"], "Could not parse group identifier: g"),
    (["3", "-2", "/a", "inode"], "Could not parse group identifier: -2"),
    (["3", "0", "", "inode"], "Path argument is required."),
    (["3", "0", "rel/a", "inode"],
     "Path argument must specify an absolute path."),
    (["3", "0", "/a", ""], "Mode argument is required."),
    (["3", "0", "/a", "both"], "Could not parse dmfilemapd mode: both"),
    (["3", "0", "/a", "inode", "x"], "Could not parse debug argument: x."),
    (["3", "0", "/a", "inode", "0", "y"],
     "Could not parse verbose argument: y"),
    (["3", "0", "/a", "inode", "0", "4"], "Verbose argument out of range: 4."),
    (["3", "0", "/a", "inode", "0", "-1"],
     "Verbose argument out of range: -1."),
]


@test("shim_argument_errors")
def t_shim_args(ctx):
    for args, msg in SHIM_ARG_ERRORS:
        p = run([ctx.bin("dmfilemapd")] + args,
                env={"DMFILEMAP_SOCKET": ctx.sock})
        what = "dmfilemapd %s" % " ".join(repr(a) for a in args)
        expect_exit(p, 1, what)
        lines = p.stderr.splitlines()
        check(lines and lines[0] == "dmfilemapd: " + msg,
              "%s: stderr %r, expected first line %r" %
              (what, p.stderr, "dmfilemapd: " + msg))


@test("shim_host_file")
def t_shim_host(ctx):
    fd = os.open(ctx.hostfile, os.O_RDONLY)
    try:
        for extra in ([], ["0"], ["0", "2"], ["1", "3"]):
            p = run([ctx.bin("dmfilemapd"), str(fd), "0", ctx.hostfile,
                     "inode"] + extra, env={"DMFILEMAP_SOCKET": ctx.sock},
                    pass_fds=[fd])
            what = "dmfilemapd FD 0 FILE inode %s" % " ".join(extra)
            expect_exit(p, 1, what)
            check(NOT_DM in p.stderr and ctx.hostfile in p.stderr,
                  "%s: stderr %r" % (what, p.stderr))
            check(p.stderr.splitlines()[-1].startswith("dmfilemapd: "),
                  "%s: stderr %r" % (what, p.stderr))
        # an fd that is not open in the shim
        p = run([ctx.bin("dmfilemapd"), "200", "0", ctx.hostfile, "inode"],
                env={"DMFILEMAP_SOCKET": ctx.sock})
        expect_exit(p, 1, "dmfilemapd with fd 200 not open")
    finally:
        os.close(fd)


@test("shim_fallback_without_supervisor")
def t_shim_fallback(ctx):
    # no supervisor can be started: the shim monitors the file itself (and
    # here says why it cannot: not on dm), never silently
    sock = os.path.join(ctx.tmp, "nowhere", "none.sock")
    fd = os.open(ctx.hostfile, os.O_RDONLY)
    try:
        for extra in ([], ["1", "1"]):
            p = run([ctx.bin("dmfilemapd"), str(fd), "0", ctx.hostfile,
                     "inode"] + extra,
                    env={"DMFILEMAP_SOCKET": sock,
                         "DMFILEMAP_SUPERVISORD": "/nonexistent"},
                    pass_fds=[fd])
            what = "fallback dmfilemapd %s" % " ".join(extra)
            expect_exit(p, 1, what)
            err = p.stderr
            lines = err.splitlines()
            said = ("dmfilemapd: no supervisor on %s (cannot start "
                    "/nonexistent: No such file or directory): monitoring %s "
                    "in this process" % (sock, ctx.hostfile))
            check(said in lines, "%s: no line %r in %r" % (what, said, err))
            if not extra:  # not verbose: that line and the reason
                eq(len(lines), 2, "%s: stderr lines: %r" % (what, err))
            check(("dmfilemapd: cannot monitor %s: %s" % (ctx.hostfile, NOT_DM))
                  in lines[-1], "%s: last line %r" % (what, lines[-1]))
            check("stopped after" not in err,
                  "%s: a monitor that never started says it stopped: %r"
                  % (what, err))
    finally:
        os.close(fd)
    check(not os.path.exists(sock), "a socket appeared at %s" % sock)


def san_env(ctx, tag):
    d = os.path.join(ctx.tmp, "san-" + tag)
    os.makedirs(d, exist_ok=True)
    return {"ASAN_OPTIONS": "detect_leaks=1:log_path=%s/asan" % d,
            "UBSAN_OPTIONS": "print_stacktrace=1:log_path=%s/ubsan" % d}


def san_logs(ctx, tag):
    d = os.path.join(ctx.tmp, "san-" + tag)
    reps = []
    if os.path.isdir(d):
        for n in sorted(os.listdir(d)):
            with open(os.path.join(d, n), errors="replace") as f:
                r = sanitizer_report(f.read())
            if r:
                reps.append("%s: %s" % (n, r))
    return reps


def shim_on(ctx, sock, tag):
    env = {"DMFILEMAP_SOCKET": sock,
           "DMFILEMAP_SUPERVISORD": ctx.bin("dmfilemap-supervisord")}
    env.update(san_env(ctx, tag))
    fd = os.open(ctx.hostfile, os.O_RDONLY)
    e = dict(os.environ)
    e.update(env)
    p = subprocess.Popen([ctx.bin("dmfilemapd"), str(fd), "0", ctx.hostfile,
                          "inode"], env=e, pass_fds=[fd], text=True,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         stdin=subprocess.DEVNULL)
    os.close(fd)
    return p


def shim_result(p, what):
    try:
        out, err = p.communicate(timeout=WAIT * 2)
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate()
        raise Fail("%s: did not exit" % what)
    rep = sanitizer_report(err)
    if rep:
        raise Fail("%s: sanitizer: %s" % (what, rep))
    if p.returncode != 1 or NOT_DM not in err:
        raise Fail("%s: exit %d, stderr %r (expected 1 and %r)" %
                   (what, p.returncode, err, NOT_DM))


def stop_supervisors(ctx, sock, what):
    pids = supervisors_on(sock)
    for pid in pids:
        stop_pid(pid, what)
    if pids:
        poll_until(lambda: not os.path.exists(sock),
                   "%s removes %s at SIGTERM" % (what, sock))
    return pids


@test("shim_starts_supervisor")
def t_shim_start(ctx):
    d = tempfile.mkdtemp(prefix="auto.", dir=ctx.tmp)
    sock = os.path.join(d, "run", "supervisor.sock")
    try:
        shim_result(shim_on(ctx, sock, "auto"), "shim with no supervisor")
        check(os.path.exists(sock), "no socket at %s after the shim" % sock)
        p = ctl(ctx, "info", "--json", env={"DMFILEMAP_SOCKET": sock})
        expect_exit(p, 0, "info on the started supervisor")
        pid = json.loads(p.stdout)["pid"]
        eq(supervisors_on(sock), [pid], "supervisors on the new socket")
        # a second shim uses the running one
        shim_result(shim_on(ctx, sock, "auto"), "second shim")
        eq(supervisors_on(sock), [pid], "supervisors after a second shim")
    finally:
        stop_supervisors(ctx, sock, "started supervisor")
    check(not os.path.exists(sock), "socket left after SIGTERM")
    reps = san_logs(ctx, "auto")
    check(not reps, "sanitizer reports: %s" % "; ".join(reps))


@test("shim_race")
def t_shim_race(ctx):
    for rnd in range(3):
        d = tempfile.mkdtemp(prefix="race.", dir=ctx.tmp)
        sock = os.path.join(d, "supervisor.sock")
        try:
            a = shim_on(ctx, sock, "race")
            b = shim_on(ctx, sock, "race")
            shim_result(a, "first racing shim (round %d)" % (rnd + 1))
            shim_result(b, "second racing shim (round %d)" % (rnd + 1))
            pids = supervisors_on(sock)
            eq(len(pids), 1, "supervisors left after two racing shims "
               "(round %d, pids %r)" % (rnd + 1, pids))
            p = ctl(ctx, "info", "--json", env={"DMFILEMAP_SOCKET": sock})
            expect_exit(p, 0, "info after the race")
            eq(json.loads(p.stdout)["pid"], pids[0], "the one that answers")
        finally:
            stop_supervisors(ctx, sock, "raced supervisor")
    reps = san_logs(ctx, "race")
    check(not reps, "sanitizer reports: %s" % "; ".join(reps))


# ---- the daemon's own command line ----------------------------------------------

def daemon(ctx, *args, **kw):
    return run([ctx.bin("dmfilemap-supervisord")] + list(args), **kw)


@test("daemon_second_on_same_socket")
def t_second(ctx):
    p = daemon(ctx, "-f", "--socket", ctx.sock)
    expect_exit(p, 1, "second supervisor")
    want = ("dmfilemap-supervisord: cannot listen on %s: another supervisor "
            "is running" % ctx.sock)
    check(want in p.stderr, "stderr %r lacks %r" % (p.stderr, want))
    check(os.path.exists(ctx.sock), "the second one removed the socket")
    with Conn(ctx.sock) as c:
        still_usable(c, "after a second supervisor was refused")
    # detached: the same, reported by the parent's exit status
    p = daemon(ctx, "--socket", ctx.sock)
    expect_exit(p, 1, "second supervisor, detaching")
    check(os.path.exists(ctx.sock), "the second one removed the socket")


@test("daemon_usage")
def t_daemon_usage(ctx):
    p = daemon(ctx, "--help")
    expect_exit(p, 0, "--help")
    check("usage:" in p.stdout, "--help: %r" % p.stdout)
    p = daemon(ctx, "--version")
    expect_exit(p, 0, "--version")
    check(ctx.version in p.stdout, "--version: %r" % p.stdout)
    s = os.path.join(ctx.tmp, "usage", "s")
    for args, what in [(["--bogus"], "bad option"), (["-x"], "bad option -x"),
                       (["--interval", "10"], "--interval 10"),
                       (["--interval", "49"], "--interval 49"),
                       (["--interval", "60001"], "--interval 60001"),
                       (["--interval", "abc"], "--interval abc"),
                       (["--interval", ""], "--interval ''"),
                       (["--socket", "relative.sock"], "relative --socket"),
                       (["extra-argument"], "extra argument")]:
        p = daemon(ctx, "-f", "--socket", s, *args) \
            if args[0] != "--socket" else daemon(ctx, "-f", *args)
        expect_exit(p, 2, what)
        check(any(l.startswith("dmfilemap-supervisord: ")
                  for l in p.stderr.splitlines()),
              "%s: stderr %r" % (what, p.stderr))
    check(not os.path.exists(s), "a refused daemon created its socket")


def start_fg(ctx, sock, *args):
    e = dict(os.environ)
    log = open(os.path.join(ctx.tmp, "fg-%d.log" % len(ctx.logs)), "w+")
    ctx.logs.append(log)
    p = subprocess.Popen([ctx.bin("dmfilemap-supervisord"), "-f", "-v",
                          "--socket", sock] + list(args), env=e,
                         stdout=subprocess.DEVNULL, stderr=log,
                         stdin=subprocess.DEVNULL)
    try:
        poll_until(lambda: os.path.exists(sock) or p.poll() is not None,
                   "socket %s appears" % sock)
        check(p.poll() is None, "daemon exited %r at start" % p.returncode)
    except Fail:
        p.kill()
        p.wait()
        raise
    return p, log


@test("daemon_raises_open_files_limit")
def t_daemon_nofile(ctx):
    # it holds every monitored file open: the soft limit goes up to the hard
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    low = min(256, hard)
    sock = os.path.join(ctx.tmp, "nofile", "s.sock")
    resource.setrlimit(resource.RLIMIT_NOFILE, (low, hard))
    try:
        p, log = start_fg(ctx, sock)
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    try:
        with open("/proc/%d/limits" % p.pid) as f:
            row = [l for l in f if l.startswith("Max open files")][0].split()
        with open("/proc/sys/fs/nr_open") as f:
            top = max(int(f.read()), hard)
        # the ceiling if a process here may raise its hard limit to it
        may = subprocess.run([sys.executable, "-c",
                              "import resource as r; r.setrlimit("
                              "r.RLIMIT_NOFILE, (%d, %d))" % (top, top)],
                             stderr=subprocess.DEVNULL).returncode == 0
        top = top if may else hard
        eq((row[3], row[4]), (str(top), str(top)),
           "open files limit (soft, hard) of a supervisor started with "
           "soft %d, hard %d (root may go to fs.nr_open)" % (low, hard))
    finally:
        end_fg(p, log, sock, signal.SIGTERM, "supervisor with a low limit")


def end_fg(p, log, sock, sig, what):
    p.send_signal(sig)
    try:
        rc = p.wait(timeout=WAIT)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        raise Fail("%s: still running %.0f s after signal %d" %
                   (what, WAIT, sig))
    log.seek(0)
    text = log.read()
    rep = sanitizer_report(text)
    check(not rep, "%s: sanitizer: %s" % (what, rep))
    eq(rc, 0, "%s: exit status after signal %d" % (what, sig))
    check(not os.path.exists(sock), "%s: socket left after signal" % what)


@test("daemon_sigterm_with_watcher")
def t_sigterm(ctx):
    sock = os.path.join(ctx.tmp, "d2", "s")
    p, log = start_fg(ctx, sock, "--interval", "50")
    try:
        with Conn(sock) as c:
            eq(ok_params(c.call(IFACE + ".Info"), "Info")["interval_ms"], 50,
               "interval_ms with --interval 50")
        w = Conn(sock)
        w.send({"method": IFACE + ".Watch", "more": True})
        check(w.quiet(0.3), "Watch answered at once with no monitor")
        idle = Conn(sock)  # connected, says nothing
        end_fg(p, log, sock, signal.SIGTERM, "SIGTERM with a watcher")
        w.expect_eof()
        idle.expect_eof()
        w.close()
        idle.close()
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


@test("daemon_sigint")
def t_sigint(ctx):
    sock = os.path.join(ctx.tmp, "d3", "s")
    p, log = start_fg(ctx, sock, "--interval", "60000")
    try:
        with Conn(sock) as c:
            eq(ok_params(c.call(IFACE + ".Info"), "Info")["interval_ms"],
               60000, "interval_ms with --interval 60000")
        end_fg(p, log, sock, signal.SIGINT, "SIGINT")
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


@test("daemon_notify_ready_status")
def t_notify_ready(ctx):
    # under a service manager: READY=1 with a STATUS= line once it listens
    import socket as sk
    d = os.path.join(ctx.tmp, "notify")
    os.makedirs(d, exist_ok=True)
    ns = os.path.join(d, "notify")
    n = sk.socket(sk.AF_UNIX, sk.SOCK_DGRAM)
    n.bind(ns)
    n.settimeout(10)
    sock = os.path.join(d, "s")
    e = dict(os.environ, NOTIFY_SOCKET=ns)
    p = subprocess.Popen([ctx.bin("dmfilemap-supervisord"), "-f", "--socket",
                          sock], env=e, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    try:
        msg = n.recv(4096).decode()
        eq(msg, "READY=1\nSTATUS=0 monitors on 0 devices",
           "first sd_notify message")
        check(os.path.exists(sock), "READY=1 before the socket listens")
        p.send_signal(signal.SIGTERM)
        msg = n.recv(4096).decode()
        eq(msg, "STATUS=stopping", "sd_notify message at SIGTERM")
        eq(p.wait(10), 0, "exit status after SIGTERM")
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        n.close()


@test("daemon_notify_socket_too_long")
def t_notify_long(ctx):
    # an over-long NOTIFY_SOCKET names its cause (it once said EPERM)
    e = dict(os.environ, NOTIFY_SOCKET="/" + "x" * 200)
    p = run([ctx.bin("dmfilemap-supervisord"), "-f", "--socket",
             os.path.join(ctx.tmp, "notify-long.sock")], env=e)
    expect_exit(p, 1, "supervisor with an over-long NOTIFY_SOCKET")
    check("cannot use NOTIFY_SOCKET: File name too long" in p.stderr,
          "message %r" % p.stderr)


@test("socket_group_member_cannot_lock_out_root")
def t_lockout(ctx):
    # a client of another uid (nobody) holds 1,500 idle connections: it
    # gets DMF_CLIENTS_PER_UID of them, and root's list and a shim
    # registration are served at once, and again 10 s later
    if os.geteuid() != 0:
        raise Skip("not root: cannot run a client as nobody")
    ids = nobody_ids()
    if not ids or not shutil.which("setpriv"):
        raise Skip("no user nobody, or no setpriv")
    d = os.path.join(ctx.tmp, "lockout")
    os.makedirs(d, exist_ok=True)
    sock = os.path.join(d, "s")
    p, log = start_fg(ctx, sock)
    holder = None
    try:
        os.chmod(sock, 0o666)  # as a socket group would let nobody in
        ready = os.path.join(d, "ready")
        code = ("import os, resource, socket, sys, time\n"
                "h = resource.getrlimit(resource.RLIMIT_NOFILE)[1]\n"
                "resource.setrlimit(resource.RLIMIT_NOFILE, (h, h))\n"
                "v = []\n"
                "for i in range(1500):\n"
                "    s = socket.socket(socket.AF_UNIX)\n"
                "    s.connect(sys.argv[1]); v.append(s)\n"
                "open(sys.argv[2], 'w').write(str(len(v)))\n"
                "time.sleep(60)\n")
        holder = subprocess.Popen(
            ["setpriv", "--reuid=%d" % ids[0], "--regid=%d" % ids[1],
             "--clear-groups", "--", "/usr/bin/python3", "-c", code, sock,
             ready], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, cwd="/")
        os.chmod(d, 0o777)
        poll_until(lambda: os.path.exists(ready) or holder.poll() is not None,
                   "nobody's 1,500 connections made")
        check(holder.poll() is None, "the holder died: %r" %
              (holder.stderr.read() if holder.stderr else ""))
        for when in ("at once", "10 s later"):
            t0 = time.monotonic()
            with Conn(sock) as c:
                ok_params(c.call(IFACE + ".List"), "root's List %s" % when)
            fd = os.open(ctx.hostfile, os.O_RDONLY)
            try:
                r = run([ctx.bin("dmfilemapd"), str(fd), "0", ctx.hostfile,
                         "inode"], env={"DMFILEMAP_SOCKET": sock},
                        pass_fds=[fd])
            finally:
                os.close(fd)
            # served: the supervisor's own answer (no device-mapper here)
            check(NOT_DM in r.stderr, "shim registration %s: %r" %
                  (when, r.stderr))
            dt = time.monotonic() - t0
            check(dt < 1.0, "root served %s in %.2f s, want < 1 s" % (when, dt))
            if when == "at once":
                time.sleep(10)
        log.seek(0)
        text = log.read()
        check("refusing a client of uid %d" % ids[0] in text and
              "too many clients of that uid" in text,
              "no refusal of uid %d in the log" % ids[0])
        check(text.count("refusing a client of uid %d" % ids[0]) == 1,
              "refusals of uid %d logged %d times, want once a minute" %
              (ids[0], text.count("refusing a client of uid %d" % ids[0])))
    finally:
        if holder and holder.poll() is None:
            holder.kill()
            holder.wait()
        end_fg(p, log, sock, signal.SIGTERM, "SIGTERM")


@test("daemon_detaches_when_listening")
def t_detach(ctx):
    sock = os.path.join(ctx.tmp, "d4", "s")  # d4 does not exist yet
    p = run([ctx.bin("dmfilemap-supervisord"), "--socket", sock],
            env=san_env(ctx, "detach"))
    try:
        expect_exit(p, 0, "detaching supervisor")
        # the parent exits 0 only once the socket listens: no wait here
        with Conn(sock) as c:
            pid = ok_params(c.call(IFACE + ".Info"), "Info")["pid"]
        check(proc_alive(pid), "daemon pid %r not alive" % pid)
        eq(supervisors_on(sock), [pid], "detached supervisors")
    finally:
        stop_supervisors(ctx, sock, "detached supervisor")
    check(not os.path.exists(sock), "socket left after SIGTERM")
    reps = san_logs(ctx, "detach")
    check(not reps, "sanitizer reports: %s" % "; ".join(reps))


@test("no_fd_leak_at_end")
def t_fd_leak_end(ctx):
    expect_no_fd_leak(ctx, "after all the probes")


# ---- watch ------------------------------------------------------------------

@test("watch_stream_stays_open")
def t_watch(ctx):
    with Conn(ctx.sock) as w:
        w.send({"method": IFACE + ".Watch", "more": True})
        with Conn(ctx.sock) as c:
            still_usable(c, "while a watcher is connected")
            ok_params(c.call(IFACE + ".List"), "List while watching")
        check(w.quiet(0.5), "Watch sent something or closed with no monitor")
        # half-closing our side does not end the stream
        w.s.shutdown(socket.SHUT_WR)
        check(w.quiet(0.5), "Watch stream ended when the client half-closed")
    with Conn(ctx.sock) as w:
        w.send({"method": IFACE + ".Watch", "parameters": {}, "more": True})
        check(w.quiet(0.3), "second watcher got a reply")


@test("watcher_disconnect_releases_connection")
def t_watch_release(ctx):
    # A watcher that goes away (dmfilemapctl watch ended by ^C) must not
    # hold its connection (an fd, a client slot of DMF_CLIENTS_MAX) until
    # some monitor happens to have an event.
    if not ctx.pid or ctx.fd_base is None:
        raise Skip("no baseline")
    base = len(wait_fd_settled(ctx))
    for _ in range(3):
        w = Conn(ctx.sock)
        w.send({"method": IFACE + ".Watch", "more": True})
        with Conn(ctx.sock) as c:  # the Watch is in before we close
            still_usable(c, "while watching")
        w.close()
    try:
        poll_until(lambda: len(fd_list(ctx.pid)) <= base,
                   "daemon fds back to %d" % base)
    except Fail:
        raise Fail("3 watchers closed their connections; the daemon still "
                   "holds %d fds, %d before" % (len(fd_list(ctx.pid)), base))


# --------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--socket", required=True)
    ap.add_argument("--build")
    ap.add_argument("--pid", type=int, default=0)
    ap.add_argument("--tmp")
    ap.add_argument("--repo")
    ap.add_argument("--only", action="append", default=[])
    ap.add_argument("--skip", action="append", default=[],
                    help="NAME: not run here (said, with the reason)")
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--inner-nobody", action="store_true")
    a = ap.parse_args()
    if a.inner_nobody:
        return inner_nobody(a.socket, a.build)
    if a.list:
        for n, _ in TESTS:
            print(n)
        return 0
    ctx = Ctx()
    ctx.sock = a.socket
    ctx.pid = a.pid
    ctx.tmp = a.tmp or tempfile.mkdtemp()
    ctx.repo = a.repo or os.path.dirname(os.path.dirname(
        os.path.dirname(os.path.abspath(__file__))))
    ctx.build = os.path.abspath(a.build or os.path.join(ctx.repo, "build"))
    ctx.bin = lambda n: os.path.join(ctx.build, n)
    ctx.fd_base = None
    ctx.logs = []
    with open(os.path.join(ctx.repo, "include", "dmfilemap.h")) as f:
        ctx.version = [l.split('"')[1] for l in f
                       if l.startswith("#define DMF_VERSION ")][0]
    ctx.hostfile = os.path.join(ctx.tmp, "host-file.img")
    with open(ctx.hostfile, "wb") as f:
        f.write(os.urandom(1 << 16))
    os.chmod(ctx.hostfile, 0o644)
    ctx.otherfile = os.path.join(ctx.tmp, "other-file.img")
    with open(ctx.otherfile, "wb") as f:
        f.write(b"other")
    failed = 0
    for name, fn in TESTS:
        if a.only and name not in a.only:
            continue
        if name in a.skip:
            print("skip %s: a throughput test, run in the sanitizer pass, "
                  "too slow under valgrind" % name, flush=True)
            continue
        try:
            fn(ctx)
            print("ok " + name, flush=True)
        except Skip as e:
            print("skip %s: %s" % (name, e), flush=True)
        except Fail as e:
            failed += 1
            print("FAIL %s: %s" % (name, str(e).replace("\n", " ")),
                  flush=True)
        except Exception as e:
            failed += 1
            tb = traceback.extract_tb(e.__traceback__)[-1]
            print("FAIL %s: %s: %s (line %d)" % (
                name, type(e).__name__, str(e).replace("\n", " "),
                tb.lineno), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
