#!/usr/bin/env python3
"""Reads the output of run_probe_ab.sh (stdin or a file) and prints, per model, after/before of
the medians over the rounds of the wall seconds per probe, the process CPU seconds, the peak RSS
and the minor page faults (< 1 means faster or smaller after)."""
import re, statistics, sys

runs, model, side = {}, None, None
for line in (open(sys.argv[1]) if len(sys.argv) > 1 else sys.stdin):
    if m := re.match(r"## model (\S+)", line):
        model = m.group(1)
    elif m := re.match(r"== round \d+: (before|after)", line):
        side = m.group(1)
    elif m := re.search(r"per HVP call: ([0-9.]+) s/probe", line):
        runs.setdefault((model, side, "wall s/probe"), []).append(float(m.group(1)))
    elif m := re.match(r"process: ([0-9.]+) s user, ([0-9.]+) s system", line):
        runs.setdefault((model, side, "process CPU s"), []).append(float(m.group(1)) + float(m.group(2)))
        if r := re.search(r"peak RSS (\d+) KB", line):
            runs.setdefault((model, side, "peak RSS GB"), []).append(int(r.group(1)) * 1024 / 1e9)
        if f := re.search(r"(\d+) minor page faults", line):
            runs.setdefault((model, side, "page faults M"), []).append(int(f.group(1)) / 1e6)
print("model          measure          before (median)  after (median)  after/before")
for (model, side, what), before in runs.items():
    if side != "before" or (model, "after", what) not in runs:
        continue
    b, a = statistics.median(before), statistics.median(runs[(model, "after", what)])
    print(f"{model:14s} {what:16s} {b:15.3f} {a:15.3f} {a / b:12.3f}")
