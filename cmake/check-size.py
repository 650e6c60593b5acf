#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Report long functions and long files in the non-test sources.

Looks at every .c and .h file under samplers/ engine/ policy/ cli/ include/
(not tests/ or bench/). The code is clang-format'ed in kernel style, which
puts a function definition's opening `{` and its closing `}` alone at column
0 and nothing else there. A function's length is its lines from that `{` to
that `}`, both counted, blank and comment lines included: a function with one
statement is 3 lines long. Its name is the identifier before the first `(` of
the definition's first line at column 0 above the `{`. A file's length is its
number of lines.

Prints every function over 80 lines (length, name, file:line; longest first)
and every file over 600 lines. Fails when a function is over 100 lines, when
more than 5 functions are over 80, or when a file is over 600 lines (STYLE).

Usage: check-size.py [ROOT]      exit 0 when within the limits, 1 otherwise
"""
import os
import re
import sys

FOLDERS = ["samplers", "engine", "policy", "cli", "include"]
FUNC_LONG = 80  # more than FUNC_LONG_MAX functions over this fail
FUNC_LONG_MAX = 5
FUNC_MAX = 100  # any function over this fails
FILE_MAX = 600  # any file over this fails
NOT_NAMES = {"__attribute__", "__attribute", "__typeof__", "typeof", "_Alignas", "alignas"}
CALL_RE = re.compile(r"([A-Za-z_]\w*)\s*\(")


def sources(root):
    for top in FOLDERS:
        for d, dirs, files in os.walk(os.path.join(root, top)):
            dirs.sort()
            for n in sorted(files):
                if n.endswith((".c", ".h")):
                    yield os.path.relpath(os.path.join(d, n), root)


def function_name(lines, brace):
    """The name of the function whose body opens at lines[brace]."""
    head = brace - 1
    while head > 0 and (not lines[head] or lines[head][0] in " \t"):
        head -= 1  # continuation lines of the declarator are indented
    for m in CALL_RE.finditer(" ".join(lines[head:brace])):
        if m.group(1) not in NOT_NAMES:
            return m.group(1)
    return "?"


def functions(lines):
    """(name, first line number, length) of each function in a file's lines."""
    out = []
    i = 0
    while i < len(lines):
        if lines[i].rstrip() == "{":
            for j in range(i + 1, len(lines)):
                if lines[j].startswith("}"):
                    out.append((function_name(lines, i), i + 1, j - i + 1))
                    i = j
                    break
        i += 1
    return out


def main():
    root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else ".")
    long_funcs, long_files, nfuncs, nfiles = [], [], 0, 0
    for rel in sources(root):
        with open(os.path.join(root, rel), encoding="utf-8", errors="replace") as f:
            lines = f.read().splitlines()
        nfiles += 1
        if len(lines) > FILE_MAX:
            long_files.append((len(lines), rel))
        for name, line, length in functions(lines):
            nfuncs += 1
            if length > FUNC_LONG:
                long_funcs.append((length, name, rel, line))

    long_funcs.sort(key=lambda t: (-t[0], t[2], t[3]))
    long_files.sort(key=lambda t: (-t[0], t[1]))
    over_max = sum(1 for t in long_funcs if t[0] > FUNC_MAX)
    print(f"size: functions over {FUNC_LONG} lines ({{ to }} inclusive; "
          f"none may pass {FUNC_MAX}, at most {FUNC_LONG_MAX} may pass {FUNC_LONG}):")
    for length, name, rel, line in long_funcs:
        mark = "  over the limit" if length > FUNC_MAX else ""
        print(f"size: {length:5d}  {name}  {rel}:{line}{mark}")
    print(f"size: files over {FILE_MAX} lines:")
    for length, rel in long_files:
        print(f"size: {length:5d}  {rel}")

    fail = over_max or len(long_funcs) > FUNC_LONG_MAX or long_files
    print(f"size: {nfuncs} functions in {nfiles} files: {over_max} over {FUNC_MAX} lines, "
          f"{len(long_funcs)} over {FUNC_LONG} (at most {FUNC_LONG_MAX}), "
          f"{len(long_files)} file(s) over {FILE_MAX} lines: {'FAIL' if fail else 'ok'}")
    return 1 if fail else 0


if __name__ == "__main__":
    sys.exit(main())
