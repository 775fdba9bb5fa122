#!/usr/bin/env bash
# Hutch seconds per probe and peak RSS at several probes per call (one process each, 3 calls each):
# how the per-call forward and gradient spread over more probes. 2 threads.
# Usage: Benchmarks/run_per_call_scan.sh MODEL.onnx DATA.npz [K ...]   (default K: 4 8 16 32; BIN=DIR)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.build/release}
model=$1 data=$2; shift 2
for k in ${@:-4 8 16 32}; do
    /usr/bin/time -f "process: %U s user, %S s system, peak RSS %M KB" "$BIN/SensitivityBenchmark" --model "$model" --data "$data" \
        --threads 2 --only probes --per-call "$k" --probes $((3 * k)) 2>&1 | grep -E "per HVP call|^process:"
done
