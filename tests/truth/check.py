#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""bench/truth-oracle on ibsp-gen recordings whose truth oracle is known in
advance: every sample from its page's owner (100%), owners at 80% (80%, within
the binomial noise of the samples), a phase change whose pages swap owner
half way at 90% (90%: the oracle follows the swap at once), and pages shared
by both sockets alike (50%, exactly). The static oracle it recomputes must
match replay's; the dynamic oracle is never below the truth.

Usage: check.py BUILD_DIR SOURCE_DIR
"""
import os
import subprocess
import sys
import tempfile


def oracle(build, src, tmp, name, gen_args):
    rec, truth = os.path.join(tmp, name + ".data"), os.path.join(tmp, name + ".truth")
    subprocess.run([os.path.join(build, "ibsp-gen"), "-o", rec, "--truth", truth, *gen_args],
                   check=True, stdout=subprocess.DEVNULL)
    r = subprocess.run([sys.executable, os.path.join(src, "bench", "truth-oracle"), "--bin",
                        os.path.join(build, "ibs-promote"), rec, truth],
                       capture_output=True, text=True)
    if r.returncode or r.stderr:
        sys.exit(f"{name}: truth-oracle failed ({r.returncode}): {r.stderr}")
    row = [c.strip() for c in r.stdout.strip().splitlines()[-1].strip("|").split("|")]
    if row[0] != name + ".data":
        sys.exit(f"{name}: unexpected output: {r.stdout}")
    truth_pct, static_pct, dynamic_pct = (float(c.rstrip("%")) for c in row[1:4])
    return truth_pct, static_pct, dynamic_pct


def main():
    build, src = sys.argv[1:3]
    fails = []
    base = ["--topology", "2s-cxl", "--pages", "400", "--duration-ms", "20000", "--seed", "5"]
    cases = [
        ("all-owner", ["--pattern", "private", "--dominance", "1.0", "--samples", "20000"],
         100.0, 0.0),
        ("owners-80", ["--pattern", "private", "--dominance", "0.8", "--samples", "100000"],
         80.0, 0.6),  # 4.6 binomial standard deviations of 100 k samples
        ("phase-90", ["--pattern", "phase", "--phase-swap", "--dominance", "0.9", "--samples",
                      "100000"], 90.0, 0.5),
        # shared by both sockets alike: any placement expects half, exactly
        ("shared-2s", ["--pattern", "shared", "--samples", "20000"], 50.0, 0.0),
    ]
    with tempfile.TemporaryDirectory() as tmp:
        for name, args, want, tol in cases:
            t, s, d = oracle(build, src, tmp, name, base + args)
            print(f"{name}: truth oracle {t}% (want {want} +- {tol}), static {s}%, dynamic {d}%")
            if abs(t - want) > tol:
                fails.append(f"{name}: truth oracle {t}%, want {want} +- {tol}")
            if d + 0.05 < t:
                fails.append(f"{name}: dynamic oracle {d}% below the truth oracle {t}%")
            if name == "shared-2s" and not s > t + 1:
                fails.append(f"{name}: the static oracle {s}% should fit the samples' "
                             f"noise above the truth's {t}% (50 samples a page)")
            if name == "phase-90" and not s < t - 20:
                fails.append(f"{name}: the static oracle {s}% should miss the swap "
                             f"(truth {t}%)")
    if fails:
        sys.exit("\n".join(fails))


if __name__ == "__main__":
    main()
