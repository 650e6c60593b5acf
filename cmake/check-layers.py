#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Check that #include runs only down the layers (docs/design.md).

Each source folder and each public header belongs to one layer; a file may
include headers of its own folder, of its own layer's public headers, and of
any lower layer. Folders that share a rank (the two drivers) must not include
each other. A header named *_internal.h is private to its folder. It also fails on an include cycle between files of different
folders.

Usage: check-layers.py [ROOT]      exit 0 when clean, 1 with one line per fault
"""
import os
import re
import sys

# (rank, folder) from the ground floor up. Public headers are listed with the
# layer that implements them.
LAYERS = [
    (0, "samplers/host", ["log.h", "topology.h", "sample.h", "host.h"]),
    (1, "samplers/pmu", ["sampler.h"]),
    (2, "samplers/format", ["perf_file.h"]),
    (3, "samplers/capture", ["capture.h"]),
    (4, "engine/core", ["engine.h", "policy.h"]),
    (5, "policy", ["policies.h"]),
    (6, "engine/migrate", ["migrate.h"]),
    (7, "engine/telemetry", ["telemetry.h"]),
    (8, "engine/replay", ["replay.h", "heatmap.h"]),
    (8, "engine/daemon", ["daemon.h"]),
    (9, "cli", []),
]
INCLUDE_RE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def owner_of(rel, pub_owner):
    """The layer folder of a repository path, or None when it is unchecked."""
    if rel.startswith("include/ibsp/"):
        return pub_owner.get(os.path.basename(rel))
    folder = os.path.dirname(rel)
    for _, f, _ in LAYERS:
        if folder == f:
            return f
    return None


def main():
    root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else ".")
    rank = {f: r for r, f, _ in LAYERS}
    pub_owner = {h: f for _, f, hs in LAYERS for h in hs}
    faults = []

    files = []
    for _, f, _ in LAYERS:
        d = os.path.join(root, f)
        if os.path.isdir(d):
            files += [os.path.join(f, n) for n in sorted(os.listdir(d)) if n.endswith((".c", ".h"))]
    pub = os.path.join(root, "include/ibsp")
    for n in sorted(os.listdir(pub)):
        if not n.endswith(".h"):
            continue
        if n not in pub_owner:
            faults.append(f"include/ibsp/{n}: public header in no layer (add it to {__file__})")
            continue
        files.append("include/ibsp/" + n)

    # Private headers by name: CMake puts every lower area's folder on the
    # path, so a bare name must be unique across the checked folders.
    by_name = {}
    for rel in files:
        if not rel.startswith("include/"):
            by_name.setdefault(os.path.basename(rel), []).append(rel)
    for n, where in by_name.items():
        if len(where) > 1:
            faults.append(f"{n}: private header name used twice: {', '.join(where)}")

    graph = {}
    for rel in files:
        src = owner_of(rel, pub_owner)
        text = open(os.path.join(root, rel), encoding="utf-8", errors="replace").read()
        graph[rel] = []
        for m in INCLUDE_RE.finditer(text):
            inc = m.group(1)
            line = text.count("\n", 0, m.start()) + 1
            if inc.startswith("ibsp/"):
                target = "include/" + inc
            elif os.path.exists(os.path.join(root, os.path.dirname(rel), inc)):
                target = os.path.normpath(os.path.join(os.path.dirname(rel), inc))
            elif inc in by_name:
                target = by_name[inc][0]
            else:
                continue  # a generated or out-of-tree header: not ours to judge
            graph[rel].append(target)
            dst = owner_of(target, pub_owner)
            if target.endswith("_internal.h") and os.path.dirname(target) != os.path.dirname(rel):
                faults.append(f"{rel}:{line}: includes {inc}, private to {os.path.dirname(target)}")
            if src is None or dst is None or src == dst:
                continue
            if rank[dst] > rank[src]:
                faults.append(f"{rel}:{line}: includes {inc} from {dst} (layer {rank[dst]}), "
                              f"above {src} (layer {rank[src]})")
            elif rank[dst] == rank[src]:
                faults.append(f"{rel}:{line}: includes {inc} from {dst}, a peer of {src} "
                              f"(layer {rank[src]}): peers must not depend on each other")

    faults += cycles_across_folders(graph)
    for f in faults:
        print("layers: " + f)
    if faults:
        print(f"layers: {len(faults)} fault(s); the layers are drawn in docs/design.md")
        return 1
    print(f"layers: {len(files)} files, every include runs down the layers, no cycle across folders")
    return 0


def cycles_across_folders(graph):
    """Tarjan's strongly connected components; report those spanning folders."""
    index, low, on, stack, out = {}, {}, set(), [], []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, []):
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
            if len({os.path.dirname(c) for c in comp}) > 1:
                out.append("include cycle across folders: " + " -> ".join(sorted(comp)))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


if __name__ == "__main__":
    sys.exit(main())
