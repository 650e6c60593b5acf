#!/usr/bin/env python3
"""Regression inputs (tests/regress/*.data, listed in inputs.txt): every
subcommand that reads a recording (info, dump, replay, heatmap) runs on each, and must
not die on a signal. An input marked `reject` must fail with a message on
stderr naming the file, an offset and the field given; one marked `ok` must
succeed (and its replay output must match the pattern given, if any).

check.py IBS_PROMOTE [DIR]
"""
import os
import re
import subprocess
import sys

exe = sys.argv[1]
here = sys.argv[2] if len(sys.argv) > 2 else os.path.dirname(os.path.abspath(__file__))
failures = 0
cases = 0


def fail(msg):
    global failures
    failures += 1
    print('FAIL: ' + msg)


with open(os.path.join(here, 'inputs.txt')) as f:
    lines = [l.rstrip('\n') for l in f if l.strip() and not l.startswith('#')]

listed = set()
for line in lines:
    name, verdict, pattern = (line.split('|') + ['', ''])[:3]
    name, verdict, pattern = name.strip(), verdict.strip(), pattern.strip()
    listed.add(name)
    path = os.path.join(here, name)
    for cmd in (['info'], ['dump', '--limit', '50'], ['replay', '--evaluate'], ['heatmap', '--svg', '-']):
        cases += 1
        what = '%s %s' % (' '.join(cmd), name)
        try:
            p = subprocess.run([exe] + cmd + [path], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               timeout=120, text=True, errors='replace')
        except subprocess.TimeoutExpired:
            fail('%s: hangs (over 120 s)' % what)
            continue
        if p.returncode < 0 or p.returncode >= 128:
            fail('%s: killed by signal %d\n%s' % (what, -p.returncode, p.stderr[-2000:]))
            continue
        if verdict == 'reject':
            # Malformed data: exit 1 with the file, an offset and the field.
            if p.returncode != 1:
                fail('%s: exit %d, expected a refusal (1)' % (what, p.returncode))
            elif not re.search(re.escape(path) + r': offset 0x[0-9a-f]+: .*' + pattern, p.stderr):
                fail('%s: stderr does not name the file, an offset and /%s/:\n%s'
                     % (what, pattern, p.stderr[-2000:]))
        elif verdict == 'ok':
            if p.returncode != 0:
                fail('%s: exit %d, expected 0:\n%s' % (what, p.returncode, p.stderr[-2000:]))
            elif pattern and cmd[0] == 'replay' and not re.search(pattern, p.stdout + p.stderr):
                fail('%s: output does not match /%s/:\n%s' % (what, pattern, p.stdout[-2000:]))
        else:
            fail('inputs.txt: %s: verdict %r is neither reject nor ok' % (name, verdict))

for n in sorted(os.listdir(here)):
    if n.endswith('.data') and n not in listed:
        fail('%s is not listed in inputs.txt' % n)
print('regress: %d runs, %d failures' % (cases, failures))
sys.exit(1 if failures else 0)
