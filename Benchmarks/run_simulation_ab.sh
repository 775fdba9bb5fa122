#!/usr/bin/env bash
# The 5000-seed simulation (SimulationSeedTests/testSeededFaultPlans) of two test builds run in
# turn (A, B, A, B, ...): its own line (runs, seconds, faults, ...) and the process's user CPU
# seconds. Used to check that running the worker's own compute dispatch in the simulator left
# its cost alone.
# Usage: Benchmarks/run_simulation_ab.sh BEFORE_XCTEST AFTER_XCTEST [ROUNDS]   (HutchPackageTests.xctest executables)
set -euo pipefail
cd "$(dirname "$0")/.."
before=$1 after=$2 rounds=${3:-3}
for r in $(seq 1 "$rounds"); do
    for side in before after; do
        bin=${!side}
        echo "== round $r: $side ($bin)"
        /usr/bin/time -f "user CPU %U s, wall %e s" "$bin" HutchClusterTests.SimulationSeedTests/testSeededFaultPlans 2>&1 \
            | grep -E "^simulation:|user CPU"
    done
done
