#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The reader against a writer it shares no code with: bench/altgen writes an
IBS-op recording with Python's struct (4 sockets with interleaved CPU numbers,
CXL nodes 8 and 9, PERF_SAMPLE_IDENTIFIER, sample_id_all COMM records, BrTarget
and OpData4 in the RAW block, 256 MiB memory blocks, 5% of the samples without
a physical address, 2 MiB pages, kernel samples). Checked:

- perf script reads it without a warning and prints every sample; `ibs-promote
  dump` gives the same CPU, tid and address for every sample with an address,
  sample by sample, in the same order;
- each sample's node is the node altgen placed the frame on (its memory map),
  and its accessor node the node of its CPU under altgen's numbering;
- 2 MiB pages are told from the TLB bits, and samples without a physical
  address have no node;
- `replay --evaluate` runs, every memory sample resolved;
- without MEM_TOPOLOGY, the replay names the missing feature (and only that).

Usage: check.py BUILD_DIR SOURCE_DIR
"""
import importlib.machinery
import importlib.util
import json
import os
import random
import subprocess
import sys
import tempfile

build, src = sys.argv[1:3]
if subprocess.run("perf --version", shell=True, capture_output=True).returncode:
    print("skip: perf is not installed (cmake/setup-debian.sh installs linux-perf)")
    sys.exit(77)
path = os.path.join(src, "bench", "altgen")
loader = importlib.machinery.SourceFileLoader("altgen", path)
spec = importlib.util.spec_from_loader("altgen", loader)
altgen = importlib.util.module_from_spec(spec)
loader.exec_module(altgen)

ARGS = ["--sockets", "4", "--cxl", "2", "--cpus-per-socket", "8", "--node-ids", "0,1,2,3,8,9",
        "--cpu-order", "interleave", "--procs", "2", "--threads", "4", "--pages-per-thread", "60",
        "--shared-per-proc", "20", "--samples", "20000", "--duration-ms", "5000",
        "--no-phys", "0.05", "--thp", "0.3", "--kernel", "0.05", "--seed", "5"]
fails = []


def expect(cond, what):
    if not cond:
        fails.append(what)


with tempfile.TemporaryDirectory(prefix="ibsp-altgen-") as tmp:
    rec = os.path.join(tmp, "a.data")
    subprocess.run([sys.executable, path, "-o", rec, *ARGS], check=True)
    a = altgen.parse_args(["-o", rec, *ARGS])
    host = altgen.Host(a, random.Random(0))  # the node map and CPU numbering only

    p = subprocess.run(["perf", "script", "-i", rec, "-F", "cpu,tid,addr"], capture_output=True,
                       text=True)
    expect(p.returncode == 0 and not p.stderr.strip(), f"perf script: {p.returncode} {p.stderr[:300]}")
    perf = [line.split() for line in p.stdout.splitlines() if line.strip()]
    expect(len(perf) == a.samples, f"perf script printed {len(perf)} samples of {a.samples}")
    perf = [f for f in perf if int(f[2], 16)]  # dump leaves out the ops without an address
    d = subprocess.run([os.path.join(build, "ibs-promote"), "dump", rec], capture_output=True,
                       text=True)
    expect(d.returncode == 0, f"dump: {d.returncode} {d.stderr[:300]}")
    ours = [json.loads(line) for line in d.stdout.splitlines()]
    expect(len(ours) == len(perf) > a.samples // 2,
           f"samples with an address: perf {len(perf)}, dump {len(ours)} (of {a.samples})")
    huge = with_node = 0
    for i, (pl, s) in enumerate(zip(perf, ours)):
        tid, cpu, addr = int(pl[0]), int(pl[1].strip("[]")), int(pl[2], 16)
        vaddr = int(s["vaddr"], 16) if s["vaddr"] else 0
        if (tid, cpu, addr) != (s["tid"], s["cpu"], vaddr):
            expect(False, f"sample {i}: perf tid {tid} cpu {cpu} addr {addr:#x}; dump {s['tid']} "
                          f"{s['cpu']} {vaddr:#x}")
            break
        want_acc = host.sock_ids[host.cpu_sock[cpu]]
        if s["cpu_node"] != want_acc:
            expect(False, f"sample {i}: cpu {cpu} on node {s['cpu_node']}, altgen says {want_acc}")
            break
        if s["paddr"] is None:
            if s["node"] is not None:
                expect(False, f"sample {i}: no physical address but node {s['node']}")
                break
            continue
        pa = int(s["paddr"], 16)
        want = [n for n, nd in host.nodes.items() if nd["base"] <= pa < nd["base"] + nd["total"]]
        if [s["node"]] != want:
            expect(False, f"sample {i}: paddr {pa:#x} on node {s['node']}, altgen placed it on {want}")
            break
        with_node += 1
        huge += s["page_size"] == 2 << 20
    expect(with_node > a.samples // 3, f"only {with_node} samples with a node")
    expect(huge > 0, "no sample on a 2 MiB page")

    out = os.path.join(tmp, "e.json")
    r = subprocess.run([os.path.join(build, "ibs-promote"), "replay", "--evaluate", "--json", out,
                        rec], capture_output=True, text=True)
    expect(r.returncode == 0, f"replay: {r.returncode} {r.stderr[:300]}")
    if r.returncode == 0:
        doc = json.load(open(out))
        unres = doc.get("unresolved", {})
        expect(not any(v for k, v in unres.items() if k not in ("no_address", "invalid")),
               f"unresolved memory samples: {unres}")

    # A writer that leaves out MEM_TOPOLOGY: the replay says which feature is missing, and
    # does not tell the user to record physical addresses, which the samples have.
    rec2 = os.path.join(tmp, "nomem.data")
    subprocess.run([sys.executable, path, "-o", rec2, "--no-mem-topology", "--samples", "3000"],
                   check=True)
    r = subprocess.run([os.path.join(build, "ibs-promote"), "replay", "--no-progress", rec2],
                       capture_output=True, text=True)
    expect(r.returncode == 0 and "no MEM_TOPOLOGY" in r.stderr and "--phys-data" not in r.stderr,
           f"replay without MEM_TOPOLOGY: {r.returncode} {r.stderr[:400]}")

for f in fails:
    print("FAIL:", f)
print("altgen check:", "ok" if not fails else f"{len(fails)} failure(s)")
sys.exit(1 if fails else 0)
