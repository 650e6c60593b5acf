#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Check, on the object files of a build tree, that no two source files call each other.

Reads every object file of the layer libraries and of the command,
BUILD/CMakeFiles/ibsp_*.dir/**.o and BUILD/CMakeFiles/ibs-promote.dir/**.o
(one object per source file; the path below the .dir is the source's path).
With `nm` it maps each global function a source file defines to that file,
and each undefined symbol a source file uses to the file that defines it.
It reports:

  - every pair of source files A, B under samplers/ engine/ policy/ cli/
    where A calls a function defined in B and B calls one defined in A
    (even within one folder: STYLE, "no two source files call each other");
  - every global symbol the ibsp_* libraries define (functions and data)
    whose name does not start with `ibsp_`.

Only direct pairs are reported, not longer call cycles. An object whose
source file no longer exists in the source tree (a renamed or removed file's
left-over object) is skipped; when one source has objects in two targets,
the newest object counts.

Usage: check-calls.py BUILD [--nm NM]   exit 0 when clean, 1 with one line per fault
"""
import argparse
import glob
import os
import subprocess
import sys

CHECKED = ("samplers/", "engine/", "policy/", "cli/")
PREFIX = "ibsp_"
# nm's letters for global definitions of code: text, weak, indirect function.
TEXT = set("TWi")
# Symbols the toolchain adds to instrumented objects (ASan's ODR indicators).
TOOLCHAIN = ("__odr_asan", "__asan", "__ubsan", "__sanitizer")


def source_dir(build):
    """The source tree a build tree was configured from (CMakeCache.txt), or None."""
    try:
        with open(os.path.join(build, "CMakeCache.txt"), encoding="utf-8") as f:
            for line in f:
                if line.startswith("CMAKE_HOME_DIRECTORY:"):
                    return line.split("=", 1)[1].strip()
    except OSError:
        pass
    return None


def objects(build):
    """{source path: (object path, library?)} for the libraries and the command."""
    found = {}
    src = source_dir(build)
    for pattern, lib in (("ibsp_*.dir", True), ("ibs-promote.dir", False)):
        for d in sorted(glob.glob(os.path.join(build, "CMakeFiles", pattern))):
            for o in sorted(glob.glob(os.path.join(d, "**", "*.o"), recursive=True)):
                rel = os.path.relpath(o, d)[: -len(".o")]
                if src and not os.path.exists(os.path.join(src, rel)):
                    continue  # a left-over object of a removed or renamed file
                old = found.get(rel)
                if old is None or os.path.getmtime(o) > os.path.getmtime(old[0]):
                    found[rel] = (o, lib)
    return found


def symbols(nm, objs):
    """{object: (global definitions {name: type letter}, undefined names)}, one nm run."""
    out = subprocess.run([nm, "-P", "-A", *objs], check=True, capture_output=True,
                         text=True).stdout
    syms = {o: ({}, set()) for o in objs}
    for line in out.splitlines():
        obj, _, rest = line.rpartition(": ")
        parts = rest.split()
        if obj not in syms or len(parts) < 2:
            continue
        defined, undefined = syms[obj]
        name, kind = parts[0], parts[1]
        if kind in "Uvw":  # lower-case v, w: weak and undefined here
            undefined.add(name)
        elif kind.isupper() or kind in "iu":  # i: GNU indirect function, u: unique global
            defined[name] = kind
    return syms


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("build", help="a configured and built CMake build tree")
    ap.add_argument("--nm", default=os.environ.get("NM", "nm"), help="the nm to run (default: nm)")
    args = ap.parse_args()

    objs = objects(args.build)
    if not objs:
        print(f"calls: no object files under {args.build}/CMakeFiles/ibsp_*.dir: build first")
        return 1
    syms = symbols(args.nm, [o for o, _ in objs.values()])
    defs, uses, definer = {}, {}, {}
    for rel, (o, _) in objs.items():
        defs[rel], uses[rel] = syms[o]
        for name, kind in defs[rel].items():
            if kind in TEXT:
                definer.setdefault(name, rel)

    # calls[a][b]: the functions of b that a calls.
    calls = {}
    for a, names in uses.items():
        for name in names:
            b = definer.get(name)
            if b is not None and b != a:
                calls.setdefault(a, {}).setdefault(b, set()).add(name)

    faults = []
    checked = sorted(r for r in objs if r.startswith(CHECKED))
    for i, a in enumerate(checked):
        for b in checked[i + 1 :]:
            ab = calls.get(a, {}).get(b)
            ba = calls.get(b, {}).get(a)
            if ab and ba:
                faults.append(f"{a} <-> {b}: {a} calls {', '.join(sorted(ab))}; "
                              f"{b} calls {', '.join(sorted(ba))}")

    unprefixed = 0
    for rel in sorted(objs):
        if not objs[rel][1]:
            continue
        for name in sorted(defs[rel]):
            if not name.startswith(PREFIX) and not name.startswith(TOOLCHAIN):
                faults.append(f"{rel}: exports {name}, without the {PREFIX} prefix")
                unprefixed += 1

    for f in faults:
        print("calls: " + f)
    pairs = len(faults) - unprefixed
    if faults:
        print(f"calls: {pairs} pair(s) of files calling each other, {unprefixed} export(s) "
              f"without the {PREFIX} prefix, in {len(objs)} objects")
        return 1
    print(f"calls: {len(objs)} objects, no two source files call each other, "
          f"every library export starts with {PREFIX}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
