#!/usr/bin/env python3
# bench.py: one benchmark (a design at one N) inside the UML guest, run by the
# wrapper scripts bench/run generates; writes OUT/NAME.json step by step.
"""Designs:
  sup   files registered with `dmfilemapctl add --create` on the supervisor
        guest-init started; idle CPU/PSS/ioctls, then the cost of Stats
        over all N files (after the idle window), the cost of the metrics
        file (a second supervisor with --metrics-dir on the same files),
        latency, convergence
  dms   the same files registered through `dmstats create --filemap` (our
        shim hands each to the supervisor): registration time only
  base  `dmstats create --filemap` with no supervisor reachable: the shim's
        per-process fallback (one dmfilemapd per file); the same figures
  fio   (b-fio) what the regions cost the device's I/O: fio's 4 KiB
        O_DIRECT random reads at QD1 and QD32 from a file no region covers,
        with the regions of 0, 100, 1,000, 10,000 files registered on the
        supervisor, once from a monitored file, and at 10,000 files of 1
        and of 2 extents; a control device with no regions run in between
  stall (b-stall-sup-N, b-stall-base-N) a paced fio reader's latencies
        while N files are registered, as sup or base register them, and
        in idle windows before and after

Everything is measured from this one Python process (process start-up is
slow in UML). Figures never fail the run; only a broken harness does.
"""
import argparse
import json
import os
import mmap
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dmio  # noqa: E402

MNT = os.environ.get("DMF_MNT", "/run/dmf-test/mnt")
DEV = os.environ.get("DMF_DEV", "vol")
OUT = os.environ.get("DMF_BENCH_OUT", "/tmp")
NOSOCK = {"DMFILEMAP_SOCKET": "/run/dmf-bench-none.sock",
          "DMFILEMAP_SUPERVISORD": "/nonexistent"}
IDLE_S = 10.0
# latency: how long after a list shows a group right the supervisor's
# event for the update is waited for (it is sent after the update's
# ioctls, and may be queued behind the rest of a long pass)
EVENT_GRACE_S = 0.5
# the supervisor's ioctl counters kept for each latency sample
IOCTL_KINDS = ("stats_list", "stats_create", "stats_set_aux",
               "stats_delete", "stats_print", "passes_total", "passes_full")
# regions made and deleted to time one @stats_create (create_cost_*)
CREATE_PROBE = 200
# and lists, and files whose layout is read, to time @stats_list and FIEMAP
LIST_PROBE = 5
FIEMAP_PROBE = 1000
# the stats step: one-call Stats timed this many times (the median kept);
# the window after it that checks the idle @stats_list rate
STATS_REPEAT = 3
STATS_AFTER_S = 5.0
# the metrics step: a second supervisor (own socket and state file, a copy
# of the first's) re-adopts the same N files with --metrics-dir
METRICS_INTERVAL = 15
METRICS_SOCK = "/run/dmf-bench-metrics.sock"
METRICS_STATE = "/run/dmf-bench-metrics.state"
METRICS_DIR = "/run/dmf-bench-metrics"
METRICS_FILE = "dmfilemap.prom"
# files per dmfilemapctl add (xargs would pass about 4,000 such paths)
ADD_CHUNK = 2500
# the I/O cost steps (b-fio, b-stall-*): fio's 4 KiB random reads with
# O_DIRECT from a written file of FIO_FILE_MIB on the device (no region
# covers it, but for the monitored-file point), and in b-fio from a control
# device with no regions (dm linear over the guest's second disk), run
# between them: a change in the host's load then shows in both
FIO_FILE_MIB = 128
FIO_TMP = "/run/dmf-bench-fio"
CTRL_DEV = "dmf-bench-ctrl"
CTRL_DISK = "/dev/ubdb"
# a stall window opens once fio has read this long; fio stops this long
# after it closes
STALL_LEAD = 3.0
STALL_TAIL = 1.0
ROW_RE = re.compile(r"^(\d+): (\d+)\+(\d+) ", re.M)
STOP_RE = re.compile(r"stopped after ([0-9.]+) s: (\d+) @stats_list, "
                     r"(\d+) other dm ioctls")
GROUP_RE = re.compile(r"as group ID (\d+)\.")


class Budget(Exception):
    """The benchmark's time budget ran out during a step."""


class GaveUp(Exception):
    """A step's waiting ran out (a figure, not a broken harness)."""


class Bench:
    def __init__(self, a):
        self.a = a
        self.t_start = time.monotonic()
        self.deadline = self.t_start + a.budget
        self.r = {"name": a.name, "design": a.design, "n": a.n,
                  "status": "running", "step": "start", "notes": [],
                  "kernel": os.uname().release, "guest_cpus": os.cpu_count(),
                  "guest_mem_kib": meminfo("MemTotal"),
                  "started": time.strftime("%Y-%m-%d %H:%M:%S UTC",
                                           time.gmtime())}
        self.dm = dmio.DmControl(DEV)
        self.files = []
        self.groups = {}           # path -> group id from dmstats output
        self.sup_pid = int(os.environ.get("DMF_SUPERVISOR_PID") or 0)
        self.log = None
        self.ctrl = None           # b-fio's control device
        self.target = None         # the file the stall reader reads

    # -------------------------------------------------------- bookkeeping
    def save(self):
        p = os.path.join(OUT, self.a.name + ".json")
        with open(p + ".tmp", "w") as f:
            json.dump(self.r, f, indent=1, sort_keys=True)
        os.replace(p + ".tmp", p)

    def say(self, msg):
        line = "%s %-10s %s" % (time.strftime("%H:%M:%S"), self.a.name, msg)
        print(line, flush=True)
        with open(os.path.join(OUT, "progress.log"), "a") as f:
            f.write(line + "\n")

    def step(self, name):
        self.r["step"] = name
        self.save()
        self.say("step %s (%.0f s left)" % (name, self.left()))

    def left(self):
        return self.deadline - time.monotonic()

    def check(self, what):
        if self.left() <= 0:
            raise Budget(what)

    def reserve(self):
        """Time kept back from a step that may not end on its own."""
        return min(60, self.a.budget / 10)

    def note(self, text):
        self.r["notes"].append(text)
        self.say("note: " + text)

    def fig(self, key, val):
        self.r[key] = val
        self.save()

    def raise_nofile(self):
        """The supervisor keeps one fd per file; guest-init starts it with
        the kernel's default RLIMIT_NOFILE (soft 1024). Raise it, as an
        admin would with LimitNOFILE=, when it is too low for N; say so."""
        if not self.sup_pid:
            return
        import resource
        soft, hard = resource.prlimit(self.sup_pid, resource.RLIMIT_NOFILE)
        need = self.a.n + 1024
        if soft >= need:
            return
        new = max(need, 65536)
        resource.prlimit(self.sup_pid, resource.RLIMIT_NOFILE, (new, new))
        self.fig("nofile", {"was": [soft, hard], "raised_to": new})
        self.note("the supervisor's RLIMIT_NOFILE was %d (soft), too low for "
                  "%d files: raised to %d with prlimit(2) before registering"
                  % (soft, self.a.n, new))

    # ------------------------------------------------------------- files
    def make_files(self):
        """N files of 1 MiB; every 10th has 10 extents that are not
        physically adjacent (a 4 KiB hole punched every 100 KiB)."""
        self.step("files")
        # the lazy inode-table zeroing of a fresh 16 GiB ext4 would write in
        # the background during the idle windows: stop it
        subprocess.run(["mount", "-o", "remount,noinit_itable", MNT],
                       stderr=subprocess.DEVNULL)
        d = os.path.join(MNT, "files")
        os.makedirs(d, exist_ok=True)
        t0 = time.monotonic()
        punch = dmio.FALLOC_FL_PUNCH_HOLE | dmio.FALLOC_FL_KEEP_SIZE
        for i in range(self.a.n):
            p = os.path.join(d, "f%05d.img" % i)
            fd = os.open(p, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o644)
            dmio.fallocate(fd, 0, 0, 1 << 20)
            if i % 10 == 9:
                for k in range(1, 10):
                    dmio.fallocate(fd, punch, k * 102400, 4096)
            os.close(fd)
            self.files.append(p)
        os.sync()
        hist = {}
        for p in self.files:
            k = str(len(dmio.fiemap(p)))
            hist[k] = hist.get(k, 0) + 1
        self.fig("files", {"n": self.a.n, "extents": hist,
                           "seconds": round(time.monotonic() - t0, 2)})
        self.say("%d files, extents per file: %s" % (self.a.n, hist))

    # ---------------------------------------------------------- helpers
    def ctl(self, *args):
        r = subprocess.run(["dmfilemapctl"] + list(args), capture_output=True,
                           text=True)
        return r.returncode, r.stdout, r.stderr

    def add_create(self, files):
        """dmfilemapctl add --create FILES, which must all succeed."""
        rc, out, err = self.ctl("add", "--create", *files)
        if rc != 0:
            raise RuntimeError("dmfilemapctl add --create: %s" % err[:2000])

    def info(self):
        rc, out, err = self.ctl("info", "--json")
        if rc != 0:
            raise RuntimeError("dmfilemapctl info: %s" % err.strip())
        return json.loads(out)

    def alias(self, p):
        return os.path.basename(p)

    def matched(self, paths, wants=None):
        """How many of PATHS have a group matching their extents now."""
        g = dmio.parse_groups(self.dm.stats_list())
        n = 0
        for p in paths:
            want = wants[p] if wants else dmio.fiemap(p)
            e = g.get(self.alias(p))
            if e and e[1] == want and want:
                n += 1
        return n

    # ----------------------------------------------------- registration
    def register_ctl(self):
        self.step("register-ctl")
        t0 = time.monotonic()
        rc, out, err = self.ctl("add", "--create", *self.files[:2])
        if rc == 2 and len(self.files) > 1:
            # no multi-file add in this build: one invocation per file
            mode = "one dmfilemapctl invocation per file (multi-file add " \
                   "not available: %s)" % err.strip().splitlines()[0]
            t0 = time.monotonic()
            done = 0
            for p in self.files:
                rc, out, err = self.ctl("add", "--create", p)
                if rc != 0:
                    raise RuntimeError("dmfilemapctl add --create %s: %s"
                                       % (p, err.strip()))
                done += 1
                if done % 500 == 0:
                    self.say("  %d/%d added (%.1f s)" % (
                        done, len(self.files), time.monotonic() - t0))
                if self.reg_cap() <= 0:
                    break
        else:
            if rc != 0:
                raise RuntimeError("dmfilemapctl add --create: %s" % err)
            mode = "dmfilemapctl add --create with many files per invocation"
            done = min(2, len(self.files))
            rest = self.files[2:]
            calls = 1
            # chunks: progress, and the budget is checked between
            while rest and self.reg_cap() > 0:
                chunk, rest = rest[:ADD_CHUNK], rest[ADD_CHUNK:]
                self.add_create(chunk)
                calls += 1
                done += len(chunk)
                if done % (2 * ADD_CHUNK) < ADD_CHUNK:
                    self.say("  %d/%d added (%.1f s)" % (
                        done, len(self.files), time.monotonic() - t0))
            mode += " (%d invocations)" % calls
        dt = time.monotonic() - t0
        self.fig("reg_ctl", {"done": done, "seconds": round(dt, 3),
                             "per_s": round(done / dt, 1), "mode": mode,
                             "timed_out": done < len(self.files)})
        self.say("registered %d via dmfilemapctl in %.2f s" % (done, dt))
        if done < len(self.files):
            self.note("dmfilemapctl registration stopped by the time budget "
                      "after %d of %d files in %.0f s; the other figures are "
                      "for those %d" % (done, len(self.files), dt, done))
        return self.files[:done]

    def register_dmstats(self, key, env=None):
        self.step("register-dmstats")
        envd = dict(os.environ, **(env or {}))
        t0 = time.monotonic()
        done = 0
        last = ""
        for p in self.files:
            r = subprocess.run(["dmstats"] + self.a.dmstats_args.split()
                               + ["create", "--filemap", p],
                               capture_output=True, text=True, env=envd)
            m = GROUP_RE.search(r.stdout)
            if r.returncode != 0 or not m:
                raise RuntimeError("dmstats create --filemap %s: %s %s"
                                   % (p, r.stdout, r.stderr))
            self.groups[p] = int(m.group(1))
            last = r.stderr.strip()
            done += 1
            if env and done == 1:
                time.sleep(0.5)
                if not dmio.procs_named("dmfilemapd"):
                    return "no fallback: %s" % (last.splitlines() or ["?"])[-1]
            if done % 250 == 0:
                self.say("  %d/%d dmstats creates (%.1f s)" % (
                    done, len(self.files), time.monotonic() - t0))
            if self.reg_cap() <= 0:
                break
        dt = time.monotonic() - t0
        self.fig(key, {"done": done, "seconds": round(dt, 3),
                       "per_s": round(done / dt, 2),
                       "timed_out": done < len(self.files)})
        self.say("registered %d via dmstats in %.2f s" % (done, dt))
        if done < len(self.files):
            self.note("dmstats registration stopped by the time budget "
                      "after %d of %d files in %.0f s (%.2f/s)"
                      % (done, len(self.files), dt, done / dt))
        return None

    def reg_cap(self):
        """Registration may use this much of the budget (all of it for the
        dmstats-only benchmark), so that the other steps still run."""
        if self.a.design == "dms":
            end = self.a.budget
        elif self.a.design == "base":    # keep time for the other steps
            rest = self.a.latency_limit + self.a.converge_limit + 120
            end = max(self.a.budget * 0.5, self.a.budget - rest)
        elif self.a.design == "stall":   # settle, the idle window after,
            # the fallbacks' stop (60 s each at most)
            rest = self.a.stall_idle + 2 * (STALL_LEAD + STALL_TAIL) + 180
            end = max(self.a.budget * 0.5, self.a.budget - rest)
        else:
            end = self.a.budget * 0.7
        return end - (time.monotonic() - self.t_start)

    # ----------------------------------------------- baseline at large N
    def prefill(self):
        """A group for every file, made through the supervisor, which then
        lets them go (Remove keeps the group): the device holds the regions
        that N registered files have, and no monitor runs. The fallback
        processes then start on some of those groups (start_fallbacks)."""
        self.step("prefill")
        t0 = time.monotonic()
        for i in range(0, len(self.files), ADD_CHUNK):
            self.add_create(self.files[i:i + ADD_CHUNK])
        rc, out, err = self.ctl("list", "--json")
        if rc != 0:
            raise RuntimeError("dmfilemapctl list: %s" % err.strip())
        mons = json.loads(out)["monitors"]
        self.groups = {m["path"]: m["group_id"] for m in mons}
        replies = varlink_calls(
            os.environ["DMFILEMAP_SOCKET"],
            [("io.dmfilemap.Supervisor.Remove", {"id": m["id"]})
             for m in mons])
        bad = [r for r in replies if "error" in r]
        if bad:
            raise RuntimeError("%d Remove calls failed: %s" % (len(bad),
                                                                bad[0]))
        left = self.info()["monitors"]
        missing = [p for p in self.files if p not in self.groups]
        if left or missing:
            raise RuntimeError("prefill: %d monitors left, %d files without "
                               "a group" % (left, len(missing)))
        self.fig("prefill", {"groups": len(self.groups),
                             "seconds": round(time.monotonic() - t0, 2)})
        self.say("prefill: %d groups made and let go in %.1f s"
                 % (len(self.groups), time.monotonic() - t0))

    def start_fallbacks(self, key):
        """Start the shim's fallback on the prefilled groups, one file
        after the other, with the command line dmstats gives it
        (dmfilemapd FD GROUP PATH inode 0 1, no supervisor reachable),
        until the registration share of the budget is used, or the guest's
        memory runs low."""
        self.step("start-fallbacks")
        env = dict(os.environ, **NOSOCK)
        t0 = time.monotonic()
        done, why = 0, "all started"
        for p in self.files:
            fd = os.open(p, os.O_RDONLY | os.O_CLOEXEC)
            try:
                r = subprocess.run(["dmfilemapd", str(fd),
                                    str(self.groups[p]), p, "inode", "0",
                                    "1"], pass_fds=(fd,), env=env,
                                   capture_output=True, text=True)
            finally:
                os.close(fd)
            if r.returncode != 0:
                raise RuntimeError("dmfilemapd %s: %s" % (p, r.stderr.strip()))
            done += 1
            if done == 1:
                time.sleep(0.5)
                if not dmio.procs_named("dmfilemapd"):
                    raise RuntimeError("no fallback process: %s"
                                       % r.stderr.strip())
            if done % 25 == 0:
                self.say("  %d fallback processes started (%.1f s)"
                         % (done, time.monotonic() - t0))
            if self.reg_cap() <= 0:
                why = "the time allowed for starting them ran out"
                break
            if meminfo("MemAvailable") < 512 * 1024:
                why = "the guest's available memory fell below 512 MiB"
                break
        dt = time.monotonic() - t0
        self.fig(key, {"done": done, "seconds": round(dt, 3),
                       "per_s": round(done / dt, 2),
                       "timed_out": done < len(self.files), "why": why})
        self.say("started %d fallback processes in %.2f s: %s"
                 % (done, dt, why))
        if done < len(self.files):
            self.note("%d of %d fallback processes started in %.0f s (%s); "
                      "the device holds all %d files' groups"
                      % (done, len(self.files), dt, why, len(self.files)))

    # ----------------------------------------------------------- settle
    def settle_sup(self, files):
        self.step("settle")
        t0 = time.monotonic()
        self.until_quiet(lambda: self.info()["ioctls"], 120, "settle")
        k = self.matched(files)
        self.fig("settle", {"seconds": round(time.monotonic() - t0, 2),
                            "matched": k})
        self.say("settled; %d/%d groups match their files" % (k, len(files)))

    def settle_base(self, n):
        self.step("settle")
        t0 = time.monotonic()
        while time.monotonic() - t0 < 60:
            if len(dmio.procs_named("dmfilemapd")) >= n:
                break
            time.sleep(0.5)
        time.sleep(3)
        k = self.matched(self.files[:n])
        self.fig("settle", {"seconds": round(time.monotonic() - t0, 2),
                            "matched": k,
                            "procs": len(dmio.procs_named("dmfilemapd"))})
        self.say("settled; %d/%d groups match; %d dmfilemapd processes"
                 % (k, n, self.r["settle"]["procs"]))

    # ------------------------------------------------------------- idle
    def idle(self, pids, info=True):
        self.step("idle")
        self.check("idle")
        i0 = self.info() if info else None
        c0 = {p: dmio.cpu_ticks(p) for p in pids}
        t0 = time.monotonic()
        time.sleep(IDLE_S)
        c1 = {p: dmio.cpu_ticks(p) for p in pids}
        t1 = time.monotonic()
        i1 = self.info() if info else None
        gone = [p for p in pids if c0[p] is None or c1[p] is None]
        ticks = sum(c1[p] - c0[p] for p in pids if p not in gone)
        pss = sum(dmio.pss_kib(p) or 0 for p in pids)
        w = t1 - t0
        cpu = ticks / dmio.CLK_TCK
        d = {"window_s": round(w, 2), "procs": len(pids) - len(gone),
             "cpu_s_per_10s": round(cpu * 10 / w, 3),
             "cpu_pct": round(cpu / w * 100, 3), "pss_kib": pss}
        if info:
            d["stats_list_per_s"] = round(
                (i1["ioctls"]["stats_list"] - i0["ioctls"]["stats_list"]) / w, 3)
            d["other_per_s"] = round(
                ((i1["ioctls"]["total"] - i0["ioctls"]["total"])
                 - (i1["ioctls"]["stats_list"] - i0["ioctls"]["stats_list"]))
                / w, 3)
            d["interval_ms"] = i1.get("interval_ms")
        # the kernel's side of one list, timed from here after the window
        ts = []
        for _ in range(5):
            tp = time.perf_counter()
            text = self.dm.stats_list()
            ts.append(time.perf_counter() - tp)
        d["list_ms"] = round(statistics.median(ts) * 1000, 2)
        d["list_rows"] = text.count("\n")
        d["list_kib"] = round(len(text) / 1024, 1)
        if gone:
            self.note("%d processes ended during the idle window" % len(gone))
        self.fig("idle", d)
        self.say("idle: %s" % d)

    # ------------------------------------------------------------ stats
    def sup_info(self, sock):
        """The parameters of one Info call on the supervisor's socket (no
        process started: the counters are the daemon's)."""
        r = varlink_calls(sock, [("io.dmfilemap.Supervisor.Info", {})])[0]
        if "error" in r:
            raise RuntimeError("Info: %s" % r)
        return r["parameters"]

    def sup_ioctls(self, sock):
        """The supervisor's dm ioctl counters (Info)."""
        return self.sup_info(sock)["ioctls"]

    def stats(self, files):
        """After the idle window (whose figures it leaves alone): Stats over
        all N files, as one call with no parameters (three times) and as N
        calls of one path each, 32 ahead of their replies on one
        connection; the wall time of each (from the first byte sent to the
        last reply decoded) and the dm ioctls it cost (the daemon's
        counters, by Info before and after). Then a window as idle's, but
        STATS_AFTER_S long, to check that the idle @stats_list rate is
        what it was."""
        self.step("stats")
        self.check("stats")
        sock = os.environ["DMFILEMAP_SOCKET"]
        n = len(files)
        want = set(files)
        d = {"n": n}

        def run(calls):
            i0 = self.sup_ioctls(sock)
            t = {}
            t0 = time.monotonic()
            replies = varlink_calls(sock, calls, timing=t)
            dt = time.monotonic() - t0
            i1 = self.sup_ioctls(sock)
            delta = {k: i1[k] - i0[k] for k in i1}
            errs = [r for r in replies if "error" in r]
            got = [f for r in replies if "error" not in r
                   for f in r["parameters"]["files"]]
            return dt, t, delta, errs, got

        def cost(prefix, delta, got):
            d[prefix + "stats_print"] = delta["stats_print"]
            d[prefix + "stats_list"] = delta["stats_list"]
            d[prefix + "other"] = (delta["total"] - delta["stats_list"]
                                   - delta["stats_print"])
            d[prefix + "files"] = len(got)
            d[prefix + "files_ok"] = len(got) == n and \
                set(f["path"] for f in got) == want
            d[prefix + "regions"] = sum(f["regions"] for f in got)

        runs = []
        for k in range(STATS_REPEAT):
            self.check("stats")
            dt, t, delta, errs, got = run(
                [("io.dmfilemap.Supervisor.Stats", {})])
            if errs and k == 0 and errs[0].get("error") == \
                    "org.varlink.service.MethodNotFound":
                # a build from before Stats (run for its other figures)
                d["unsupported"] = errs[0]["error"]
                self.fig("stats", d)
                self.note("stats: this supervisor has no Stats method "
                          "(%s): no Stats figures" % errs[0]["error"])
                return
            if errs:
                raise RuntimeError("Stats: %s" % str(errs[0])[:500])
            runs.append(dt)
            if k == 0:
                cost("all_", delta, got)
                d["all_reply_kib"] = round(t["bytes"] / 1024, 1)
                d["all_recv_s"] = round(t["last_recv"], 4)
            elif delta["stats_print"] != d["all_stats_print"]:
                self.note("stats: one Stats call sent %d @stats_print, an "
                          "earlier one %d" % (delta["stats_print"],
                                              d["all_stats_print"]))
        d["all_s"] = round(statistics.median(runs), 4)
        d["all_runs_s"] = [round(x, 4) for x in runs]
        self.check("stats")
        dt, t, delta, errs, got = run(
            [("io.dmfilemap.Supervisor.Stats", {"paths": [p]})
             for p in files])
        if errs:
            raise RuntimeError("%d of %d single-path Stats calls failed: %s"
                               % (len(errs), n, str(errs[0])[:500]))
        d["each_s"] = round(dt, 4)
        d["each_calls"] = n
        cost("each_", delta, got)
        for pre, what in (("all_", "one Stats call"),
                          ("each_", "%d single-path Stats calls" % n)):
            if not d[pre + "files_ok"]:
                self.note("stats: %s returned %d files, not the %d "
                          "registered" % (what, d[pre + "files"], n))
            if d[pre + "stats_print"] != d[pre + "regions"]:
                self.note("stats: %s sent %d @stats_print for %d regions"
                          % (what, d[pre + "stats_print"],
                             d[pre + "regions"]))
        # idle again: the rate of lists and other ioctls after the calls
        self.check("stats")
        i0 = self.sup_ioctls(sock)
        t0 = time.monotonic()
        time.sleep(STATS_AFTER_S)
        w = time.monotonic() - t0
        i1 = self.sup_ioctls(sock)
        lists = i1["stats_list"] - i0["stats_list"]
        d["after_window_s"] = round(w, 2)
        d["after_stats_list_per_s"] = round(lists / w, 3)
        d["after_other_per_s"] = round(
            ((i1["total"] - i0["total"]) - lists) / w, 3)
        idle = self.r.get("idle") or {}
        d["idle_stats_list_per_s"] = idle.get("stats_list_per_s")
        self.fig("stats", d)
        self.say("stats: %s" % d)

    # ---------------------------------------------------------- metrics
    def metrics(self, files):
        """The cost of --metrics-dir (after the stats step; the idle figures
        leave it out). The supervisor the benchmark measures is left alone:
        a second one, on its own socket and a copy of the first's state
        file, re-adopts the same N files (same groups, same device) with
        --metrics-dir METRICS_DIR --metrics-interval METRICS_INTERVAL, as
        an admin's restart with the option would. Right after its first
        write (at start) the benchmark writes 4 KiB with O_DIRECT at the
        start of every file (one write on the device each); then over one
        full interval, from its second write to its third: its CPU
        (utime+stime), its @stats_print (Info), and the first
        supervisor's CPU (a control: the same idle work, no metrics). The
        third write's file: its size, its per-file series (N each), its
        write duration, and how many files show the write (were read since
        it). Then the second supervisor is stopped (SIGTERM: exit 0)."""
        self.step("metrics")
        self.check("metrics")
        n = len(files)
        d = {"n": n, "interval_s": METRICS_INTERVAL}
        supd = os.environ.get("DMFILEMAP_SUPERVISORD") or \
            "dmfilemap-supervisord"
        h = subprocess.run([supd, "--help"], capture_output=True, text=True)
        if "--metrics-dir" not in h.stdout + h.stderr:
            d["unsupported"] = "no --metrics-dir in %s --help" % supd
            self.fig("metrics", d)
            self.note("metrics: this supervisor has no --metrics-dir: no "
                      "metrics figures")
            return
        # re-adoption lists the device once per file: ~2 min at 10,000
        need = 2 * METRICS_INTERVAL + 20 + n / 50.0
        if self.left() - self.reserve() < need:
            d["skipped"] = "%.0f s of the budget left, %.0f s needed" % (
                self.left() - self.reserve(), need)
            self.fig("metrics", d)
            self.note("metrics: not measured (%s)" % d["skipped"])
            return
        sock1 = os.environ["DMFILEMAP_SOCKET"]
        state1 = (sock1[:-5] if sock1.endswith(".sock") else sock1) + ".state"
        # a second supervisor's inotify watches: as many again as the first's
        with open("/proc/sys/fs/inotify/max_user_watches") as f:
            watches = int(f.read())
        if watches < 4 * n + 65536:
            with open("/proc/sys/fs/inotify/max_user_watches", "w") as f:
                f.write(str(4 * n + 65536))
            d["max_user_watches"] = {"was": watches, "raised_to": 4 * n + 65536}
        for x in (METRICS_STATE, METRICS_SOCK):
            try:
                os.unlink(x)
            except FileNotFoundError:
                pass
        shutil.rmtree(METRICS_DIR, ignore_errors=True)
        os.makedirs(METRICS_DIR)
        shutil.copyfile(state1, METRICS_STATE)
        prom = os.path.join(METRICS_DIR, METRICS_FILE)
        log = open(os.path.join(OUT, self.a.name + ".metrics-supervisord.log"),
                   "w")
        argv = [supd, "-f", "--socket", METRICS_SOCK, "--state",
                METRICS_STATE, "--metrics-dir", METRICS_DIR,
                "--metrics-interval", str(METRICS_INTERVAL)]
        d["argv"] = argv
        t0 = time.monotonic()
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)
        try:
            self.metrics_measure(files, d, proc, prom, t0)
        except GaveUp as e:
            d["gave_up"] = str(e)
            self.note("metrics: not measured: %s" % e)
        finally:
            rc = self.metrics_stop(proc)
            log.close()
            d["exit_status"] = rc
            shutil.rmtree(METRICS_DIR, ignore_errors=True)
            for x in (METRICS_STATE, METRICS_STATE + ".tmp"):
                try:
                    os.unlink(x)
                except FileNotFoundError:
                    pass
            self.fig("metrics", d)
        if rc != 0:
            self.note("metrics: the second supervisor exited with status %s "
                      "on SIGTERM" % rc)
        self.say("metrics: %s" % {k: v for k, v in d.items()
                                  if k not in ("argv", "missed_files",
                                               "series_counts")})

    def metrics_stop(self, proc):
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                return proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                return "killed: no exit within 20 s of SIGTERM"
        return proc.returncode

    def metrics_measure(self, files, d, proc, prom, t0):
        n = len(files)
        pid = proc.pid
        sock = METRICS_SOCK
        # adopted and listening: the loop runs (the first write is done)
        while True:
            if proc.poll() is not None:
                raise RuntimeError("the metrics supervisor exited with "
                                   "status %s at start" % proc.returncode)
            if time.monotonic() - t0 > 60 + n / 25.0:
                raise GaveUp("the second supervisor did not answer within "
                             "%.0f s of its start" % (60 + n / 25.0))
            self.check("metrics")
            if os.path.exists(sock):
                try:
                    r = varlink_calls(sock, [("io.dmfilemap.Supervisor.Info",
                                              {})])[0]
                    break
                except OSError:
                    pass
            time.sleep(0.05)
        d["start_s"] = round(time.monotonic() - t0, 2)
        d["adopted"] = r["parameters"]["monitors"]
        # the start's dm ioctls (re-adoption, the first write), by kind
        d["start_ioctls"] = r["parameters"].get("ioctls")
        d["start_cpu_s"] = round(dmio.cpu_ticks(pid) / dmio.CLK_TCK, 2)
        if d["adopted"] != n:
            self.note("metrics: the second supervisor re-adopted %d of %d "
                      "monitors" % (d["adopted"], n))
        w0 = file_id(prom)
        if w0 is None:
            raise RuntimeError("no %s after the supervisor's start" % prom)
        # a write the device counts, in every file: a file whose series show
        # it has been read (one @stats_print a region) since
        tw = time.monotonic()
        d["marked_with"] = mark_files(files)
        d["mark_s"] = round(time.monotonic() - tw, 2)
        # the second write, then one full interval to the third (a write
        # made while the files were being marked is not a window's start:
        # it was not seen at once)
        cur = file_id(prom)
        if cur != w0:
            d["writes_skipped"] = 1
            self.note("metrics: the supervisor's second write came while "
                      "the files were being marked (%.1f s): the window "
                      "starts at the next one" % d["mark_s"])
            w0 = cur
        deadline = time.monotonic() + METRICS_INTERVAL + 30
        w1 = self.wait_write(prom, w0, deadline, proc)
        ctl_pid = self.sup_pid
        c1, c1f = dmio.cpu_ticks(pid), dmio.cpu_ticks(ctl_pid) \
            if ctl_pid else None
        us1 = dmio.cpu_split(pid)
        t1 = time.monotonic()
        i1 = self.sup_ioctls(sock)
        w2 = self.wait_write(prom, w1, deadline + METRICS_INTERVAL, proc)
        c2, c2f = dmio.cpu_ticks(pid), dmio.cpu_ticks(ctl_pid) \
            if ctl_pid else None
        us2 = dmio.cpu_split(pid)
        t2 = time.monotonic()
        i2 = self.sup_ioctls(sock)
        del w2
        w = t2 - t1
        cpu = (c2 - c1) / dmio.CLK_TCK
        ctrl = (c2f - c1f) / dmio.CLK_TCK if c1f is not None and \
            c2f is not None else None
        idle = (self.r.get("idle") or {}).get("cpu_pct")
        d["window_s"] = round(w, 3)
        d["cpu_s"] = round(cpu, 3)
        # user and kernel time apart (a UML guest counts its kernel's time
        # as the process's utime: stime stays about 0; not reported)
        if us1 and us2:
            d["utime_s"] = round((us2[0] - us1[0]) / dmio.CLK_TCK, 3)
            d["stime_s"] = round((us2[1] - us1[1]) / dmio.CLK_TCK, 3)
        d["control_cpu_s"] = None if ctrl is None else round(ctrl, 3)
        d["idle_cpu_pct"] = idle
        if idle is not None:
            d["cost_cpu_s"] = round(cpu - idle / 100 * w, 3)
        if ctrl is not None:
            d["cost_vs_control_cpu_s"] = round(cpu - ctrl, 3)
        d["stats_print"] = i2["stats_print"] - i1["stats_print"]
        d["stats_print_per_s"] = round(d["stats_print"] / w, 1)
        d["other_ioctls"] = (i2["total"] - i1["total"]) - \
            (i2["stats_print"] - i1["stats_print"]) - \
            (i2["stats_list"] - i1["stats_list"])
        d["stats_list_per_s"] = round((i2["stats_list"] - i1["stats_list"])
                                      / w, 3)
        d["pss_kib"] = dmio.pss_kib(pid)
        d["control_pss_kib"] = dmio.pss_kib(ctl_pid) if ctl_pid else None
        f = self.r.get("files") or {}
        d["regions"] = sum(int(k) * v for k, v in
                           (f.get("extents") or {}).items())
        with open(prom, "rb") as fh:
            st = os.fstat(fh.fileno())
            text = fh.read()
        d["file_bytes"] = st.st_size
        d.update(parse_prom(text, files))
        if d["series_ok"] is False:
            self.note("metrics: the file has per-file series for %s files, "
                      "not the %d monitored (%s)"
                      % (d["series_files"], n, d["series_counts"]))
        if d["fresh_files"] is not None and d["fresh_files"] < n:
            self.note("metrics: %d of %d files' series still lack the write "
                      "made %.0f s (about two intervals) before the file "
                      "was written: never read since"
                      % (n - d["fresh_files"], n, t2 - tw))

    def wait_write(self, prom, prev, deadline, proc):
        """Until PROM is a new file (renamed over the last one)."""
        while True:
            cur = file_id(prom)
            if cur is not None and cur != prev:
                return cur
            if proc.poll() is not None:
                raise RuntimeError("the metrics supervisor exited with "
                                   "status %s" % proc.returncode)
            if time.monotonic() > deadline:
                raise GaveUp("%s not written again in time (interval %s s)"
                             % (prom, METRICS_INTERVAL))
            self.check("metrics")
            time.sleep(0.01)

    # ---------------------------------------------------------- latency
    def latency(self, files):
        """Samples run in a thread of their own: with hundreds of fallback
        processes queued on dm-stats's mutex, one ioctl or fsync can take
        minutes, and the step must still end in its time."""
        self.step("latency")
        self.check("latency")
        s = min(len(files), self.a.samples)
        sample = random.Random(1).sample(files, s)
        res = {"lat": [], "fs": [], "timeouts": 0, "stop": False,
               "cut": False, "by_event": 0, "each": []}
        t = threading.Thread(target=self.latency_samples, args=(sample, res),
                             daemon=True)
        t.start()
        t.join(max(1, min(self.a.latency_limit + 30,
                          self.left() - self.reserve())))
        res["stop"] = True
        lat, fs, timeouts = sorted(res["lat"]), list(res["fs"]), \
            res["timeouts"]
        if t.is_alive():
            self.note("latency: %d of %d samples taken; the step gave up on "
                      "the next one after %.0f s (an ioctl or fsync still "
                      "waiting)" % (len(lat) + timeouts, s,
                                    self.a.latency_limit + 30))
        elif res["cut"]:
            self.note("latency: %d of %d samples taken in the step's %.0f s"
                      % (len(lat) + timeouts, s, self.a.latency_limit))
        if not lat:
            raise RuntimeError("no latency sample matched within 10 s")
        d = {"samples": len(lat) + timeouts, "matched": len(lat),
             "timeouts": timeouts,
             "median_ms": round(statistics.median(lat) * 1000, 1),
             "p99_ms": round(pctl(lat, 99) * 1000, 1),
             "max_ms": round(lat[-1] * 1000, 1),
             "fsync_median_ms": round(statistics.median(fs) * 1000, 1),
             "by_event": res["by_event"]}
        if res["each"]:
            d["each"] = list(res["each"])
        self.fig("latency", d)
        self.say("latency: %s" % d)

    def latency_samples(self, sample, res):
        """For each file: an allocating write, then poll the kernel's list
        until its group matches; results into RES until RES["stop"]."""
        dm = dmio.DmControl(DEV)
        w = Watcher(os.environ["DMFILEMAP_SOCKET"]) \
            if self.a.design == "sup" else None
        try:
            self.latency_loop(dm, w, sample, res)
        finally:
            os.close(dm.fd)
            if w:
                w.close()

    def latency_loop(self, dm, w, sample, res):
        """A sample ends at the first @stats_list that shows the file's
        group right (polled at three times a list's cost, or, with W,
        the supervisor's Watch stream, after each of its events for the
        file and at least once a second). With W, it ends at the last
        such event before that list instead, if there is one."""
        t_step = time.monotonic()
        for p in sample:
            if res["stop"]:
                return
            if time.monotonic() - t_step > self.a.latency_limit or \
                    self.left() <= self.reserve():
                res["cut"] = True
                return
            alias = self.alias(p)
            before = self.sample_cost() if w else None
            fd = os.open(p, os.O_WRONLY)
            size = os.fstat(fd).st_size
            t0 = time.monotonic()
            os.pwrite(fd, b"\x5a" * 4096, size + 4096)  # skip a block
            os.fsync(fd)
            os.close(fd)
            fsync_s = time.monotonic() - t0
            want = dmio.fiemap(p)
            after, by_event = t0, False
            while True:
                ev = w.wait(p, after, min(t0 + 10, time.monotonic() + 1)) \
                    if w else None
                tp = time.monotonic()
                g = dmio.group_of(dm.stats_list(), alias)
                now = time.monotonic()
                if res["stop"]:     # the step has given up on this one
                    return
                if g == want or now - t0 > 10:
                    break
                if ev is not None:
                    after = tp      # the group was not right after it
                elif not w:
                    # leave the one guest CPU mostly to what is measured
                    time.sleep(max(0.005, 3 * (now - tp)))
            spent = self.sample_cost() if w else None
            if g == want and w:
                # the update that made it right sent its event after its
                # ioctls, maybe after the list was read: the last event
                # for the file in a grace after the list, if earlier than
                # the list, is when the group became right
                time.sleep(EVENT_GRACE_S)
                ev = w.wait(p, t0, 0)
                if ev is not None and ev < now:
                    now, by_event = ev, True
            res["fs"].append(fsync_s)
            if g == want:
                res["lat"].append(now - t0)
                res["by_event"] += by_event
            else:
                res["timeouts"] += 1
            if w:
                res["each"].append(self.sample_record(
                    w, p, t0, now, fsync_s, g == want, by_event, before,
                    spent))

    def sample_cost(self):
        """The supervisor's dm ioctl and pass counters and its CPU ticks
        now (for one latency sample: Info on its socket, /proc)."""
        p = self.sup_info(os.environ["DMFILEMAP_SOCKET"])
        io = dict(p["ioctls"])
        for k, v in p.get("passes", {}).items():
            io["passes_" + k] = v
        return io, dmio.cpu_ticks(self.sup_pid)

    def sample_record(self, w, p, t0, end, fsync_s, ok, by_event, before,
                      spent):
        """One latency sample as kept in the figures: its time, how it
        ended, and what the supervisor did from before the write to the
        list that showed the group right: its ioctls by kind, its CPU,
        and the events it sent for this file and for others."""
        (i0, c0), (i1, c1) = before, spent
        io = {k: i1[k] - i0.get(k, 0) for k in IOCTL_KINDS if k in i1}
        return {"ms": round((end - t0) * 1000, 1) if ok else None,
                "fsync_ms": round(fsync_s * 1000, 1),
                "end": "event" if by_event else "poll",
                "ioctls": {k: v for k, v in io.items() if v},
                "cpu_ms": round((c1 - c0) * 1000 / dmio.CLK_TCK)
                if c0 is not None and c1 is not None else None,
                "first_event_ms": w.first_after(p, t0),
                "events": w.count(t0, end, p),
                "others": w.count(t0, end, None, p)}

    # ------------------------------------------------------ convergence
    def converge(self, files, limit):
        self.step("converge")
        self.check("converge")
        t0 = time.monotonic()
        for p in files:
            fd = os.open(p, os.O_WRONLY)
            size = os.fstat(fd).st_size
            os.pwrite(fd, b"\x33" * 4096, size + 4096)
            os.close(fd)
        t_w = time.monotonic() - t0
        os.sync()
        t_s = time.monotonic() - t0
        wants = {p: dmio.fiemap(p) for p in files}
        k, el = self.until_matched(files, wants, t0, limit, 0, 0.1)
        d = {"n": len(files), "matched": k, "writes_s": round(t_w, 2),
             "sync_s": round(t_s, 2), "seconds": round(el, 2),
             "timed_out": k < len(files)}
        self.fig("converge", d)
        self.say("convergence: %s" % d)

    def until_matched(self, files, wants, t0, limit, reserve, nap):
        """Until every group matches WANTS, LIMIT s after T0 or the
        budget is down to RESERVE; polls at most every NAP s (and no more
        than half the time). (groups matched, seconds since T0)."""
        while True:
            tp = time.monotonic()
            k = self.matched(files, wants)
            el = time.monotonic() - t0
            if k == len(files) or el > limit or self.left() <= reserve:
                return k, el
            time.sleep(max(nap, 2 * (time.monotonic() - tp)))

    # --------------------------------------------------------- baseline
    def base_stop(self, key, pids, log):
        """SIGTERM the fallback processes; sum their stop lines."""
        self.step(key)
        n0 = len(log.lines)
        for p in pids:
            try:
                os.kill(p, signal.SIGTERM)
            except ProcessLookupError:
                pass
        t0 = time.monotonic()
        while time.monotonic() - t0 < 60:
            if not dmio.procs_named("dmfilemapd"):
                break
            time.sleep(0.2)
        time.sleep(0.5)
        rates, other, rep = 0.0, 0.0, 0
        for line in log.lines[n0:]:
            m = STOP_RE.search(line)
            if m and float(m.group(1)) > 0:
                t = float(m.group(1))
                rates += int(m.group(2)) / t
                other += int(m.group(3)) / t
                rep += 1
        d = {"procs": len(pids), "reported": rep,
             "left": len(dmio.procs_named("dmfilemapd")),
             "stats_list_per_s": round(rates, 3) if rep else None,
             "other_per_s": round(other, 3) if rep else None,
             "syslog_lines": len(log.lines) - n0}
        self.fig(key, d)
        self.say("%s: %s" % (key, d))
        if rep < len(pids):
            self.note("%s: %d of %d fallback processes logged a stop line"
                      % (key, rep, len(pids)))

    # ------------------------------------------------------- I/O (fio)
    def fio_file(self):
        """The file fio reads: FIO_FILE_MIB written (a read of an
        unwritten, fallocated extent makes no I/O) and fsynced, in a
        directory of its own; not monitored unless a step says so."""
        d = os.path.join(MNT, "fio")
        os.makedirs(d, exist_ok=True)
        p = os.path.join(d, "randread.img")
        buf = b"\xa5" * (1 << 20)
        t0 = time.monotonic()
        with open(p, "wb") as f:
            for _ in range(FIO_FILE_MIB):
                f.write(buf)
            f.flush()
            os.fsync(f.fileno())
        ext = dmio.fiemap(p)
        self.fig("fio_file", {"path": p, "mib": FIO_FILE_MIB,
                              "extents": len(ext),
                              "seconds": round(time.monotonic() - t0, 2)})
        return p

    def covering(self, path, text=None):
        """How many of the device's regions overlap PATH's extents."""
        if text is None:
            text = self.dm.stats_list()
        ext = dmio.fiemap(path)
        return sum(1 for st, ln in region_rows(text)
                   if any(st < s + n and s < st + ln for s, n in ext))

    def control_dev(self):
        """A dm linear over the guest's second disk, no regions on it, its
        first FIO_FILE_MIB written: fio's control, run next to every
        measured pair (None if there is no such disk or no control)."""
        if self.a.fio_control_runtime <= 0:
            return None
        if not os.path.exists(CTRL_DISK):
            self.note("fio: no %s in the guest: no control device"
                      % CTRL_DISK)
            return None
        sz = int(subprocess.run(["blockdev", "--getsz", CTRL_DISK],
                                capture_output=True, text=True,
                                check=True).stdout)
        if sz < FIO_FILE_MIB * 2048:
            self.note("fio: %s has %d sectors: no control device"
                      % (CTRL_DISK, sz))
            return None
        r = subprocess.run(["dmsetup", "create", CTRL_DEV, "--table",
                            "0 %d linear %s 0" % (sz, CTRL_DISK)],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError("dmsetup create %s: %s" % (CTRL_DEV,
                                                          r.stderr.strip()))
        path = "/dev/mapper/" + CTRL_DEV
        buf = mmap.mmap(-1, 1 << 20)
        buf.write(b"\xa5" * (1 << 20))
        fd = os.open(path, os.O_WRONLY | os.O_DIRECT)
        try:
            for i in range(FIO_FILE_MIB):
                os.pwrite(fd, buf, i << 20)
            os.fsync(fd)
        finally:
            os.close(fd)
        dm = dmio.DmControl(CTRL_DEV)
        rows = len(region_rows(dm.stats_list()))
        dm.close()
        self.fig("control", {"device": path, "over": CTRL_DISK,
                             "sectors": sz, "regions": rows})
        return path

    def fio_run(self, target, qd, runtime, ramp, tag):
        """One fio run: 4 KiB random reads, O_DIRECT, libaio at queue
        depth QD, RAMP s then RUNTIME s; its JSON kept as TAG.json."""
        os.makedirs(FIO_TMP, exist_ok=True)
        out = os.path.join(FIO_TMP, tag + ".json")
        argv = ["fio", "--name=randread", "--filename=" + target,
                "--size=%dm" % FIO_FILE_MIB, "--direct=1", "--rw=randread",
                "--bs=4k", "--ioengine=libaio", "--iodepth=%d" % qd,
                "--time_based", "--runtime=%g" % runtime,
                "--ramp_time=%g" % ramp, "--output-format=json",
                "--output=" + out]
        t0 = time.monotonic()
        r = subprocess.run(argv, capture_output=True, text=True,
                           timeout=runtime + ramp + 120)
        wall = time.monotonic() - t0
        if r.returncode != 0:
            raise RuntimeError("fio (%s): exit %d: %s" % (
                tag, r.returncode, (r.stderr or r.stdout).strip()[:1000]))
        j = fio_json(out)
        keep = os.path.join(OUT, self.a.name + ".fio")
        os.makedirs(keep, exist_ok=True)
        shutil.copyfile(out, os.path.join(keep, tag + ".json"))
        f = fio_figs(j)
        f["wall_s"] = round(wall, 2)
        if f["error"]:
            raise RuntimeError("fio (%s): job error %s" % (tag, f["error"]))
        return f

    def sup_quiet(self, limit=120):
        """Until the supervisor has sent no dm ioctl but its lists for 2 s
        (regions made, updates done); the seconds that took."""
        sock = os.environ["DMFILEMAP_SOCKET"]
        return self.until_quiet(lambda: self.sup_ioctls(sock), limit, "quiet")

    def until_quiet(self, ioctls, limit, what):
        """Until IOCTLS() (the supervisor's counts) shows no dm ioctl but
        its lists for 2 s, at most LIMIT s; the seconds that took."""
        t0 = time.monotonic()
        prev, since = None, t0
        while time.monotonic() - t0 < limit:
            self.check(what)
            io = ioctls()
            other = io["total"] - io["stats_list"]
            if other != prev:
                prev, since = other, time.monotonic()
            elif time.monotonic() - since >= 2.0:
                break
            time.sleep(0.5)
        return round(time.monotonic() - t0, 2)

    def fio_point(self, key, reads, target, nfiles, layout):
        """fio at the device's regions now: QD1 then QD32 on TARGET, then
        the control at QD1, a.fio_reps times; the median of each figure."""
        a = self.a
        self.step("fio-" + key)
        ctrl_rt = a.fio_control_runtime
        ctrl_ramp = min(a.fio_ramp, 1)
        need = a.fio_reps * (2 * (a.fio_runtime + a.fio_ramp + 3) +
                             (ctrl_rt + ctrl_ramp + 3 if self.ctrl else 0))
        pts = self.r.setdefault("fio_points", [])
        if self.left() - self.reserve() < need:
            pts.append({"key": key, "reads": reads, "files": nfiles,
                        "layout": layout,
                        "skipped": "%.0f s of the budget left, %.0f s "
                                   "needed" % (self.left() - self.reserve(),
                                               need)})
            self.save()
            self.note("fio %s: not measured (%s)" % (key,
                                                      pts[-1]["skipped"]))
            return
        quiet = self.sup_quiet() if self.sup_pid else None
        text = self.dm.stats_list()
        regions = len(region_rows(text))
        groups = len(dmio.parse_groups(text))
        cover = self.covering(target, text)
        c0 = dmio.cpu_ticks(self.sup_pid) if self.sup_pid else None
        t0 = time.monotonic()
        runs = {"qd1": [], "qd32": [], "ctrl_qd1": []}
        for rep in range(a.fio_reps):
            for qd in (1, 32):
                runs["qd%d" % qd].append(self.fio_run(
                    target, qd, a.fio_runtime, a.fio_ramp,
                    "%s-qd%d-%d" % (key, qd, rep)))
            if self.ctrl:
                runs["ctrl_qd1"].append(self.fio_run(
                    self.ctrl, 1, ctrl_rt, ctrl_ramp,
                    "%s-ctrl-qd1-%d" % (key, rep)))
        w = time.monotonic() - t0
        c1 = dmio.cpu_ticks(self.sup_pid) if self.sup_pid else None
        after = len(region_rows(self.dm.stats_list()))
        d = {"key": key, "reads": reads, "files": nfiles, "layout": layout,
             "regions": regions, "groups": groups, "covering_target": cover,
             "regions_after": after, "quiet_s": quiet,
             "seconds": round(w, 1),
             "sup_cpu_pct": round((c1 - c0) / dmio.CLK_TCK / w * 100, 2)
             if c0 is not None and c1 is not None else None}
        for k, rs in runs.items():
            if rs:
                d[k] = {"iops": round(statistics.median(
                            [x["iops"] for x in rs]), 1),
                        "p99_us": round(statistics.median(
                            [x["p99_us"] for x in rs]), 1),
                        "p50_us": round(statistics.median(
                            [x["p50_us"] for x in rs]), 1),
                        "runs": rs}
        pts.append(d)
        self.save()
        if after != regions:
            self.note("fio %s: %d regions before the runs, %d after"
                      % (key, regions, after))
        if (reads == "monitored") != (cover > 0):
            self.note("fio %s: the file fio read is covered by %d regions "
                      "(it should be %s)" % (key, cover, reads))
        self.say("fio %s: %d regions: QD1 %.0f IOPS p99 %.0f us, QD32 %.0f "
                 "IOPS p99 %.0f us%s (%.0f s)"
                 % (key, regions, d["qd1"]["iops"], d["qd1"]["p99_us"],
                    d["qd32"]["iops"], d["qd32"]["p99_us"],
                    "; control QD1 %.0f IOPS" % d["ctrl_qd1"]["iops"]
                    if "ctrl_qd1" in d else "", w))

    def register_more(self, files):
        """dmfilemapctl add --create FILES, ADD_CHUNK at a time; seconds."""
        t0 = time.monotonic()
        for i in range(0, len(files), ADD_CHUNK):
            self.add_create(files[i:i + ADD_CHUNK])
        return round(time.monotonic() - t0, 2)

    def remove_all(self, key):
        """Every monitor removed, its group's regions deleted."""
        self.step(key)
        rc, out, err = self.ctl("list", "--json")
        if rc != 0:
            raise RuntimeError("dmfilemapctl list: %s" % err.strip())
        mons = json.loads(out)["monitors"]
        t0 = time.monotonic()
        replies = varlink_calls(
            os.environ["DMFILEMAP_SOCKET"],
            [("io.dmfilemap.Supervisor.Remove",
              {"id": m["id"], "delete_group": True}) for m in mons])
        dt = time.monotonic() - t0
        bad = [r for r in replies if "error" in r]
        if bad:
            raise RuntimeError("%d Remove calls failed: %s" % (len(bad),
                                                                bad[0]))
        left = len(region_rows(self.dm.stats_list()))
        self.fig(key, {"monitors": len(mons), "seconds": round(dt, 2),
                       "regions_left": left})
        self.say("removed %d monitors and their regions in %.1f s; %d "
                 "regions left" % (len(mons), dt, left))
        if left:
            raise RuntimeError("%d regions left after removing every "
                               "monitor with delete_group" % left)

    def fio_monitored(self, n, target):
        """The file fio reads registered (its own regions: dm-stats counts
        every read), measured, then removed with its regions."""
        self.step("fio-monitor-target")
        self.add_create([target])
        if self.sup_pid:
            self.sup_quiet()
        k = self.matched([target])
        if k != 1:
            raise RuntimeError("the fio file's group does not match its "
                               "extents")
        self.fio_point("mon%d" % n, "monitored", target, n, "bench")
        r = varlink_calls(os.environ["DMFILEMAP_SOCKET"],
                          [("io.dmfilemap.Supervisor.Remove",
                            {"path": target, "delete_group": True})])[0]
        if "error" in r:
            raise RuntimeError("Remove %s: %s" % (target, r))
        if self.covering(target):
            raise RuntimeError("the fio file's regions are still there "
                               "after Remove with delete_group")

    def fio_layouts(self, n, target):
        """At N files: every monitor removed with its regions, the files
        deleted, N new files of 1 MiB with one extent each registered and
        measured; then a 4 KiB hole punched in the middle of each (two
        extents, not physically adjacent: two regions a file), the
        supervisor left to follow, and measured again."""
        self.remove_all("fio_remove")
        self.step("fio-layout-files")
        t0 = time.monotonic()
        for p in self.files:
            os.unlink(p)
        os.sync()
        d = os.path.join(MNT, "layout")
        os.makedirs(d, exist_ok=True)
        files = []
        for i in range(n):
            p = os.path.join(d, "g%05d.img" % i)
            fd = os.open(p, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o644)
            dmio.fallocate(fd, 0, 0, 1 << 20)
            os.close(fd)
            files.append(p)
        os.sync()
        reg = self.register_more(files)
        self.fig("fio_layout_1", {"n": n, "extents": extent_hist(files),
                                  "register_s": reg,
                                  "seconds": round(time.monotonic() - t0,
                                                   2)})
        self.fio_point("ext1", "unmonitored", target, n, "1 extent each")
        self.step("fio-layout-punch")
        t0 = time.monotonic()
        punch = dmio.FALLOC_FL_PUNCH_HOLE | dmio.FALLOC_FL_KEEP_SIZE
        for p in files:
            fd = os.open(p, os.O_WRONLY)
            dmio.fallocate(fd, punch, 512 << 10, 4096)
            os.close(fd)
        wants = {p: dmio.fiemap(p) for p in files}
        k, el = self.until_matched(files, wants, t0, self.a.converge_limit,
                                   self.reserve(), 0.5)
        self.fig("fio_layout_2", {"n": n, "extents": extent_hist(files),
                                  "matched": k, "seconds": round(el, 2),
                                  "timed_out": k < n})
        self.say("punched: %d/%d groups follow in %.1f s" % (k, n, el))
        if k < n:
            self.note("fio layouts: %d of %d groups matched their two "
                      "extents %.0f s after the holes were punched"
                      % (k, n, el))
        self.fio_point("ext2", "unmonitored", target, n, "2 extents each")

    # ------------------------------------------------ registration stall
    def stall_window(self, key, work=None):
        """A reader on the device: fio, one 4 KiB O_DIRECT read at a time
        (psync) at a.stall_rate a second from the unmonitored file, each
        read's latency logged with its completion time (epoch ms). The
        window is WORK's run (or a.stall_idle s of nothing), opened once
        fio has read STALL_LEAD s; its figures are over the reads that
        overlap it."""
        a = self.a
        self.step("stall-" + key)
        self.check("stall-" + key)
        os.makedirs(FIO_TMP, exist_ok=True)
        prefix = os.path.join(FIO_TMP, "stall-" + key)
        log = prefix + "_lat.1.log"
        for x in (log, prefix + "_clat.1.log", prefix + "_slat.1.log"):
            try:
                os.unlink(x)
            except FileNotFoundError:
                pass
        argv = ["fio", "--name=reader", "--filename=" + self.target,
                "--size=%dm" % FIO_FILE_MIB, "--direct=1",
                "--rw=randread", "--bs=4k", "--ioengine=psync",
                "--rate_iops=%d" % a.stall_rate, "--time_based",
                "--runtime=86400", "--write_lat_log=" + prefix,
                "--log_avg_msec=0", "--log_unix_epoch=1",
                "--output-format=json", "--output=" + prefix + ".json"]
        err = open(prefix + ".err", "w")
        p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=err,
                             stdin=subprocess.DEVNULL)
        try:
            time.sleep(STALL_LEAD)
            if p.poll() is not None:
                raise RuntimeError("fio (stall reader) exited with %s"
                                   % p.returncode)
            t0, m0 = time.time(), time.monotonic()
            if work:
                work()
            else:
                time.sleep(a.stall_idle)
            t1, w = time.time(), time.monotonic() - m0
            time.sleep(STALL_TAIL)
        finally:
            if p.poll() is None:
                p.send_signal(signal.SIGINT)
            try:
                p.wait(120)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
            err.close()
        rows = []
        with open(log) as f:
            for line in f:
                x = line.split(",")
                if len(x) >= 2:
                    rows.append((int(x[0]), int(x[1]) / 1e6))
        lo, hi = t0 * 1000, t1 * 1000
        sel = [(t, v) for t, v in rows if t >= lo and t - v <= hi]
        lat = sorted(v for _, v in sel)
        d = {"window_s": round(w, 2), "rate": a.stall_rate,
             "reads": len(lat), "reads_logged": len(rows),
             "expected_reads": int(a.stall_rate * w)}
        if lat:
            d.update({"worst_ms": round(lat[-1], 2),
                      "p99_ms": round(pctl(lat, 99), 2),
                      "p999_ms": round(pctl_f(lat, 99.9), 2),
                      "median_ms": round(statistics.median(lat), 3),
                      "over_10ms": sum(1 for v in lat if v > 10),
                      "over_100ms": sum(1 for v in lat if v > 100),
                      "over_1s": sum(1 for v in lat if v > 1000),
                      "worst": [[round((t - lo) / 1000, 2), round(v, 1)]
                                for t, v in sorted(sel, key=lambda x: -x[1])
                                [:10]]})
        else:
            self.note("stall %s: no read of fio's completed in the %.1f s "
                      "window" % (key, w))
        self.r.setdefault("stall", {})[key] = d
        self.save()
        self.say("stall %s: %s" % (key, {k: v for k, v in d.items()
                                         if k != "worst"}))

    # ------------------------------------------------------------- runs
    def run_sup(self):
        self.raise_nofile()
        self.make_files()
        self.create_cost("create_cost_0")
        files = self.costed("reg_ctl", self.register_ctl)
        self.settle_sup(files)
        self.create_cost("create_cost_n")
        self.idle([self.sup_pid])
        self.stats(files)
        self.metrics(files)
        self.costed("latency", self.latency, files)
        self.costed("converge", self.converge, files, self.a.converge_limit)

    def costed(self, key, fn, *args):
        """FN(*ARGS), and what it cost the supervisor: its dm ioctls by
        kind (Info before and after) and its CPU, user and system (the
        ioctls' time in the kernel is system time), against the wall
        time; into KEY_cost."""
        sock, pid = os.environ["DMFILEMAP_SOCKET"], self.sup_pid
        i0, c0, t0 = self.sup_ioctls(sock), dmio.cpu_split(pid), \
            time.monotonic()
        r = fn(*args)
        t1, c1, i1 = time.monotonic(), dmio.cpu_split(pid), \
            self.sup_ioctls(sock)
        self.fig(key + "_cost", {
            "wall_s": round(t1 - t0, 3),
            "user_s": round((c1[0] - c0[0]) / dmio.CLK_TCK, 2),
            "sys_s": round((c1[1] - c0[1]) / dmio.CLK_TCK, 2),
            "ioctls": {k: i1[k] - i0.get(k, 0) for k in i1
                       if isinstance(i1[k], int) and i1[k] - i0.get(k, 0)}})
        return r

    def create_cost(self, key, k=CREATE_PROBE):
        """What the kernel's messages cost with the regions the device has
        now, each timed here, one ioctl at a time: K regions made and
        deleted (on sector 0, with an aux_data no group names), K
        @stats_set_aux of one of them (the last id: the kernel walks its
        id-sorted list to it, so an upper bound for a region of the
        supervisor's), LIST_PROBE @stats_list (their median), and one
        FIEMAP of each of up to FIEMAP_PROBE of the files (the daemon's
        kind: no sync); the mean of each but the lists."""
        self.step(key)
        dm = dmio.DmControl(DEV)
        fds = []
        try:
            lists = []
            for _ in range(LIST_PROBE):
                t0 = time.monotonic()
                rows = len(dm.stats_list().splitlines())
                lists.append(time.monotonic() - t0)
            tl = time.monotonic()
            ids = []
            for _ in range(k):
                out = dm.msg("@stats_create 0+8 /1 dmf-bench probe")
                ids.append(int(out.strip()))
            t1 = time.monotonic()
            last = max(ids)
            for i in range(k):
                dm.msg("@stats_set_aux %d probe-%d" % (last, i))
            t2 = time.monotonic()
            for i in ids:
                dm.msg("@stats_delete %d" % i)
            t3 = time.monotonic()
            for p in self.files[:FIEMAP_PROBE]:
                fds.append(os.open(p, os.O_RDONLY | os.O_CLOEXEC))
            fm = dmio.fiemap_timed(fds)
        finally:
            for fd in fds:
                os.close(fd)
            dm.close()
        self.fig(key, {"regions": rows, "k": k,
                       "list_ms": round(statistics.median(lists) * 1000,
                                        3),
                       "create_ms": round((t1 - tl) * 1000 / k, 3),
                       "set_aux_ms": round((t2 - t1) * 1000 / k, 3),
                       "delete_ms": round((t3 - t2) * 1000 / k, 3),
                       "fiemap_files": len(fds),
                       "fiemap_us": round(fm * 1e6, 1) if fm else None})

    def run_dms(self):
        self.raise_nofile()
        self.make_files()
        self.register_dmstats("reg_dmstats")
        self.step("check")
        k = self.info()["monitors"]
        self.fig("monitors", k)
        self.say("%d monitors after dmstats registration" % k)

    def run_base(self):
        for k, v in (("fs/inotify/max_user_instances", self.a.n + 1024),
                     ("fs/inotify/max_user_watches", 4 * self.a.n + 65536),
                     ("net/unix/max_dgram_qlen", 4096)):
            with open("/proc/sys/" + k, "w") as f:
                f.write(str(v))
        self.fig("sysctl", {"fs.inotify.max_user_instances": self.a.n + 1024})
        log = self.log = SyslogSink()
        self.fig("syslog_sink_ok", log.selftest())
        self.make_files()
        if self.a.prefill:
            self.prefill()
            self.start_fallbacks("reg_fallback")
            n = self.r["reg_fallback"]["done"]
        else:
            why = self.register_dmstats("reg_dmstats", NOSOCK)
            if why:
                self.r["status"] = "pending"
                self.fig("pending", why)
                self.say("baseline pending: " + why)
                return
            n = self.r["reg_dmstats"]["done"]
        files = self.files[:n]
        self.fig("fallback_argv", fallback_argv(dmio.procs_named("dmfilemapd")))
        self.settle_base(n)
        self.idle(dmio.procs_named("dmfilemapd"), info=False)
        self.latency(files)
        # stopping hundreds of busy processes takes a while: keep time
        self.converge(files, min(self.a.converge_limit, self.left() - 90))
        # their counts cover their whole life: registration, idle, latency
        # and convergence (the lists are periodic whatever happens)
        self.base_stop("ioctls", dmio.procs_named("dmfilemapd"), log)

    def run_fio(self):
        """fio's random reads at 0 regions, then at the regions of more and
        more monitored files (a.fio_sizes; the bench's layout), from a file
        no region covers; at some sizes also from a monitored file; at the
        largest, the files again with 1 then 2 extents each."""
        a = self.a
        sizes = sorted(set(int(x) for x in a.fio_sizes.split(",") if x))
        mon = sorted(set(int(x) for x in (
            a.fio_monitored if a.fio_monitored is not None else
            str(sizes[-1])).split(",") if x))
        a.n = self.r["n"] = sizes[-1]
        self.fig("fio_setup", {"sizes": sizes, "monitored_at": mon,
                               "reps": a.fio_reps, "runtime_s": a.fio_runtime,
                               "ramp_s": a.fio_ramp,
                               "control_runtime_s": a.fio_control_runtime,
                               "bs": "4k", "engine": "libaio",
                               "file_mib": FIO_FILE_MIB,
                               "layouts": a.fio_layouts,
                               "fio": subprocess.run(
                                   ["fio", "--version"], capture_output=True,
                                   text=True).stdout.strip()})
        self.raise_nofile()
        self.ctrl = self.control_dev()
        target = self.fio_file()
        self.make_files()
        done = 0
        for n in sizes:
            if n > done:
                self.step("fio-register-%d" % n)
                dt = self.register_more(self.files[done:n])
                self.r.setdefault("fio_reg", {})[str(n)] = {
                    "added": n - done, "seconds": dt}
                self.save()
                done = n
            self.fio_point("n%d" % n, "unmonitored", target, n, "bench")
            if n in mon:
                self.fio_monitored(n, target)
        if a.fio_layouts and a.n:
            self.fio_layouts(a.n, target)

    def run_stall(self):
        """A paced reader's latencies while N files are registered (by the
        supervisor or by the baseline, as b-sup-N and b-base-N register
        them), and in a window as long before (no regions) and after."""
        base = self.a.via == "base"
        if base:
            for k, v in (("fs/inotify/max_user_instances", self.a.n + 1024),
                         ("fs/inotify/max_user_watches",
                          4 * self.a.n + 65536),
                         ("net/unix/max_dgram_qlen", 4096)):
                with open("/proc/sys/" + k, "w") as f:
                    f.write(str(v))
            self.log = SyslogSink()
            self.fig("syslog_sink_ok", self.log.selftest())
        else:
            self.raise_nofile()
        self.fig("stall_setup", {"via": self.a.via, "rate": self.a.stall_rate,
                                 "idle_s": self.a.stall_idle,
                                 "engine": "psync", "bs": "4k",
                                 "file_mib": FIO_FILE_MIB})
        self.make_files()
        self.target = self.fio_file()
        self.stall_window("idle_before")
        res = {}
        if base:
            def work():
                res["why"] = self.register_dmstats("reg_dmstats", NOSOCK)
        else:
            def work():
                res["files"] = self.register_ctl()
        self.stall_window("register", work)
        if base:
            if res.get("why"):
                self.r["status"] = "pending"
                self.fig("pending", res["why"])
                self.say("baseline pending: " + res["why"])
                return
            self.settle_base(self.r["reg_dmstats"]["done"])
        else:
            self.settle_sup(res["files"])
        self.stall_window("idle_after")
        if base:
            self.base_stop("ioctls", dmio.procs_named("dmfilemapd"),
                           self.log)

    def run(self):
        try:
            getattr(self, "run_" + self.a.design)()
            if self.r["status"] == "running":
                self.r["status"] = "done"
        except Budget as e:
            self.r["status"] = "timed out at step %s" % e
            self.say(self.r["status"])
            if self.a.design in ("base", "stall") and self.log:
                self.base_stop("ioctls", dmio.procs_named("dmfilemapd"),
                               self.log)
        self.r["seconds"] = round(time.monotonic() - self.t_start, 1)
        self.save()
        self.say("%s in %.0f s" % (self.r["status"], self.r["seconds"]))


class Watcher:
    """A Watch stream from the supervisor (every monitor's events), read
    in a thread: the receive time (monotonic) of each path's updated and
    regrouped events, for the latency step."""

    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.connect(path)
        self.s.sendall(json.dumps({"method": "io.dmfilemap.Supervisor.Watch",
                                   "parameters": {}, "more": True}).encode()
                       + b"\0")
        self.cv = threading.Condition()
        self.seen = {}      # path -> receive times, in order
        self.every = []     # (receive time, path) of every such event
        self.closed = False
        threading.Thread(target=self.loop, daemon=True).start()

    def loop(self):
        buf = b""
        while True:
            try:
                data = self.s.recv(1 << 16)
            except OSError:     # close(): the step is over
                break
            if not data:
                break
            buf += data
            *msgs, buf = buf.split(b"\0")
            now = time.monotonic()
            with self.cv:
                for x in msgs:
                    ev = json.loads(x).get("parameters", {}).get("event", {})
                    if ev.get("event") in ("updated", "regrouped"):
                        self.seen.setdefault(ev["path"], []).append(now)
                        self.every.append((now, ev["path"]))
                self.cv.notify_all()
        with self.cv:
            self.closed = True
            self.cv.notify_all()

    def wait(self, path, after, until):
        """The last event time for PATH after AFTER, waiting for one until
        UNTIL (monotonic); None if there is none."""
        with self.cv:
            while True:
                t = [x for x in self.seen.get(path, ()) if x >= after]
                left = until - time.monotonic()
                if t or self.closed or left <= 0:
                    return t[-1] if t else None
                self.cv.wait(left)

    def first_after(self, path, t0):
        """ms from T0 to PATH's first event after it, or None."""
        with self.cv:
            t = [x for x in self.seen.get(path, ()) if x >= t0]
        return round((t[0] - t0) * 1000, 1) if t else None

    def count(self, t0, t1, path, other=None):
        """Events received from T0 to T1 for PATH, or (PATH None) for
        every path but OTHER."""
        with self.cv:
            return sum(1 for t, q in self.every if t0 <= t <= t1 and
                       (q == path if path is not None else q != other))

    def close(self):
        try:
            self.s.shutdown(socket.SHUT_RDWR)   # ends the reader's recv
        except OSError:
            pass
        self.s.close()


class SyslogSink:
    """/dev/log for the detached fallback processes (no syslogd in the
    guest): keeps every datagram received, in a thread."""

    def __init__(self):
        self.lines = []
        try:
            os.unlink("/dev/log")
        except FileNotFoundError:
            pass
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self.s.bind("/dev/log")
        threading.Thread(target=self.loop, daemon=True).start()

    def loop(self):
        while True:
            self.lines.append(self.s.recv(65536).decode("utf-8", "replace"))

    def selftest(self):
        """A datagram sent to /dev/log arrives here (then forgotten)."""
        c = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        c.sendto(b"<14>bench: selftest", "/dev/log")
        c.close()
        for _ in range(100):
            if any("bench: selftest" in x for x in self.lines):
                self.lines[:] = [x for x in self.lines
                                 if "bench: selftest" not in x]
                return True
            time.sleep(0.01)
        raise RuntimeError("the /dev/log sink receives nothing")


def varlink_calls(path, calls, window=32, timing=None):
    """Make CALLS ((method, parameters) pairs) on one connection to the
    Varlink socket PATH, WINDOW of them ahead of their replies; return the
    replies, decoded, in order. TIMING, a dict, gets "bytes" (of replies
    received) and "last_recv" (seconds from the first send to the last
    byte received, before that last reply was decoded)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    replies, parts, sent = [], [], 0
    nbytes, t0 = 0, time.monotonic()
    try:
        while len(replies) < len(calls):
            while sent < len(calls) and sent - len(replies) < window:
                m, p = calls[sent]
                s.sendall(json.dumps({"method": m, "parameters": p}).encode()
                          + b"\0")
                sent += 1
            data = s.recv(1 << 16)
            if not data:
                raise RuntimeError("the supervisor closed the connection")
            nbytes += len(data)
            if timing is not None:
                timing["last_recv"] = time.monotonic() - t0
            if b"\0" not in data:      # a long reply, still coming
                parts.append(data)
                continue
            parts.append(data)
            *msgs, rest = b"".join(parts).split(b"\0")
            parts = [rest]
            replies += [json.loads(x) for x in msgs]
    finally:
        s.close()
    if timing is not None:
        timing["bytes"] = nbytes
    return replies


def file_id(path):
    """(inode, mtime) of PATH, or None: a rename over it changes both."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_mtime_ns)


def mark_files(files):
    """4 KiB written at offset 0 of every file, with O_DIRECT (one write on
    the device each: the block is allocated, so no extent is added); with a
    buffered write and one sync() if O_DIRECT is refused."""
    buf = mmap.mmap(-1, 4096)
    buf.write(b"\x6d" * 4096)
    how = "O_DIRECT"
    for p in files:
        try:
            fd = os.open(p, os.O_WRONLY | os.O_DIRECT)
        except OSError:
            fd, how = os.open(p, os.O_WRONLY), "buffered, one sync()"
        try:
            os.pwrite(fd, buf, 0)
        except OSError:
            os.close(fd)
            fd, how = os.open(p, os.O_WRONLY), "buffered, one sync()"
            os.pwrite(fd, bytes(buf), 0)
        os.close(fd)
    if how != "O_DIRECT":
        os.sync()
    return how


PROM_SAMPLE = re.compile(rb'^(dmfilemap_[a-z_]+)(\{[^\n]*\})? (\S+)$', re.M)
PROM_PATH = re.compile(rb'path="((?:[^"\\]|\\.)*)"')


def parse_prom(text, files):
    """The metrics file's figures: per-file series (each must have N
    samples, one per file), the supervisor's write duration and ioctl
    counts, and how many files' writes_completed is above 0."""
    n = len(files)
    counts, paths, fresh = {}, set(), 0
    own = {}
    for m in PROM_SAMPLE.finditer(text):
        name, labels, val = m.group(1).decode(), m.group(2) or b"", m.group(3)
        if name.startswith("dmfilemap_file_"):
            counts[name] = counts.get(name, 0) + 1
            if name == "dmfilemap_file_writes_completed_total":
                pm = PROM_PATH.search(labels)
                if pm:
                    paths.add(pm.group(1).decode("utf-8", "replace"))
                if float(val) > 0:
                    fresh += 1
        else:
            own[name + labels.decode("utf-8", "replace")] = float(val)
    per = sorted(set(counts.values()))
    r = {"series_counts": counts, "series_families": len(counts),
         "series_lines": sum(counts.values()),
         "series_files": per[0] if len(per) == 1 else per,
         "series_ok": per == [n] and paths == set(files),
         "fresh_files": fresh if counts else None,
         "write_duration_s": own.get(
             "dmfilemap_metrics_write_duration_seconds"),
         "file_stats_print_total": own.get(
             'dmfilemap_dm_ioctls_total{kind="stats_print"}'),
         "read_errors": own.get("dmfilemap_metrics_read_errors_total"),
         "write_errors": own.get("dmfilemap_metrics_write_errors_total"),
         "lines": text.count(b"\n")}
    if r["series_ok"] is False and paths != set(files):
        r["missed_files"] = sorted(set(files) - paths)[:20]
    return r


def fallback_argv(pids):
    """The command line dmstats gave a fallback process, as a template."""
    with open("/proc/%d/cmdline" % pids[0], "rb") as f:
        argv = f.read().rstrip(b"\0").decode().split("\0")
    # dmfilemapd FD GROUP PATH MODE [FOREGROUND [VERBOSE]]
    return [argv[0], "{fd}", "{group}", "{path}"] + argv[4:]


def pctl_f(sorted_vals, p):
    """Nearest-rank percentile, P any number."""
    k = int(-(-p * len(sorted_vals) // 100)) - 1
    return sorted_vals[max(0, min(len(sorted_vals) - 1, k))]


def region_rows(text):
    """(start, len) of every region in @stats_list TEXT."""
    return [(int(m.group(2)), int(m.group(3)))
            for m in ROW_RE.finditer(text)]


def extent_hist(files):
    """{extents: files} by FIEMAP (adjacent extents merged)."""
    hist = {}
    for p in files:
        k = str(len(dmio.fiemap(p)))
        hist[k] = hist.get(k, 0) + 1
    return hist


def fio_json(path):
    """fio's JSON output (after any line it printed before it)."""
    with open(path) as f:
        text = f.read()
    i = text.find("{")
    if i < 0:
        raise RuntimeError("fio wrote no JSON to %s: %s" % (path,
                                                             text[:500]))
    return json.loads(text[i:])


def fio_figs(j):
    """One job's read figures: IOPS, completion latency percentiles (µs)."""
    job = j["jobs"][0]
    r = job["read"]
    pc = r["clat_ns"].get("percentile") or {}

    def us(k):
        v = pc.get(k)
        return round(v / 1000, 1) if isinstance(v, (int, float)) else None
    return {"iops": round(r["iops"], 1), "ios": r["total_ios"],
            "p50_us": us("50.000000"), "p99_us": us("99.000000"),
            "p999_us": us("99.900000"),
            "max_us": round(r["clat_ns"]["max"] / 1000, 1),
            "mean_us": round(r["lat_ns"]["mean"] / 1000, 1),
            "usr_cpu": round(job["usr_cpu"], 2),
            "sys_cpu": round(job["sys_cpu"], 2), "error": job["error"]}


def pctl(sorted_vals, p):
    """Nearest-rank percentile."""
    k = max(0, min(len(sorted_vals) - 1,
                   -(-p * len(sorted_vals) // 100) - 1))
    return sorted_vals[k]


def meminfo(key):
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--name", required=True)
    ap.add_argument("--design", choices=("sup", "dms", "base", "fio",
                                         "stall"), required=True)
    ap.add_argument("--n", type=int, required=True)
    ap.add_argument("--budget", type=float, default=300)
    ap.add_argument("--samples", type=int, default=50)
    ap.add_argument("--converge-limit", type=float, default=120)
    ap.add_argument("--latency-limit", type=float, default=90)
    # dmstats -v passes verbose 1 to dmfilemapd: the fallback logs its stop
    # line (with its ioctl counts) only at verbose 1 or more
    ap.add_argument("--dmstats-args", default="-v")
    # base at large N: groups for all N files made through the supervisor,
    # then as many fallback processes as start in the time allowed
    ap.add_argument("--prefill", action="store_true")
    # fio (b-fio): the numbers of monitored files measured at, in order
    # (regions are only added, but for the layouts); the monitored-file
    # point at these (default: the largest)
    ap.add_argument("--fio-sizes", default="0,100,1000,10000")
    ap.add_argument("--fio-monitored", default=None)
    ap.add_argument("--fio-reps", type=int, default=3)
    ap.add_argument("--fio-runtime", type=float, default=10)
    ap.add_argument("--fio-ramp", type=float, default=2)
    # the control device's run after each pair (QD1); 0: no control
    ap.add_argument("--fio-control-runtime", type=float, default=5)
    # at the largest size: the files again with 1 extent each, then 2
    ap.add_argument("--no-fio-layouts", dest="fio_layouts",
                    action="store_false")
    # stall (b-stall-VIA-N): registration by the supervisor or the baseline
    ap.add_argument("--via", choices=("sup", "base"), default="sup")
    ap.add_argument("--stall-rate", type=int, default=200)
    ap.add_argument("--stall-idle", type=float, default=20)
    b = Bench(ap.parse_args())
    try:
        b.run()
    except Exception as e:  # the harness broke: say where, fail the test
        b.r["status"] = "error at step %s: %s" % (b.r["step"], e)
        b.save()
        b.say(b.r["status"])
        raise


if __name__ == "__main__":
    main()
