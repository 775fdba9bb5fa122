#!/usr/bin/env python3
"""Reads the output of run_pointwise_ab.sh (stdin or a file) and prints, per 1x1 row and column
(1 block / 8 sharing x / 8 sharing w), after/before of the pointwise path's GFLOP per CPU-second,
medians over the rounds; and the same normalised by the im2col column of the same run (im2col's
code is the same in both builds, so the quotient cancels part of a busy machine's noise)."""
import re, statistics
from ab_rounds import sided_lines

runs = {"before": {}, "after": {}}
row = None
for side, line in sided_lines():
    m = re.match(r"conv (.*1x1 s\d)", line)
    if m:
        row = m.group(1) + " forward"
    elif "backward data" in line and row:
        row = row.split(" forward")[0].split(" data")[0] + " data"
    else:
        continue
    cells = [group.split()[-5:] for group in line.split("|")[:3]]   # d w i p auto
    runs[side].setdefault(row, []).append([(float(c[3]), float(c[2])) for c in cells])

plain, normalised = [], []
print("row                          after/before p (1 / 8x / 8w)   normalised by im2col")
for row, before in runs["before"].items():
    after = runs["after"][row]
    r, n = [], []
    for col in range(3):
        b = statistics.median(run[col][0] for run in before)
        a = statistics.median(run[col][0] for run in after)
        bn = statistics.median(run[col][0] / run[col][1] for run in before)
        an = statistics.median(run[col][0] / run[col][1] for run in after)
        r.append(a / b)
        n.append(an / bn)
    plain += r
    normalised += n
    print(f"{row:28s} {' '.join(f'{x:5.2f}' for x in r)}              {' '.join(f'{x:5.2f}' for x in n)}")
print(f"geometric mean: {statistics.geometric_mean(plain):.3f}; normalised by im2col: {statistics.geometric_mean(normalised):.3f}")
