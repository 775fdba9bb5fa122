#!/usr/bin/env bash
# The pointwise (1x1) rows of EngineBenchmark's forward-path table, for two builds run in turn
# (run_ab.sh): GFLOP per CPU-second of every path, forward and data gradient, 1 block / 8 sharing
# x / 8 sharing w. Used to check that a change to Kernels+Pointwise.swift left its speed alone;
# Benchmarks/pointwise_ab_ratio.py turns the output into after/before ratios.
# Usage: Benchmarks/run_pointwise_ab.sh BEFORE_BIN AFTER_BIN [ROUNDS]   (EngineBenchmark executables)
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck disable=SC2016  # $BIN is for the inner shell, which run_ab.sh gives it
Benchmarks/run_ab.sh "${3:-3}" "$1" "$2" bash -c 'HUTCH_THREADS=2 BENCH_MODEL=0 BENCH_KERNELS=0 BENCH_PATH_1X1=1 \
    "$BIN" Benchmarks/models/resnet20.onnx | grep -E "1x1|backward data"'
