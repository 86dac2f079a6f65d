# reportlib.py: what the bench reports share (report.py, report_io.py,
# report_scale.py): reading a benchmark's figures, numbers, tables.
"""Helpers for the bench reports."""


def get(d, k1, k2=None):
    """D[K1] (or D[K1][K2]), None where missing."""
    if not d or k1 not in d:
        return None
    v = d[k1]
    if k2 is None:
        return v
    return v.get(k2) if isinstance(v, dict) else None


def why_missing(d, what=""):
    """Why a cell of benchmark D has no figure."""
    if d is None:
        return "not run (no data: guest died?)"
    st = d.get("status", "")
    if st == "pending":
        return "pending"
    if st.startswith("timed out"):
        return st
    if st == "running":
        return "killed at step %s (hard timeout)" % d.get("step")
    if st.startswith("error"):
        return "harness error (%s)" % d.get("step")
    return "—"


def fmt_n(n):
    return "{:,}".format(n)


def table(head, rows):
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(out)


def reread_rate(n, interval_ms):
    """Files a second the supervisor's rolling extent re-read reads at N
    files on one device (daemon/service/service.c, sweep_period): each
    file once every max(15, min(30, N/334)) s, in whole passes (10 s
    before 2026-12-01 17:00 UTC)."""
    iv = (interval_ms or 1000) / 1000
    period = int(max(15.0, min(30.0, n / 334.0)) / iv) + 1
    return n / (period * iv)
