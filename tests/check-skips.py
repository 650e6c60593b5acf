#!/usr/bin/env python3
"""Skipped tests, made visible: Criterion exits 0 on a skip and ctest shows
"Passed", so this lists every skip of the last ctest run in BUILD and fails
on any that tests/expected-skips does not allow on this machine.

check-skips.py BUILD [--expected FILE]

Skips come from:
  BUILD/test-reports/*.tap          each Criterion binary's TAP report (--tap)
  BUILD/test-reports/partial-skips.log  skip_part() lines (tests/helpers.h):
                                    a check inside a test that could not run
  BUILD/test-reports/ctest.xml      ctest's JUnit report: tests that exited with
                                    their SKIP_RETURN_CODE (the guest tests, 77)

An expected skip names the test (glob), the reason (regex), and a shell
condition that must hold on this machine: that is what proves the machine
really lacks the thing. A skip that matches no entry, or whose condition
fails, is unexpected.
"""
import fnmatch
import glob
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

args = sys.argv[1:]
if not args or args[0] in ('-h', '--help'):
    print(__doc__)
    sys.exit(2)
build = args[0]
expected_path = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'expected-skips')
if '--expected' in args:
    expected_path = args[args.index('--expected') + 1]
reports = os.path.join(build, 'test-reports')

skips = []  # (test, reason, where)
for tap in sorted(glob.glob(os.path.join(reports, '*.tap'))):
    with open(tap, errors='replace') as f:
        for line in f:
            m = re.match(r'ok - (\S+)\s+# SKIP (.*)$', line.rstrip('\n'))
            if m:
                skips.append((m.group(1), m.group(2).strip(), os.path.basename(tap)))
partial = os.path.join(reports, 'partial-skips.log')
if os.path.exists(partial):
    with open(partial, errors='replace') as f:
        for line in f:
            m = re.match(r'(\S+) # SKIP (.*)$', line.rstrip('\n'))
            if m:
                skips.append((m.group(1), m.group(2).strip(), 'partial-skips.log'))
junit = os.path.join(reports, 'ctest.xml')
if os.path.exists(junit):
    for tc in ET.parse(junit).getroot().iter('testcase'):
        if tc.find('skipped') is None:
            continue
        out = tc.findtext('system-out') or ''
        m = re.findall(r'SKIP: (.*)', out)
        reason = m[-1].strip() if m else (tc.find('skipped').get('message') or 'no reason given')
        skips.append(('ctest::' + tc.get('name'), reason, 'ctest.xml'))

rules = []
with open(expected_path) as f:
    for n, line in enumerate(f, 1):
        if not line.strip() or line.lstrip().startswith('#'):
            continue
        parts = [p.strip() for p in line.rstrip('\n').split(' | ', 2)]
        if len(parts) != 3:
            print('check-skips: %s:%d: not TEST | REASON | CONDITION' % (expected_path, n))
            sys.exit(2)
        rules.append((parts[0], parts[1], parts[2], n))

cond_cache = {}


def holds(cond):
    if cond not in cond_cache:
        cond_cache[cond] = subprocess.run(['sh', '-c', cond], stdout=subprocess.DEVNULL,
                                          stderr=subprocess.DEVNULL).returncode == 0
    return cond_cache[cond]


unexpected = 0
print('check-skips: %d skip(s) in the last run in %s' % (len(skips), build))
for test, reason, where in skips:
    verdict = 'UNEXPECTED'
    note = 'no entry in %s' % os.path.basename(expected_path)
    for glob_, rx, cond, n in rules:
        if fnmatch.fnmatchcase(test, glob_) and re.search(rx, reason):
            if holds(cond):
                verdict, note = 'expected', 'line %d' % n
                break
            note = 'line %d matches, but this machine has it: `%s` is false' % (n, cond)
    if verdict != 'expected':
        unexpected += 1
    print('  %-10s %s: %s  [%s; %s]' % (verdict, test, reason, where, note))
if unexpected:
    print('check-skips: FAILED: %d unexpected skip(s); a test may skip only where this machine '
          'lacks what it needs (tests/expected-skips)' % unexpected)
    sys.exit(1)
print('check-skips: no unexpected skip')
