#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Self-tests of the structure checks: each plants a fault and asserts it is caught.

  test-checks.py layers SRC         copy SRC's checked folders, add a back-include
                                    and a peer include, expect check-layers.py to
                                    fail naming both (file:line)
  test-checks.py calls [--cc CC] [--nm NM]
                                    compile two files that call each other and an
                                    unprefixed export, expect check-calls.py to
                                    name them; a one-way call alone must pass
  test-checks.py size               generate 101-line functions, six 81-line ones
                                    and a 601-line file, expect check-size.py to
                                    fail; the limits themselves must pass

Exit 0 when every expectation holds, 1 with the failed one.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


class Failed(Exception):
    pass


def run_check(script, *args):
    p = subprocess.run([sys.executable, script, *args], capture_output=True, text=True)
    return p.returncode, p.stdout + p.stderr


def expect(rc, out, want_rc, present=(), absent=()):
    if rc != want_rc:
        raise Failed(f"exit status {rc}, expected {want_rc}; output:\n{out}")
    for s in present:
        if s not in out:
            raise Failed(f"output does not name {s!r}; output:\n{out}")
    for s in absent:
        if s in out:
            raise Failed(f"output names {s!r}, which is no fault; output:\n{out}")


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def insert_after_includes(path, line_text):
    """Insert a line after a file's last #include; return its 1-based line number."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    last = max(i for i, s in enumerate(lines) if s.startswith("#include"))
    lines.insert(last + 1, line_text)
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines))
    return last + 2


def test_layers(src, tmp):
    for d in ("samplers", "engine", "policy", "cli", "include", "cmake"):
        shutil.copytree(os.path.join(src, d), os.path.join(tmp, d))
    script = os.path.join(tmp, "cmake", "check-layers.py")
    back = "samplers/host/log.c"
    peer = "engine/daemon/daemon.c"
    rc, before = run_check(script, tmp)
    back_line = insert_after_includes(os.path.join(tmp, back), '#include "ibsp/daemon.h"')
    peer_line = insert_after_includes(os.path.join(tmp, peer), '#include "ibsp/replay.h"')
    # Neither planted fault may be there before planting (the tree may hold others).
    expect(rc, before, rc, absent=(f"{back}:{back_line}: includes ibsp/daemon.h",
                                   f"{peer}:{peer_line}: includes ibsp/replay.h"))
    rc, out = run_check(script, tmp)
    expect(rc, out, 1, present=(
        f"{back}:{back_line}: includes ibsp/daemon.h from engine/daemon (layer 8), "
        "above samplers/host (layer 0)",
        f"{peer}:{peer_line}: includes ibsp/replay.h from engine/replay, a peer of engine/daemon"))


def compile_objects(tmp, cc, files):
    """Compile {target/source path: code} into tmp/CMakeFiles/<target>.dir/<source>.o."""
    for rel, code in files.items():
        target, source = rel.split("/", 1)
        c = os.path.join(tmp, "src", source)
        write(c, code)
        o = os.path.join(tmp, "CMakeFiles", target + ".dir", source + ".o")
        os.makedirs(os.path.dirname(o), exist_ok=True)
        subprocess.run([cc, "-c", "-o", o, c], check=True)
    write(os.path.join(tmp, "CMakeCache.txt"),
          f"CMAKE_HOME_DIRECTORY:INTERNAL={os.path.join(tmp, 'src')}\n")


def test_calls(tmp, cc, nm):
    script = os.path.join(HERE, "check-calls.py")
    # a.c and b.c call each other; c.c only calls a.c; a.c exports an unprefixed
    # helper; the command's files may use any names.
    bad = os.path.join(tmp, "bad")
    compile_objects(bad, cc, {
        "ibsp_t/engine/x/a.c": "int ibsp_b(int);\n"
                               "int helper_a(int v) { return v + 1; }\n"
                               "int ibsp_a(int v) { return v ? ibsp_b(v - 1) : 0; }\n",
        "ibsp_t/engine/x/b.c": "int ibsp_a(int);\nint ibsp_b(int v) { return ibsp_a(v); }\n",
        "ibsp_u/policy/c.c": "int ibsp_a(int);\nint ibsp_c(int v) { return ibsp_a(v); }\n",
        "ibs-promote/cli/main.c": "int ibsp_c(int);\nint cli_helper(int v) { return v; }\n"
                                  "int main(void) { return ibsp_c(cli_helper(0)); }\n",
    })
    rc, out = run_check(script, bad, "--nm", nm)
    expect(rc, out, 1,
           present=("engine/x/a.c <-> engine/x/b.c: engine/x/a.c calls ibsp_b; "
                    "engine/x/b.c calls ibsp_a",
                    "engine/x/a.c: exports helper_a, without the ibsp_ prefix",
                    "1 pair(s)", "1 export(s)"),
           absent=("policy/c.c <->", "<-> policy/c.c", "cli_helper", "exports main"))
    good = os.path.join(tmp, "good")
    compile_objects(good, cc, {
        "ibsp_t/engine/x/a.c": "static int helper_a(int v) { return v + 1; }\n"
                               "int ibsp_a(int v) { return helper_a(v); }\n",
        "ibsp_t/engine/x/b.c": "int ibsp_a(int);\nint ibsp_b(int v) { return ibsp_a(v); }\n",
        "ibs-promote/cli/main.c": "int ibsp_b(int);\nint main(void) { return ibsp_b(0); }\n",
    })
    rc, out = run_check(script, good, "--nm", nm)
    expect(rc, out, 0, present=("no two source files call each other",))
    # A left-over object of a removed source is not read.
    os.remove(os.path.join(good, "src", "engine", "x", "b.c"))
    rc, out = run_check(script, good, "--nm", nm)
    expect(rc, out, 0, present=("2 objects",))


def function(name, length):
    """A kernel-style C function `length` lines long, braces included."""
    body = [f"\tx += {i};" for i in range(length - 3)]
    return "\n".join([f"static int {name}(int x,", "\t\tint y)", "{", *body,
                      "\treturn x + y;", "}", ""])


def test_size(tmp):
    script = os.path.join(HERE, "check-size.py")

    def tree(name, files):
        root = os.path.join(tmp, name)
        for rel, text in files.items():
            write(os.path.join(root, rel), text)
        return root

    at_limits = {
        "engine/x/f100.c": function("f100", 100),
        "policy/f81.c": "".join(function(f"f81_{i}", 81) for i in range(3)),
        "include/ibsp/inline.h": "struct s {\n\tint a;\n};\n" + function("f81_h", 81),
        "cli/lines600.c": "/* filler */\n" * 600,
        # tests/ and bench/ are not measured.
        "tests/test_x.c": function("long_test", 300),
        "bench/b.c": "\n" * 900,
    }
    rc, out = run_check(script, tree("limits", at_limits))
    expect(rc, out, 0, present=("f100  engine/x/f100.c:3", "5 over 80 (at most 5)"),
           absent=("long_test", "lines600.c", "bench/b.c", "FAIL"))

    rc, out = run_check(script, tree("f101", {**at_limits, "samplers/h/big.c":
                                              "/* big */\n" + function("big_fn", 101)}))
    expect(rc, out, 1, present=("  101  big_fn  samplers/h/big.c:4  over the limit",
                                "1 over 100 lines", "FAIL"))

    rc, out = run_check(script, tree("six81", {**at_limits, "engine/six.c": function("f81_6", 81)}))
    expect(rc, out, 1, present=("f81_6  engine/six.c:3", "6 over 80 (at most 5)", "FAIL"))

    rc, out = run_check(script, tree("f601", {**at_limits, "cli/lines601.c": "\n" * 601}))
    expect(rc, out, 1, present=("  601  cli/lines601.c", "1 file(s) over 600", "FAIL"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="check", required=True)
    sub.add_parser("layers").add_argument("src", help="the source tree to copy")
    calls = sub.add_parser("calls")
    calls.add_argument("--cc", default=os.environ.get("CC", "cc"))
    calls.add_argument("--nm", default=os.environ.get("NM", "nm"))
    sub.add_parser("size")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="ibsp-check-") as tmp:
        try:
            if args.check == "layers":
                test_layers(os.path.abspath(args.src), tmp)
            elif args.check == "calls":
                test_calls(tmp, args.cc, args.nm)
            else:
                test_size(tmp)
        except Failed as e:
            print(f"test-checks {args.check}: FAIL: {e}")
            return 1
    print(f"test-checks {args.check}: the planted faults are caught, the limits pass")
    return 0


if __name__ == "__main__":
    sys.exit(main())
