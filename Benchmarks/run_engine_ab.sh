#!/usr/bin/env bash
# EngineBenchmark on ResNet-20 (CIFAR shapes, batch 128) for two builds run in turn (run_ab.sh):
# forward, forward+gradient, Hutchinson quadratic forms at 4 probes per call, and the "auto" column
# of every row of the forward-path table (what conv2DForward dispatches to), 2 threads. Checks that
# a kernel or path-table change left the CIFAR shapes' speed alone; engine_ab_ratio.py turns the
# output into after/before ratios (medians over the rounds).
# Usage: Benchmarks/run_engine_ab.sh BEFORE_BIN AFTER_BIN [ROUNDS]   (EngineBenchmark executables)
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck disable=SC2016  # $BIN is for the inner shell, which run_ab.sh gives it
Benchmarks/run_ab.sh "${3:-3}" "$1" "$2" bash -c 'HUTCH_THREADS=2 BENCH_K=4 BENCH_EXACT=0 BENCH_KERNELS=0 \
    "$BIN" Benchmarks/models/resnet20.onnx'
