#!/usr/bin/env bash
# The 5000-seed simulation (SimulationSeedTests/testSeededFaultPlans) of two test builds run in
# turn (run_ab.sh): its own line (runs, seconds, faults, ...) and the process's user CPU seconds.
# Used to check that running the worker's own compute dispatch in the simulator left its cost alone.
# Usage: Benchmarks/run_simulation_ab.sh BEFORE_XCTEST AFTER_XCTEST [ROUNDS]   (HutchPackageTests.xctest executables)
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck disable=SC2016  # $BIN is for the inner shell, which run_ab.sh gives it
Benchmarks/run_ab.sh "${3:-3}" "$1" "$2" bash -c '/usr/bin/time -f "user CPU %U s, wall %e s" \
    "$BIN" HutchClusterTests.SimulationSeedTests/testSeededFaultPlans 2>&1 | grep -E "^simulation:|user CPU"'
