#!/usr/bin/env python3
"""Sums Catch2 test cases over meson test logs and prints "N passed, N failed".

Each meson test is a Catch2 executable whose summary line gives its test-case counts; a test
without such a line (a script, or a crash before the summary) counts as one case. Exits 1 when
anything failed or timed out, so CI fails on any failure.
"""
import json
import re
import sys

ALL_PASSED = re.compile(r"All tests passed \(\d+ assertions? in (\d+) test cases?\)")
SUMMARY = re.compile(r"test cases:\s*(\d+)\s*\|\s*(\d+) passed\s*\|\s*(\d+) failed")


def count(entry):
    out = entry.get("stdout") or ""
    result = entry.get("result")
    if result == "SKIP":
        return 0, 0, 1
    match = SUMMARY.search(out)
    if match:
        failed = int(match.group(3))
        if result not in ("OK", "EXPECTEDFAIL") and failed == 0:
            failed = 1  # crashed or timed out after its summary
        return int(match.group(2)), failed, 0
    match = ALL_PASSED.search(out)
    if match and result == "OK":
        return int(match.group(1)), 0, 0
    return (1, 0, 0) if result == "OK" else (0, 1, 0)


passed = failed = skipped = 0
for path in sys.argv[1:]:
    with open(path) as log:
        for line in log:
            if not line.strip():
                continue
            entry = json.loads(line)
            p, f, s = count(entry)
            if f:
                print(f"FAILED: {entry['name']} ({path})", file=sys.stderr)
            if s:
                print(f"SKIPPED: {entry['name']} ({path})", file=sys.stderr)
            passed, failed, skipped = passed + p, failed + f, skipped + s

line = f"{passed} passed, {failed} failed"
if skipped:
    line += f", {skipped} skipped"
print(line)
sys.exit(1 if failed else 0)
