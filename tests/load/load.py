#!/usr/bin/env python3
"""Load test: 300 clients connected at once, then 100,000 calls from 10
clients, against a real supervisor on a temporary socket. No call may fail;
the supervisor's fd count and RSS are printed before and after and must
come back (fds exactly; RSS within a bound, as allocators keep some)."""
import json, os, socket, subprocess, sys, tempfile, threading, time

BUILD = sys.argv[1] if len(sys.argv) > 1 else "build"
CLIENTS, CALLERS, CALLS = 300, 10, 100_000
results = {"pass": 0, "fail": 0}

def check(name, ok, why=""):
    print(("ok " if ok else "FAIL ") + name + ("" if ok else ": " + why))
    results["pass" if ok else "fail"] += 1

def call(s, method, params=None):
    msg = {"method": method}
    if params is not None:
        msg["parameters"] = params
    s.sendall(json.dumps(msg).encode() + b"\0")
    buf = b""
    while not buf.endswith(b"\0"):
        chunk = s.recv(65536)
        if not chunk:
            raise ConnectionError("closed")
        buf += chunk
    return json.loads(buf[:-1])

def fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))

def rss_kib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return -1

tmp = tempfile.mkdtemp(prefix="dmf-load.")
sock = os.path.join(tmp, "s.sock")
log = open(os.path.join(tmp, "log"), "w")
d = subprocess.Popen([os.path.join(BUILD, "dmfilemap-supervisord"), "-f",
                      "--socket", sock], stderr=log)
for _ in range(200):
    if os.path.exists(sock):
        break
    time.sleep(0.05)

def connect():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sock)
    return s

# warm up (lazy allocations), then measure
w = connect(); call(w, "io.dmfilemap.Supervisor.Info"); w.close()
time.sleep(0.2)
fd0, rss0 = fds(d.pid), rss_kib(d.pid)
print(f"before: {fd0} fds, {rss0} KiB RSS")

# 300 clients held open at once, each served
held, errors = [], 0
for i in range(CLIENTS):
    held.append(connect())
for s in held:
    try:
        r = call(s, "org.varlink.service.GetInfo")
        errors += "error" in r
    except Exception:
        errors += 1
peak_fd = fds(d.pid)
check(f"{CLIENTS} concurrent clients all served", errors == 0,
      f"{errors} failed calls")
check(f"{CLIENTS} concurrent clients held", peak_fd >= fd0 + CLIENTS,
      f"daemon fds {peak_fd}, expected >= {fd0 + CLIENTS}")
for s in held:
    s.close()

# 100,000 calls from 10 clients
failed = [0] * CALLERS
methods = ["io.dmfilemap.Supervisor.List", "io.dmfilemap.Supervisor.Info",
           "org.varlink.service.GetInfo"]
def worker(k):
    s = connect()
    for i in range(CALLS // CALLERS):
        try:
            r = call(s, methods[i % 3])
            if "error" in r:
                failed[k] += 1
        except Exception:
            failed[k] += 1
            s = connect()
    s.close()
t0 = time.monotonic()
ts = [threading.Thread(target=worker, args=(k,)) for k in range(CALLERS)]
for t in ts: t.start()
for t in ts: t.join()
secs = time.monotonic() - t0
check(f"{CALLS} calls from {CALLERS} clients, none failed", sum(failed) == 0,
      f"{sum(failed)} failed")
print(f"{CALLS} calls in {secs:.1f} s ({CALLS / secs:.0f} calls/s)")

time.sleep(0.5)  # closes are handled by the daemon's loop
fd1, rss1 = fds(d.pid), rss_kib(d.pid)
print(f"after: {fd1} fds, {rss1} KiB RSS (peak fds {peak_fd})")
check("fd count back to where it was", fd1 == fd0, f"{fd0} -> {fd1}")
check("RSS back within 1 MiB", rss1 - rss0 <= 1024, f"{rss0} -> {rss1} KiB")
d.terminate()
check("supervisor exits 0 after the load", d.wait(timeout=10) == 0,
      f"exit {d.returncode}")
print(f"load: {results['pass']} passed, {results['fail']} failed")
sys.exit(1 if results["fail"] else 0)
