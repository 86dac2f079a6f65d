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
    """What one @stats_create costs the kernel with none and with the
    benchmark's regions (bench.py create_cost)."""
    c0, cn = get(d, "create_cost_0"), get(d, "create_cost_n")
    if not cn:
        return ""
    s = ("one @stats_create takes %.2f ms with %s regions on the device"
         % (cn["create_ms"], fmt_n(cn["regions"])))
    if c0:
        s += " (%.2f ms with %s)" % (c0["create_ms"], fmt_n(c0["regions"]))
    return s + ", one @stats_delete %.2f ms" % cn["delete_ms"]


def pass_ms(d, c):
    """The supervisor's CPU per pass in costed step C beyond its idle
    rate, in ms (a pass follows each list in the step), or None."""
    i = get(d, "idle")
    lists = (c or {}).get("ioctls", {}).get("stats_list", 0)
    if not c or not i or not lists:
        return None
    extra = c["user_s"] + c["sys_s"] - i["cpu_pct"] / 100 * c["wall_s"]
    return max(0.0, extra) * 1000 / lists


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
        if not ok:
            why += (". **To close it:** the p99 is the slowest of %d "
                    "samples, and its cause was not measured: a write that "
                    "comes during a pass waits for it, the settle after it "
                    "(three times its cost, at most 50 ms) and its own "
                    "pass; a layout still pending after the sync is read "
                    "again an interval later. A pass that visits only the "
                    "changed groups would take the first two out"
                    % lat["samples"])
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


def converge_row(t, D):
    d, cv = figure(t, D, "converge", "all N grow at once",
                   "groups match within 5 s")
    if not cv:
        return
    ok = not cv["timed_out"] and cv["seconds"] <= 5
    c, cn = get(d, "converge_cost"), get(d, "create_cost_n")
    why = ("from the first write; writing the 10,000 appends and syncing "
           "took %.2f s of it; %s" % (cv["sync_s"], cost_text(c)))
    if c and cn:
        k = c["ioctls"].get("stats_create", 0)
        why += ("; at the %.2f ms a @stats_create takes with %s regions, "
                "its %s creates alone take %.1f s in the kernel"
                % (cn["create_ms"], fmt_n(cn["regions"]), fmt_n(k),
                   k * cn["create_ms"] / 1000))
    if not ok and c and cn:
        k = c["ioctls"].get("stats_create", 0)
        a = c["ioctls"].get("stats_set_aux", 0)
        rest = cv["seconds"] - cv["sync_s"] - k * cn["create_ms"] / 1000
        why += (". **To close it:** after the sync, %.1f s are neither the "
                "sync nor the creates: the %s @stats_set_aux (two per "
                "growth: the leader's descriptor, then the new region's "
                "mark cleared; their kernel cost was not probed), the "
                "FIEMAP of each file and the supervisor's own work. A "
                "descriptor written with the new region's predicted id "
                "before the create, as a one-extent create does, would make "
                "it one @stats_set_aux per growth; the sync (%.1f s) is the "
                "file system's" % (rest, fmt_n(a), cv["sync_s"]))
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
    why = ("%.1f ms of CPU per %.0f ms interval, which has one pass: one "
           "@stats_list of %s rows (%.1f ms when the benchmark lists them), "
           "the checks, and the rolling extent re-read (every file read "
           "again with FIEMAP within 30 s, issue 12: ≈ %.0f files per "
           "interval here); CPU is tick-sampled (one tick in the window "
           "is 0.1 %%)" % (per_iv, iv * 1000, fmt_n(i.get("list_rows", 0)),
                           i.get("list_ms", 0), rate * iv))
    if not ok:
        # an upper bound: as if the whole interval's CPU were the re-read
        us = per_iv * 1000 / max(rate * iv, 1)
        fits = 0.005 / (us / 1e6)
        why += (". **To close it:** at ≤ %.0f µs a file re-read, ≤ 0.5 %% "
                "allows about %s re-reads a second: each file every %.0f s "
                "at 10,000, or a re-read only of files whose size or blocks "
                "changed (that fstat sweep idled at 0.90 %% in the run of 2026-11-24)"
                % (us, fmt_n(int(fits)), 10000 / fits))
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
    if c and c0 and cn:
        k = c["ioctls"].get("stats_create", 0)
        est = k * (c0["create_ms"] + cn["create_ms"]) / 2 / 1000
        why += ("; with a @stats_create costing %.2f ms at %s regions and "
                "%.2f ms at %s, its %s creates take about %.1f s in the "
                "kernel" % (c0["create_ms"], fmt_n(c0["regions"]),
                            cn["create_ms"], fmt_n(cn["regions"]), fmt_n(k),
                            est))
    if not ok and c and c0 and cn:
        why += (". **To close it:** the creates are about %.0f %% of the "
                "time; the rest is the %s @stats_set_aux (not probed), the "
                "FIEMAP of each file, the state file and the client. "
                "Within 3 s needs fewer ioctls per file than one "
                "@stats_create per extent and a @stats_set_aux per group "
                "(dm-stats has no message that makes several regions), "
                "so a kernel change" % (100 * est / max(r["seconds"], 1e-9),
                                        fmt_n(c["ioctls"].get(
                                            "stats_set_aux", 0))))
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
