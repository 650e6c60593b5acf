#!/usr/bin/env python3
"""Seed corpora for the fuzz targets (tests/fuzz/run.sh), from the fixtures.

make-seeds.py FIXTURES REGRESS OUTDIR [EXTRA.data...]: OUTDIR/<target>/ gets
the small recordings (file and pipe mode), the regression inputs, and for the
decoder and live-parser targets inputs built from the IBS samples of
example-2s-cxl.data (head struct as in fuzz_decode.c / fuzz_live.c).
"""
import os
import shutil
import struct
import sys

fixtures, regress, out = sys.argv[1:4]
extra = sys.argv[4:]


def put(target, name, data):
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), 'wb') as f:
        f.write(data)


def copy(target, path):
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    shutil.copy(path, os.path.join(d, os.path.basename(path)))


def is_pipe(path):
    with open(path, 'rb') as f:
        h = f.read(16)
    return len(h) == 16 and struct.unpack_from('<Q', h, 8)[0] == 16


recordings = [os.path.join(fixtures, n) for n in ('pf-task.data', 'pf-system.data', 'pf-pipe.data',
                                                  'pf-zstd.data', 'pf-zstd-pipe.data')]
if os.path.isdir(regress):
    recordings += [os.path.join(regress, n) for n in sorted(os.listdir(regress)) if n.endswith('.data')]
recordings += extra
for p in recordings:
    copy('perf_pipe' if is_pipe(p) else 'perf_file', p)
    copy('replay', p)
    copy('heatmap', p)
    copy('info', p)


def samples(path, limit):
    """The first @limit PERF_RECORD_SAMPLE records of a file-mode recording."""
    with open(path, 'rb') as f:
        h = f.read(104)
        do, dsz = struct.unpack_from('<QQ', h, 40)
        f.seek(do)
        data = f.read(min(dsz, 1 << 20))
    off, recs = 0, []
    while off + 8 <= len(data) and len(recs) < limit:
        t, _, sz = struct.unpack_from('<IHH', data, off)
        if sz < 8 or off + sz > len(data):
            break
        if t == 9:
            recs.append(data[off:off + sz])
        off += sz
    return recs


# The IBS example's attr: sample_type IP|TID|TIME|CPU|PERIOD|RAW.
IBS_TYPE = 0x587
recs = samples(os.path.join(fixtures, 'example-2s-cxl.data'), 64)


def raw_of(rec):
    # IP 8, TID 8, TIME 8, CPU 8, PERIOD 8, then u32 size + payload
    o = 8 + 40
    n = struct.unpack_from('<I', rec, o)[0]
    return rec[o + 4:o + 4 + n]


# fuzz_decode.c's struct head: u8 kind, zen4, family, model; u32 cpu, pid, tid;
# u64 type, ip, time, addr, period, weight, data_src, phys_addr, data_page_size;
# u16 misc, var2 (then padding to 8).
def decode_head(kind, zen4, data_src=0, addr=0x7f0000001000, phys=0x12345000):
    h = struct.pack('<BBBBIII', kind, zen4, 25, 17, 3, 1000, 1000)
    h += struct.pack('<8Q', IBS_TYPE | 0x8 | 0x8000 | 0x80000, 0x401000, 1 << 30, addr, 4096, 30,
                     data_src, phys) + struct.pack('<Q', 4096)
    h += struct.pack('<HH', 2, 0)
    return h.ljust((len(h) + 7) // 8 * 8, b'\0')


for i, r in enumerate(recs[:16]):
    put('decode', 'ibs-%02d' % i, decode_head(1, 2, 0) + raw_of(r))
    put('decode', 'ibs-zen3-%02d' % i, decode_head(1, 1, 0) + raw_of(r))
# PEBS data_src words: L1 hit, local DRAM, remote DRAM, CXL (mem_lvl_num 0x9? any), miss/unknown
for i, ds in enumerate((0x68100142, 0x1a040142, 0x2a080142, 0x105e00142, 0x29080144, 0)):
    put('decode', 'pebs-%d' % i, decode_head(2, 0, ds))
put('decode', 'soft', decode_head(3, 0))
put('decode', 'hint', decode_head(4, 0))

# fuzz_live.c's struct head: u64 sample_type[2], read_format[2]; u32 branch; u16 regs x2;
# u8 kind[2], nr, flags (then padding to 8).
def live_head(types, kinds, nr, flags=1):
    h = struct.pack('<QQQQIHHBBBB', types[0], types[1], 0, 0, 0, 0, 0, kinds[0], kinds[1], nr, flags)
    return h.ljust((len(h) + 7) // 8 * 8, b'\0')


put('live', 'ibs-one-event', live_head((IBS_TYPE, IBS_TYPE), (1, 1), 0) + b''.join(recs[:32]))
# Two events routed by PERF_SAMPLE_IDENTIFIER (id 100 / 101 first).
ident = []
for i, r in enumerate(recs[:16]):
    body = struct.pack('<Q', 100 + (i & 1)) + r[8:]
    ident.append(struct.pack('<IHH', 9, 2, 8 + len(body)) + body)
put('live', 'ibs-two-events', live_head((IBS_TYPE | 0x10000, IBS_TYPE | 0x10000), (1, 3), 1)
    + b''.join(ident))

for i, args in enumerate((
        ['-a', '--sampler=ibs', '--period', '4096', '--policy', 'locality', '--rate', '64'],
        ['--pid', '1,2,3', '-s', 'soft', '--min-heat', '2', '--top-tier', '0-1'],
        ['-G', '/sys/fs/cgroup/x', '--sampler', 'hint', '--scan-ms', '500', '--decay-shift', '3'],
        ['--policy=fixed-node:1', '--watermark', '2.5', '--min-share', '60', '--top-tier', '1'],
        ['-d', '2.5', '--mmap-pages', '64', '--wakeup-bytes', '0x1000', '--drain-ms', '10',
         '--ldlat', '30', '--ibs-cycles', '--l3-miss', '--interval', '500', '--pingpong', '4',
         '--max-pages', '1024', '--no-follow', '--no-demote', '--demote-idle', '8',
         '--fallback-heat', '9', '--policy', 'last-accessor'])):
    put('cli', 'args-%d' % i, '\n'.join(args).encode())

# The configuration file: the installed example, and a few keys of each kind.
example = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'dist',
                       'ibs-promote.conf')
if os.path.exists(example):
    copy('config', example)
put('config', 'keys', b'[run]\nsampler = soft\ndry-run = true\nduration = 2\n'
    b'policy = fixed-node:1\nmin-share = 70\nno-follow = yes\npid = 1,2\n')
put('config', 'sections', b'; comment\n[record]\nperiod = 4096\n[run]\nrate = 64\n'
    b'[replay]\nevaluate = true\n')
