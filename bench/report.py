#!/usr/bin/env python3
# report.py: turn the benchmarks' JSON (bench/bench.py, one file per design
# and N) into RESULTS.md, results.json and results.png (gnuplot); on the host.
"""With --smoke: also check that every figure is there (non-empty numbers)
and exit 1 if one is missing: that is a broken harness. Timings are never
judged here, except in the targets table, which only reports."""
import argparse
import glob
import json
import os
import subprocess
import time

import report_io
import report_scale
from reportlib import fmt_n, get, reread_rate, table, why_missing

SUP_KEYS = [("reg_ctl", "seconds"), ("idle", "cpu_s_per_10s"),
            ("idle", "cpu_pct"), ("idle", "pss_kib"),
            ("idle", "stats_list_per_s"), ("idle", "other_per_s"),
            ("latency", "median_ms"), ("latency", "p99_ms"),
            ("converge", "seconds"), ("stats", "all_s"),
            ("stats", "all_stats_print"), ("stats", "each_s"),
            ("stats", "after_stats_list_per_s"), ("metrics", "file_bytes"),
            ("metrics", "cpu_s"), ("metrics", "cost_cpu_s"),
            ("metrics", "write_duration_s"), ("metrics", "stats_print_per_s")]
DMS_KEYS = [("reg_dmstats", "seconds")]
BASE_KEYS = [("reg_dmstats", "seconds"), ("idle", "cpu_s_per_10s"),
             ("idle", "cpu_pct"), ("idle", "pss_kib"),
             ("ioctls", "stats_list_per_s"), ("ioctls", "other_per_s"),
             ("latency", "median_ms"), ("latency", "p99_ms"),
             ("converge", "seconds")]


def num(d, k1, k2, fmt="%.2f", scale=1.0):
    v = get(d, k1, k2)
    if isinstance(v, (int, float)):
        return fmt % (v * scale)
    return why_missing(d)


def reg_cell(d, key):
    r = get(d, key)
    if not r:
        return why_missing(d)
    s = "%.1f s (%.1f/s)" % (r["seconds"], r["per_s"])
    if r.get("timed_out"):
        s = "stopped after %d files: %s" % (r["done"], s)
    return s


def conv_cell(d):
    c = get(d, "converge")
    if not c:
        return why_missing(d)
    if c.get("timed_out"):
        return "%d/%d matched after %.1f s" % (c["matched"], c["n"],
                                                c["seconds"])
    return "%.2f s (writes %.2f s)" % (c["seconds"], c["sync_s"])


def files_cell(d):
    f = get(d, "files")
    if not f:
        return why_missing(d)
    return ", ".join("%s×%s ext" % (fmt_n(v), k) for k, v in
                     sorted(f["extents"].items(), key=lambda x: int(x[0])))


def row_sup(n, sup, dms):
    return [fmt_n(n), files_cell(sup), reg_cell(dms, "reg_dmstats"),
            reg_cell(sup, "reg_ctl"),
            num(sup, "idle", "cpu_s_per_10s", "%.2f"),
            num(sup, "idle", "cpu_pct", "%.2f %%"),
            num(sup, "idle", "pss_kib", "%.1f", 1 / 1024),
            num(sup, "idle", "stats_list_per_s", "%.2f"),
            num(sup, "idle", "other_per_s", "%.2f"),
            num(sup, "latency", "median_ms", "%.0f"),
            num(sup, "latency", "p99_ms", "%.0f"), conv_cell(sup),
            list_cell(sup)]


def list_cell(d):
    i = get(d, "idle")
    if not i or "list_ms" not in i:
        return why_missing(d)
    return "%.1f ms (%s rows, %.0f KiB)" % (i["list_ms"], fmt_n(i["list_rows"]),
                                           i["list_kib"])


def fmt_t(sec):
    return "%.2f s" % sec if sec >= 1 else "%.1f ms" % (sec * 1000)


def stats_row(n, sup):
    """The Stats call cost at N (the sup benchmark's stats step)."""
    st = get(sup, "stats")
    if st and st.get("unsupported"):
        return [fmt_n(n), "not measured: this build has no Stats (%s)"
                % st["unsupported"]] + ["—"] * 5
    if not st:
        why = why_missing(sup)
        if sup is not None and why == "—":
            why = "not measured (run without the stats step)"
        return [fmt_n(n), why] + ["—"] * 5

    def files(pre):
        k = st[pre + "files"]
        return fmt_n(k) if st[pre + "files_ok"] else \
            "**%s of %s**" % (fmt_n(k), fmt_n(st["n"]))
    runs = st.get("all_runs_s") or [st["all_s"]]
    one = "%s (median of %d: %s)" % (
        fmt_t(st["all_s"]), len(runs), ", ".join(fmt_t(x) for x in runs)) \
        if len(runs) > 1 else fmt_t(st["all_s"])
    one += "; %s KiB reply" % fmt_n(int(round(st["all_reply_kib"])))
    prints = "%s (%s regions)" % (fmt_n(st["all_stats_print"]),
                                  fmt_n(st["all_regions"]))
    if st["all_other"]:
        prints += " + %d other" % st["all_other"]
    nf = max(st["n"], 1)
    per = "%.0f µs, %.2f @stats_print" % (st["all_s"] * 1e6 / nf,
                                          st["all_stats_print"] / nf)
    each = "%s (%.0f µs a call); %s @stats_print" % (
        fmt_t(st["each_s"]), st["each_s"] * 1e6 / nf,
        fmt_n(st["each_stats_print"]))
    got = "%s / %s" % (files("all_"), files("each_"))
    idle = st.get("idle_stats_list_per_s")
    lists = "%s → %.2f (other %.2f/s)" % (
        "%.2f" % idle if isinstance(idle, (int, float)) else "?",
        st["after_stats_list_per_s"], st["after_other_per_s"])
    return [fmt_n(n), one, prints, per, each, got, lists]


def metrics_row(n, sup):
    """The metrics file's cost at N (the sup benchmark's metrics step)."""
    m = get(sup, "metrics")
    gone = m and (m.get("unsupported") or m.get("skipped") or
                  m.get("gave_up"))
    if gone:
        return [fmt_n(n), "not measured: %s" % gone] + ["—"] * 6
    if not m or "file_bytes" not in m:
        why = why_missing(sup)
        if sup is not None and why == "—":
            why = "not measured (run without the metrics step)"
        elif m:
            why = "not measured (%s)" % why
        return [fmt_n(n), why] + ["—"] * 6
    size = "%s bytes (%.1f MiB; %s lines, %.0f bytes a file)" % (
        fmt_n(m["file_bytes"]), m["file_bytes"] / 1048576,
        fmt_n(m.get("lines", 0)), m["file_bytes"] / max(n, 1))
    wd = m.get("write_duration_s")
    write = fmt_t(wd) if isinstance(wd, (int, float)) else "?"
    cost = m.get("cost_cpu_s")
    cpu = "%s" % ("%.2f s" % cost if isinstance(cost, (int, float))
                  else "?")
    cpu += " (%.2f s in %.1f s" % (m["cpu_s"], m["window_s"])
    cpu += "; idle %.2f %% before" % (m.get("idle_cpu_pct") or 0)
    ctrl = m.get("cost_vs_control_cpu_s")
    if isinstance(ctrl, (int, float)):
        cpu += "; %.2f s over the first supervisor's %.2f s in the same "\
               "window" % (ctrl, m["control_cpu_s"])
    cpu += ")"
    pct = "%.2f %%" % (cost / m["window_s"] * 100) \
        if isinstance(cost, (int, float)) and m["window_s"] else "?"
    regions = m.get("regions") or 0
    prints = "%.0f/s (%s in the interval: %.2f a region)" % (
        m["stats_print_per_s"], fmt_n(m["stats_print"]),
        m["stats_print"] / regions if regions else 0)
    series = "%s × %s" % (m.get("series_families"), fmt_n(n)) \
        if m.get("series_ok") else "**%s** (want %s each)" % (
            m.get("series_files"), fmt_n(n))
    fresh = m.get("fresh_files")
    fr = "—" if fresh is None else (
        fmt_n(fresh) if fresh == n else "**%s of %s**" % (fmt_n(fresh),
                                                        fmt_n(n)))
    start = "%.1f s" % m["start_s"] if "start_s" in m else "?"
    si = m.get("start_ioctls")
    if si:
        start += " (%s @stats_list, %s other ioctls)" % (
            fmt_n(si.get("stats_list", 0)),
            fmt_n(si.get("total", 0) - si.get("stats_list", 0)))
    return [fmt_n(n), size, write, cpu, pct, prints,
            series + "; read: " + fr, start]


METRICS_HEAD = ["N", "file size", "write time (the file's own "
                "dmfilemap_metrics_write_duration_seconds)",
                "CPU per interval: metrics' cost (total in the window)",
                "cost, % of one core", "@stats_print",
                "per-file series; files whose new write it shows",
                "start to first answer (re-adopting N)"]


STATS_HEAD = ["N", "one call for all: time", "its @stats_print",
              "per file", "N calls, one path each (32 ahead): time",
              "files returned (one call / N calls)",
              "@stats_list/s: idle → %.0f s after"]


def row_base(n, base, reason=None):
    if reason:
        return [fmt_n(n)] + ["not run"] * 10 + [reason]
    ioc = get(base, "ioctls")
    lists = other = why_missing(base)
    if not ioc and get(base, "converge") and base.get("status") == "running":
        lists = other = "lost: the hard timeout hit while the processes stopped"
    if ioc:
        lists = "%.1f" % ioc["stats_list_per_s"] \
            if ioc.get("stats_list_per_s") is not None else \
            "n/a (%d/%d stop lines)" % (ioc["reported"], ioc["procs"])
        other = "%.2f (whole life)" % ioc["other_per_s"] \
            if ioc.get("other_per_s") is not None else lists
    procs = get(base, "idle", "procs")
    label = fmt_n(n)
    if procs is not None and procs < n:
        label += " (%s running)" % fmt_n(procs)
    reg = reg_cell(base, "reg_dmstats")
    f = get(base, "reg_fallback")
    if f:  # prefilled: the processes were started, not registered
        reg = "n/a: %s started directly in %.0f s (%s)" % (
            fmt_n(f["done"]), f["seconds"], f["why"])
    return [label, files_cell(base), reg, "n/a",
            num(base, "idle", "cpu_s_per_10s", "%.2f"),
            num(base, "idle", "cpu_pct", "%.2f %%"),
            num(base, "idle", "pss_kib", "%.1f", 1 / 1024),
            lists, other,
            num(base, "latency", "median_ms", "%.0f"),
            num(base, "latency", "p99_ms", "%.0f"), conv_cell(base),
            str(procs) if procs is not None else why_missing(base)]


def ratio(b, s, floor):
    if not isinstance(b, (int, float)) or not isinstance(s, (int, float)):
        return "—"
    if s <= 0:
        return "> %.0f× (supervisor below %.2g)" % (b / floor, floor) \
            if b > 0 else "—"
    return "%.1f×" % (b / s)


def host_facts(repo, build):
    def sh(*cmd):
        try:
            return subprocess.run(cmd, capture_output=True, text=True,
                                  cwd=repo).stdout.strip()
        except OSError:
            return "?"
    mem = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem = int(line.split()[1])
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    dirty = sh("git", "status", "--porcelain", "--", "daemon", "client",
               "protocol", "include")
    return {"nproc": os.cpu_count(), "mem_gib": mem / 1048576,
            "cpu": model, "commit": sh("git", "rev-parse", "--short", "HEAD"),
            "dirty": len(dirty.splitlines()),
            "subject": sh("git", "log", "-1", "--format=%s"),
            "build_mtime": time.strftime(
                "%Y-%m-%d %H:%M UTC", time.gmtime(os.path.getmtime(
                    os.path.join(build, "dmfilemapd"))))}


def targets(D, sizes):
    rows = []

    def t(n, what, target, val, ok, text):
        if val is None and n not in sizes:
            rows.append([fmt_n(n), what, target, "—", "not measured",
                         "N=%s not in this run" % fmt_n(n)])
        elif val is None:
            rows.append([fmt_n(n), what, target, "—", "not measured",
                         text])
        else:
            rows.append([fmt_n(n), what, target, val,
                         "met" if ok else "**missed**", text])

    def cpu_why(d):
        i, f = get(d, "idle"), get(d, "files")
        if not i or not i.get("stats_list_per_s") or not f:
            return why_missing(d)
        regions = sum(int(k) * v for k, v in f["extents"].items())
        reread = ""
        # a build with Stats: it has the rolling re-read
        if get(d, "stats", "all_s") is not None:
            reread = (", and the rolling extent re-read: each file's "
                      "extents read again with FIEMAP once every 15 s, or "
                      "every N/334 s, at most 30 s (334 files/s at most; "
                      "≈ %.0f files/s here), which the idle figure now "
                      "includes" % reread_rate(d["n"], i.get("interval_ms")))
        return ("%.1f ms of CPU per interval, which has one pass: one "
                "@stats_list of the device's %s regions, then the checks%s "
                "(CPU is tick-sampled: one tick in the window is 0.1 %%)"
                % (i["cpu_s_per_10s"] * 100 / i["stats_list_per_s"],
                   fmt_n(regions), reread))

    def lat_trend():
        pts = ["N=%s: %.0f ms" % (fmt_n(n), get(D.get("b-sup-%d" % n),
                                               "latency", "median_ms"))
               for n in sizes if get(D.get("b-sup-%d" % n), "latency")]
        return "median by N: " + ", ".join(pts)

    s1, s10 = D.get("b-sup-1000"), D.get("b-sup-10000")
    def idle_targets(n, d, cpu_max, pss_mib):
        """The issue's idle CPU and PSS targets for N files."""
        c = get(d, "idle", "cpu_pct")
        t(n, "idle CPU", "≤ %s %% of one core" % cpu_max,
          None if c is None else "%.2f %%" % c,
          c is not None and c <= cpu_max, cpu_why(d))
        p = get(d, "idle", "pss_kib")
        t(n, "supervisor PSS", "≤ %d MiB" % pss_mib,
          None if p is None else "%.1f MiB" % (p / 1024),
          p is not None and p <= pss_mib * 1024,
          why_missing(d) if p is None else
          "%.1f KiB per monitored file" % (p / n))

    idle_targets(1000, s1, 0.5, 16)
    lat = get(s1, "latency")
    if lat:
        ok = lat["median_ms"] <= 100 and lat["p99_ms"] <= 500
        t(1000, "update latency", "median ≤ 100 ms, p99 ≤ 500 ms",
          "%.0f / %.0f ms" % (lat["median_ms"], lat["p99_ms"]), ok,
          "%s; the write and fsync took %.0f ms of it (median); p99 of "
          "%d samples is their maximum" % (lat_trend(),
                                           lat["fsync_median_ms"],
                                           lat["samples"]))
    else:
        t(1000, "update latency", "median ≤ 100 ms, p99 ≤ 500 ms", None,
          False, why_missing(s1))
    cv = get(s1, "converge")
    if cv:
        t(1000, "all N grow at once", "groups match within 5 s",
          "%.2f s" % cv["seconds"],
          not cv["timed_out"] and cv["seconds"] <= 5,
          "from the first write; writing and syncing the 1,000 appends "
          "took %.2f s of that" % cv["sync_s"])
    else:
        t(1000, "all N grow at once", "groups match within 5 s", None,
          False, why_missing(s1))
    idle_targets(10000, s10, 2, 64)
    r = get(D.get("b-sup-10000"), "reg_ctl")
    t(10000, "dmfilemapctl add", "10,000 in < 10 s",
      None if not r else "%.1f s" % r["seconds"],
      bool(r) and not r["timed_out"] and r["seconds"] < 10,
      why_missing(D.get("b-sup-10000")) if not r else
      "%s; %.2f ms a file, which creates its regions (one "
      "@stats_create each: %s in all) and reads its extents"
      % (r["mode"], r["seconds"] * 1000 / max(r["done"], 1),
         fmt_n(sum(int(k) * v for k, v in
                   (get(D.get("b-sup-10000"), "files", "extents")
                    or {}).items()))))
    return table(["N", "figure", "target", "measured", "verdict", "why"],
                 rows)


def base_10000_reason(D):
    """Why the baseline at 10,000 was not run, from what was measured."""
    for n in (1000, 100, 10):
        b = D.get("b-base-%d" % n)
        c = get(b, "idle", "cpu_pct")
        m = get(b, "idle", "procs")
        if c is None or not m:
            continue
        k = (10000 / m) ** 2
        return ("not run: 10,000 processes each listing ~19,000 regions per "
                "interval; that work grows as N² (%.1f %% of a core with %s "
                "processes → ≈ %s cores at 10,000; the guest has one CPU)"
                % (c, fmt_n(m), fmt_n(int(round(c * k / 100)))))
    return "10,000 processes polling one device: not feasible in the guest"


def plot(D, sizes, data_dir, out_png):
    series = {"sup": [], "base": []}
    for n in sizes:
        for d in ("sup", "base"):
            x = D.get("b-%s-%d" % (d, n))
            i = get(x, "idle")
            # a prefilled baseline runs a few processes against N files'
            # regions: neither its N nor its process count is an x for it
            if i and not get(x, "prefill"):
                # the baseline's x is the processes that ran (its
                # registration may have been cut short)
                x = i.get("procs", n) if d == "base" else n
                series[d].append((x, max(i["cpu_pct"], 0.05),
                                  i["pss_kib"] / 1024))
    for d, pts in series.items():
        with open(os.path.join(data_dir, "plot-%s.dat" % d), "w") as f:
            for p in pts:
                f.write("%d %g %g\n" % p)
    if not series["sup"] or subprocess.run(
            ["sh", "-c", "command -v gnuplot"],
            capture_output=True).returncode:
        return False
    gp = """
set terminal pngcairo size 1100,450 font ",10"
set output '{png}'
set multiplot layout 1,2 title "dmfilemap: one supervisor vs one dmfilemapd per file (UML guest, one dm device)"
set logscale xy
set grid
set key top left
set xlabel "files monitored (N)"
set xrange [5:20000]
set ylabel "idle CPU, % of one core (0 drawn at 0.05)"
set yrange [*:200]
plot '{d}/plot-sup.dat' u 1:2 w lp lw 2 pt 7 t 'supervisor', \\
     '{d}/plot-base.dat' u 1:2 w lp lw 2 pt 5 t 'baseline (per-process)'
set ylabel "PSS, MiB (sum over processes)"
set yrange [*:*]
plot '{d}/plot-sup.dat' u 1:3 w lp lw 2 pt 7 t 'supervisor', \\
     '{d}/plot-base.dat' u 1:3 w lp lw 2 pt 5 t 'baseline (per-process)'
unset multiplot
""".format(png=out_png, d=data_dir)
    if not series["base"]:
        gp = gp.replace(", \\\n     '%s/plot-base.dat' u 1:2 w lp lw 2 pt 5 "
                        "t 'baseline (per-process)'" % data_dir, "")
        gp = gp.replace(", \\\n     '%s/plot-base.dat' u 1:3 w lp lw 2 pt 5 "
                        "t 'baseline (per-process)'" % data_dir, "")
    r = subprocess.run(["gnuplot"], input=gp, text=True, capture_output=True)
    if r.returncode:
        r = subprocess.run(["gnuplot"], input=gp.replace(
            'pngcairo size 1100,450 font ",10"', "png size 1100,450"),
            text=True, capture_output=True)
    if r.returncode:
        print("report: gnuplot failed: " + r.stderr)
    return r.returncode == 0


def smoke_check(D, sizes, expected=None):
    """Every figure of every benchmark is a number (or the baseline is
    pending: the fallback is not in this build); of those in EXPECTED (the
    benchmarks the runs ran) if given. Returns the problems."""
    bad, warn = [], []
    for n in sizes:
        for d, keys in (("sup", SUP_KEYS), ("dms", DMS_KEYS),
                        ("base", BASE_KEYS)):
            name = "b-%s-%d" % (d, n)
            if expected is not None and name not in expected:
                continue
            x = D.get(name)
            if x is None:
                bad.append("%s: no data" % name)
                continue
            if d == "base" and x.get("status") == "pending":
                continue
            if x.get("status") != "done":
                bad.append("%s: status %s" % (name, x.get("status")))
            for k1, k2 in keys:
                v = get(x, k1, k2)
                if k1 == "ioctls" and v is None and get(x, "ioctls") and \
                        x.get("syslog_sink_ok"):
                    # the sink works (self-test) but the fallback processes
                    # logged no stop line: the product's doing, not ours
                    warn.append("%s: %d of %d fallback processes logged "
                                "their stop line" % (
                                    name, x["ioctls"]["reported"],
                                    x["ioctls"]["procs"]))
                    continue
                if not isinstance(v, (int, float)):
                    bad.append("%s: no %s.%s" % (name, k1, k2))
            mt = get(x, "metrics")
            if mt and mt.get("series_ok") is False:
                bad.append("%s: the metrics file has per-file series for "
                           "%s files, not the %s monitored"
                           % (name, mt.get("series_files"), mt.get("n")))
            if mt and mt.get("exit_status") not in (0, None):
                bad.append("%s: the metrics supervisor exited with %s on "
                           "SIGTERM" % (name, mt.get("exit_status")))
            if mt and isinstance(mt.get("fresh_files"), int) and \
                    mt["fresh_files"] < mt["n"]:
                warn.append("%s: the metrics file shows the new write of "
                            "%d of %d files" % (name, mt["fresh_files"],
                                                mt["n"]))
            st = get(x, "stats")
            for pre in ("all_", "each_"):
                if st and not st.get(pre + "files_ok"):
                    bad.append("%s: Stats (%s) returned %s files, not the "
                               "%s registered" % (name, pre.strip("_"),
                                                  st.get(pre + "files"),
                                                  st.get("n")))
    bad += report_io.smoke_check_io(D, expected if expected is not None
                                    else [k for k in D
                                          if report_io.is_io(k)])
    return bad, sorted(set(warn))


def read_runs(data):
    """(date, code, benchmarks) for each bench/run into DATA."""
    try:
        with open(os.path.join(data, "runs.log")) as f:
            return [tuple(x.strip() for x in line.split("\t", 2))
                    for line in f if line.count("\t") >= 2]
    except FileNotFoundError:
        return []


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--cmd", default="bench/run")
    ap.add_argument("--build", default="build")
    ap.add_argument("--repo", default=".")
    ap.add_argument("--sizes", default="10 100 1000 10000")
    ap.add_argument("--guest-mem", default="?")
    ap.add_argument("--disk", default="?")
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--code", default="",
                    help="what code was measured, if not the repo's HEAD")
    ap.add_argument("--io-out", default=None,
                    help="where RESULTS-io.md goes when b-fio's figures "
                         "are there (else --out)")
    a = ap.parse_args()
    sizes = [int(x) for x in a.sizes.split()]
    D = {}
    for p in glob.glob(os.path.join(a.data, "b-*.json")):
        with open(p) as f:
            d = json.load(f)
        D[d["name"]] = d
    H = host_facts(a.repo, a.build)
    any_d = next(iter(D.values()), {})
    sup_int = next((get(D[k], "idle", "interval_ms") for k in sorted(D)
                    if get(D[k], "idle", "interval_ms")), None)
    base_int = None
    for n in sizes:
        ioc = get(D.get("b-base-%d" % n), "ioctls")
        if ioc and ioc.get("stats_list_per_s"):
            # the smallest N: the least contended processes
            base_int = 1000 * ioc["reported"] / ioc["stats_list_per_s"]
            break
    os.makedirs(a.out, exist_ok=True)
    png = os.path.join(a.out, "results.png")
    have_png = plot(D, sizes, a.data, png)

    L = ["# dmfilemap benchmarks: one supervisor vs one process per file", ""]
    L.append("Generated by `%s` (`make bench`); do not edit by hand."
             % a.cmd)
    L.append("")
    L.append("- date: %s" % time.strftime("%Y-%m-%d %H:%M UTC",
                                           time.gmtime()))
    if a.code:
        L.append("- code: %s; binaries built %s" % (a.code, H["build_mtime"]))
    else:
        L.append("- code: commit %s (%s)%s; binaries built %s"
                 % (H["commit"], H["subject"],
                    ", with %d uncommitted changes in daemon/ client/ "
                    "protocol/ include/" % H["dirty"] if H["dirty"] else "",
                    H["build_mtime"]))
    runs = read_runs(a.data)
    if len(runs) > 1:
        L.append("- runs: %d, into one work dir (`bench/run --into`); a "
                 "later run's figures replace an earlier one's for the "
                 "benchmarks it ran: %s"
                 % (len(runs), "; ".join("%s, %s: %s" % r for r in runs)))
    L.append("- host: %d cores (`nproc`), %.1f GiB RAM, %s; shared and noisy"
             % (H["nproc"], H["mem_gib"], H["cpu"]))
    L.append("- guest: User-Mode Linux %s, one CPU, mem=%s, one dm linear "
             "device over a %s sparse disk, ext4"
             % (any_d.get("kernel", "?"), a.guest_mem, a.disk))
    L.append("- check interval: supervisor %s ms (`dmfilemapctl info`); "
             "baseline %s"
             % (sup_int or "?",
                "%.0f ms per process (from its counts)" % base_int
                if base_int else "?"))
    L.append("- baseline: `dmstats create --filemap` with "
             "`DMFILEMAP_SOCKET=/run/dmf-bench-none.sock "
             "DMFILEMAP_SUPERVISORD=/nonexistent`: the shim's fallback, one "
             "`dmfilemapd` process per file; `fs.inotify.max_user_instances` "
             "raised to N + 1024 in the guest for it (one inotify instance "
             "per process)")
    L.append("- files: N files of 1 MiB on one device, fallocated; every "
             "10th has 10 extents that are not physically adjacent (a 4 KiB "
             "hole punched every 100 KiB), checked with FIEMAP")
    L.append("")
    head = ["N", "files", "register: dmstats create --filemap",
            "register: dmfilemapctl add --create", "idle CPU-s / 10 s",
            "idle CPU, % of one core", "PSS MiB", "@stats_list/s",
            "other dm ioctls/s", "latency median ms", "latency p99 ms",
            "all N grow: groups match"]
    L.append("## Supervisor (one dmfilemap-supervisord)")
    L.append("")
    L.append(table(head + ["one @stats_list from the benchmark"],
                   [row_sup(n, D.get("b-sup-%d" % n),
                                  D.get("b-dms-%d" % n)) for n in sizes]))
    L.append("")
    L.append("## Stats call cost (supervisor)")
    L.append("")
    after = next((get(D.get("b-sup-%d" % n), "stats", "after_window_s")
                  for n in sizes
                  if get(D.get("b-sup-%d" % n), "stats", "after_window_s")),
                 5)
    head_st = STATS_HEAD[:-1] + [STATS_HEAD[-1] % after]
    L.append(table(head_st, [stats_row(n, D.get("b-sup-%d" % n))
                             for n in sizes]))
    L.append("")
    L.append("## Metrics file cost (supervisor with --metrics-dir)")
    L.append("")
    iv = next((get(D.get("b-sup-%d" % n), "metrics", "interval_s")
               for n in sizes
               if get(D.get("b-sup-%d" % n), "metrics", "interval_s")), 15)
    L.append("`--metrics-interval %s`: one interval is %s s." % (iv, iv))
    L.append("")
    L.append(table(METRICS_HEAD, [metrics_row(n, D.get("b-sup-%d" % n))
                                  for n in sizes]))
    L.append("")
    L.append("## Baseline (the shim's fallback: one dmfilemapd per file)")
    L.append("")
    rows = []
    for n in sizes:
        b = D.get("b-base-%d" % n)
        rows.append(row_base(n, b, base_10000_reason(D)
                             if b is None and n >= 10000 else None))
    L.append(table(head + ["processes"], rows))
    L.append("")
    L.append("## Baseline / supervisor")
    L.append("")
    rr, short = [], []
    pairs = ((("idle", "cpu_s_per_10s"), "sup", 0.01),
             (("idle", "pss_kib"), "sup", 1),
             (("ioctls", "stats_list_per_s"), ("idle", "stats_list_per_s"),
              0.1),
             (("latency", "median_ms"), "sup", 1),
             (("latency", "p99_ms"), "sup", 1),
             (("converge", "seconds"), "sup", 0.01))
    for n in sizes:
        b = D.get("b-base-%d" % n)
        row = [fmt_n(n)]
        for kb, ks, floor in pairs:
            if ks == "dms":
                sv = get(D.get("b-dms-%d" % n), *kb)
            else:
                sv = get(D.get("b-sup-%d" % n), *(kb if ks == "sup" else ks))
            r = ratio(get(b, *kb), sv, floor)
            if kb[0] == "converge" and get(b, "converge", "timed_out") \
                    and r != "—":   # the baseline's time is a lower bound
                r = "> %s (baseline cut off)" % r
            row.append(r)
        # registration: time per file (either may have been cut short)
        bp = get(b, "reg_dmstats", "per_s")
        sp = get(D.get("b-dms-%d" % n), "reg_dmstats", "per_s")
        row.append(ratio(1 / bp if bp else None, 1 / sp if sp else None,
                         0.01))
        rr.append(row)
        procs = get(b, "idle", "procs")
        if procs is not None and procs < n and get(b, "prefill"):
            short.append("N=%s: the baseline ran %s processes, not %s, on a "
                         "device holding all %s files' groups (%s): those "
                         "ratios understate it by about %s×, at least"
                         % (fmt_n(n), fmt_n(procs), fmt_n(n), fmt_n(n),
                            get(b, "reg_fallback", "why"),
                            fmt_n(int(n / procs))))
            pss = get(b, "idle", "pss_kib")
            if pss:
                short.append("N=%s: at the %.1f MiB PSS a fallback process "
                             "measured here, %s of them would need about "
                             "%.0f GiB of memory"
                             % (fmt_n(n), pss / procs / 1024, fmt_n(n),
                                pss / procs * n / 1024 / 1024))
        elif procs is not None and procs < n:
            short.append("N=%s: the baseline ran %s processes, not %s (its "
                         "registration ran out of time): those ratios "
                         "understate it" % (fmt_n(n), fmt_n(procs), fmt_n(n)))
    L.append(table(["N", "idle CPU", "PSS", "@stats_list/s",
                    "latency median", "latency p99", "all grow",
                    "register (dmstats), per file"], rr))
    L += [""] + ["- " + x for x in short] if short else []
    L.append("")
    L.append("## Targets (issue 3)")
    L.append("")
    L.append(targets(D, sizes))
    L.append("")
    L.append("## Targets (issue 16: 10,000 files as fast as 100)")
    L.append("")
    L.append(SCALE_INTRO)
    L.append("")
    L.append(report_scale.scale_targets(D, sizes))
    L.append("")
    IO = report_io.io_lines(D, a.data)
    L += IO
    L.append("## How it was measured")
    L.append("")
    L.append(METHOD)
    notes = [(k, n) for k in sorted(D) for n in D[k].get("notes", [])]
    if notes:
        L.append("")
        L.append("## Notes from this run")
        L.append("")
        L += ["- %s: %s" % (k, n) for k, n in notes]
    if have_png:
        L += ["", "![idle CPU and PSS against N](results.png)"]
    L.append("")
    with open(os.path.join(a.out, "RESULTS.md"), "w") as f:
        f.write("\n".join(L))
    with open(os.path.join(a.out, "results.json"), "w") as f:
        json.dump({"host": H, "runs": D}, f, indent=1, sort_keys=True)
    print("\n".join(L[:L.index("## How it was measured")]))
    print("report: wrote %s%s" % (os.path.join(a.out, "RESULTS.md"),
                                 " and results.png" if have_png else ""))
    if IO:
        io_dir = a.io_out if a.io_out and "b-fio" in D else a.out
        head = [x for x in L[:L.index("## Supervisor (one "
                                      "dmfilemap-supervisord)")]
                if not x.startswith(("- check interval", "- baseline:",
                                     "- files:", "# "))]
        while head and not head[0]:
            del head[0]
        io_notes = ["- %s: %s" % (k, n) for k in sorted(D)
                    if report_io.is_io(k) for n in D[k].get("notes", [])]
        doc = ["# dmfilemap: what monitoring costs a device's I/O "
               "(issue 16)", ""] + head + IO[2:]
        if io_notes:
            doc += ["## Notes from these runs", ""] + io_notes + [""]
        os.makedirs(io_dir, exist_ok=True)
        with open(os.path.join(io_dir, "RESULTS-io.md"), "w") as f:
            f.write("\n".join(doc))
        print("report: wrote %s" % os.path.join(io_dir, "RESULTS-io.md"))
    if a.smoke:
        expected = set()
        for r in runs:
            expected.update(r[2].split())
        bad, warn = smoke_check(D, sizes, expected or None)
        if not have_png and (not expected or any(
                x.startswith("b-sup-") for x in expected)):
            bad.append("no results.png")
        for w in warn:
            print("smoke: warning: " + w)
        for b in bad:
            print("smoke: MISSING " + b)
        if bad:
            return 1
        print("smoke: every figure present")
    return 0


SCALE_INTRO = """Each figure at 10,000 files (and the latency at 10) against the
target issue 16 set, with what this run measured of its cause:
- the dm ioctls the supervisor sent during the step, its passes (Info's
  `passes`: how many, and how many checked every monitor) and its CPU,
  user and system together (Info and /proc before and after; the guest
  charges much of its kernel's time in a process's ioctls to the
  process's user time, so the split says nothing of the kernel's share);
- what each kernel call costs with no regions on the device and with the
  benchmark's, timed by the benchmark itself one call at a time
  (`create_cost`): 200 `@stats_create` and `@stats_delete`, 200
  `@stats_set_aux` of the highest id (the kernel walks its id-sorted list
  to it, so an upper bound), 5 `@stats_list`, and a FIEMAP of each of up
  to 1,000 files (the daemon's kind, without a sync); the kernel's share
  of a step is each call the supervisor made at that cost, and its own
  work the rest of its CPU;
- for the latency, each sample on its own: its time, the supervisor's
  first event for the file, its passes, ioctls and CPU from before the
  write to the list that showed the group right."""

METHOD = """\
- Each row is one benchmark on a fresh dm device and ext4, in one guest, one
  after the other, each with a hard time limit; a cell that says "timed out
  at step X" or "killed at step X" ran out of it. Benchmarks report; they
  never fail on a timing. The one allowed 30 minutes or more (all 10,000
  files through dmstats) runs in a second guest at the same time (the host
  has 2 cores; each guest has one CPU).
- **baseline at 10,000**: 10,000 fallback processes cannot run in the
  guest (memory, and each lists ~19,000 regions twice a second). The
  supervisor makes a group for each of the 10,000 files
  (`dmfilemapctl add --create`) and lets them go (Remove keeps a group), so
  the device holds what 10,000 registrations leave; then the benchmark
  starts the fallback on those groups, one file after the other, with the
  command line dmstats gives it (`dmfilemapd FD GROUP PATH inode 0 1`, no
  supervisor reachable), for about 6 minutes or until the guest's memory
  runs low. Each new process waits for its first `@stats_list` behind
  those already running (the kernel serialises them), so starting them
  slows as they add up. Its row is for the processes that started; it is
  not plotted.
- The supervisor runs as deployed: `dmfilemap-supervisord -f`, at its
  default verbosity (warnings only; `-v` would log a line per registration
  and per update).
- **register**: wall time for all N files, one after the other:
  `dmstats -v create --filemap FILE` (Debian's dmstats exec'ing our shim
  from PATH, which hands the file to the supervisor, or in the baseline
  starts the per-file fallback; `-v` passes verbose 1 to dmfilemapd, without
  which the fallback logs no stop line), and `dmfilemapctl add --create
  FILE...` (2,500 files per invocation, as xargs would pass them; it sends
  up to 32 calls ahead of their replies). A registration cut short by the
  time budget says how far it got and its rate.
- **idle**: after registration settled (no dm ioctl but lists for 2 s), a
  10 s window: utime+stime from /proc/PID/stat (1 tick = 10 ms, so one
  tick in the window is 0.1 % of a core), PSS from /proc/PID/smaps_rollup
  at its end; for the baseline both are summed over the dmfilemapd
  processes. Supervisor ioctls: the daemon's own counters (`dmfilemapctl
  info --json`), delta over the window. Baseline ioctls: each process logs
  `stopped after T s: N @stats_list, M other dm ioctls` on SIGTERM (to
  /dev/log, read by the benchmark) at the very end; the table shows the
  sums of N/T and M/T over the processes. Those cover each process's whole
  life (registration, idle, latency and convergence): its lists are
  periodic whatever happens, but its "other" ioctls include the updates
  the latency and convergence steps caused.
- **Stats** (supervisor, after the idle window, so that its figures do
  not include it): `io.dmfilemap.Supervisor.Stats` over all N files,
  first as one call with no parameters (three times; the median is
  shown, each time in brackets), then as N calls naming one path each,
  sent on one connection 32 ahead of their replies; wall time from the
  connect to the last reply decoded in the benchmark's Python (so the
  decoding of the one long reply is in it). The dm ioctls are the
  daemon's counters (an Info call before and after each): the Stats
  method sends one `@stats_print` per region; "other" is every other
  ioctl but the periodic `@stats_list`. Then a window (5 s) as the idle
  one: its `@stats_list` and other ioctl rates, next to the idle ones,
  show whether the calls left the supervisor's polling as it was.
- With a supervisor that has Stats, the idle CPU also includes its
  rolling extent re-read: every file's extents are read again with one
  FIEMAP (no sync unless the extents changed) once every 15 s, or every
  N/334 s with N files, at most 30 s (334 files/s at most), spread over
  the passes.
- **metrics** (supervisor, after the Stats step): the supervisor being
  measured is left alone; a second one, on its own socket and a copy of
  the first's state file, re-adopts the same N files (same groups on the
  same device), as a restart with the option would: `dmfilemap-supervisord
  -f --socket S --state COPY --metrics-dir /run/dmf-bench-metrics
  --metrics-interval 15` (tmpfs; no fsync is made by the writer, so a disk
  filesystem's page cache costs about the same). Once it answers (it has
  written the file once, at start), the benchmark writes 4 KiB with
  O_DIRECT at offset 0 of every file (allocated already: no extent
  changes, one write counted by dm-stats each). The window is one full
  interval, from the file's second write (seen by polling its inode every
  10 ms) to its third: the second supervisor's utime+stime, minus the
  idle rate of the idle step (the first supervisor, same N, no metrics)
  over the window, is the metrics' cost per interval (its counter reads,
  one `@stats_print` per region, and one write of the file); the first
  supervisor's CPU over the same window is shown as a control. Its
  `@stats_print` are Info's counters at both ends. From the third write's
  file: its size, the per-file series (each family must have N samples,
  one per monitored path), its own `dmfilemap_metrics_write_duration_seconds`
  (the write before it, which built and wrote the same text), and how
  many files' `dmfilemap_file_writes_completed_total` is above 0, i.e.
  were read since the marking write (about two intervals earlier). Then
  SIGTERM (it must exit 0); `fs.inotify.max_user_watches` is raised to
  4N + 65536 in the guest if lower, for its watches.
- **latency**: for min(N, 50) files chosen at random, one at a time: write
  4 KiB one block past the end (a new extent, not adjacent), fsync, then
  poll the kernel's `@stats_list` (an ioctl from the benchmark, every 5 ms
  or three times the list's own time, whichever is longer: the guest has one
  CPU) until the file's group (found by its alias) covers exactly the file's
  extents (FIEMAP, adjacent extents merged, as the daemon plans them).
  Timed from just before the write. p99 of 50 samples is their maximum.
- **all N grow**: one process appends 4 KiB one block past the end of every
  file (write and close, no fsync; one sync() at the end), then polls
  `@stats_list` every 0.1 s (or twice the time one check takes) until every group matches its file; timed from
  the first write."""


if __name__ == "__main__":
    raise SystemExit(main())
