#!/usr/bin/env python3
"""HiGHS (scipy.optimize.milp) on the bit-allocation instances AllocationBenchmark dumps.

    .build/release/AllocationBenchmark --dump-milp DIR
    python3 Benchmarks/reference/allocation_highs.py DIR

Each DIR/*.json is one instance: per layer and candidate width its Omega and its costs (size,
BOPs, latency), and the budget limits, exactly as Hutch's solver received them, with Hutch's optimum
and time. The MILP: one binary x[l,b] per layer and width, sum_b x[l,b] = 1, one row per budget
(sum cost * x <= limit), minimise sum Omega * x. Prints HiGHS's time and optimum next to Hutch's for
each instance (wall time of milp() alone, model building excluded), then the range. HiGHS runs
with mip_rel_gap = 0, so that it too is asked to prove optimality, as Hutch's exact solver does
(at its default gap of 1e-4 it stopped up to 5e-5 above Hutch's optimum). Hutch's allocation is
checked too: feasible against every limit in exact rational arithmetic (from the dumped costs,
within Hutch's relative capacity tolerance of 1e-9 when not exactly), and its Omega recomputed, so
that where HiGHS reports a worse "optimum" it is visible which one is right. (HiGHS may print
"HighsMipSolverData::transformNewIntegerFeasibleSolution" lines of its own; they are not errors.) Needs numpy and scipy >= 1.9 (system python3 is enough).
"""
import glob
import json
import os
import sys
import time

import numpy as np
import scipy
from scipy.optimize import Bounds, LinearConstraint, milp
from fractions import Fraction


def solve(doc):
    omega = doc["omega"]
    offsets = np.cumsum([0] + [len(o) for o in omega])
    n = int(offsets[-1])
    c = np.concatenate([np.asarray(o, dtype=float) for o in omega])
    rows, lower, upper = [], [], []
    for l in range(len(omega)):  # one width per layer
        row = np.zeros(n)
        row[offsets[l]:offsets[l + 1]] = 1
        rows.append(row); lower.append(1); upper.append(1)
    for kind, limit in sorted(doc["limits"].items()):
        rows.append(np.concatenate([np.asarray(x, dtype=float) for x in doc["costs"][kind]]))
        lower.append(-np.inf); upper.append(limit)
    constraints = LinearConstraint(np.array(rows), lower, upper)
    start = time.perf_counter()
    result = milp(c, constraints=constraints, integrality=np.ones(n), bounds=Bounds(0, 1), options={"mip_rel_gap": 0})
    seconds = time.perf_counter() - start
    return result, seconds


def check_hutch(doc):
    """Hutch's allocation: (exactly feasible, feasible within 1e-9 relative, its Omega)."""
    picks = [row.index(b) for row, b in zip(doc["bits"], doc["hutch_bits"])]
    exact, tolerant = True, True
    for kind, limit in doc["limits"].items():
        total = sum(Fraction(doc["costs"][kind][l][j]) for l, j in enumerate(picks))
        exact &= total <= Fraction(limit)
        tolerant &= total <= Fraction(limit) * (1 + Fraction(1, 10**9))
    omega = sum(doc["omega"][l][j] for l, j in enumerate(picks))
    return exact, tolerant, omega


def main():
    directory = sys.argv[1] if len(sys.argv) > 1 else ".build/allocation-milp"
    files = sorted(glob.glob(os.path.join(directory, "*.json")))
    if not files:
        sys.exit(f"no instances in {directory}: run AllocationBenchmark --dump-milp {directory} first")
    print(f"scipy {scipy.__version__} (HiGHS), {len(files)} instances from {directory}")
    highs_times, hutch_times = [], []
    for path in files:
        doc = json.load(open(path))
        result, seconds = solve(doc)
        if result.status != 0:
            print(f"{doc['name']}: HiGHS status {result.status} ({result.message}) after {seconds:.3f} s")
            continue
        gap = (result.fun - doc["hutch_omega"]) / max(abs(doc["hutch_omega"]), 1e-300)
        highs_times.append(seconds); hutch_times.append(doc["hutch_seconds"])
        exact, tolerant, omega = check_hutch(doc)
        verdict = "feasible" if exact else "feasible within 1e-9" if tolerant else "INFEASIBLE"
        print(f"{doc['name']}: HiGHS {seconds:.3f} s, Omega {result.fun:.9g}; Hutch {doc['hutch_seconds']:.4f} s, "
              f"Omega {doc['hutch_omega']:.9g} (recomputed {omega:.9g}, {verdict}); HiGHS - Hutch: {gap:+.1e} relative")
    if highs_times:
        print(f"HiGHS {min(highs_times):.3f}-{max(highs_times):.3f} s, Hutch {min(hutch_times):.4f}-{max(hutch_times):.4f} s "
              f"on the same {len(highs_times)} instances")


if __name__ == "__main__":
    main()
