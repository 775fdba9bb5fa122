#!/usr/bin/env bash
# The pointwise (1x1) rows of EngineBenchmark's forward-path table, for two builds run in turn
# (A, B, A, B, ...) on the same machine: GFLOP per CPU-second of the pointwise path ("p") and of
# the dispatched choice ("auto"), forward and data gradient, 1 block / 8 sharing x / 8 sharing w.
# Used to check that a change to Kernels+Pointwise.swift left its speed alone.
# Usage: Benchmarks/run_pointwise_ab.sh BEFORE_BIN AFTER_BIN [ROUNDS]   (EngineBenchmark executables)
set -euo pipefail
cd "$(dirname "$0")/.."
before=$1 after=$2 rounds=${3:-3}
for r in $(seq 1 "$rounds"); do
    for side in before after; do
        bin=${!side}
        echo "== round $r: $side ($bin)"
        HUTCH_THREADS=2 BENCH_MODEL=0 BENCH_KERNELS=0 BENCH_PATH_1X1=1 "$bin" Benchmarks/models/resnet20.onnx \
            | grep -E "1x1|backward data"
    done
done
