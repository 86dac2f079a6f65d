# report_scale.py: the scale targets (issue 16) of bench/report.py: each
# figure at 10,000 files against its target, with what the run measured
# of its cause (ioctls, CPU split, the kernel's cost per region).
"""The "Targets (issue 16)" section of RESULTS.md."""
from reportlib import fmt_n, get, reread_rate, table, why_missing

IOCTL_NAMES = ("stats_create", "stats_set_aux", "stats_delete",
               "stats_list", "stats_print")


def ioctl_text(io, per=1):
    """'19,000 @stats_create, 1,000 @stats_set_aux, ...' (divided by
    PER), the kinds in IOCTL_NAMES that are there."""
    parts = []
    for k in IOCTL_NAMES:
        v = (io or {}).get(k, 0)
        if v:
            parts.append(("%s @%s" % (fmt_n(v), k)) if per == 1 else
                         ("%.1f @%s" % (v / per, k)))
    return ", ".join(parts) or "no dm ioctl"


def cost_text(c, per=1, what="per sample"):
    """The supervisor's ioctls and CPU in a costed step (bench.py costed).
    Its CPU is given whole: the guest (UML) puts most of the time its
    kernel spends in a process's ioctls in that process's user time (a
    list of 19,000 rows costs 8 ms, and 15 of them showed as 0.02 s of
    system time), so the split is not a measure of the kernel's share."""
    if not c:
        return "its cost was not recorded (an older harness)"
    cpu = c["user_s"] + c["sys_s"]
    if per == 1:
        return ("the supervisor sent %s and used %.2f s of CPU in %.2f s"
                % (ioctl_text(c["ioctls"]), cpu, c["wall_s"]))
    return ("%s the supervisor sent %s; in the step it used %.2f s of CPU "
            "in %.1f s" % (what, ioctl_text(c["ioctls"], per), cpu,
                           c["wall_s"]))


def kernel_text(d):
    """What the kernel's messages and a FIEMAP cost with none and with the
    benchmark's regions (bench.py create_cost)."""
    c0, cn = get(d, "create_cost_0"), get(d, "create_cost_n")
    if not cn:
        return ""
    s = ("one @stats_create takes %.2f ms with %s regions on the device"
         % (cn["create_ms"], fmt_n(cn["regions"])))
    if c0:
        s += " (%.2f ms with %s)" % (c0["create_ms"], fmt_n(c0["regions"]))
    s += ", one @stats_delete %.2f ms" % cn["delete_ms"]
    if cn.get("set_aux_ms") is not None:
        s += (", one @stats_set_aux at most %.2f ms, one @stats_list "
              "%.1f ms, one FIEMAP %.0f µs" % (cn["set_aux_ms"],
                                              list_cost(d),
                                              cn["fiemap_us"] or 0))
    return s


def list_cost(d):
    """What one @stats_list of the benchmark's regions costs, in ms: the
    lower of the benchmark's two measurements (create_cost_n's probe,
    idle's one list), as a loaded host only ever adds to either; None if
    neither was taken."""
    v = [x for x in (get(d, "create_cost_n", "list_ms"),
                     get(d, "idle", "list_ms")) if x]
    return min(v) if v else None


def kernel_parts(c, cn, fiemaps, c0=None, list_ms=None):
    """[(text, seconds)]: the kernel's share of costed step C, each kind
    of message the supervisor sent at its probed cost (CN; a create at
    the mean of C0's and CN's when C0 is given, as the regions grow), and
    FIEMAPS layout reads. Empty with an older harness (no probes)."""
    if not c or not cn or cn.get("set_aux_ms") is None:
        return []
    io = c["ioctls"]
    cr = cn["create_ms"] if not c0 else (c0["create_ms"] +
                                         cn["create_ms"]) / 2
    parts = []
    for kind, ms in (("stats_create", cr),
                     ("stats_set_aux", cn["set_aux_ms"]),
                     ("stats_delete", cn["delete_ms"]),
                     ("stats_list", list_ms or cn["list_ms"])):
        k = io.get(kind, 0)
        if k:
            parts.append(("%s @%s × %.2f ms" % (fmt_n(k), kind, ms),
                          k * ms / 1000))
    if fiemaps and cn.get("fiemap_us"):
        parts.append(("%s FIEMAP × %.0f µs" % (fmt_n(fiemaps),
                                                cn["fiemap_us"]),
                      fiemaps * cn["fiemap_us"] / 1e6))
    return parts


def parts_text(parts, c):
    """The kernel's parts of step C, and what of the supervisor's CPU they
    leave: its own work (a lower bound: a @stats_set_aux is probed at its
    dearest)."""
    cpu = c["user_s"] + c["sys_s"]
    k = sum(v for _, v in parts)
    return ("of its CPU, the kernel's messages and layout reads at their "
            "probed costs are %.1f s (%s), its own work the other %.1f s"
            % (k, "; ".join("%s: %.1f s" % (t, v) for t, v in parts),
               max(0.0, cpu - k)))


def pass_ms(d, c):
    """The supervisor's CPU per pass in costed step C beyond its idle
    rate, in ms (a pass follows each list in the step), or None."""
    i = get(d, "idle")
    lists = (c or {}).get("ioctls", {}).get("stats_list", 0)
    if not c or not i or not lists:
        return None
    extra = c["user_s"] + c["sys_s"] - i["cpu_pct"] / 100 * c["wall_s"]
    return max(0.0, extra) * 1000 / lists


def sample_text(e):
    """One latency sample (bench.py sample_record) in words."""
    io = e.get("ioctls", {})
    ps = ("made %d passes (%d of them checking every monitor), "
          % (io.get("passes_total", 0), io.get("passes_full", 0))
          if "passes_total" in io else "")
    return ("%.0f ms (the write and fsync %.0f ms; the supervisor's first "
            "event for the file at %s, %d in all, %d for other files; it "
            "%ssent %s and used %s ms of CPU)"
            % (e["ms"], e["fsync_ms"],
               "%.0f ms" % e["first_event_ms"]
               if e.get("first_event_ms") is not None else "none",
               e["events"], e["others"], ps, ioctl_text(io),
               "%d" % e["cpu_ms"] if e.get("cpu_ms") is not None else "?"))


def slow_text(each, target, pm, list_ms):
    """Why the slow latency samples (over TARGET ms) were slow, from what
    was kept of each (bench.py sample_record), and what would close it;
    PM is a pass's CPU in ms (pass_ms) or None, LIST_MS what a list
    costs the benchmark."""
    ok = sorted((e for e in each if e["ms"] is not None),
                key=lambda e: e["ms"])
    if not ok:
        return "**To close it:** no sample matched"
    mid = ok[len(ok) // 2]
    slow = [e for e in ok if e["ms"] > target]
    busy = [e for e in slow if e.get("cpu_ms") is not None and
            e["cpu_ms"] >= 0.6 * e["ms"]]
    twice = [e for e in slow if e["events"] > 1]
    s = ("The median sample: %s. %d of %d samples took over %d ms; the "
         "slowest: %s" % (sample_text(mid), len(slow), len(ok), target,
                          "; ".join(sample_text(e) for e in slow[-3:])))
    if not slow:
        return s
    s += (". Of those %d, in %d the supervisor was busy (its CPU at least "
          "60 %% of the sample's time) and in %d the file was updated more "
          "than once" % (len(slow), len(busy), len(twice)))
    def n(e, k):
        return e.get("ioctls", {}).get(k, 0)
    lists = [n(e, "stats_list") for e in slow]
    full = [n(e, "passes_full") for e in slow]
    s += (". **To close it:** the slow samples saw %.1f passes on average "
          "(the median one %d), %.1f of them checking every monitor"
          % (sum(lists) / len(lists), n(mid, "stats_list"),
             sum(full) / len(full)))
    if pm is not None:
        s += (" (≈ %.0f ms of CPU a pass beyond the idle rate, in the "
              "step)" % pm)
    s += ("; a pass that visits only the changed groups would shorten "
          "them")
    if len(busy) < len(slow):
        s += ("; in the %d where the supervisor was not busy, its loop "
              "was waiting (a settle timer, the next interval) or the "
              "guest's one CPU was elsewhere (the benchmark's own list, "
              "%.1f ms at this size, or the host)"
              % (len(slow) - len(busy), list_ms or 0))
    return s


def latency_rows(t, D, sizes):
    def trend():
        return ", ".join("N=%s: %.0f / %.0f ms" % (
            fmt_n(n), get(D.get("b-sup-%d" % n), "latency", "median_ms"),
            get(D.get("b-sup-%d" % n), "latency", "p99_ms"))
            for n in sizes if get(D.get("b-sup-%d" % n), "latency"))

    for n, med, p99 in ((10000, 100, 250), (10, 20, None)):
        d = D.get("b-sup-%d" % n)
        lat = get(d, "latency")
        target = "median ≤ %d ms" % med + (", p99 ≤ %d ms" % p99
                                           if p99 else "")
        if not lat:
            t(n, "update latency", target, None, False, why_missing(d))
            continue
        ok = lat["median_ms"] <= med and (p99 is None or
                                          lat["p99_ms"] <= p99)
        c = get(d, "latency_cost")
        why = ("median / p99 by N: %s. Of %d samples, %s ended at the "
               "supervisor's event (checked by a list after it), the others "
               "at a poll; the write and fsync took %.1f ms (median); %s"
               % (trend(), lat["samples"],
                  fmt_n(lat.get("by_event", 0)) if "by_event" in lat
                  else "none", lat["fsync_median_ms"],
                  cost_text(c, max(lat["samples"], 1))))
        k = kernel_text(d)
        if k:
            why += "; " + k
        pm = pass_ms(d, c)
        if pm is not None:
            why += ("; a pass of the %s monitors after a list change costs "
                    "≈ %.0f ms of CPU (the step's CPU beyond the idle rate, "
                    "per list)" % (fmt_n(n), pm))
        if not ok and lat.get("each"):
            why += ". " + slow_text(lat["each"], p99 or med, pm,
                                    get(d, "create_cost_n", "list_ms"))
        elif not ok:
            why += (". **To close it:** the p99 is the slowest of %d "
                    "samples, and its cause was not measured (an older "
                    "harness kept no sample of its own)" % lat["samples"])
        t(n, "update latency", target,
          "%.0f / %.0f ms" % (lat["median_ms"], lat["p99_ms"]), ok, why)


def figure(t, D, key, what, target):
    """b-sup-10000 and its figure KEY; a "not measured" row for WHAT
    (its TARGET) when there is none."""
    d = D.get("b-sup-10000")
    v = get(d, key)
    if not v:
        t(10000, what, target, None, False, why_missing(d))
    return d, v


def c0_or(d, key):
    """create_cost_0's KEY (the empty device's cost), or create_cost_n's
    when the run has none."""
    return get(d, "create_cost_0", key) or get(d, "create_cost_n", key)


def converge_row(t, D):
    d, cv = figure(t, D, "converge", "all N grow at once",
                   "groups match within 5 s")
    if not cv:
        return
    ok = not cv["timed_out"] and cv["seconds"] <= 5
    c, cn = get(d, "converge_cost"), get(d, "create_cost_n")
    why = ("from the first write; writing the 10,000 appends took %.2f s "
           "and the sync after them ended %.2f s in; %s"
           % (cv.get("writes_s", 0), cv["sync_s"], cost_text(c)))
    parts = kernel_parts(c, cn, cv["n"], list_ms=list_cost(d))
    if parts:
        why += "; " + parts_text(parts, c)
    elif c and cn:
        k = c["ioctls"].get("stats_create", 0)
        why += ("; at the %.2f ms a @stats_create takes with %s regions, "
                "its %s creates alone take %.1f s in the kernel"
                % (cn["create_ms"], fmt_n(cn["regions"]), fmt_n(k),
                   k * cn["create_ms"] / 1000))
    if not ok and parts:
        cpu = c["user_s"] + c["sys_s"]
        io = c["ioctls"]
        msgs = (io.get("stats_create", 0) * cn["create_ms"] +
                io.get("stats_set_aux", 0) * cn["set_aux_ms"]) / 1000
        one = (io.get("stats_create", 0) * c0_or(d, "create_ms") +
               io.get("stats_set_aux", 0) / 2 * c0_or(d, "set_aux_ms")) \
            / 1000
        why += (". **To close it:** %s; the creates and @stats_set_aux "
                "alone are %.1f s of kernel time at %s regions, %s the "
                "target with no other work at all (%.1f s at the costs of "
                "an empty device with one @stats_set_aux a growth). The "
                "other %.1f s of the supervisor's CPU, its own work, is "
                "its other system calls (an fstat, a sync_file_range that "
                "starts the file's writeback and so ext4's block "
                "allocation, a second FIEMAP once it is done, inotify, "
                "its log) and its passes; they were not probed apart. "
                "What would close it: a dm-stats whose @stats_create and "
                "@stats_set_aux do not walk every region by id (at %s "
                "regions a create costs %.1f× and a @stats_set_aux %.1f× "
                "what it does on an empty device; contrib/kernel is not "
                "done), and one @stats_set_aux per "
                "growth (its descriptor written with the new region's "
                "predicted id before the create, as a one-extent create "
                "is, and no mark to clear)"
                % ("the writes and the sync alone took %.1f s, more than "
                   "the 5 s target: in this guest no supervisor meets it"
                   % cv["sync_s"] if cv["sync_s"] > 5 else
                   "%.1f s of the 5 s went to the writes and the sync"
                   % cv["sync_s"], msgs, fmt_n(cn["regions"]),
                   "more than" if msgs > 5 else "within", one,
                   max(0.0, cpu - sum(v for _, v in parts)),
                   fmt_n(cn["regions"]),
                   cn["create_ms"] / max(c0_or(d, "create_ms"), 1e-6),
                   cn["set_aux_ms"] / max(c0_or(d, "set_aux_ms"), 1e-6)))
    elif not ok and c and cn:
        why += (". **To close it:** the cost of the @stats_set_aux and of "
                "the FIEMAPs was not probed in this run (an older "
                "harness)")
    t(10000, "all N grow at once", "groups match within 5 s",
      "%.2f s" % cv["seconds"], ok, why)


def idle_row(t, D):
    d = D.get("b-sup-10000")
    i = get(d, "idle")
    if not i or not i.get("stats_list_per_s"):
        t(10000, "idle CPU", "≤ 0.5 % of one core", None, False,
          why_missing(d))
        return
    c = i["cpu_pct"]
    ok = c <= 0.5
    iv = (i.get("interval_ms") or 1000) / 1000
    rate = reread_rate(10000, i.get("interval_ms"))
    per_iv = i["cpu_s_per_10s"] * 100 / i["stats_list_per_s"]
    cn = get(d, "create_cost_n")
    list_ms = list_cost(d) or 0
    why = ("%.1f ms of CPU per %.0f ms interval, which has one pass: one "
           "@stats_list of %s rows (%.1f ms when the benchmark lists them, "
           "the lower of its two measurements), "
           "the checks, and the rolling extent re-read (every file read "
           "again with FIEMAP within 30 s, issue 12: ≈ %.0f files per "
           "interval here); CPU is tick-sampled (one tick in the window "
           "is 0.1 %%)" % (per_iv, iv * 1000, fmt_n(i.get("list_rows", 0)),
                           list_ms, rate * iv))
    fm = (cn or {}).get("fiemap_us")
    if fm:
        reread = rate * iv * fm / 1000
        why += ("; at the probed %.0f µs a FIEMAP, the re-read's are "
                "%.1f ms, the list %.1f ms, the supervisor's own checks "
                "(the list's text compared, each re-read file's fstat and "
                "plan) the other %.1f ms" % (
                    fm, reread, list_ms, max(0.0, per_iv - reread -
                                             list_ms)))
    if not ok and fm:
        floor = 100 * list_ms / (iv * 1000)
        per_file = max(0.0, per_iv - list_ms) / max(rate * iv, 1)  # ms
        why += (". **To close it:** the one @stats_list per interval "
                "(itself a target) costs %.2f %% of a core alone at %s "
                "regions; the rest is the re-read and its checks, %.0f µs "
                "a file. " % (floor, fmt_n(i.get("list_rows", 0)),
                              per_file * 1000))
        if floor >= 0.5:
            why += ("The list alone is over the target, so no pass that "
                    "lists every interval meets it: that needs a cheaper "
                    "list (a kernel change: the regions changed since a "
                    "generation number), --interval %.0f ms or more, or "
                    "fewer regions; the re-read would then have to read "
                    "only the files whose fstat changed" % (list_ms / 0.005))
        else:
            left = 0.005 * iv * 1000 - list_ms     # ms per interval
            period = 10000 * per_file / max(left, 1e-6) * iv
            why += ("Within 0.5 %% leaves %.1f ms an interval for the "
                    "re-read: each file every %.0f s instead of 30 s, or "
                    "only the files whose fstat changed" % (left, period))
    elif not ok:
        # an upper bound: as if the whole interval's CPU were the re-read
        us = per_iv * 1000 / max(rate * iv, 1)
        fits = 0.005 / (us / 1e6)
        why += (". **To close it:** at ≤ %.0f µs a file re-read, ≤ 0.5 %% "
                "allows about %s re-reads a second: each file every %.0f s "
                "at 10,000, or a re-read only of files whose size or blocks "
                "changed (that fstat sweep idled at 0.90 %% in the run of "
                "2026-11-24)" % (us, fmt_n(int(fits)), 10000 / fits))
    t(10000, "idle CPU", "≤ 0.5 % of one core", "%.2f %%" % c, ok, why)


def register_row(t, D):
    d, r = figure(t, D, "reg_ctl", "dmfilemapctl add --create",
                  "10,000 in ≤ 3 s")
    if not r:
        return
    ok = not r["timed_out"] and r["seconds"] <= 3
    c, c0, cn = (get(d, "reg_ctl_cost"), get(d, "create_cost_0"),
                 get(d, "create_cost_n"))
    why = "%s; %s" % (r["mode"], cost_text(c))
    parts = kernel_parts(c, cn, 10000, c0, list_cost(d))
    est = None
    if c and c0 and cn:
        k = c["ioctls"].get("stats_create", 0)
        est = k * (c0["create_ms"] + cn["create_ms"]) / 2 / 1000
    if parts:
        why += ("; a @stats_create costs %.2f ms at %s regions and %.2f ms "
                "at %s, so at their mean %s" % (
                    c0["create_ms"], fmt_n(c0["regions"]), cn["create_ms"],
                    fmt_n(cn["regions"]), parts_text(parts, c)))
    elif est is not None:
        why += ("; with a @stats_create costing %.2f ms at %s regions and "
                "%.2f ms at %s, its %s creates take about %.1f s in the "
                "kernel" % (c0["create_ms"], fmt_n(c0["regions"]),
                            cn["create_ms"], fmt_n(cn["regions"]),
                            fmt_n(c["ioctls"].get("stats_create", 0)), est))
    if not ok and est is not None:
        cpu = c["user_s"] + c["sys_s"]
        why += (". **To close it:** the creates alone are %.1f s (%.0f %% "
                "of the time)%s; the supervisor's CPU was %.1f s of the "
                "%.1f s, the rest the client and its connections. Within 3 s "
                "needs fewer ioctls per file than one @stats_create per "
                "extent and a @stats_set_aux per group: dm-stats has no "
                "message that makes several regions, and each create walks "
                "every region, so a kernel change (contrib/kernel is not "
                "done)" % (est, 100 * est / max(r["seconds"], 1e-9),
                           ", over the target by themselves" if est > 3
                           else "", cpu, r["seconds"]))
    t(10000, "dmfilemapctl add --create", "10,000 in ≤ 3 s",
      "%.1f s" % r["seconds"], ok, why)


def list_rows(t, D, sizes):
    for n in sizes:
        d = D.get("b-sup-%d" % n)
        i = get(d, "idle")
        if not i:
            t(n, "idle @stats_list", "exactly 1 per device per interval",
              None, False, why_missing(d))
            continue
        per = i["stats_list_per_s"] * i["interval_ms"] / 1000
        t(n, "idle @stats_list", "exactly 1 per device per interval",
          "%.2f per interval, %.2f other/s" % (per, i["other_per_s"]),
          0.85 <= per <= 1.15 and i["other_per_s"] == 0,
          "counted by the daemon over a %.1f s window (one device)"
          % i["window_s"])


def scale_targets(D, sizes):
    """The table: N, figure, target, measured, verdict, why."""
    rows = []

    def t(n, what, target, val, ok, text):
        if val is None:
            rows.append([fmt_n(n), what, target, "—", "not measured",
                         "N=%s not in this run" % fmt_n(n)
                         if n not in sizes else text])
        else:
            rows.append([fmt_n(n), what, target, val,
                         "met" if ok else "**missed**", text])

    latency_rows(t, D, sizes)
    converge_row(t, D)
    idle_row(t, D)
    register_row(t, D)
    list_rows(t, D, sizes)
    return table(["N", "figure", "target", "measured", "verdict", "why"],
                 rows)
