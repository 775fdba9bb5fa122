#!/usr/bin/env python3
"""Reads the output of run_engine_ab.sh (stdin or a file) and prints after/before, medians over the
rounds, of: the whole-model times (forward, forward+gradient, quadratic forms per probe; the min wall
and the min process CPU seconds of each run's reps, < 1 means faster after; on a shared machine the
CPU seconds are the steadier) and, per row of the forward-path table, the "auto" column's GFLOP
per CPU-second (1 block / shared x / shared w; > 1 means faster after)."""
import re, statistics
from ab_rounds import sided_lines

runs = {"before": {}, "after": {}}
row = None
for side, line in sided_lines():
    m = re.match(r"(forward|forward\+gradient|quadratic forms k=\d+ per probe)\s+min\s+([0-9.]+) s.*cpu\s+([0-9.]+) s", line)
    if m:
        runs[side].setdefault(m.group(1) + " (wall s, CPU s)", []).append([float(m.group(2)), float(m.group(3))])
        continue
    m = re.match(r"conv (.*?s\d) ", line)
    if m:
        row = m.group(1)
        runs[side].setdefault(row + " forward", []).append([float(g.split()[-1]) for g in line.split("|")[:3]])
    elif "backward data" in line and row:
        runs[side].setdefault(row + " data", []).append([float(g.split()[-1]) for g in line.split("|")[:3]])

print("row                                      after/before")
for name, before in runs["before"].items():
    after = runs["after"].get(name, [])
    if not after:
        continue
    ratios = [statistics.median(a[c] for a in after) / statistics.median(b[c] for b in before) for c in range(len(before[0]))]
    print(f"{name:40s} {' '.join(f'{r:5.2f}' for r in ratios)}")
