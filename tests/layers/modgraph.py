#!/usr/bin/env python3
"""modgraph.py BUILD: the call graph between daemon/ modules, read from the
object files' symbols (nm): module A calls B if A uses a symbol B defines.
Prints each module's callees, and fails if modules call each other in a
cycle (monitor, reconcile and follow are one concept split over three files)."""
import os
import subprocess
import sys

ONE_CONCEPT = {"follow": "monitor", "reconcile": "monitor"}


def symbols(path):
    out = subprocess.run(["nm", path], capture_output=True, text=True,
                         check=True).stdout
    defined, used = set(), set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == "U":
            used.add(parts[1])
        elif len(parts) == 3 and parts[1] in "TDBRG":
            defined.add(parts[2])
    return defined, used


def cycles(graph):
    """Strongly connected components of more than one node (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else "build"
    root = os.path.join(build, "obj", "daemon")
    mods = {}
    walk = list(os.walk(root)) + list(os.walk(os.path.join(build, "obj",
                                                            "protocol")))
    for dirpath, _, files in walk:
        for f in files:
            if f.endswith(".o"):
                name = f[:-2]
                layer = os.path.basename(dirpath)
                mod = ONE_CONCEPT.get(name, name)
                key = mod if layer in ("daemon", "protocol") and \
                    dirpath.endswith("daemon") else layer + "/" + mod
                mods.setdefault(key, []).append(os.path.join(dirpath, f))
    if not mods:
        print("modgraph: no objects under %s (run make first)" % root)
        return 2
    defs, uses = {}, {}
    for m, paths in mods.items():
        defs[m], uses[m] = set(), set()
        for p in paths:
            d, u = symbols(p)
            defs[m] |= d
            uses[m] |= u
    owner = {s: m for m in defs for s in defs[m]}
    graph = {m: {owner[s] for s in uses[m] if s in owner and owner[s] != m}
             for m in mods}
    for m in sorted(graph):
        print("  %-18s -> %s" % (m, " ".join(sorted(graph[m])) or "-"))
    bad = cycles(graph)
    for c in bad:
        print("modgraph: call cycle among " + ", ".join(c))
    print("modgraph: %d modules, %d call cycles" % (len(graph), len(bad)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
