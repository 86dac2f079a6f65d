#!/usr/bin/env python3
# report_io.py: the I/O cost section (issue 16) of bench/report.py, from
# b-fio and b-stall-VIA-N (bench/bench.py): a section of RESULTS.md and,
# on its own, RESULTS-io.md.
"""What dm-stats regions cost a device's random reads (b-fio) and what a
reader sees while files are registered (b-stall-sup-N, b-stall-base-N)."""
import calendar
import os
import statistics
import time

from reportlib import fmt_n, table


def is_io(name):
    return name == "b-fio" or name.startswith("b-stall-")


def stall_names(D):
    """(supervisor's, baseline's) stall benchmark names, largest N."""
    def best(via):
        xs = [k for k in D if k.startswith("b-stall-%s-" % via)]
        return max(xs, key=lambda k: int(k.rsplit("-", 1)[1])) if xs \
            else None
    return best("sup"), best("base")


def status_why(d):
    if d is None:
        return "not run"
    st = d.get("status", "")
    if st == "running":
        return "killed at step %s (hard timeout)" % d.get("step")
    if st.startswith("error"):
        return "harness error (%s)" % d.get("step")
    return st or "—"


def us(v):
    if not isinstance(v, (int, float)):
        return "—"
    return "%.0f µs" % v if v < 10000 else "%.1f ms" % (v / 1000)


def ms(v):
    if not isinstance(v, (int, float)):
        return "—"
    if v >= 1000:
        return "%.2f s" % (v / 1000)
    return "%.1f ms" % v if v >= 10 else "%.2f ms" % v


def plural(n, word):
    return "%s %s%s" % (fmt_n(n), word, "" if n == 1 else "s")


def points(fio):
    return {p["key"]: p for p in (fio or {}).get("fio_points", [])}


def iops(p, k):
    x = (p or {}).get(k)
    return x["iops"] if x else None


def corrected(p, base, k):
    """P's IOPS at K, corrected by the control device: its IOPS over the
    control's at the same time, times the control's at BASE."""
    c, c0 = iops(p, "ctrl_qd1"), iops(base, "ctrl_qd1")
    v = iops(p, k)
    if not (c and c0 and v):
        return None
    return v * c0 / c


def ratio(p, base, k, corr=False):
    v = corrected(p, base, k) if corr else iops(p, k)
    b = iops(base, k)
    return v / b if v and b else None


def added_us(p, base, k):
    """µs added to each read at P against BASE (control-corrected when
    the control ran)."""
    v = corrected(p, base, k) or iops(p, k)
    b = iops(base, k)
    return 1e6 / v - 1e6 / b if v and b else None


def added_cell(p, base):
    a = added_us(p, base, "qd1") if p and base and p is not base else None
    if a is None or not p.get("regions"):
        return "—"
    return "%+.0f µs (%+.0f µs)" % (a, a * 1000 / p["regions"])


def layout_name(p, fio):
    if p["key"] == "ext1":
        return "1 extent a file"
    if p["key"] == "ext2":
        return "2 extents a file"
    return "%s files, the bench's layout" % fmt_n(p["files"])


def ratio_cell(p, base, corr=False):
    if not p or not base or "qd1" not in p or "qd1" not in base:
        return "—"
    out = []
    for k in ("qd1", "qd32"):
        v = corrected(p, base, k) if corr else iops(p, k)
        b = iops(base, k)
        out.append("%.2f" % (v / b) if v and b else "—")
    return " / ".join(out)


def regions_cell(p):
    files = p["files"]
    f = "no files" if not files else "%s files" % fmt_n(files)
    if p["reads"] == "monitored":
        f = "the file fio reads" if not files else \
            f + " + the file fio reads"
    return "%s (%s)" % (fmt_n(p["regions"]), f) if "regions" in p else f


def fio_row(p, base, first):
    if p.get("skipped"):
        return [regions_cell(p), p["reads"], "not measured: %s"
                % p["skipped"]] + ["—"] * 8
    c = p.get("ctrl_qd1")
    cpu = p.get("sup_cpu_pct")
    return [regions_cell(p),
            "a monitored file (%s)" % plural(p["covering_target"], "region")
            if p["reads"] == "monitored" else "a file no region covers",
            fmt_n(int(round(p["qd1"]["iops"]))), us(p["qd1"]["p99_us"]),
            fmt_n(int(round(p["qd32"]["iops"]))), us(p["qd32"]["p99_us"]),
            "1 (the reference)" if first else ratio_cell(p, base),
            fmt_n(int(round(c["iops"]))) if c else "—",
            "1 (the reference)" if first else ratio_cell(p, base, True),
            "—" if first else added_cell(p, base),
            "%.2f %%" % cpu if isinstance(cpu, (int, float)) else "—"]


FIO_HEAD = ["regions (files)", "fio reads", "QD1 IOPS", "QD1 p99",
            "QD32 IOPS", "QD32 p99", "ratio to no regions (QD1 / QD32)",
            "control device, QD1 IOPS (no regions, run in between)",
            "ratio, corrected by the control (QD1 / QD32)",
            "added to each QD1 read, corrected (per 1,000 regions)",
            "supervisor CPU during the runs"]


def load_during(data, d):
    """The host's 1-minute load average over benchmark D's run (bench/run
    samples it every 15 s): (samples, min, median, max) or None."""
    try:
        t0 = calendar.timegm(time.strptime(d["started"],
                                           "%Y-%m-%d %H:%M:%S UTC"))
    except (KeyError, ValueError):
        return None
    t1 = t0 + (d.get("seconds") or 1e9)
    vals = []
    try:
        with open(os.path.join(data, "host-load.log")) as f:
            for line in f:
                x = line.split()
                if len(x) >= 2 and t0 <= int(x[0]) <= t1:
                    vals.append(float(x[1]))
    except (FileNotFoundError, ValueError):
        return None
    if not vals:
        return None
    return len(vals), min(vals), statistics.median(vals), max(vals)


def load_text(data, name, d):
    ld = load_during(data, d) if d else None
    if not ld:
        return "%s: no host load samples" % name
    n, lo, med, hi = ld
    return "%s %.2f–%.2f (median %.2f, %d samples every 15 s, 1-minute " \
        "load average on %d cores)" % (name, lo, hi, med, n, os.cpu_count())


def minutes(s):
    return "%.1f min" % (s / 60) if s >= 90 else "%.0f s" % s


def fio_section(D, data):
    """Markdown lines: the b-fio tables and what they say."""
    fio = D.get("b-fio")
    L = ["### Random reads against the region count (b-fio)", ""]
    P = points(fio)
    if not P:
        L.append("Not measured: %s." % status_why(fio))
        return L
    st = fio.get("fio_setup", {})
    base = P.get("n0")
    files = fio.get("files") or {}
    hist = ", ".join("%s × %s extents" % (fmt_n(v), k) for k, v in sorted(
        (files.get("extents") or {}).items(), key=lambda x: int(x[0])))
    L.append("fio %s (`--rw=randread --bs=4k --direct=1 --ioengine=libaio`, "
             "QD1 and QD32, `--ramp_time=%g --runtime=%g --time_based`) on a "
             "%d MiB written file on the dm device, with the regions of the "
             "monitored files (the bench's 1 MiB files, %s; registered with "
             "`dmfilemapctl add --create`); the region count is the "
             "kernel's (`@stats_list` rows). Each figure is the median of "
             "%d runs; the control device (a dm linear with no regions over "
             "the guest's second disk) ran QD1 for %g s after each QD1+QD32 "
             "pair, so that a change in the host's load shows in it too."
             % (st.get("fio", "fio"), st.get("ramp_s", 0),
                st.get("runtime_s", 0), st.get("file_mib", 0), hist or "?",
                st.get("reps", 0), st.get("control_runtime_s", 0)))
    L.append("")
    order = [k for k in P if k.startswith("n") or k.startswith("mon")]
    rows = [fio_row(P[k], base, k == "n0") for k in order]
    L.append(table(FIO_HEAD, rows))
    L.append("")
    lay = [P[k] for k in ("ext1", "n%d" % fio.get("n", 0), "ext2")
           if k in P and not P[k].get("skipped")]
    if "ext1" in P or "ext2" in P:
        L.append("At %s files, laid out three ways (the same reads, from "
                 "the file no region covers):" % fmt_n(fio.get("n", 0)))
        L.append("")
        names = {"ext1": "1 extent each",
                 "ext2": "2 extents each (a 4 KiB hole punched in the "
                         "middle; the supervisor followed)",
                 "n%d" % fio.get("n", 0): "the bench's: every 10th with 10 "
                                          "extents"}
        lrows = []
        for k in ("ext1", "n%d" % fio.get("n", 0), "ext2"):
            p = P.get(k)
            if not p:
                continue
            if p.get("skipped"):
                lrows.append([names[k], "not measured: %s" % p["skipped"]]
                             + ["—"] * 7)
                continue
            lrows.append([names[k], fmt_n(p["regions"]),
                          fmt_n(int(round(p["qd1"]["iops"]))),
                          us(p["qd1"]["p99_us"]),
                          fmt_n(int(round(p["qd32"]["iops"]))),
                          us(p["qd32"]["p99_us"]), ratio_cell(p, base),
                          ratio_cell(p, base, True), added_cell(p, base)])
        L.append(table(["layout", "regions", "QD1 IOPS", "QD1 p99",
                        "QD32 IOPS", "QD32 p99",
                        "ratio to no regions (QD1 / QD32)",
                        "corrected by the control",
                        "added to each QD1 read, corrected (per 1,000 "
                        "regions)"], lrows))
        L.append("")
    # what it says
    say = []
    unmon = [p for k, p in P.items() if not p.get("skipped")
             and p["reads"] == "unmonitored" and "qd1" in p]
    big = sorted((p for p in unmon if p["regions"] >= 5000 and base
                  and p is not base), key=lambda p: p["regions"])
    small = sorted((p for p in unmon if 0 < p["regions"] < 5000 and base),
                   key=lambda p: p["regions"])
    ctrl = [r["iops"] for p in P.values()
            for r in (p.get("ctrl_qd1") or {}).get("runs", [])]
    if big:
        parts, per_us, per_pct = [], [], []
        for p in big:
            c = added_us(p, base, "qd1")
            r1 = ratio(p, base, "qd1", True)
            r32 = ratio(p, base, "qd32", True)
            parts.append("%s regions (%s): %.0f %% / %.0f %%"
                         % (fmt_n(p["regions"]), layout_name(p, fio),
                            100 * r1, 100 * r32))
            per_us.append(c * 1000 / p["regions"])
            per_pct.append(100 * (1 - r1) * 1000 / p["regions"])
        say.append(
            "**In UML, the device kept this share of its 4 KiB random-read "
            "IOPS (QD1 / QD32, corrected by the control)**: %s. So at "
            "these counts each 1,000 regions cost about %.0f–%.0f %% of "
            "the device's no-region QD1 IOPS (the share lost over the "
            "count), and added %.0f–%.0f µs to every read (%.0f–%.0f ns a "
            "region; with no regions a read takes %s here). The cost per "
            "region grew with the count, so a linear rule is only a rough "
            "guide. The regions of files nobody reads cost every I/O on "
            "the device alike."
            % ("; ".join(parts), min(per_pct), max(per_pct), min(per_us),
               max(per_us), min(per_us), max(per_us),
               us(1e6 / iops(base, "qd1"))))
    if small:
        say.append(
            "At %s regions the difference was within the host's noise: "
            "%s (QD1, raw and corrected by the control), while the "
            "control device's own QD1 runs ranged from %s to %s IOPS over "
            "the step."
            % (" and ".join(fmt_n(p["regions"]) for p in small),
               "; ".join("%s: %.2f and %.2f" % (
                   fmt_n(p["regions"]), ratio(p, base, "qd1"),
                   ratio(p, base, "qd1", True)) for p in small),
               fmt_n(int(min(ctrl))) if ctrl else "?",
               fmt_n(int(max(ctrl))) if ctrl else "?"))
    top = P.get("n%d" % fio.get("n", 0))
    if top and base and "qd1" in top and top is not base:
        say.append(
            "The %s regions of %s monitored files (the bench's layout) "
            "leave the device %.0f %% of its QD1 IOPS and %.0f %% of its "
            "QD32 IOPS (%.0f %% and %.0f %% corrected by the control); "
            "p99 went from %s to %s at QD1 and from %s to %s at QD32."
            % (fmt_n(top["regions"]), fmt_n(top["files"]),
               100 * iops(top, "qd1") / iops(base, "qd1"),
               100 * iops(top, "qd32") / iops(base, "qd32"),
               100 * (corrected(top, base, "qd1") or 0) / iops(base, "qd1"),
               100 * (corrected(top, base, "qd32") or 0) /
               iops(base, "qd32"),
               us(base["qd1"]["p99_us"]), us(top["qd1"]["p99_us"]),
               us(base["qd32"]["p99_us"]), us(top["qd32"]["p99_us"])))
    e1, e2 = P.get("ext1"), P.get("ext2")
    if e1 and e2 and "qd1" in e1 and "qd1" in e2:
        say.append(
            "Region count against IOPS at the same number of files: %s "
            "files of 1 extent each (%s regions) read at %s IOPS (QD1) "
            "and %s (QD32); of 2 extents each (%s regions), at %s and %s: "
            "the second extent's regions took %.0f %% of QD1 IOPS and "
            "%.0f %% of QD32 (%.0f %% and %.0f %% corrected by the "
            "control). What lowers the count: the supervisor already makes "
            "one region of physically adjacent extents; a file "
            "defragmented (`e4defrag`, `xfs_fsr`) or allocated whole "
            "(`fallocate`) has fewer extents; and only the device's own "
            "regions are walked, so monitored files on a device of their "
            "own cost the other devices' I/O nothing."
            % (fmt_n(e1["files"]), fmt_n(e1["regions"]),
               fmt_n(int(iops(e1, "qd1"))), fmt_n(int(iops(e1, "qd32"))),
               fmt_n(e2["regions"]), fmt_n(int(iops(e2, "qd1"))),
               fmt_n(int(iops(e2, "qd32"))),
               100 * (1 - iops(e2, "qd1") / iops(e1, "qd1")),
               100 * (1 - iops(e2, "qd32") / iops(e1, "qd32")),
               100 * (1 - (corrected(e2, base, "qd1") or 0) /
                      (corrected(e1, base, "qd1") or 1)),
               100 * (1 - (corrected(e2, base, "qd32") or 0) /
                      (corrected(e1, base, "qd32") or 1))))
    if e2 and top and "qd1" in e2 and "qd1" in top and top is not base \
            and e2["regions"] >= top["regions"]:
        a2, at = added_us(e2, base, "qd1"), added_us(top, base, "qd1")
        if a2 and at:
            say.append(
                "Per region, the %s regions after the holes (the "
                "supervisor deleted %s and created %s while following the "
                "files) cost %.0f ns a read, the %s made in one go (the "
                "bench's layout) %.0f ns: regions made by churn cost more "
                "than as many made at once; we think the walk's memory "
                "locality (list nodes scattered over more pages), which "
                "this does not measure."
                % (fmt_n(e2["regions"]), fmt_n(e1["regions"]) if e1 else "?",
                   fmt_n(e2["regions"]), 1000 * a2 / e2["regions"],
                   fmt_n(top["regions"]), 1000 * at / top["regions"]))
    cpus = [(p["sup_cpu_pct"], p["files"]) for p in P.values()
            if isinstance(p.get("sup_cpu_pct"), (int, float))]
    if cpus:
        mx = max(cpus)
        say.append(
            "The guest charged the supervisor at most %.1f %% of its CPU "
            "during the runs (at %s files; it lists the device's regions "
            "every interval). UML charges interrupt work (such as the "
            "completion half of the walk for fio's reads) and the host's "
            "preemption of the guest to whichever process is running, so "
            "that overstates the supervisor's own share; the control ran "
            "alongside it, so the corrected ratios take out whatever share "
            "it had."
            % (mx[0], fmt_n(mx[1])))
    for k in sorted((k for k in P if k.startswith("mon")),
                    key=lambda k: int(k[3:])):
        m, u = P[k], P.get("n" + k[3:])
        if m.get("skipped") or not u or "qd1" not in m or "qd1" not in u:
            continue
        say.append(
            "At %s files, reading a monitored file (dm-stats counts each "
            "read in its region) instead of one no region covers: QD1 "
            "%.2f×, QD32 %.2f× the IOPS (%.2f× and %.2f× corrected by the "
            "control; p99 %s → %s at QD1): %s"
            % (fmt_n(m["files"]), iops(m, "qd1") / iops(u, "qd1"),
               iops(m, "qd32") / iops(u, "qd32"),
               (corrected(m, base, "qd1") or 0) /
               (corrected(u, base, "qd1") or 1),
               (corrected(m, base, "qd32") or 0) /
               (corrected(u, base, "qd32") or 1),
               us(u["qd1"]["p99_us"]), us(m["qd1"]["p99_us"]),
               "within this host's noise: the accounting in the one "
               "matching region does not show next to the walk over the "
               "others." if abs(iops(m, "qd1") / iops(u, "qd1") - 1) < 0.2
               else "the difference is the accounting in the matching "
               "region, on top of the same walk (or the host's noise)."))
    if base and "qd1" in base:
        say.append(
            "**UML's absolute figures are not a real disk's.** The guest's "
            "disk is a sparse file in the host's page cache, read through "
            "UML's ubd driver, and every system call in the guest is a "
            "ptrace round trip through the host: a 4 KiB read takes about "
            "%s at QD1 here with no regions. Read the ratios, not the IOPS. "
            "The walk itself is the guest kernel's own CPU work, which UML "
            "runs natively, so its µs per region are likely nearer a real "
            "machine's than the IOPS are (not measured here); on a device "
            "whose reads take a few µs, the same µs are a larger share of "
            "each read than in UML. UML's disk serves one request at a "
            "time (one host thread): QD32 queues rather than runs in "
            "parallel, and its p99 is mostly that queue."
            % us(1e6 / iops(base, "qd1")))
    for s in say:
        L += ["- " + s]
    L.append("")
    # how long it took
    secs = fio.get("seconds")
    fio_s = sum(p.get("seconds", 0) for p in P.values())
    runs = sum(len((p.get(k) or {}).get("runs", [])) for p in P.values()
               for k in ("qd1", "qd32", "ctrl_qd1"))
    reg = fio.get("fio_reg", {})
    parts = ["%s files added in %.1f s" % (fmt_n(v["added"]), v["seconds"])
             for _, v in sorted(reg.items(), key=lambda x: int(x[0]))]
    rm = fio.get("fio_remove")
    if rm:
        parts.append("%s monitors removed with their regions in %.1f s"
                     % (fmt_n(rm["monitors"]), rm["seconds"]))
    l2 = fio.get("fio_layout_2")
    if l2:
        parts.append("after the holes were punched, %s of %s groups "
                     "followed in %.1f s" % (fmt_n(l2["matched"]),
                                             fmt_n(l2["n"]), l2["seconds"]))
    L.append("b-fio took %s in all (%s); its %d fio runs %s of that; %s. "
             "Status: %s."
             % (minutes(secs) if secs else "?", load_text(data, "host load",
                                                          fio),
                runs, minutes(fio_s), "; ".join(parts) or "—",
                fio.get("status")))
    L.append("")
    return L


STALL_HEAD = ["registration by", "window", "length", "reads (expected)",
              "worst", "p99", "p99.9", "median", "reads > 10 ms",
              "> 100 ms", "> 1 s"]


def stall_rows(name, d, who):
    if d is None:
        return [[who, "not run"] + ["—"] * 9]
    S = d.get("stall") or {}
    n = d.get("n")
    rows = []
    reg = d.get("reg_ctl") or d.get("reg_dmstats")
    regtxt = "registering %s files" % fmt_n(n)
    done = reg["done"] if reg else n
    if reg:
        regtxt += " (%s%.1f s)" % (
            "stopped after %s files: " % fmt_n(reg["done"])
            if reg.get("timed_out") else "", reg["seconds"])
    for key, what in (("idle_before", "idle before (no regions)"),
                      ("register", regtxt),
                      ("idle_after", "idle after (%s monitored)"
                       % fmt_n(done))):
        w = S.get(key)
        if not w:
            rows.append([who, what, status_why(d)] + ["—"] * 8)
            continue
        rows.append([who, what, "%.1f s" % w["window_s"],
                     "%s (%s)" % (fmt_n(w["reads"]),
                                  fmt_n(w["expected_reads"])),
                     "**%s**" % ms(w.get("worst_ms")), ms(w.get("p99_ms")),
                     ms(w.get("p999_ms")), ms(w.get("median_ms")),
                     fmt_n(w.get("over_10ms", 0)),
                     fmt_n(w.get("over_100ms", 0)),
                     fmt_n(w.get("over_1s", 0))])
    return rows


def stall_section(D, data):
    sn, bn = stall_names(D)
    L = ["### A reader's latency while files are registered (b-stall)", ""]
    if not sn and not bn:
        L.append("Not measured (no b-stall-sup-N or b-stall-base-N in this "
                 "run).")
        return L
    s, b = D.get(sn) if sn else None, D.get(bn) if bn else None
    st = (s or b).get("stall_setup", {})
    L.append("A reader on the device: fio, one 4 KiB O_DIRECT read at a "
             "time (`--ioengine=psync`) at %s reads a second "
             "(`--rate_iops`) from a file no region covers, every read's "
             "latency logged (`--write_lat_log --log_unix_epoch=1`); a "
             "window's figures are over the reads that overlap it. The "
             "supervisor registers with `dmfilemapctl add --create` (as "
             "b-sup-N), the baseline with `dmstats -v create --filemap` "
             "and no supervisor reachable, one `dmfilemapd` per file (as "
             "b-base-N); each on a fresh device and filesystem, with %s s "
             "idle windows before (no regions) and after."
             % (st.get("rate", "?"), st.get("idle_s", "?")))
    L.append("")
    rows = stall_rows(sn, s, "supervisor") + \
        stall_rows(bn, b, "baseline (one process per file)")
    L.append(table(STALL_HEAD, rows))
    L.append("")
    say = []
    sr = ((s or {}).get("stall") or {}).get("register") or {}
    br = ((b or {}).get("stall") or {}).get("register") or {}
    if sr.get("worst_ms") and br.get("worst_ms"):
        rs, rb = s.get("reg_ctl") or {}, b.get("reg_dmstats") or {}
        say.append(
            "**Registration stalls: while the supervisor registered %s "
            "files (%s), the reader's worst read took %s; while the "
            "baseline registered %s (%s), %s (%.0f×)**; p99 %s and %s "
            "(%.1f×); reads over 100 ms: %s and %s, over 1 s: %s and %s. "
            "The baseline's window is %.0f× as long, so it holds more reads "
            "to be the worst of; the counts of slow reads are the fairer "
            "comparison."
            % (fmt_n(rs.get("done", s["n"])),
               "%.1f s" % rs["seconds"] if rs else "?", ms(sr["worst_ms"]),
               "%s of %s files, stopped by the time budget" % (
                   fmt_n(rb["done"]), fmt_n(b["n"]))
               if rb.get("timed_out") else "%s files" % fmt_n(b["n"]),
               minutes(rb["seconds"]) if rb else "?", ms(br["worst_ms"]),
               br["worst_ms"] / sr["worst_ms"], ms(sr["p99_ms"]),
               ms(br["p99_ms"]), br["p99_ms"] / max(sr["p99_ms"], 1e-6),
               fmt_n(sr.get("over_100ms", 0)), fmt_n(br.get("over_100ms", 0)),
               fmt_n(sr.get("over_1s", 0)), fmt_n(br.get("over_1s", 0)),
               br["window_s"] / max(sr["window_s"], 1e-6)))
    for d, who in ((s, "supervisor"), (b, "baseline")):
        S = (d or {}).get("stall") or {}
        i0, rg, i1 = S.get("idle_before"), S.get("register"), \
            S.get("idle_after")
        if i0 and rg and i0.get("worst_ms") and rg.get("worst_ms"):
            say.append(
                "%s: worst %s idle before, %s during registration "
                "(%.2f× the idle worst), %s idle after; the worst reads during "
                "registration, at seconds from its start: %s."
                % (who, ms(i0["worst_ms"]), ms(rg["worst_ms"]),
                   rg["worst_ms"] / i0["worst_ms"],
                   ms((i1 or {}).get("worst_ms")),
                   ", ".join("%.1f s: %s" % (t, ms(v))
                             for t, v in rg.get("worst", [])[:5])))
    say.append("The idle windows' worst (tens of ms) is the noise floor of "
               "a UML guest on the shared host (the guest is descheduled "
               "by the host), not dm-stats's doing. The guest has one CPU: "
               "a read's latency includes the wait for that CPU while the "
               "registering processes (and, for the baseline, the fallback "
               "processes' periodic lists) run. And for every region "
               "created the kernel pauses the device's I/O (dm-stats waits "
               "for the I/O in flight so that the new region's counts are "
               "exact); reading the kernel's dm_stats_create, that pause "
               "also lasts while the creator waits for the stats mutex "
               "that every `@stats_list` takes, which hundreds of fallback "
               "processes listing keep busy: our explanation of the "
               "baseline's stalls of seconds, not measured apart.")
    for x in say:
        L.append("- " + x)
    L.append("")
    for d, nm in ((s, sn), (b, bn)):
        if d:
            L.append("- %s took %s; %s. Status: %s."
                     % (nm, minutes(d.get("seconds") or 0),
                        load_text(data, "host load", d), d.get("status")))
    L.append("")
    return L


IO_METHOD = """\
- **regions** are real monitored files' regions, registered with the
  supervisor (`dmfilemapctl add --create`, 2,500 files an invocation) and
  added to between the points: 0, then the first 100 files, then up to
  1,000, then up to 10,000; the count shown is the kernel's (`@stats_list`
  rows), taken once the supervisor had sent no dm ioctl but its periodic
  lists for 2 s. The supervisor runs and polls as deployed during the fio
  runs (its CPU is shown).
- **the file fio reads** is written (a read of a fallocated, unwritten
  extent makes no I/O), and no region covers it (checked against
  `@stats_list` at every point), so the figures are the cost of dm-stats's
  walk: `dm_stats_account_io` visits every region of the device for each
  bio, at its start and at its end, whatever the bio's sector. The
  **monitored** row registers that file too (one more group), measures, and
  removes it with its regions.
- **layouts**: at the largest N every monitor is removed with its group
  (`Remove` with `delete_group`), the files deleted, N new 1 MiB files
  fallocated whole (1 extent each) registered and measured; then a 4 KiB
  hole is punched in the middle of each (2 extents, not physically
  adjacent), the supervisor follows (the table's region count is after it
  did), and measured again.
- **control**: a dm linear device over the guest's second disk with no
  regions, read by fio at QD1 after each QD1+QD32 pair; "corrected by the
  control" scales a point's IOPS by the control's IOPS at the first point
  over its IOPS at this one, which takes out a change in the host's load
  between points (not within a run).
- **the host was shared**: 2 cores, with other engineers' UML kernel
  tests running at the same time; the host's load average is sampled
  every 15 s by bench/run and shown for each step. Each figure is a median
  of runs made back to back.
- **stalls**: see the table's own paragraph; the reader's rate is low so
  that it does not itself load the one guest CPU; a paced read that waits
  has the reads after it issued at once, so a stall shows as one slow read
  and no gap."""


def io_lines(D, data):
    """The section for RESULTS.md (also the body of RESULTS-io.md)."""
    if not any(is_io(k) for k in D):
        return []
    L = ["## I/O cost of monitoring (issue 16)", ""]
    L += fio_section(D, data)
    L += stall_section(D, data)
    L.append("### How the I/O cost was measured")
    L.append("")
    L.append(IO_METHOD)
    L.append("")
    return L


def smoke_check_io(D, expected):
    """Missing figures of the I/O benchmarks named in EXPECTED."""
    bad = []
    for name in sorted(x for x in expected if is_io(x)):
        d = D.get(name)
        if d is None:
            bad.append("%s: no data" % name)
            continue
        if name.startswith("b-stall-base-") and d.get("status") == "pending":
            continue
        if d.get("status") != "done":
            bad.append("%s: status %s" % (name, d.get("status")))
        if name == "b-fio":
            P = points(d)
            want = ["n%d" % n for n in d.get("fio_setup", {}).get("sizes",
                                                                  [])]
            want += ["mon%d" % n for n in
                     d.get("fio_setup", {}).get("monitored_at", [])]
            if d.get("fio_setup", {}).get("layouts") and d.get("n"):
                want += ["ext1", "ext2"]
            for k in want:
                p = P.get(k)
                if not p:
                    bad.append("b-fio: no point %s" % k)
                    continue
                for q in ["qd1", "qd32"] + (
                        ["ctrl_qd1"] if d.get("control") else []):
                    for f in ("iops", "p99_us"):
                        if not isinstance((p.get(q) or {}).get(f),
                                          (int, float)):
                            bad.append("b-fio %s: no %s %s" % (k, q, f))
                if not isinstance(p.get("regions"), int):
                    bad.append("b-fio %s: no region count" % k)
        else:
            S = d.get("stall") or {}
            for key in ("idle_before", "register", "idle_after"):
                for f in ("worst_ms", "p99_ms"):
                    if not isinstance((S.get(key) or {}).get(f),
                                      (int, float)):
                        bad.append("%s: no %s.%s" % (name, key, f))
    return bad
