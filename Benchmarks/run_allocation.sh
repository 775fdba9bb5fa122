#!/usr/bin/env bash
# Allocation benchmark (issue 4): AllocationBenchmark (exact solves of 200 layers x 7 widths x 3
# budgets, one-budget DP, the ResNet-50 frontier), then HiGHS through scipy.optimize.milp on the
# same 20 three-budget instances (Benchmarks/reference/allocation_highs.py), back to back.
# Usage: Benchmarks/run_allocation.sh   (BIN=DIR: an existing release build's directory; python3 with
# numpy and scipy; instances in .build/allocation-milp/).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=.build/allocation-milp
if [[ -z "${BIN:-}" ]]; then
    swift build -c release --product AllocationBenchmark >&2
    BIN=.build/release
fi
rm -rf "$OUT"
"$BIN/AllocationBenchmark" --dump-milp "$OUT"
echo
python3 Benchmarks/reference/allocation_highs.py "$OUT"
